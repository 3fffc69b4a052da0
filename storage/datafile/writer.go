package datafile

// Why our own Parquet writer (pqwrite), and before it pqarrow rather
// than parquet-go.
//
// datafile_bench_test.go writes and reads the same 1M rows (k VARCHAR row
// key, sorted; a BIGINT; b DOUBLE; c VARCHAR of 1000 distinct words) with
// arrow-go's pqarrow and with parquet-go, both with zstd, statistics,
// page index and sorting columns, from and to Arrow record batches of
// 64Ki rows. On a shared 2-core AMD EPYC, best of three runs of three
// (go test -bench . -benchtime 3x -count 3):
//
//	64 KiB pages               pqarrow           parquet-go v0.32.0
//	write                      3.2M rows/s       2.4M rows/s
//	  CPU per row              317 ns            416 ns
//	  allocations per file     1.06M, 135 MB     700, 11 MB
//	  file size                17.2 MB           19.2 MB (no dictionary)
//	read into Arrow            9.8M rows/s       9.1M rows/s
//
// pqarrow was the faster to write and as fast to read, read and wrote
// Arrow itself, and has the page index reader (file.Reader's
// GetPageIndexReader) that page pruning needs; the readers still use it.
// For writing, pqwrite (write_columns.go) now does the same work in a
// fraction of the CPU and allocates nothing per row; it writes the files
// pqarrow wrote, so every reader (ours, arrow-go's, pyarrow, DuckDB) reads
// them as before.
//
// The Writer adds to the Parquet writer's cost the order check and the
// row key sketches (the KLL sketch update is about 80-100 ns a row and one
// string copy per distinct key). The order check compares each row with
// its neighbour in place, a typed comparison per key column (a few ns a
// row; it encoded every key, about 25 ns, before). Sampling would cut the
// sketch's share but loosen its rank-error guarantee; a compaction that
// copies whole files instead hands the Writer the merge of its inputs'
// sketches (WriterOptions.Sketches), which loses nothing.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/compress"

	"github.com/dormousedb/dormouse/storage/datafile/pqwrite"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/schema"
)

const (
	// DefaultRowGroupRows is the default number of rows in a row group: the
	// unit of row-group pruning and the most a Writer holds in memory
	// (compressed). A million rows keeps footers small for billion-row
	// tables and row groups in the tens of megabytes that object stores
	// serve efficiently.
	DefaultRowGroupRows = 1 << 20

	// DefaultPageSizeBytes is the default target size of a data page before
	// compression: the unit of page-index pruning and of a point read.
	// Pages are the unit of pruning for point and narrow range reads on
	// the sorted keys, so small pages pay: at 64 KiB a row group of 1M
	// BIGINTs has 128 pages of 8Ki rows, and a point read fetches and
	// decodes 8Ki values per column instead of 128Ki at 1 MiB. Measured on
	// the benchmark file, 64 KiB pages cost 1.5% more bytes than 1 MiB,
	// write faster (zstd works in cache: 320 against 390 ns of CPU per
	// row) and read as fast. The page index grows to a few KB per column
	// chunk, still small beside the data.
	DefaultPageSizeBytes = 64 << 10

	// schemaMetadataKey holds the table schema (JSON) in the file footer,
	// so that a file names its row and sort keys without the catalog.
	schemaMetadataKey = "dormouse.schema"

	writeBufferBytes = 256 << 10
)

