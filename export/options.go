package export

import (
	"fmt"
	"strconv"
	"strings"
)

// Formats and compressions an export writes.
const (
	FormatParquet = "parquet"
	FormatCSV     = "csv"

	CompressionZstd   = "zstd"
	CompressionSnappy = "snappy"
	CompressionNone   = "none"
)

// DefaultJobBytes is how many bytes of input files an import task takes
// by default: enough that a task's commit is worth it, small enough that
// a large import is shared by many workers.
const DefaultJobBytes = 256 << 20

// Options are an export's or an import's WITH options. The zero value is
// not ready: start from DefaultOptions. They are kept in the exports log.
type Options struct {
	Format string `json:"format"`
	// Header writes (CSV export) or expects (CSV import) a line of column
	// names; as in PostgreSQL, off by default.
	Header    bool   `json:"header,omitempty"`
	Delimiter byte   `json:"delimiter,omitempty"`
	Null      string `json:"null,omitempty"`
	// Compression is the Parquet codec (zstd by default); CSV is written
	// uncompressed ("none").
	Compression string `json:"compression"`
	// MaxFileRows rolls a task's output to a new file after that many
	// rows; 0 writes one file per task.
	MaxFileRows int64 `json:"max_file_rows,omitempty"`
	// Overwrite replaces an export already at the target: its manifest and
	// the files it lists are deleted first.
	Overwrite bool `json:"overwrite,omitempty"`
	// JobBytes groups an import's input files into tasks of about this
	// many bytes (DefaultJobBytes); a file larger is a task of its own.
	JobBytes int64 `json:"job_bytes,omitempty"`
	// Columns are the names of an import's CSV fields, in order, when the
	// file has no header (the table's declared order when empty).
	Columns []string `json:"columns,omitempty"`

	compressionSet, delimiterSet, nullSet bool
}

// DefaultOptions are the options before any is given: Parquet with zstd.
func DefaultOptions() Options {
	return Options{Format: FormatParquet, Compression: CompressionZstd, Delimiter: ',', JobBytes: DefaultJobBytes}
}

// Set applies one option as COPY's WITH list gives it: a name (any case)
// and a value, which HEADER and OVERWRITE may omit (meaning true).
func (o *Options) Set(name, value string, hasValue bool) error {
	name = strings.ToLower(name)
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrOption, fmt.Sprintf(format, args...))
	}
	needValue := func() error {
		if !hasValue {
			return bad("%s needs a value", strings.ToUpper(name))
		}
		return nil
	}
	switch name {
	case "format":
		if err := needValue(); err != nil {
			return err
		}
		switch f := strings.ToLower(value); f {
		case FormatParquet, FormatCSV:
			o.Format = f
		default:
			return bad("FORMAT %q is not supported (want parquet or csv)", value)
		}
	case "header":
		if value == "" && !hasValue {
			o.Header = true
			return nil
		}
		b, ok := parseBool(value)
		if !ok {
			return bad("HEADER %q must be true or false", value)
		}
		o.Header = b
	case "overwrite":
		if value == "" && !hasValue {
			o.Overwrite = true
			return nil
		}
		b, ok := parseBool(value)
		if !ok {
			return bad("OVERWRITE %q must be true or false", value)
		}
		o.Overwrite = b
	case "delimiter":
		if err := needValue(); err != nil {
			return err
		}
		if len(value) != 1 || value[0] >= 0x80 || value[0] == '"' || value[0] == '\n' || value[0] == '\r' {
			return bad("DELIMITER must be one one-byte character other than quote and newline")
		}
		o.Delimiter, o.delimiterSet = value[0], true
	case "null":
		if err := needValue(); err != nil {
			return err
		}
		if strings.ContainsAny(value, "\"\r\n") {
			return bad("NULL %q must not hold a quote or a newline", value)
		}
		o.Null, o.nullSet = value, true
	case "compression":
		if err := needValue(); err != nil {
			return err
		}
		switch c := strings.ToLower(value); c {
		case CompressionZstd, CompressionSnappy, CompressionNone:
			o.Compression, o.compressionSet = c, true
		default:
			return bad("COMPRESSION %q is not supported (want zstd, snappy or none)", value)
		}
	case "max_file_rows":
		n, err := positive(name, value, hasValue)
		if err != nil {
			return err
		}
		o.MaxFileRows = n
	case "job_bytes":
		n, err := positive(name, value, hasValue)
		if err != nil {
			return err
		}
		o.JobBytes = n
	default:
		return bad("option %q is not supported (FORMAT, HEADER, DELIMITER, NULL, COMPRESSION, MAX_FILE_ROWS, OVERWRITE, JOB_BYTES)", name)
	}
	return nil
}

// Check checks the options together, once all are set.
func (o *Options) Check() error {
	if o.Format == FormatParquet && (o.delimiterSet || o.nullSet || o.Header) {
		return fmt.Errorf("%w: DELIMITER, NULL and HEADER apply to FORMAT csv only", ErrOption)
	}
	if o.Format == FormatCSV {
		if !o.compressionSet {
			o.Compression = CompressionNone
		}
		if o.Compression != CompressionNone {
			return fmt.Errorf("%w: COMPRESSION %s applies to FORMAT parquet only", ErrOption, o.Compression)
		}
		if o.Delimiter == 0 {
			o.Delimiter = ','
		}
		if strings.IndexByte(o.Null, o.Delimiter) >= 0 {
			return fmt.Errorf("%w: the NULL string must not hold the delimiter", ErrOption)
		}
	}
	return nil
}

// Ext is the file name extension of the format.
func (o *Options) Ext() string {
	if o.Format == FormatCSV {
		return "csv"
	}
	return "parquet"
}

func positive(name, value string, hasValue bool) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
	if !hasValue || err != nil || n <= 0 {
		return 0, fmt.Errorf("%w: %s must be a positive integer, not %q", ErrOption, strings.ToUpper(name), value)
	}
	return n, nil
}

func parseBool(v string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "on", "1", "yes", "t":
		return true, true
	case "false", "off", "0", "no", "f":
		return false, true
	}
	return false, false
}
