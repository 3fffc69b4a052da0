package datafile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// RecordReader streams record batches in file order.
type RecordReader interface {
	// Next returns the next batch, which the caller must release, or io.EOF
	// after the last one.
	Next() (arrow.RecordBatch, error)
	// Close releases the reader and any batch it still holds.
	Close()
}

// RowRange is a half-open range [Start, End) of row indexes within one row
// group.
type RowRange struct{ Start, End int64 }

// Selection picks rows of one row group for ReadRows.
type Selection struct {
	RowGroup int
	// Rows are sorted, disjoint, non-empty ranges within the row group;
	// nil means every row. Only the pages that hold them are read.
	Rows []RowRange
}

// Records streams the given columns (storage indexes, in the order given;
// nil means all) of the given row groups (in the order given; nil means
// all). See ReadRows.
func (r *Reader) Records(ctx context.Context, columns []int, rowGroups []int) (RecordReader, error) {
	if rowGroups == nil {
		rowGroups = make([]int, r.NumRowGroups())
		for i := range rowGroups {
			rowGroups[i] = i
		}
	}
	sel := make([]Selection, len(rowGroups))
	for i, rg := range rowGroups {
		sel[i] = Selection{RowGroup: rg}
	}
	return r.ReadRows(ctx, columns, sel)
}

// ReadRows streams the given columns (storage indexes, in the order given;
// nil means all, an empty list none: batches of rows without columns) of
// the selected rows, row group by row group in the order given. Batches
// have the columns' Arrow fields from schema.Arrow and never span two row
// ranges, so a batch's rows are consecutive in the file.
//
// Page pruning: for a Selection with Rows, only the dictionary page and
// the data pages that hold the selected rows are fetched (found in the
// offset index), and the decoder seeks from range to range. Nothing is
// read from the store before the first Next; each row group's byte ranges
// are fetched, merged into few requests, when it is reached, and dropped
// when it is done, so a RecordReader holds about one row group's selected
// pages. A Selection without Rows reads its column chunks a fetch window
// at a time (WithFetchWindow), so it holds a window or two per column.
func (r *Reader) ReadRows(ctx context.Context, columns []int, sel []Selection) (RecordReader, error) {
	if columns == nil {
		columns = make([]int, len(r.sch.Columns()))
		for i := range columns {
			columns[i] = i
		}
	}
	fields := make([]arrow.Field, len(columns))
	for i, c := range columns {
		if c < 0 || c >= r.arrow.NumFields() {
			return nil, fmt.Errorf("read %s: column %d out of range [0, %d)", r.key, c, r.arrow.NumFields())
		}
		fields[i] = r.arrow.Field(c)
	}
	for _, s := range sel {
		if err := r.checkSelection(s); err != nil {
			return nil, fmt.Errorf("read %s: %w", r.key, err)
		}
	}
	// A column asked for twice is read once.
	rr := &rowReader{ctx: ctx, r: r, sel: sel, schema: r.batchSchema(columns, fields), outPos: make([]int, len(columns))}
	for i, c := range columns {
		j := 0
		for j < len(rr.columns) && rr.columns[j] != c {
			j++
		}
		if j == len(rr.columns) {
			rr.columns = append(rr.columns, c)
		}
		rr.outPos[i] = j
	}
	return rr, nil
}

// batchSchema returns the schema of batches of the given columns, made
// once per Reader and column list (a point read asks on every lookup, and
// arrow.NewSchema indexes the fields in a map).
func (r *Reader) batchSchema(columns []int, fields []arrow.Field) *arrow.Schema {
	var buf [64]byte
	key := buf[:0]
	for _, c := range columns {
		key = strconv.AppendInt(key, int64(c), 10)
		key = append(key, ',')
	}
	if s, ok := r.schemas[string(key)]; ok {
		return s
	}
	if r.schemas == nil {
		r.schemas = map[string]*arrow.Schema{}
	}
	s := arrow.NewSchema(fields, nil)
	r.schemas[string(key)] = s
	return s
}

func (r *Reader) checkSelection(s Selection) error {
	if s.RowGroup < 0 || s.RowGroup >= r.NumRowGroups() {
		return fmt.Errorf("row group %d out of range [0, %d)", s.RowGroup, r.NumRowGroups())
	}
	rows := r.pf.MetaData().RowGroup(s.RowGroup).NumRows()
	prev := int64(0)
	for _, rr := range s.Rows {
		if rr.Start < prev || rr.End <= rr.Start || rr.End > rows {
			return fmt.Errorf("row group %d of %d rows: row ranges must be sorted, disjoint and non-empty, got %v", s.RowGroup, rows, s.Rows)
		}
		prev = rr.End
	}
	return nil
}

// rowRanges returns a selection's row ranges, the whole row group for nil.
func (r *Reader) rowRanges(s Selection) []RowRange {
	if s.Rows != nil {
		return s.Rows
	}
	if n := r.pf.MetaData().RowGroup(s.RowGroup).NumRows(); n > 0 {
		return []RowRange{{0, n}}
	}
	return nil
}