// WriterOptions tune a Writer. The zero value gives the defaults.
type WriterOptions struct {
	// RowGroupRows is the number of rows per row group (DefaultRowGroupRows).
	// A Writer buffers the current row group, encoded and compressed, so
	// this bounds its memory.
	RowGroupRows int64
	// PageSizeBytes is the target uncompressed size of a data page
	// (DefaultPageSizeBytes).
	PageSizeBytes int64
	// Codec compresses the pages: one of Codecs ("zstd", "snappy",
	// "lz4_raw", "none"); empty means "zstd". See Codecs for what each
	// costs.
	Codec string
	// CompressionLevel is the zstd level; 0 means zstd's default, 3.
	// Dormouse writes its own files at FastZstdLevel.
	CompressionLevel int
	// CompressionLevelUp, if not 0, is a higher zstd level that a
	// column's pages are compressed at where that makes them a tenth
	// smaller (pqwrite.Options.CompressionLevelUp).
	CompressionLevelUp int
	// Sketches, when set, are the file's row key sketches, one per row
	// key column, that already hold exactly the rows the file will get:
	// the merge of its inputs' sketches when a compaction copies whole
	// files and drops no row. The Writer then does not sketch each row,
	// which is about a fifth of its CPU. The Writer takes them over. Close
	// fails, leaving nothing, if they count other than the rows written.
	Sketches []*Sketch
	// Allocator would allocate the Writer's Arrow buffers
	// (memory.DefaultAllocator); it makes none since pqwrite encodes pages
	// from the batches' own buffers. Tests pass a checked allocator.
	Allocator memory.Allocator
}

func (o WriterOptions) withDefaults() WriterOptions {
	if o.RowGroupRows <= 0 {
		o.RowGroupRows = DefaultRowGroupRows
	}
	if o.PageSizeBytes <= 0 {
		o.PageSizeBytes = DefaultPageSizeBytes
	}
	if o.Allocator == nil {
		o.Allocator = memory.DefaultAllocator
	}
	return o
}

// Info describes a finished data file. It is embedded in transaction log
// entries, hence the JSON tags.
type Info struct {
	// Key is the data file's object key.
	Key string `json:"key"`
	// Rows is the number of rows in the file.
	Rows int64 `json:"rows"`
	// Bytes is the size of the data file.
	Bytes int64 `json:"bytes"`
	// MinKey and MaxKey hold, per row key column, the plain encoding
	// (schema.AppendValue) of the first and of the last row's value: the
	// bounds of the file's key range, whose first dimension is also the
	// least and greatest value of that column; later dimensions are not
	// each column's extremes. Both are nil when Rows is 0.
	MinKey [][]byte `json:"min_key"`
	MaxKey [][]byte `json:"max_key"`
	// SketchKey is the key of the object holding the row key sketches.
	SketchKey string `json:"sketch_key"`
}

// Writer writes one data file from record batches that arrive sorted by
// (row keys, sort keys). It streams to the store and holds at most about
// one row group in memory. Exactly one of Close or Abort must be called.
// A Writer is not safe for concurrent use.
type Writer struct {
	ctx   context.Context
	store objstore.Store
	key   string
	sch   *schema.Schema
	arrow *arrow.Schema

	obj  objstore.Writer
	sink *sink
	fw   *pqwrite.Writer
	opts WriterOptions

	keys     keyTracker
	sketches []*Sketch
	given    bool // sketches came with the options: rows are not added
	rows     int64
	minKey   [][]byte

	err    error // the first failure; the file can only be aborted
	closed bool
}

// NewWriter starts writing the data file key, which must end in
// ".parquet"; its sketches go to SketchKey(key). Nothing is visible under
// either key until Close returns. ctx governs every store operation of the
// Writer, up to and including Close.
func NewWriter(ctx context.Context, store objstore.Store, key string, sch *schema.Schema, opts WriterOptions) (*Writer, error) {
	if err := sch.Validate(); err != nil {
		return nil, fmt.Errorf("new data file %s: %w", key, err)
	}
	if !strings.HasSuffix(key, ".parquet") {
		return nil, fmt.Errorf("new data file %s: key must end in .parquet", key)
	}
	opts = opts.withDefaults()
	if _, err := parseCodec(opts.Codec); err != nil {
		return nil, fmt.Errorf("new data file %s: %w", key, err)
	}
	meta, err := json.Marshal(sch)
	if err != nil {
		return nil, fmt.Errorf("new data file %s: %w", key, err)
	}
	obj, err := store.Create(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("new data file %s: %w", key, err)
	}
	w := &Writer{ctx: ctx, store: store, key: key, sch: sch, arrow: sch.Arrow(), obj: obj, opts: opts}
	w.sink = &sink{buf: bufio.NewWriterSize(obj, writeBufferBytes)}
	if w.fw, err = newParquetWriter(sch, w.sink, opts, string(meta)); err != nil {
		return nil, errors.Join(fmt.Errorf("new data file %s: %w", key, err), obj.Abort())
	}
	w.keys = newKeyTracker(sch)
	if opts.Sketches != nil {
		if len(opts.Sketches) != len(sch.RowKeys) {
			return nil, errors.Join(fmt.Errorf("new data file %s: %d sketches for %d row keys", key, len(opts.Sketches), len(sch.RowKeys)), w.Abort())
		}
		w.sketches, w.given = opts.Sketches, true
		return w, nil
	}
	for range sch.RowKeys {
		w.sketches = append(w.sketches, NewSketch())
	}
	return w, nil
}

