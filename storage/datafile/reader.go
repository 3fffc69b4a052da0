package datafile

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"unique"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/schema"
)

// DefaultBatchRows is the default number of rows in each record batch a
// RecordReader returns.
const DefaultBatchRows = 64 << 10

// ReaderOption tunes Open.
type ReaderOption func(*readerConfig)

type readerConfig struct {
	pages       *PageCache
	mem         memory.Allocator
	batchRows   int64
	coalesceGap int64
	fetchWindow int64 // 0: DefaultFetchWindow (read_cache.go)
}

// WithAllocator makes the Reader allocate the buffers of the batches it
// returns from mem. Without it, fixed-width columns come from
// PooledAllocator and variable-width ones (VARCHAR, VARBINARY) from Go's:
// callers keep strings that point into those (array.String.Value) beyond
// the array's life, which only Go's allocator makes safe, while numbers
// are copied out.
func WithAllocator(mem memory.Allocator) ReaderOption {
	return func(c *readerConfig) { c.mem = mem }
}

// WithBatchRows sets the number of rows per record batch (DefaultBatchRows).
func WithBatchRows(n int) ReaderOption {
	return func(c *readerConfig) {
		if n > 0 {
			c.batchRows = int64(n)
		}
	}
}

// WithCoalesceGap sets the largest hole between two wanted byte ranges
// that is read anyway to fetch both in one request (DefaultCoalesceGap);
// 0 reads exactly the wanted bytes.
func WithCoalesceGap(n int64) ReaderOption {
	return func(c *readerConfig) {
		if n >= 0 {
			c.coalesceGap = n
		}
	}
}

// WithPageCache makes the Reader look for pages in c first and keep there
// the pages it decodes: always for small reads (point and narrow range
// reads), and for scans of whole row groups only into room c has to spare
// (see PageCache).
func WithPageCache(c *PageCache) ReaderOption {
	return func(cfg *readerConfig) { cfg.pages = c }
}

// Reader reads one data file by random access over the store: the footer
// when it opens, then only the column chunks, or the pages, that a
// RecordReader asks for (see read_cache.go). It is not safe for concurrent
// use; open one per goroutine.
type Reader struct {
	key   string
	sch   *schema.Schema
	cfg   readerConfig
	obj   objstore.Object
	cache *readCache
	pf    *file.Reader
	arrow *arrow.Schema
	// frs are the pqarrow readers, made on first use: frs[0] makes batches
	// from cfg.mem (Go's allocator without WithAllocator), frs[1] from
	// PooledAllocator, for the fixed-width columns when cfg.mem is nil.
	frs [2]*pqarrow.FileReader

	// pageIndexes caches each row group's page index reader; its bytes
	// are pinned in the cache.
	pageIndexes map[int]*metadata.RowGroupPageIndexReader
	// chunks caches what page reads need of each (row group, column):
	// the decoded offset index and how the chunk is encoded.
	chunks map[[2]int]*chunkInfo
	// groupStats and pageStats cache RowGroupStats' and PageStats'
	// answers.
	groupStats []*RowGroupStats
	pageStats  map[[2]int][]PageStats
	pcache     *PageCache // shared; nil: none
	noDirect   bool       // tests: read everything through pqarrow
	// file names the file in pcache: store, key and size.
	file unique.Handle[fileID]
	// levels and idx are the direct path's scratch (read_direct.go).
	levels []uint8
	idx    []uint32
	// scratch is the directGroup of reads over before they return
	// (scratchDirect).
	scratch *directGroup
	// schemas are ReadRows' batch schemas by column list.
	schemas map[string]*arrow.Schema
}

// Open opens the data file key, written by a Writer for the table schema
// sch, and reads its footer. It returns ErrSchemaMismatch if the file's
// columns are not sch's. The caller must Close the Reader.
func Open(ctx context.Context, store objstore.Store, key string, sch *schema.Schema, opts ...ReaderOption) (*Reader, error) {
	cfg := readerConfig{batchRows: DefaultBatchRows, coalesceGap: DefaultCoalesceGap}
	for _, o := range opts {
		o(&cfg)
	}
	obj, err := store.Open(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("open data file %s: %w", key, err)
	}
	r := &Reader{key: key, sch: sch, cfg: cfg, obj: obj, cache: newReadCache(obj), arrow: sch.Arrow(),
		pageIndexes: map[int]*metadata.RowGroupPageIndexReader{}, chunks: map[[2]int]*chunkInfo{},
		pageStats: map[[2]int][]PageStats{}, pcache: cfg.pages,
		file: unique.Make(fileID{name: store.URL() + "\x00" + key, size: obj.Size()})}
	if err := r.open(); err != nil {
		return nil, errors.Join(fmt.Errorf("open data file %s: %w", key, err), r.Close())
	}
	return r, nil
}