// plan returns the byte ranges to fetch for the selected rows of the
// given columns: whole column chunks, or the dictionary page and the data
// pages that meet the row ranges.
func (r *Reader) plan(s Selection, columns []int) ([]byteRange, error) {
	rg := r.pf.MetaData().RowGroup(s.RowGroup)
	var want []byteRange
	for _, c := range columns {
		cc, err := rg.ColumnChunk(c)
		if err != nil {
			return nil, err
		}
		start := cc.DataPageOffset()
		if cc.HasDictionaryPage() && cc.DictionaryPageOffset() > 0 && cc.DictionaryPageOffset() < start {
			start = cc.DictionaryPageOffset()
		}
		whole := byteRange{start, start + cc.TotalCompressedSize()}
		if s.Rows == nil {
			want = append(want, whole)
			continue
		}
		ci, err := r.chunk(s.RowGroup, c)
		if errors.Is(err, ErrNoPageIndex) {
			want = append(want, whole) // seeks will read page headers
			continue
		}
		if err != nil {
			return nil, err
		}
		if start < cc.DataPageOffset() {
			want = append(want, byteRange{start, cc.DataPageOffset()})
		}
		for p := range selectedPages(ci, s.Rows) {
			loc := ci.pages[p]
			want = append(want, byteRange{loc.offset, loc.offset + int64(loc.size)})
		}
	}
	sort.Slice(want, func(i, j int) bool { return want[i].off < want[j].off })
	return want, nil
}

// PagesSelected counts, over the given columns of a row group, the data
// pages that hold rows of the given ranges and all the data pages: what
// ReadRows reads of the row group against what it would read whole.
func (r *Reader) PagesSelected(rowGroup int, columns []int, rows []RowRange) (selected, total int64, err error) {
	for _, c := range columns {
		ci, err := r.chunk(rowGroup, c)
		if err != nil {
			return 0, 0, err
		}
		total += int64(len(ci.pages))
		for range selectedPages(ci, rows) {
			selected++
		}
	}
	return selected, total, nil
}

// rowReader reads selections row group by row group, with one pqarrow
// column reader per column for the current row group.
type rowReader struct {
	ctx     context.Context
	r       *Reader
	columns []int // distinct columns to read
	outPos  []int // output column i is columns[outPos[i]]
	sel     []Selection
	schema  *arrow.Schema

	cur     int // index in sel of the current row group
	started bool
	ranges  []RowRange
	ri      int          // current range
	pos     int64        // next row to decode, within the row group
	direct  *directGroup // the current row group's, when read directly
	readers []*pqarrow.ColumnReader
	allocs  []memory.Allocator // of each reader's batches
	err     error
}

func (rr *rowReader) Next() (arrow.RecordBatch, error) {
	if rr.err != nil {
		return nil, rr.err
	}
	rec, err := rr.next()
	if err != nil && err != io.EOF {
		rr.err = err
		rr.finishRowGroup()
	}
	return rec, err
}

func (rr *rowReader) next() (arrow.RecordBatch, error) {
	for {
		if err := rr.ctx.Err(); err != nil {
			return nil, err
		}
		if rr.cur >= len(rr.sel) {
			return nil, io.EOF
		}
		if !rr.started {
			if err := rr.startRowGroup(); err != nil {
				return nil, fmt.Errorf("read %s, row group %d: %w", rr.r.key, rr.sel[rr.cur].RowGroup, err)
			}
		}
		if rr.ri >= len(rr.ranges) {
			rr.finishRowGroup()
			rr.cur++
			continue
		}
		rec, err := rr.readBatch()
		if err != nil {
			return nil, fmt.Errorf("read %s, row group %d: %w", rr.r.key, rr.sel[rr.cur].RowGroup, err)
		}
		return rec, nil
	}
}

// startRowGroup fetches the byte ranges of the current selection and opens
// the column readers.
func (rr *rowReader) startRowGroup() error {
	s := rr.sel[rr.cur]
	rr.ranges, rr.ri, rr.pos, rr.started = rr.r.rowRanges(s), 0, 0, true
	if len(rr.ranges) == 0 || len(rr.columns) == 0 {
		return nil
	}
	var err error
	if rr.direct, err = rr.r.startDirect(s, rr.columns); err != nil || rr.direct != nil {
		return err
	}
	want, err := rr.r.plan(s, rr.columns)
	if err != nil {
		return err
	}
	if s.Rows == nil {
		// Whole chunks: big ones are streamed a window at a time.
		err = rr.r.cache.stream(want, rr.r.cfg.coalesceGap, rr.r.cfg.window(), rr.r.cachedChunk)
	} else {
		err = rr.r.cache.fetch(want, rr.r.cfg.coalesceGap, false)
	}
	if err != nil {
		return err
	}
	// Decoded page by page, each dropped when the next of its column is
	// taken: a large selection holds no more decoded pages than a whole
	// row group does.
	if rr.direct, err = rr.r.streamDirect(s, rr.columns); err != nil || rr.direct != nil {
		return err
	}
	rr.readers = make([]*pqarrow.ColumnReader, 0, len(rr.columns))
	rr.allocs = rr.allocs[:0]
	for _, c := range rr.columns {
		fr, mem, err := rr.r.columnReader(c)
		if err != nil {
			return err
		}
		crs, _, err := fr.GetFieldReaders(rr.ctx, []int{c}, []int{s.RowGroup})
		if err != nil {
			return err
		}
		rr.readers = append(rr.readers, crs...)
		rr.allocs = append(rr.allocs, mem)
	}
	return nil
}