// maxPageRows is the most rows a data page holds: as many as 8-byte
// values fill a page of pageBytes. Delta-encoded integers would otherwise
// fill a page with a whole row group.
func maxPageRows(pageBytes int64) int64 { return max(pageBytes/8, 1) }

// Write appends the rows of rec, whose columns must be the table's in
// storage order (schema.Arrow; names and nullability may differ). Every
// row must sort at or after the row before it, in this batch or the
// previous one; otherwise Write returns ErrUnsorted and the Writer can only
// be aborted. The caller keeps ownership of rec.
func (w *Writer) Write(rec arrow.RecordBatch) error {
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	if err := w.write(rec); err != nil {
		w.err = fmt.Errorf("write data file %s: %w", w.key, err)
		return w.err
	}
	return nil
}

func (w *Writer) write(rec arrow.RecordBatch) error {
	if rec.NumRows() == 0 {
		return nil
	}
	if err := w.conform(rec); err != nil {
		return err
	}
	if err := w.observeKeys(rec); err != nil {
		return err
	}
	if err := w.fw.Write(rec.Columns()); err != nil {
		return err
	}
	w.rows += rec.NumRows()
	return nil
}

// conform checks that rec has the table's columns: their types, and no
// NULL in a NOT NULL value column (names and nullability may differ).
func (w *Writer) conform(rec arrow.RecordBatch) error {
	if int(rec.NumCols()) != w.arrow.NumFields() {
		return fmt.Errorf("%w: batch has %d columns, table has %d", ErrSchemaMismatch, rec.NumCols(), w.arrow.NumFields())
	}
	for i, f := range w.arrow.Fields() {
		col := rec.Column(i)
		if !arrow.TypeEqual(col.DataType(), f.Type) {
			return fmt.Errorf("%w: column %d (%s) is %s, want %s", ErrSchemaMismatch, i+1, f.Name, col.DataType(), f.Type)
		}
		// Keys are checked by observeKeys.
		if i >= w.sch.NumKeys() && !f.Nullable && col.NullN() > 0 {
			return fmt.Errorf("%w: column %s is NOT NULL but holds %d NULLs", ErrSchemaMismatch, f.Name, col.NullN())
		}
	}
	return nil
}