func (r *Reader) open() error {
	// The page reader's buffers never leave it: they come from the pool
	// whatever allocator the batches use.
	props := parquet.NewReaderProperties(PooledAllocator)
	// Buffered streams read through the cache, which ReadRows fills with
	// the ranges it plans before each row group (see read_cache.go).
	props.BufferedStreamEnabled = true
	var err error
	r.pf, err = file.NewParquetReader(io.NewSectionReader(r.cache, 0, r.obj.Size()), file.WithReadProps(props))
	if err != nil {
		return err
	}
	got, err := pqarrow.FromParquet(r.pf.MetaData().Schema, &pqarrow.ArrowReadProperties{}, r.pf.MetaData().KeyValueMetadata())
	if err != nil {
		return err
	}
	return checkSchema(r.sch.Arrow(), got)
}

func checkSchema(want, got *arrow.Schema) error {
	if want.NumFields() != got.NumFields() {
		return fmt.Errorf("%w: file has %d columns, table has %d", ErrSchemaMismatch, got.NumFields(), want.NumFields())
	}
	for i, f := range want.Fields() {
		g := got.Field(i)
		if g.Name != f.Name || !arrow.TypeEqual(g.Type, f.Type) {
			return fmt.Errorf("%w: file column %d is %s %s, table has %s %s", ErrSchemaMismatch, i+1, g.Name, g.Type, f.Name, f.Type)
		}
	}
	return nil
}

// columnReader returns the pqarrow reader for storage column c and the
// allocator of its batches.
func (r *Reader) columnReader(c int) (*pqarrow.FileReader, memory.Allocator, error) {
	i, mem := r.columnAlloc(c)
	if r.frs[i] == nil {
		fr, err := pqarrow.NewFileReader(r.pf, pqarrow.ArrowReadProperties{BatchSize: r.cfg.batchRows}, mem)
		if err != nil {
			return nil, nil, err
		}
		r.frs[i] = fr
	}
	return r.frs[i], mem, nil
}

// columnAlloc returns the allocator of storage column c's batches, and
// which of frs uses it.
func (r *Reader) columnAlloc(c int) (int, memory.Allocator) {
	if r.cfg.mem != nil {
		return 0, r.cfg.mem
	}
	if _, fixed := r.arrow.Field(c).Type.(arrow.FixedWidthDataType); fixed {
		return 1, PooledAllocator
	}
	return 0, memory.DefaultAllocator
}

// Close releases the Reader, which must not be used afterwards.
// RecordReaders it returned must be closed first.
func (r *Reader) Close() error {
	var err error
	if r.pf != nil {
		err = r.pf.Close()
		r.pf = nil
	}
	if r.obj != nil {
		err = errors.Join(err, r.obj.Close())
		r.obj = nil
	}
	r.cache = nil
	r.pageIndexes = nil
	return err
}

// BytesFetched is the number of bytes read from the store so far: the
// footer, page indexes and the ranges read for record readers.
func (r *Reader) BytesFetched() int64 { return r.cache.Fetched() }

// NumRows is the number of rows in the file.
func (r *Reader) NumRows() int64 { return r.pf.NumRows() }

// NumRowGroups is the number of row groups in the file.
func (r *Reader) NumRowGroups() int { return r.pf.NumRowGroups() }

// RowGroupStats describes one row group.
type RowGroupStats struct {
	Rows int64
	// Columns holds one entry per column, in storage order.
	Columns []ColumnStats
}

// ColumnStats are the statistics of one column in one row group (or one
// page). Every column type has a plain key encoding (schema.AppendValue),
// so Min and Max are given in it whether or not the column is a key:
// bytes.Compare orders them as the type does, and schema.DecodeInt,
// DecodeFloat and FormatValue read them back as typed values.
type ColumnStats struct {
	// HasMinMax says whether Min and Max are known. They are not when every
	// value is NULL, or when a VARCHAR or VARBINARY value was too long for
	// the writer to record.
	HasMinMax bool
	Min, Max  []byte
	// NullCount is the number of NULLs, or -1 if not recorded.
	NullCount int64
}

