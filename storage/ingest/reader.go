package ingest

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/storage/schema"
)

// RecordReader streams the rows of an input file as Arrow record batches
// with exactly the table's storage-order Arrow schema (schema.Schema.Arrow).
//
// Next returns the next batch, or io.EOF after the last; the caller owns the
// batch and must release it. After an error Next keeps returning it. Close
// releases what the reader holds and may be called at any time, more than
// once.
type RecordReader interface {
	Next() (arrow.RecordBatch, error)
	Close() error
}

// Formats that Open understands.
const (
	FormatCSV     = "csv"
	FormatParquet = "parquet"
)

// OpenOptions configures Open.
type OpenOptions struct {
	// Format is FormatCSV or FormatParquet; empty means by the file name:
	// .csv, .tsv (tab-delimited unless CSV.Delimiter says otherwise),
	// .csv.gz, .tsv.gz and .parquet.
	Format  string
	CSV     CSVOptions
	Parquet ParquetOptions
}

// Open opens a local file and returns the reader for its format. Closing the
// reader closes the file.
func Open(ctx context.Context, path string, sch *schema.Schema, opts OpenOptions) (RecordReader, error) {
	name := filepath.Base(path)
	format, gz, tsv := opts.Format, false, false
	if format == "" {
		lower := strings.ToLower(name)
		if base, ok := strings.CutSuffix(lower, ".gz"); ok {
			gz, lower = true, base
		}
		switch {
		case strings.HasSuffix(lower, ".csv"):
			format = FormatCSV
		case strings.HasSuffix(lower, ".tsv"):
			format, tsv = FormatCSV, true
		case strings.HasSuffix(lower, ".parquet") && !gz:
			format = FormatParquet
		default:
			return nil, fmt.Errorf("open %s: unknown file format (want .csv, .tsv, .csv.gz or .parquet)", path)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open input: %w", err)
	}
	var rr RecordReader
	switch format {
	case FormatCSV:
		rr, err = openCSV(f, name, sch, opts.CSV, gz, tsv)
	case FormatParquet:
		var pr *ParquetReader
		pr, err = NewParquetReader(ctx, f, name, sch, opts.Parquet)
		if err == nil {
			rr = pr
		}
	default:
		err = fmt.Errorf("open %s: unknown format %q (want %q or %q)", path, format, FormatCSV, FormatParquet)
	}
	if err != nil {
		return nil, errors.Join(err, f.Close())
	}
	return &fileReader{RecordReader: rr, file: f}, nil
}

func openCSV(f *os.File, name string, sch *schema.Schema, opts CSVOptions, gz, tsv bool) (RecordReader, error) {
	if tsv && opts.Delimiter == 0 {
		opts.Delimiter = '\t'
	}
	var r io.Reader = f
	var zr *gzip.Reader
	if gz {
		var err error
		if zr, err = gzip.NewReader(f); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		r = zr
	}
	cr, err := NewCSVReader(r, name, sch, opts)
	if err != nil {
		return nil, err
	}
	if zr == nil {
		return cr, nil
	}
	return &gzipReader{CSVReader: cr, zr: zr}, nil
}

type gzipReader struct {
	*CSVReader
	zr *gzip.Reader
}

func (g *gzipReader) Close() error { return errors.Join(g.CSVReader.Close(), g.zr.Close()) }

// fileReader closes the file after the reader: the reader's goroutines may
// still be reading until its Close returns.
type fileReader struct {
	RecordReader
	file   *os.File
	closed bool
}

func (f *fileReader) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	return errors.Join(f.RecordReader.Close(), f.file.Close())
}

// isParquet says whether Open reads path as Parquet.
func isParquet(path, format string) bool {
	if format != "" {
		return format == FormatParquet
	}
	return strings.HasSuffix(strings.ToLower(path), ".parquet")
}

// KeyBound asks the file's reader, opening the file for it if it is not
// open yet, and closing it again: a merge asks every input before it
// reads any, and keeps open only those it reads.
func (l *lazyReader) KeyBound() ([]byte, bool, error) {
	if !l.bounded {
		return nil, false, nil
	}
	r := l.r
	if r == nil {
		var err error
		if r, err = l.open(); err != nil {
			return nil, false, err
		}
		defer r.Close()
	}
	if kb, ok := r.(KeyBounder); ok {
		return kb.KeyBound()
	}
	return nil, false, nil
}

// KeyBound asks the file's reader.
func (f *fileReader) KeyBound() ([]byte, bool, error) {
	if kb, ok := f.RecordReader.(KeyBounder); ok {
		return kb.KeyBound()
	}
	return nil, false, nil
}
