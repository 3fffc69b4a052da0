package datafile_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/schema"
)

// countingStore counts the bytes read through objects it opens.
type countingStore struct {
	objstore.Store
	read atomic.Int64
}

func (s *countingStore) Open(ctx context.Context, key string) (objstore.Object, error) {
	o, err := s.Store.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	return &countingObject{Object: o, n: &s.read}, nil
}

type countingObject struct {
	objstore.Object
	n *atomic.Int64
}

func (o *countingObject) ReadAt(p []byte, off int64) (int, error) {
	n, err := o.Object.ReadAt(p, off)
	o.n.Add(int64(n))
	return n, err
}

var pageSchema = &schema.Schema{
	RowKeys: []schema.Column{{Name: "k", Type: schema.BigInt}},
	Values: []schema.Column{
		{Name: "word", Type: schema.Varchar, Nullable: true}, // dictionary-encoded
		{Name: "v", Type: schema.BigInt, Nullable: true},
		{Name: "pad", Type: schema.Varchar, Nullable: true}, // incompressible
	},
}

// writePagedFile writes rows 0..n-1 in row groups of rgRows and pages of
// pageBytes, and returns the rows as one batch.
func writePagedFile(t *testing.T, store objstore.Store, mem memory.Allocator, n, rgRows, pageBytes int) arrow.RecordBatch {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	rows := make([][]any, n)
	for i := range rows {
		var v any = int64(rng.IntN(1000))
		if i%7 == 0 {
			v = nil
		}
		pad := make([]byte, 24)
		for j := range pad {
			pad[j] = byte('a' + rng.IntN(26))
		}
		rows[i] = []any{int64(i), fmt.Sprintf("word%02d", i%40), v, string(pad)}
	}
	b := batch(t, mem, pageSchema, rows...)
	writeFile(t, store, "t/paged.parquet", pageSchema, datafile.WriterOptions{
		RowGroupRows: int64(rgRows), PageSizeBytes: int64(pageBytes), Allocator: mem}, b)
	return b
}

// readSelection reads the selection and returns the rows' columns
// concatenated, checking that no batch spans two ranges.
func readSelection(t *testing.T, r *datafile.Reader, mem memory.Allocator, cols []int, sel []datafile.Selection) []arrow.Array {
	t.Helper()
	rr, err := r.ReadRows(context.Background(), cols, sel)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	parts := make([][]arrow.Array, len(cols))
	var recs []arrow.RecordBatch
	defer func() {
		for _, rec := range recs {
			rec.Release()
		}
	}()
	for {
		rec, err := rr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
		for c := range cols {
			parts[c] = append(parts[c], rec.Column(c))
		}
	}
	out := make([]arrow.Array, len(cols))
	for c, p := range parts {
		if len(p) == 0 {
			out[c] = array.MakeArrayOfNull(mem, pageSchema.Arrow().Field(cols[c]).Type, 0)
			continue
		}
		a, err := array.Concatenate(p, mem)
		if err != nil {
			t.Fatal(err)
		}
		out[c] = a
	}
	return out
}

// expected slices the written rows by a selection.
func expected(t *testing.T, mem memory.Allocator, all arrow.RecordBatch, cols []int, sel []datafile.Selection, rgRows int64) []arrow.Array {
	t.Helper()
	out := make([]arrow.Array, len(cols))
	for i, c := range cols {
		var parts []arrow.Array
		for _, s := range sel {
			base := int64(s.RowGroup) * rgRows
			ranges := s.Rows
			if ranges == nil {
				ranges = []datafile.RowRange{{Start: 0, End: min(rgRows, all.NumRows()-base)}}
			}
			for _, rr := range ranges {
				parts = append(parts, array.NewSlice(all.Column(c), base+rr.Start, base+rr.End))
			}
		}
		if len(parts) == 0 {
			out[i] = array.MakeArrayOfNull(mem, all.Column(c).DataType(), 0)
			continue
		}
		a, err := array.Concatenate(parts, mem)
		releaseAll(parts)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = a
	}
	return out
}