// RowGroupStats returns the statistics of row group i, as recorded in the
// footer (no read from the store), decoded once per Reader: the Columns
// slice is the Reader's, not to be changed.
func (r *Reader) RowGroupStats(i int) (RowGroupStats, error) {
	if i < 0 || i >= r.NumRowGroups() {
		return RowGroupStats{}, fmt.Errorf("row group %d of %s: out of range [0, %d)", i, r.key, r.NumRowGroups())
	}
	if r.groupStats == nil {
		r.groupStats = make([]*RowGroupStats, r.NumRowGroups())
	}
	if st := r.groupStats[i]; st != nil {
		return *st, nil
	}
	st, err := r.decodeRowGroupStats(i)
	if err != nil {
		return RowGroupStats{}, err
	}
	r.groupStats[i] = &st
	return st, nil
}

func (r *Reader) decodeRowGroupStats(i int) (RowGroupStats, error) {
	rg := r.pf.MetaData().RowGroup(i)
	cols := r.sch.Columns()
	out := RowGroupStats{Rows: rg.NumRows(), Columns: make([]ColumnStats, len(cols))}
	for c, col := range cols {
		cc, err := rg.ColumnChunk(c)
		if err != nil {
			return RowGroupStats{}, fmt.Errorf("row group %d of %s: %w", i, r.key, err)
		}
		st, err := cc.Statistics()
		if err != nil {
			return RowGroupStats{}, fmt.Errorf("row group %d of %s, column %s: %w", i, r.key, col.Name, err)
		}
		cs := ColumnStats{NullCount: -1}
		if st != nil {
			if st.HasNullCount() {
				cs.NullCount = st.NullCount()
			}
			if st.HasMinMax() && ordered(st.Type(), st.EncodeMin(), st.EncodeMax()) {
				cs.Min, err = keyFromParquet(col.Type, st.EncodeMin())
				if err == nil {
					cs.Max, err = keyFromParquet(col.Type, st.EncodeMax())
				}
				if err != nil {
					return RowGroupStats{}, fmt.Errorf("row group %d of %s, column %s: %w", i, r.key, col.Name, err)
				}
				cs.HasMinMax = true
			}
		}
		out.Columns[c] = cs
	}
	return out, nil
}

// PageStats describes one data page of one column chunk, from the page
// index (column index and offset index).
type PageStats struct {
	ColumnStats
	// FirstRow is the index, within the row group, of the page's first row;
	// the page ends where the next begins.
	FirstRow int64
	// Offset and CompressedBytes locate the page in the file.
	Offset          int64
	CompressedBytes int32
}

// PageStats returns the page index of one column of one row group: the
// statistics and place of each data page, in order. It reads the row
// group's page index from the store and decodes it once per Reader; the
// slice returned is the Reader's, not to be changed.
func (r *Reader) PageStats(rowGroup, column int) ([]PageStats, error) {
	if rowGroup < 0 || rowGroup >= r.NumRowGroups() || column < 0 || column >= r.sch.NumColumns() {
		return nil, fmt.Errorf("page index of %s: row group %d, column %d out of range", r.key, rowGroup, column)
	}
	k := [2]int{rowGroup, column}
	if ps, ok := r.pageStats[k]; ok {
		return ps, nil
	}
	ps, err := r.decodePageStats(rowGroup, column)
	if err != nil {
		return nil, err
	}
	r.pageStats[k] = ps
	return ps, nil
}

func (r *Reader) decodePageStats(rowGroup, column int) ([]PageStats, error) {
	typ := r.sch.Column(column).Type
	pir, err := r.pageIndex(rowGroup)
	if err != nil {
		return nil, err
	}
	ci, err := pir.GetColumnIndex(column)
	if err == nil && ci == nil {
		err = errors.New("no column index")
	}
	if err != nil {
		return nil, fmt.Errorf("column index of %s, row group %d, column %d: %w", r.key, rowGroup, column, err)
	}
	oi, err := pir.GetOffsetIndex(column)
	if err == nil && oi == nil {
		err = errors.New("no offset index")
	}
	if err != nil {
		return nil, fmt.Errorf("offset index of %s, row group %d, column %d: %w", r.key, rowGroup, column, err)
	}
	locs := oi.GetPageLocations()
	nulls, mins, maxs := ci.GetNullPages(), ci.GetMinValues(), ci.GetMaxValues()
	if len(nulls) != len(locs) || len(mins) != len(locs) || len(maxs) != len(locs) {
		return nil, fmt.Errorf("page index of %s, row group %d, column %d: %d pages in the offset index, %d in the column index",
			r.key, rowGroup, column, len(locs), len(nulls))
	}
	out := make([]PageStats, len(locs))
	for p, loc := range locs {
		ps := PageStats{ColumnStats: ColumnStats{NullCount: -1}, FirstRow: loc.FirstRowIndex, Offset: loc.Offset, CompressedBytes: loc.CompressedPageSize}
		if ci.IsSetNullCounts() {
			ps.NullCount = ci.GetNullCounts()[p]
		}
		if !nulls[p] {
			if ps.Min, err = keyFromParquet(typ, mins[p]); err == nil {
				ps.Max, err = keyFromParquet(typ, maxs[p])
			}
			if err != nil {
				return nil, fmt.Errorf("page index of %s, row group %d, column %d, page %d: %w", r.key, rowGroup, column, p, err)
			}
			ps.HasMinMax = true
		}
		out[p] = ps
	}
	return out, nil
}

