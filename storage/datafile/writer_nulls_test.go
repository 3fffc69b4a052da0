package datafile_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"

	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/schema"
)

// TestArithmeticKeysOneBlockOver writes keys 0, 1, ..., n-1 for n
// one more than a multiple of the 128-value delta block: every block of
// deltas is zero-width, a byte of minimum delta and its miniblock widths,
// and the page holds exactly those blocks.
func TestArithmeticKeysOneBlockOver(t *testing.T) {
	sch := &schema.Schema{RowKeys: []schema.Column{{Name: "k", Type: schema.BigInt}}, Values: []schema.Column{{Name: "i", Type: schema.Integer}}}
	for _, n := range []int{129, 257, 1 + 128*7} {
		store := newTestStore(t)
		rows := make([][]any, n)
		for i := range rows {
			rows[i] = []any{int64(i), int32(5)}
		}
		all := batch(t, memory.DefaultAllocator, sch, rows...)
		writeFile(t, store, "t/seq.parquet", sch, datafile.WriterOptions{}, all)
		mem := newMem(t)
		r := openFile(t, store, "t/seq.parquet", sch, mem)
		got := readColumns(t, r, mem, []int{0, 1}, nil)
		assertColumnsEqual(t, all, []int{0, 1}, got)
		releaseAll(got)
		rows2, ok, err := r.SortedIntKeyRows(0, []datafile.IntSpan{{Lo: 100, Hi: 101}})
		if err != nil || !ok || len(rows2) != 1 || rows2[0] != (datafile.RowRange{Start: 100, End: 101}) {
			t.Errorf("n=%d: SortedIntKeyRows = %v, %v, %v", n, rows2, ok, err)
		}
		all.Release()
	}
}

// TestNullRunInDeltaBytes writes nullable byte arrays of unique values
// (DELTA_BYTE_ARRAY) with a run of NULLs longer than a page in the middle
// of a row group: a page of no values after a page of some, which
// arrow-go's delta encoder wrote with the previous page's stale bytes,
// where the second stream (the suffixes) should start; neither reader
// could read it. Both readers must read pqwrite's.
func TestNullRunInDeltaBytes(t *testing.T) {
	sch := &schema.Schema{RowKeys: []schema.Column{{Name: "k", Type: schema.BigInt}},
		Values: []schema.Column{{Name: "s", Type: schema.Varchar, Nullable: true}, {Name: "b", Type: schema.Varbinary, Nullable: true}}}
	const n = 30000
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{int64(i), nil, nil}
		if i < 10000 || i >= 25000 {
			rows[i][1] = fmt.Sprintf("value-%d-%x", i, i*7919)
			rows[i][2] = []byte(rows[i][1].(string))
		}
	}
	all := batch(t, memory.DefaultAllocator, sch, rows...)
	defer all.Release()
	store := newTestStore(t)
	writeFile(t, store, "t/nulls.parquet", sch, datafile.WriterOptions{}, all)
	for _, direct := range []bool{false, true} {
		// pqarrow's delta decoders keep buffers: no checked allocator.
		var mem memory.Allocator = memory.DefaultAllocator
		if direct {
			mem = newMem(t)
		}
		r := openFile(t, store, "t/nulls.parquet", sch, mem)
		datafile.SetDirect(r, direct)
		got := readColumns(t, r, mem, []int{0, 1, 2}, nil)
		assertColumnsEqual(t, all, []int{0, 1, 2}, got)
		releaseAll(got)
	}
}