// TestReadRowsRandom reads random row ranges of random columns and
// compares them with the rows written.
func TestReadRowsRandom(t *testing.T) {
	mem := newMem(t)
	store := newTestStore(t)
	const n, rgRows = 9000, 4000
	all := writePagedFile(t, store, mem, n, rgRows, 2<<10)
	defer all.Release()
	r := openFile(t, store, "t/paged.parquet", pageSchema, mem)
	rng := rand.New(rand.NewPCG(3, 4))
	for iter := range 60 {
		var cols []int
		for c := range 4 {
			if rng.IntN(2) == 0 {
				cols = append(cols, c)
			}
		}
		if len(cols) == 0 {
			cols = []int{rng.IntN(4)}
		}
		var sel []datafile.Selection
		for rg := range r.NumRowGroups() {
			rows := int64(min(rgRows, n-rg*rgRows))
			switch rng.IntN(4) {
			case 0: // skipped
			case 1:
				sel = append(sel, datafile.Selection{RowGroup: rg})
			default:
				s := datafile.Selection{RowGroup: rg, Rows: []datafile.RowRange{}}
				for start := int64(rng.IntN(200)); start < rows; {
					end := min(rows, start+1+int64(rng.IntN(400)))
					s.Rows = append(s.Rows, datafile.RowRange{Start: start, End: end})
					start = end + int64(rng.IntN(1500))
				}
				if len(s.Rows) > 0 {
					sel = append(sel, s)
				}
			}
		}
		t.Run(fmt.Sprint(iter), func(t *testing.T) {
			got := readSelection(t, r, mem, cols, sel)
			defer releaseAll(got)
			want := expected(t, mem, all, cols, sel, rgRows)
			defer releaseAll(want)
			for i := range cols {
				if !array.Equal(got[i], want[i]) {
					t.Fatalf("column %d of selection %v: got %d rows, want %d", cols[i], sel, got[i].Len(), want[i].Len())
				}
			}
		})
	}
}

// TestReadRowsSkipsPages checks that a narrow selection fetches only the
// pages that hold it: a small fraction of what a whole read fetches.
//
// Pages are 32 KiB so that the writer drops the dictionary of the
// high-cardinality columns (it decides before it cuts the first page, by
// which time a write batch of 1024 values must not have filled one): a
// dictionary-encoded column chunk needs its whole dictionary page for any
// one of its data pages.
func TestReadRowsSkipsPages(t *testing.T) {
	mem := newMem(t)
	store := &countingStore{Store: newTestStore(t)}
	const n, rgRows = 60000, 30000
	all := writePagedFile(t, store, mem, n, rgRows, 32<<10)
	all.Release()
	cols := []int{0, 1, 2, 3}

	read := func(sel []datafile.Selection) (bytes int64, rows int) {
		before := store.read.Load()
		r, err := datafile.Open(context.Background(), store, "t/paged.parquet", pageSchema,
			datafile.WithAllocator(mem), datafile.WithCoalesceGap(0))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		got := readSelection(t, r, mem, cols, sel)
		defer releaseAll(got)
		if fetched := store.read.Load() - before; fetched != r.BytesFetched() {
			t.Errorf("the store served %d bytes, the Reader counted %d", fetched, r.BytesFetched())
		}
		return store.read.Load() - before, got[0].Len()
	}
	footer, rows := read([]datafile.Selection{})
	if rows != 0 {
		t.Fatalf("empty selection read %d rows", rows)
	}
	whole, rows := read([]datafile.Selection{{RowGroup: 0}, {RowGroup: 1}})
	if rows != n {
		t.Fatalf("whole read gave %d rows", rows)
	}
	group, rows := read([]datafile.Selection{{RowGroup: 1}})
	if rows != rgRows {
		t.Fatalf("row group read gave %d rows", rows)
	}
	narrow := []datafile.Selection{{RowGroup: 1, Rows: []datafile.RowRange{{Start: 15000, End: 15010}}}}
	part, rows := read(narrow)
	if rows != 10 {
		t.Fatalf("narrow read gave %d rows", rows)
	}
	r := openFile(t, store, "t/paged.parquet", pageSchema, mem)
	kept, total, err := r.PagesSelected(1, cols, narrow[0].Rows)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("footer alone: %d bytes; whole file: %d bytes; row group 1: %d bytes; 10 rows of it: %d bytes (pages %d/%d)",
		footer, whole, group, part, kept, total)
	if (part-footer)*4 > group-footer {
		t.Errorf("10 rows fetched %d bytes, their row group %d: pages were not skipped", part, group)
	}
	if kept > 8 || total < 30 {
		t.Errorf("pages %d/%d: want at most 2 per column out of many", kept, total)
	}
	if part*10 > whole {
		t.Errorf("narrow read fetched %d bytes, whole read %d: pages were not skipped", part, whole)
	}
}