// observeKeys checks the order of every row of rec against the row before
// it and, unless the sketches were given, adds the row keys to them. The
// first row is compared with the previous batch's last through their plain
// encodings; the others with their neighbours in place, column by column
// (schema.AdjacentOrder), which costs a few nanoseconds a row where encoding each
// key cost tens.
func (w *Writer) observeKeys(rec arrow.RecordBatch) error {
	cols := rec.Columns()[:w.sch.NumKeys()]
	for c, col := range cols {
		if col.NullN() > 0 {
			return fmt.Errorf("%w: %s", ErrNullKey, w.sch.Columns()[c].Name)
		}
	}
	same, err := w.keys.next(cols, 0)
	if err != nil {
		return fmt.Errorf("row 0 of the batch (row %d of the file): %w", w.rows, err)
	}
	if w.rows == 0 {
		w.minKey = w.keys.copyRowKeys()
	}
	w.sketchRow(cols, 0, same)
	n := int(rec.NumRows())
	if n == 1 {
		return nil
	}
	if w.given && len(cols) == 1 {
		// Nothing to sketch: only the order to check, in one typed pass.
		if row, ok := firstDescent(cols[0]); ok {
			if row > 0 {
				return fmt.Errorf("row %d of the batch (row %d of the file): %w", row, w.rows+int64(row), w.keys.unsorted(cols, row))
			}
			w.keys.encode(cols, n-1)
			return nil
		}
	}
	cmps := w.keys.adjacent(cols)
	for row := 1; row < n; row++ {
		same := 0
		for same < len(cmps) {
			c := cmps[same](row)
			if c > 0 {
				return fmt.Errorf("row %d of the batch (row %d of the file): %w", row, w.rows+int64(row), w.keys.unsorted(cols, row))
			}
			if c < 0 {
				break
			}
			same++
		}
		w.sketchRow(cols, row, same)
	}
	// The last row's encoding, for the next batch's first row and MaxKey.
	w.keys.encode(cols, n-1)
	return nil
}

// firstDescent returns the first row of a VARCHAR or VARBINARY column
// that sorts before the row above it, or 0 if none does; ok is false for
// other types. A compaction's output, whose sketches come merged, has its
// order checked here at the cost of one comparison a row.
func firstDescent(col arrow.Array) (row int, ok bool) {
	offs, data, ok := byteArrays(col)
	if !ok {
		return 0, false
	}
	// Neighbours mostly differ in their first 16 bytes: their heads
	// decide without a call to bytes.Compare.
	prev := data[offs[0]:offs[1]]
	ph := schema.HeadOf(prev)
	for r := 1; r < len(offs)-1; r++ {
		cur := data[offs[r]:offs[r+1]]
		ch := schema.HeadOf(cur)
		c := ph.Cmp(ch)
		if c == 0 {
			c = bytes.Compare(prev, cur)
		}
		if c > 0 {
			return r, true
		}
		prev, ph = cur, ch
	}
	return 0, true
}

// byteArrays returns the offsets and the data buffer of a VARCHAR or
// VARBINARY column (value i is data[offs[i]:offs[i+1]]: the offsets index
// the whole buffer), or ok false for other types.
func byteArrays(col arrow.Array) (offs []int32, data []byte, ok bool) {
	switch a := col.(type) {
	case *array.String:
		offs = a.ValueOffsets()
	case *array.Binary:
		offs = a.ValueOffsets()
	default:
		return nil, nil, false
	}
	if bufs := col.Data().Buffers(); len(bufs) > 2 && bufs[2] != nil {
		data = bufs[2].Bytes()
	}
	return offs, data, true
}

// sketchRow adds row's row keys to the sketches, unless they were given.
// same is the number of leading key columns equal to the previous row's.
func (w *Writer) sketchRow(cols []arrow.Array, row, same int) {
	if w.given {
		return
	}
	for c, sk := range w.sketches {
		sk.update(w.keys.rowKeyString(c, cols[c], row, c < same))
	}
}

// checkSketches reports given sketches that do not count the rows
// written: a bug upstream, which must not leave a file whose sketches
// misstate it.
func (w *Writer) checkSketches() error {
	if !w.given {
		return nil
	}
	for c, sk := range w.sketches {
		if int64(sk.N()) != w.rows {
			return fmt.Errorf("write data file %s: the given sketch of row key %s counts %d rows, the file has %d",
				w.key, w.sch.RowKeys[c].Name, sk.N(), w.rows)
		}
	}
	return nil
}

// Close finishes the file: it writes the footer and the sketch object and
// makes both visible. On error nothing is left visible. The Writer cannot
// be used afterwards.
func (w *Writer) Close() (Info, error) {
	if w.closed {
		return Info{}, ErrClosed
	}
	if w.err == nil {
		w.err = w.checkSketches()
	}
	if w.err != nil {
		return Info{}, errors.Join(w.err, w.Abort())
	}
	w.closed = true
	info, err := w.finish()
	if err != nil {
		return Info{}, fmt.Errorf("close data file %s: %w", w.key, err)
	}
	return info, nil
}