// TestPageHeaderCountChecked decodes a delta-encoded page whose header
// claims more values than the offset index gives its page rows: an
// error, not memory allocated for the values claimed.
func TestPageHeaderCountChecked(t *testing.T) {
	sch := &schema.Schema{RowKeys: []schema.Column{{Name: "k", Type: schema.BigInt}},
		Values: []schema.Column{{Name: "s", Type: schema.Varchar}}}
	rows := make([][]any, 1000)
	for i := range rows {
		rows[i] = []any{int64(i), fmt.Sprintf("value-%d", i*7919)}
	}
	all := batch(t, memory.DefaultAllocator, sch, rows...)
	defer all.Release()
	store := newTestStore(t)
	writeFile(t, store, "t/count.parquet", sch, datafile.WriterOptions{}, all)
	r := openFile(t, store, "t/count.parquet", sch, memory.DefaultAllocator)
	for c := range 2 {
		if err := datafile.DecodeShrunkPage(r, 0, c, 0, 1000); err != nil {
			t.Fatalf("column %d, the page as written: %v", c, err)
		}
		if err := datafile.DecodeShrunkPage(r, 0, c, 0, 999); err == nil || !strings.Contains(err.Error(), "values in a page of 999 rows") {
			t.Errorf("column %d, a page of 999 rows whose header says 1000: %v", c, err)
		}
	}
}

// TestColumnEncodings checks what the Writer chose for each column, in the
// file's metadata: delta encodings for integers and for byte arrays whose
// dictionary would not pay, nullable or not, a dictionary for few
// distinct values, PLAIN for doubles without one; and no page of more
// than PageSizeBytes/8 rows, however small the deltas.
func TestColumnEncodings(t *testing.T) {
	sch := &schema.Schema{RowKeys: []schema.Column{{Name: "k", Type: schema.BigInt}},
		Values: []schema.Column{
			{Name: "unique", Type: schema.Varchar},
			{Name: "few", Type: schema.Varchar},
			{Name: "n", Type: schema.BigInt, Nullable: true},
			{Name: "s", Type: schema.Varchar, Nullable: true},
			{Name: "d", Type: schema.Double, Nullable: true},
			{Name: "fewd", Type: schema.Double},
			{Name: "b", Type: schema.Boolean, Nullable: true},
		}}
	const n = 20000
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{int64(i), fmt.Sprintf("u-%d-%x", i, i*7919), fmt.Sprintf("w%d", i%7), int64(i), fmt.Sprintf("s-%d", i),
			float64(i*7919%10007) / 7, float64(i%5) / 4, i%3 == 0}
		if i%10 == 0 {
			rows[i][3], rows[i][4], rows[i][5], rows[i][7] = nil, nil, nil, nil
		}
	}
	all := batch(t, memory.DefaultAllocator, sch, rows...)
	defer all.Release()
	store := newTestStore(t)
	info := writeFile(t, store, "t/enc.parquet", sch, datafile.WriterOptions{PageSizeBytes: 8 << 10}, all)
	pf := parquetFile(t, store, info.Key)
	dbp, dba, dict, plain := parquet.Encodings.DeltaBinaryPacked, parquet.Encodings.DeltaByteArray, parquet.Encodings.RLEDict, parquet.Encodings.Plain
	want := [][]parquet.Encoding{{dbp}, {dba}, {dict, plain}, {dbp}, {dba}, {plain}, {dict, plain}, {plain}}
	for c, encs := range want {
		cc, err := pf.MetaData().RowGroup(0).ColumnChunk(c)
		if err != nil {
			t.Fatal(err)
		}
		got := slices.DeleteFunc(cc.Encodings(), func(e parquet.Encoding) bool { return e == parquet.Encodings.RLE })
		slices.Sort(got)
		slices.Sort(encs)
		if !slices.Equal(got, encs) {
			t.Errorf("column %s is encoded %v, want %v", sch.Columns()[c].Name, got, encs)
		}
	}
	r := openFile(t, store, info.Key, sch, memory.DefaultAllocator)
	got := readColumns(t, r, memory.DefaultAllocator, allColumns(sch), nil)
	assertColumnsEqual(t, all, allColumns(sch), got)
	releaseAll(got)
	pages, err := r.PageStats(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for p, ps := range pages {
		end := int64(n)
		if p+1 < len(pages) {
			end = pages[p+1].FirstRow
		}
		if end-ps.FirstRow > (8<<10)/8 {
			t.Errorf("key page %d holds %d rows, more than %d", p, end-ps.FirstRow, (8<<10)/8)
		}
	}
}