// TestReadRowsNoColumns counts rows without reading any column.
func TestReadRowsNoColumns(t *testing.T) {
	mem := newMem(t)
	store := newTestStore(t)
	all := writePagedFile(t, store, mem, 5000, 2000, 2<<10)
	all.Release()
	r := openFile(t, store, "t/paged.parquet", pageSchema, mem)
	before := r.BytesFetched()
	rr, err := r.ReadRows(context.Background(), []int{}, []datafile.Selection{{RowGroup: 0}, {RowGroup: 2, Rows: []datafile.RowRange{{Start: 5, End: 7}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	var rows int64
	for {
		rec, err := rr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rows += rec.NumRows()
		rec.Release()
	}
	if rows != 2002 {
		t.Errorf("counted %d rows, want 2002", rows)
	}
	if got := r.BytesFetched() - before; got != 0 {
		t.Errorf("fetched %d bytes to count rows", got)
	}
}

// TestReadRowsRepeatedColumn reads a column asked for twice.
func TestReadRowsRepeatedColumn(t *testing.T) {
	mem := newMem(t)
	store := newTestStore(t)
	all := writePagedFile(t, store, mem, 3000, 1000, 2<<10)
	defer all.Release()
	r := openFile(t, store, "t/paged.parquet", pageSchema, mem)
	sel := []datafile.Selection{{RowGroup: 1, Rows: []datafile.RowRange{{Start: 10, End: 900}}}, {RowGroup: 2}}
	cols := []int{1, 0, 1}
	got := readSelection(t, r, mem, cols, sel)
	defer releaseAll(got)
	want := expected(t, mem, all, cols, sel, 1000)
	defer releaseAll(want)
	for i := range cols {
		if !array.Equal(got[i], want[i]) {
			t.Errorf("column %d: got %d rows, want %d", i, got[i].Len(), want[i].Len())
		}
	}
}

func TestReadRowsBadSelection(t *testing.T) {
	mem := newMem(t)
	store := newTestStore(t)
	all := writePagedFile(t, store, mem, 100, 50, 2<<10)
	all.Release()
	r := openFile(t, store, "t/paged.parquet", pageSchema, mem)
	for _, sel := range [][]datafile.Selection{
		{{RowGroup: 2}},
		{{RowGroup: 0, Rows: []datafile.RowRange{{Start: 5, End: 5}}}},
		{{RowGroup: 0, Rows: []datafile.RowRange{{Start: 5, End: 9}, {Start: 8, End: 10}}}},
		{{RowGroup: 1, Rows: []datafile.RowRange{{Start: 40, End: 51}}}},
	} {
		if _, err := r.ReadRows(context.Background(), nil, sel); err == nil {
			t.Errorf("ReadRows(%v) succeeded", sel)
		}
	}
}

// TestReadPooledBatches reads a file of several row groups without
// WithAllocator, so that fixed-width columns come from PooledAllocator and
// their buffers are reused from batch to batch (and between two reads):
// every batch must still hold its own rows. A column without NULLs in a
// row group comes back without a validity bitmap.
func TestReadPooledBatches(t *testing.T) {
	store := newTestStore(t)
	mem := newMem(t)
	const n, rgRows = 20000, 6000 // 48 KiB of values per row group: pooled sizes
	rows := make([][]any, n)
	for i := range rows {
		var v any = int64(i * 3)
		if i < rgRows && i%5 == 0 {
			v = nil // NULLs in the first row group only
		}
		rows[i] = []any{int64(i), fmt.Sprintf("w%d", i%13), v, "p"}
	}
	want := batch(t, mem, pageSchema, rows...)
	defer want.Release()
	writeFile(t, store, "t/pooled.parquet", pageSchema, datafile.WriterOptions{RowGroupRows: rgRows, Allocator: mem}, want)

	r, err := datafile.Open(context.Background(), store, "t/pooled.parquet", pageSchema, datafile.WithBatchRows(4000))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for read := range 2 {
		rr, err := r.Records(context.Background(), []int{2, 0, 1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		start := int64(0)
		for {
			rec, err := rr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			end := start + rec.NumRows()
			for i, c := range []int{2, 0, 1} {
				w := array.NewSlice(want.Column(c), start, end)
				if !array.Equal(w, rec.Column(i)) {
					t.Errorf("read %d, rows %d-%d, column %d: got %v, want %v", read, start, end, c, rec.Column(i), w)
				}
				w.Release()
			}
			hasBitmap := rec.Column(0).Data().Buffers()[0] != nil
			if nulls := rec.Column(0).NullN() > 0; hasBitmap != nulls {
				t.Errorf("read %d, rows %d-%d: validity bitmap %v with %d NULLs", read, start, end, hasBitmap, rec.Column(0).NullN())
			}
			rec.Release() // its buffers go back to the pool for the next batch
			start = end
		}
		rr.Close()
		if start != n {
			t.Errorf("read %d: %d rows, want %d", read, start, n)
		}
	}
}
