package pqwrite

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/compress"

	"github.com/dormousedb/dormouse/storage/datafile/internal/compact"
)

// Encoding is how a column's values are encoded in its data pages.
type Encoding uint8

const (
	// Plain writes values as they are (booleans one bit each).
	Plain Encoding = iota
	// Dictionary writes each column chunk's distinct values once, in a
	// dictionary page, and the values as indexes into it
	// (RLE_DICTIONARY). A chunk falls back to the column's Fallback
	// encoding when its first 4096 rows show that the dictionary does not
	// pay (see Column.Fallback), and from the page on which the
	// dictionary outgrows Options.DictionaryBytes. Not for BOOLEAN.
	Dictionary
	// DeltaBinaryPacked writes integers as bit-packed differences
	// (DELTA_BINARY_PACKED): INT32, INT64, DATE and TIMESTAMP columns.
	DeltaBinaryPacked
	// DeltaByteArray writes byte arrays as the length of the prefix they
	// share with the value before and the rest (DELTA_BYTE_ARRAY):
	// VARCHAR and VARBINARY columns.
	DeltaByteArray
)

var encodingNames = [...]string{"PLAIN", "DICTIONARY", "DELTA_BINARY_PACKED", "DELTA_BYTE_ARRAY"}

func (e Encoding) String() string {
	if int(e) < len(encodingNames) {
		return encodingNames[e]
	}
	return fmt.Sprintf("Encoding(%d)", uint8(e))
}

// Column describes one column of a file.
type Column struct {
	Name string
	// Type is the column's Arrow type: Int64, Int32, Float64, Boolean,
	// String, Binary, Date32 or Timestamp in microseconds without a time
	// zone.
	Type arrow.DataType
	// Nullable columns are OPTIONAL, others REQUIRED: a batch with a NULL
	// in a column that is not nullable is refused.
	Nullable bool
	// Encoding encodes the column's values (Plain by default).
	Encoding Encoding
	// Fallback is the encoding of a Dictionary column's chunks whose
	// dictionary does not pay: Plain, or the column type's delta
	// encoding. A dictionary pays when, over the chunk's first rows, it
	// and its indexes take less than the PLAIN values or, if Fallback is
	// a delta encoding (which is smaller than PLAIN), half of them.
	Fallback Encoding
}

// KeyValue is an entry of the footer's key-value metadata.
type KeyValue struct {
	Key, Value string
}

// Defaults of Options (PageRows and DictionaryBytes are arrow-go's).
const (
	DefaultPageBytes       = 1 << 20
	DefaultPageRows        = 20000
	DefaultRowGroupRows    = 1 << 20
	DefaultDictionaryBytes = 1 << 20
	DefaultCreatedBy       = "dormouse pqwrite version 1.0.0"
	// DefaultZstdLevel is zstd's own default level.
	DefaultZstdLevel = 3
)

// Options tune a Writer. The zero value gives the defaults.
type Options struct {
	// Codec compresses the pages: compress.Codecs.Uncompressed, Snappy,
	// Zstd or Lz4Raw.
	Codec compress.Compression
	// CompressionLevel is the zstd level, libzstd's (DefaultZstdLevel
	// when 0).
	CompressionLevel int
	// CompressionLevelUp, if not 0, is a higher zstd level that a
	// column's pages are compressed at instead where it makes them a
	// tenth smaller or more: pages are tried at both levels now and then
	// (chunk.plan). At level 1, a column of decimal-like DOUBLEs (the
	// benchmark's b) takes 5.9 bytes a row, at level 2 3.5; a sorted
	// VARCHAR key is no smaller at level 2 and takes three times the CPU.
	CompressionLevelUp int
	// PageBytes is the size of a data page's encoded values at which the
	// page is cut (DefaultPageBytes).
	PageBytes int64
	// PageRows is the most rows a data page holds (DefaultPageRows).
	PageRows int64
	// RowGroupRows is the number of rows of a row group
	// (DefaultRowGroupRows); the Writer holds a row group in memory,
	// compressed, until it is complete.
	RowGroupRows int64
	// DictionaryBytes is the PLAIN size a column chunk's dictionary may
	// reach before the chunk falls back (DefaultDictionaryBytes).
	DictionaryBytes int64
	// SortingColumns is the number of leading columns by which the rows
	// are sorted, ascending: each row group says so (sorting_columns).
	SortingColumns int
	// Metadata is the footer's key-value metadata; the Writer adds the
	// Arrow schema (ARROW:schema) after it.
	Metadata []KeyValue
	// CreatedBy names the writer in the footer (DefaultCreatedBy).
	CreatedBy string
}