// cachedChunk says whether the page cache holds the first page of a
// column chunk (its bytes r): then a whole-row-group read, which takes
// pages from the cache (streamDirect), fetches nothing of the chunk up
// front, only the windows of the pages it finds missing. A scan keeps a
// chunk's pages in order, so the first one held says most are; a warm
// scan then reads and copies no byte it does not decode.
func (r *Reader) cachedChunk(c byteRange) bool {
	return !r.noDirect && r.pcache.holds(r.pageID(c.off))
}

// finishRowGroup releases the column readers and the fetched bytes.
func (rr *rowReader) finishRowGroup() {
	for _, cr := range rr.readers {
		cr.Release()
	}
	rr.readers, rr.started, rr.direct = nil, false, nil
	if rr.r.cache != nil {
		rr.r.cache.release()
	}
}

// readBatch decodes the next rows of the current range, seeking first if
// the range starts past the decoder.
func (rr *rowReader) readBatch() (arrow.RecordBatch, error) {
	rg := rr.ranges[rr.ri]
	if rr.pos < rg.Start {
		for _, cr := range rr.readers {
			if err := cr.SeekToRow(rg.Start); err != nil {
				return nil, fmt.Errorf("seek to row %d: %w", rg.Start, err)
			}
		}
		rr.pos = rg.Start
	}
	n := min(rr.r.cfg.batchRows, rg.End-rr.pos)
	if rr.direct != nil {
		cols, err := rr.direct.read(rr.columns, []RowRange{{Start: rr.pos, End: rr.pos + n}})
		if err != nil {
			return nil, err
		}
		return rr.output(cols, n), nil
	}
	cols := make([]arrow.Array, len(rr.readers))
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, cr := range rr.readers {
		chunked, err := cr.NextBatch(n)
		if err != nil {
			return nil, err
		}
		cols[i], err = singleArray(rr.allocs[i], chunked)
		chunked.Release()
		if err != nil {
			return nil, err
		}
		cols[i] = dropValidity(cols[i])
		if int64(cols[i].Len()) != n {
			return nil, fmt.Errorf("column %d gave %d rows, want %d", rr.columns[i], cols[i].Len(), n)
		}
	}
	out := rr.output(cols, n)
	cols = nil // out holds them now
	return out, nil
}

// output advances past n rows and makes the batch of the output columns
// from the distinct columns read, which it takes over.
func (rr *rowReader) output(cols []arrow.Array, n int64) arrow.RecordBatch {
	rr.pos += n
	if rr.pos >= rr.ranges[rr.ri].End {
		rr.ri++
	}
	out := make([]arrow.Array, len(rr.outPos))
	for i, p := range rr.outPos {
		out[i] = cols[p]
	}
	rec := array.NewRecordBatch(rr.schema, out, n)
	for _, c := range cols {
		c.Release()
	}
	return rec
}

// singleArray turns a column reader's chunks into one array with the
// table's field type.
func singleArray(mem memory.Allocator, chunked *arrow.Chunked) (arrow.Array, error) {
	switch len(chunked.Chunks()) {
	case 0:
		return array.MakeArrayOfNull(mem, chunked.DataType(), 0), nil
	case 1:
		a := chunked.Chunk(0)
		a.Retain()
		return a, nil
	}
	return array.Concatenate(chunked.Chunks(), mem)
}

// dropValidity returns a without its validity bitmap when it has no NULL,
// releasing a. The Parquet reader makes one for every nullable column,
// and code that goes by the bitmap rather than the null count (Arrow's
// compute kernels among it) would test every row against it.
func dropValidity(a arrow.Array) arrow.Array {
	d := a.Data()
	bufs := d.Buffers()
	if a.NullN() != 0 || len(bufs) == 0 || bufs[0] == nil || len(d.Children()) > 0 {
		return a
	}
	bufs = append([]*memory.Buffer{nil}, bufs[1:]...)
	nd := array.NewData(d.DataType(), d.Len(), bufs, nil, 0, d.Offset())
	out := array.MakeFromData(nd)
	nd.Release()
	a.Release()
	return out
}

func (rr *rowReader) Close() {
	rr.finishRowGroup()
	rr.cur = len(rr.sel)
	if rr.err == nil {
		rr.err = io.EOF
	}
}