// ordered reports whether a column chunk's byte-array statistics can be
// trusted: arrow-go's writer, when a chunk's max was longer than its
// limit (4096 bytes), wrote the min alone, and its reader then reports
// both, the max empty. A max below the min is such a missing max:
// pruning by it would drop the chunk's rows from a query's answer.
// Other types' statistics are always written whole.
func ordered(phys parquet.Type, min, max []byte) bool {
	return phys != parquet.Types.ByteArray || bytes.Compare(min, max) <= 0
}

// keyFromParquet turns a Parquet plain-encoded statistic (little-endian
// numbers, raw bytes for byte arrays) into the plain key encoding.
func keyFromParquet(t schema.Type, v []byte) ([]byte, error) {
	switch t {
	case schema.BigInt, schema.Timestamp:
		if len(v) != 8 {
			return nil, fmt.Errorf("%s statistic has %d bytes, want 8", t, len(v))
		}
		return schema.EncodeInt(int64(binary.LittleEndian.Uint64(v))), nil
	case schema.Integer, schema.Date:
		if len(v) != 4 {
			return nil, fmt.Errorf("%s statistic has %d bytes, want 4", t, len(v))
		}
		return schema.EncodeInt(int64(int32(binary.LittleEndian.Uint32(v)))), nil
	case schema.Double:
		if len(v) != 8 {
			return nil, fmt.Errorf("DOUBLE statistic has %d bytes, want 8", len(v))
		}
		return schema.EncodeFloat(math.Float64frombits(binary.LittleEndian.Uint64(v))), nil
	case schema.Boolean:
		if len(v) != 1 {
			return nil, fmt.Errorf("BOOLEAN statistic has %d bytes, want 1", len(v))
		}
		return []byte{v[0] & 1}, nil
	case schema.Varchar, schema.Varbinary:
		return append([]byte(nil), v...), nil
	}
	return nil, fmt.Errorf("no key encoding for %s", t)
}

// pageIndex returns the page index reader of a row group, fetching and
// pinning its bytes (column and offset indexes of every column) on first
// use, so that PageStats and every page seek read it from memory.
func (r *Reader) pageIndex(rowGroup int) (*metadata.RowGroupPageIndexReader, error) {
	if pir, ok := r.pageIndexes[rowGroup]; ok {
		return pir, nil
	}
	rg := r.pf.MetaData().RowGroup(rowGroup)
	var want []byteRange
	for _, span := range [2]func(int) (metadata.IndexLocation, bool){rg.ColumnIndexLocation, rg.OffsetIndexLocation} {
		lo, hi := int64(math.MaxInt64), int64(-1)
		for c := range rg.NumColumns() {
			if loc, ok := span(c); ok {
				lo, hi = min(lo, loc.Offset), max(hi, loc.Offset+int64(loc.Length))
			}
		}
		if hi > lo {
			want = append(want, byteRange{lo, hi})
		}
	}
	if len(want) == 0 {
		return nil, fmt.Errorf("page index of %s, row group %d: %w", r.key, rowGroup, ErrNoPageIndex)
	}
	sort.Slice(want, func(i, j int) bool { return want[i].off < want[j].off })
	if err := r.cache.fetch(want, 0, true); err != nil {
		return nil, fmt.Errorf("page index of %s, row group %d: %w", r.key, rowGroup, err)
	}
	pir, err := r.pf.GetPageIndexReader().RowGroup(rowGroup)
	if err == nil && pir == nil {
		err = ErrNoPageIndex
	}
	if err != nil {
		return nil, fmt.Errorf("page index of %s, row group %d: %w", r.key, rowGroup, err)
	}
	r.pageIndexes[rowGroup] = pir
	return pir, nil
}