func (o Options) withDefaults() Options {
	if o.PageBytes <= 0 {
		o.PageBytes = DefaultPageBytes
	}
	if o.PageRows <= 0 {
		o.PageRows = DefaultPageRows
	}
	if o.RowGroupRows <= 0 {
		o.RowGroupRows = DefaultRowGroupRows
	}
	if o.DictionaryBytes <= 0 {
		o.DictionaryBytes = DefaultDictionaryBytes
	}
	if o.CreatedBy == "" {
		o.CreatedBy = DefaultCreatedBy
	}
	return o
}

// ErrClosed is returned by a Writer used after Close or Abort.
var ErrClosed = errors.New("pqwrite: writer is closed")

// Writer writes one Parquet file. It is not safe for concurrent use. A
// Writer that returned an error can only be closed (Close returns that
// error again); what it wrote is then not a Parquet file.
type Writer struct {
	w      io.Writer
	pos    int64 // bytes written to w
	opts   Options
	cols   []Column
	chunks []*chunk
	codec  *compressor
	// rgRows is the rows of the row group being written.
	rgRows int64
	rows   int64
	groups []rowGroup     // finished row groups, for the page index and footer
	arrow  string         // ARROW:schema: the Arrow schema, IPC, base64
	tw     compact.Writer // footer, page index
	err    error
	closed bool
}

// NewWriter starts a Parquet file of columns cols on w, writing its first
// bytes. The Writer does not close w.
func NewWriter(w io.Writer, cols []Column, opts Options) (*Writer, error) {
	opts = opts.withDefaults()
	if len(cols) == 0 {
		return nil, errors.New("pqwrite: no columns")
	}
	if opts.SortingColumns < 0 || opts.SortingColumns > len(cols) {
		return nil, fmt.Errorf("pqwrite: %d sorting columns of %d", opts.SortingColumns, len(cols))
	}
	codec, err := newCompressor(opts.Codec, opts.CompressionLevel, opts.CompressionLevelUp)
	if err != nil {
		return nil, err
	}
	wr := &Writer{w: w, opts: opts, cols: cols, codec: codec}
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		ch, err := newChunk(c, &wr.opts, codec)
		if err != nil {
			return nil, fmt.Errorf("pqwrite: column %s: %w", c.Name, err)
		}
		wr.chunks = append(wr.chunks, ch)
		fields[i] = arrow.Field{Name: c.Name, Type: c.Type, Nullable: c.Nullable}
	}
	if wr.arrow, err = arrowSchema(arrow.NewSchema(fields, nil)); err != nil {
		return nil, err
	}
	if err := wr.write([]byte(magic)); err != nil {
		return nil, err
	}
	return wr, nil
}

const magic = "PAR1"

// arrowSchema serializes the Arrow schema as pqarrow stores it
// (ARROW:schema): an IPC stream holding only the schema, base64.
func arrowSchema(sch *arrow.Schema) (string, error) {
	var ser bytes.Buffer
	iw := ipc.NewWriter(&ser, ipc.WithSchema(sch), ipc.WithAllocator(memory.DefaultAllocator))
	if err := iw.Close(); err != nil {
		return "", fmt.Errorf("pqwrite: serialize the Arrow schema: %w", err)
	}
	return base64.StdEncoding.EncodeToString(ser.Bytes()), nil
}

// write writes p to the file, counting its bytes.
func (w *Writer) write(p []byte) error {
	n, err := w.w.Write(p)
	w.pos += int64(n)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	return err
}

// Write appends rows: cols holds one array per column, of the column's
// type, all of the same length. The Writer does not keep the arrays.
func (w *Writer) Write(cols []arrow.Array) error {
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	if err := w.checkBatch(cols); err != nil {
		return err
	}
	if err := w.writeBatch(cols); err != nil {
		w.err = err
		return err
	}
	return nil
}