func (w *Writer) finish() (Info, error) {
	if err := w.fw.Close(); err != nil {
		return Info{}, errors.Join(err, w.obj.Abort())
	}
	if err := w.sink.buf.Flush(); err != nil {
		return Info{}, errors.Join(err, w.obj.Abort())
	}
	sketchKey := SketchKey(w.key)
	data, err := encodeSketches(w.sketches)
	if err == nil {
		err = w.store.Put(w.ctx, sketchKey, data)
	}
	if err != nil {
		return Info{}, errors.Join(fmt.Errorf("write sketches: %w", err), w.obj.Abort())
	}
	if err := w.obj.Close(); err != nil {
		return Info{}, errors.Join(err, w.store.Delete(context.WithoutCancel(w.ctx), sketchKey))
	}
	info := Info{Key: w.key, Rows: w.rows, Bytes: w.sink.n, SketchKey: sketchKey}
	if w.rows > 0 {
		info.MinKey = w.minKey
		info.MaxKey = w.keys.copyRowKeys()
	}
	return info, nil
}

// Abort discards the file: nothing is left visible under its key or its
// sketch key. Abort after Close returns ErrClosed.
func (w *Writer) Abort() error {
	if w.closed {
		return ErrClosed
	}
	w.closed = true
	w.sink.discard = true
	if w.fw != nil {
		w.fw.Abort() // gives back its buffers
	}
	return w.obj.Abort()
}

// sink counts the bytes of the file on their way to the object and, once
// the file is aborted, throws them away.
type sink struct {
	buf     *bufio.Writer
	n       int64
	discard bool
}

func (s *sink) Write(p []byte) (int, error) {
	if s.discard {
		return len(p), nil
	}
	n, err := s.buf.Write(p)
	s.n += int64(n)
	return n, err
}

var _ io.Writer = (*sink)(nil)

// keyTracker holds the plain encodings of the key columns of the last row
// seen, to check the order of the next batch's first row, and the strings
// last given to the sketches.
type keyTracker struct {
	nRowKeys  int
	cur, prev [][]byte
	prevStr   []string // per row key: the string last given to its sketch
	scratch   []byte
	started   bool
}

func newKeyTracker(sch *schema.Schema) keyTracker {
	return keyTracker{
		nRowKeys: len(sch.RowKeys),
		cur:      make([][]byte, sch.NumKeys()),
		prev:     make([][]byte, sch.NumKeys()),
		prevStr:  make([]string, len(sch.RowKeys)),
	}
}

// next encodes the key columns of row and compares them with the row
// encoded before. Comparing plain encodings column by column orders rows
// as bytes.Compare on schema.AppendRowKey does. It returns the number of
// leading key columns equal to the previous row's (0 for the first row),
// or ErrUnsorted.
func (k *keyTracker) next(cols []arrow.Array, row int) (same int, err error) {
	k.encode(cols, row)
	if !k.started {
		k.started = true
		return 0, nil
	}
	for same < len(cols) {
		switch bytes.Compare(k.prev[same], k.cur[same]) {
		case 0:
			same++
			continue
		case 1:
			return same, fmt.Errorf("%w: key %s sorts before the previous row's %s",
				ErrUnsorted, formatKey(cols, k.cur), formatKey(cols, k.prev))
		}
		break
	}
	return same, nil
}

// encode makes row the current row; the current one becomes the previous.
func (k *keyTracker) encode(cols []arrow.Array, row int) {
	k.prev, k.cur = k.cur, k.prev
	for c, col := range cols {
		k.cur[c] = schema.AppendValue(k.cur[c][:0], col, row)
	}
}

// unsorted describes row of cols sorting before the row above it.
func (k *keyTracker) unsorted(cols []arrow.Array, row int) error {
	k.encode(cols, row-1)
	k.encode(cols, row)
	return fmt.Errorf("%w: key %s sorts before the previous row's %s",
		ErrUnsorted, formatKey(cols, k.cur), formatKey(cols, k.prev))
}