func (w *Writer) checkBatch(cols []arrow.Array) error {
	if len(cols) != len(w.cols) {
		return fmt.Errorf("pqwrite: %d arrays for %d columns", len(cols), len(w.cols))
	}
	for i, a := range cols {
		c := w.cols[i]
		if !arrow.TypeEqual(a.DataType(), c.Type) {
			return fmt.Errorf("pqwrite: column %s is %s, the array %s", c.Name, c.Type, a.DataType())
		}
		if a.Len() != cols[0].Len() {
			return fmt.Errorf("pqwrite: column %s has %d rows, column %s %d", c.Name, a.Len(), w.cols[0].Name, cols[0].Len())
		}
		if !c.Nullable && a.NullN() > 0 {
			return fmt.Errorf("pqwrite: column %s is not nullable but holds %d NULLs", c.Name, a.NullN())
		}
		// The NULLs are read from the bitmap: an array that counts NULLs
		// without one (which arrow-go's accessors read as all valid) or
		// with one too short for its rows is malformed, and indexing it
		// would panic.
		if n := a.NullN(); n > 0 && len(a.NullBitmapBytes())*8 < a.Data().Offset()+a.Len() {
			return fmt.Errorf("pqwrite: column %s counts %d NULLs but its validity bitmap holds %d bits for %d rows from %d",
				c.Name, n, len(a.NullBitmapBytes())*8, a.Len(), a.Data().Offset())
		}
	}
	return nil
}

func (w *Writer) writeBatch(cols []arrow.Array) error {
	n := int64(cols[0].Len())
	for off := int64(0); off < n; {
		k := min(n-off, w.opts.RowGroupRows-w.rgRows)
		for i, a := range cols {
			w.chunks[i].write(a, int(off), int(off+k))
		}
		off += k
		w.rgRows += k
		if w.rgRows == w.opts.RowGroupRows {
			if err := w.flushRowGroup(); err != nil {
				return err
			}
		}
	}
	return nil
}

// rowGroup is what the page index and the footer need of a written row
// group.
type rowGroup struct {
	rows                  int64
	offset                int64 // of its first column chunk
	uncompressed, written int64 // bytes of its column chunks
	chunks                []chunkMeta
}

// flushRowGroup writes the row group being written, column chunk by
// column chunk.
func (w *Writer) flushRowGroup() error {
	if w.rgRows == 0 {
		return nil
	}
	rg := rowGroup{rows: w.rgRows, offset: w.pos, chunks: make([]chunkMeta, len(w.chunks))}
	for i, ch := range w.chunks {
		ch.finish()
		meta, err := ch.writeTo(w, &w.tw)
		if err != nil {
			return fmt.Errorf("pqwrite: write row group %d: %w", len(w.groups), err)
		}
		rg.chunks[i] = meta
		rg.uncompressed += meta.uncompressed
		rg.written += meta.compressed
		ch.reset()
	}
	w.groups = append(w.groups, rg)
	w.rows += w.rgRows
	w.rgRows = 0
	return nil
}

// Close writes the last row group, the page index and the footer. It
// releases the Writer's buffers whatever happens; on error the file is
// not a Parquet file. The Writer cannot be used afterwards.
func (w *Writer) Close() error {
	if w.closed {
		return ErrClosed
	}
	w.closed = true
	defer w.release()
	if w.err != nil {
		return w.err
	}
	if err := w.flushRowGroup(); err != nil {
		return err
	}
	if err := w.writePageIndex(); err != nil {
		return fmt.Errorf("pqwrite: write the page index: %w", err)
	}
	if err := w.writeFooter(); err != nil {
		return fmt.Errorf("pqwrite: write the footer: %w", err)
	}
	return nil
}

// Abort releases the Writer's buffers without finishing the file. Use it
// instead of Close when the file is to be thrown away.
func (w *Writer) Abort() {
	if w.closed {
		return
	}
	w.release()
}

// release gives back the chunks' page buffers.
func (w *Writer) release() {
	w.closed = true
	for _, ch := range w.chunks {
		ch.data.release()
	}
}