// adjacent returns, per key column, the order of each row against the row
// above it in the same batch (schema.AdjacentOrder).
func (k *keyTracker) adjacent(cols []arrow.Array) []func(row int) int {
	out := make([]func(int) int, len(cols))
	for c, col := range cols {
		out[c] = schema.AdjacentOrder(col)
	}
	return out
}

// rowKeyString returns row key c's value at row (col is its column) as a
// string for its sketch, reusing the previous row's string when the value
// repeats: one string per distinct value.
func (k *keyTracker) rowKeyString(c int, col arrow.Array, row int, repeat bool) string {
	if repeat {
		return k.prevStr[c]
	}
	if a, ok := col.(*array.String); ok {
		k.prevStr[c] = strings.Clone(a.Value(row))
	} else {
		k.scratch = schema.AppendValue(k.scratch[:0], col, row)
		k.prevStr[c] = string(k.scratch)
	}
	return k.prevStr[c]
}

// copyRowKeys copies the row key encodings of the current row.
func (k *keyTracker) copyRowKeys() [][]byte {
	out := make([][]byte, k.nRowKeys)
	for i := range out {
		out[i] = bytes.Clone(k.cur[i])
	}
	return out
}

func formatKey(cols []arrow.Array, enc [][]byte) string {
	parts := make([]string, len(cols))
	for i, col := range cols {
		t, _ := schema.FromArrow(col.DataType())
		parts[i] = schema.FormatValue(t, enc[i])
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// The zstd levels of the files Dormouse writes itself (ingest and
// compaction outputs): libzstd's level 1, and level 2 for the columns
// whose pages it makes a tenth smaller (WriterOptions.CompressionLevelUp).
// Compression was half a compaction's CPU at level 3; level 1 alone
// costs a third of that, but on the benchmark rows (bench/compare) leaves
// the DOUBLE column at 5.9 bytes a row where level 2 makes 3.5 (level 2
// takes three times level 1's CPU on the other columns, for no fewer
// bytes). Together, on a compaction of 11 million rows: 75 ns a row of
// compression and 13.3 bytes a row, against 128 ns and the same bytes
// with klauspost/compress at level 1 (package libzstd). Compactions
// rewrite the files anyway; a table that wants them denser can be
// exported at a higher level.
const (
	FastZstdLevel   = 1
	FastZstdLevelUp = 2
)

// Codecs are the page compression codecs a Writer can use
// (WriterOptions.Codec), by the names the table property
// compression_codec takes. zstd is the default.
//
// Measured on the pages of a compaction of the benchmark's 11 million
// rows (bench/gen: the sorted VARCHAR key and the short VARCHAR
// DELTA_BYTE_ARRAY, the DOUBLE PLAIN; 23 bytes a row encoded, leaving
// out the BIGINT, whose bit-packed random deltas no codec shrinks), CPU
// per row on a shared 2-core AMD EPYC:
//
//	codec                     bytes/row  compress  decompress
//	zstd (FastZstdLevel, Up)  10.6       ~60 ns    ~17 ns
//	snappy                    16.9       ~128 ns   ~28 ns
//	lz4_raw                   18.7       ~104 ns   ~6 ns
//	none                      23.0       0         0
//
// zstd (libzstd's) is the densest and the cheapest to write; lz4_raw
// pages read several times faster. snappy and lz4_raw are the Go
// libraries arrow-go uses.
var Codecs = []string{"zstd", "snappy", "lz4_raw", "none"}

// parseCodec returns the Parquet codec of a Codecs name ("" is zstd).
func parseCodec(name string) (compress.Compression, error) {
	switch name {
	case "", "zstd":
		return compress.Codecs.Zstd, nil
	case "snappy":
		return compress.Codecs.Snappy, nil
	case "lz4_raw":
		return compress.Codecs.Lz4Raw, nil
	case "none":
		return compress.Codecs.Uncompressed, nil
	}
	return 0, fmt.Errorf("unknown compression codec %q (want one of %s)", name, strings.Join(Codecs, ", "))
}
