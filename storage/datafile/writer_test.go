package datafile_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet/compress"

	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/schema"
)

// typeCase is one column type with keys in ascending order (repeats
// allowed) and values for a nullable column of the same type.
type typeCase struct {
	typ    schema.Type
	keys   []any
	values []any
}

var typeCases = []typeCase{
	{schema.BigInt,
		[]any{int64(math.MinInt64), int64(-5), int64(0), int64(0), int64(7), int64(math.MaxInt64)},
		[]any{int64(3), nil, int64(-9), int64(math.MaxInt64), nil, int64(0)}},
	{schema.Integer,
		[]any{int32(math.MinInt32), int32(-1), int32(0), int32(1), int32(1), int32(math.MaxInt32)},
		[]any{nil, int32(4), int32(-4), nil, int32(2), int32(math.MinInt32)}},
	{schema.Double,
		[]any{math.Inf(-1), -1.5, -1e-300, 0.0, 2.25, math.Inf(1)},
		[]any{1.5, nil, -2.5, 1e300, nil, 0.0}},
	{schema.Boolean,
		[]any{false, false, true, true, true, true},
		[]any{true, nil, false, true, nil, nil}},
	{schema.Varchar,
		[]any{"", "a", "a\x00", "a\x00b", "ab", "é"},
		[]any{"x", nil, "", "日本", nil, "z"}},
	{schema.Varbinary,
		[]any{[]byte{}, []byte{0}, []byte{0, 0}, []byte{0, 1}, []byte{0xff}, []byte{0xff, 0}},
		[]any{[]byte{1}, nil, []byte{}, []byte{0xff, 0xfe}, nil, []byte{7}}},
	{schema.Timestamp,
		[]any{arrow.Timestamp(-86_400_000_000), arrow.Timestamp(0), arrow.Timestamp(1), arrow.Timestamp(1_700_000_000_000_000), arrow.Timestamp(1_700_000_000_000_000), arrow.Timestamp(1_800_000_000_000_000)},
		[]any{nil, arrow.Timestamp(5), arrow.Timestamp(-5), nil, arrow.Timestamp(0), arrow.Timestamp(9)}},
	{schema.Date,
		[]any{arrow.Date32(-365), arrow.Date32(0), arrow.Date32(1), arrow.Date32(19000), arrow.Date32(19001), arrow.Date32(19001)},
		[]any{arrow.Date32(3), nil, nil, arrow.Date32(-3), arrow.Date32(20000), nil}},
}

// TestRoundTripTypes writes each column type as a row key and as a
// nullable value, in two batches, and reads it back: rows, Info keys,
// row-group statistics and sketches.
func TestRoundTripTypes(t *testing.T) {
	for _, tc := range typeCases {
		t.Run(tc.typ.String(), func(t *testing.T) {
			mem := newMem(t)
			store := newTestStore(t)
			sch := &schema.Schema{
				RowKeys: []schema.Column{{Name: "k", Type: tc.typ}},
				Values:  []schema.Column{{Name: "v", Type: tc.typ, Nullable: true}},
			}
			var rows [][]any
			for i := range tc.keys {
				rows = append(rows, []any{tc.keys[i], tc.values[i]})
			}
			all := batch(t, mem, sch, rows...)
			defer all.Release()
			b1, b2 := all.NewSlice(0, 3), all.NewSlice(3, all.NumRows())
			defer b1.Release()
			defer b2.Release()

			info := writeFile(t, store, "t/f.parquet", sch, datafile.WriterOptions{Allocator: mem}, b1, b2)
			if info.Rows != all.NumRows() || info.Key != "t/f.parquet" || info.SketchKey != "t/f.sketch" {
				t.Errorf("info = %+v", info)
			}
			wantMin := schema.AppendValue(nil, all.Column(0), 0)
			wantMax := schema.AppendValue(nil, all.Column(0), int(all.NumRows())-1)
			if len(info.MinKey) != 1 || !bytes.Equal(info.MinKey[0], wantMin) || !bytes.Equal(info.MaxKey[0], wantMax) {
				t.Errorf("info keys = %x..%x, want %x..%x", info.MinKey, info.MaxKey, wantMin, wantMax)
			}

			r := openFile(t, store, info.Key, sch, mem)
			if r.NumRows() != all.NumRows() || r.NumRowGroups() != 1 {
				t.Errorf("file has %d rows in %d row groups", r.NumRows(), r.NumRowGroups())
			}
			got := readColumns(t, r, mem, nil, nil)
			defer releaseAll(got)
			assertColumnsEqual(t, all, allColumns(sch), got)

			st, err := r.RowGroupStats(0)
			if err != nil {
				t.Fatal(err)
			}
			for c := range 2 {
				wantMin, wantMax, nulls := columnBounds(all.Column(c))
				cs := st.Columns[c]
				if !cs.HasMinMax || !bytes.Equal(cs.Min, wantMin) || !bytes.Equal(cs.Max, wantMax) || cs.NullCount != nulls {
					t.Errorf("column %d stats = %+v, want min %x max %x nulls %d", c, cs, wantMin, wantMax, nulls)
				}
			}

			sk, err := datafile.ReadSketches(context.Background(), store, info.SketchKey)
			if err != nil {
				t.Fatal(err)
			}
			if len(sk) != 1 || sk[0].N() != uint64(all.NumRows()) {
				t.Fatalf("sketches = %d, N = %d", len(sk), sk[0].N())
			}
			for rank, want := range map[float64][]byte{0: wantMin, 1: wantMax} {
				if q, err := sk[0].Quantile(rank); err != nil || !bytes.Equal(q, want) {
					t.Errorf("quantile %g = %x, %v; want %x", rank, q, err, want)
				}
			}
		})
	}
}

// columnBounds returns the plain encodings of the least and greatest
// non-null values of a column, and its NULL count.
func columnBounds(col arrow.Array) (lo, hi []byte, nulls int64) {
	seen := false
	for i := 0; i < col.Len(); i++ {
		if col.IsNull(i) {
			nulls++
			continue
		}
		e := schema.AppendValue([]byte{}, col, i)
		if !seen || bytes.Compare(e, lo) < 0 {
			lo = e
		}
		if !seen || bytes.Compare(e, hi) > 0 {
			hi = e
		}
		seen = true
	}
	return lo, hi, nulls
}

var multiSchema = &schema.Schema{
	RowKeys:  []schema.Column{{Name: "tenant", Type: schema.Varchar}, {Name: "region", Type: schema.Integer}},
	SortKeys: []schema.Column{{Name: "ts", Type: schema.Timestamp}},
	Values: []schema.Column{
		{Name: "amount", Type: schema.Double, Nullable: true},
		{Name: "note", Type: schema.Varchar, Nullable: true},
		{Name: "count", Type: schema.BigInt},
	},
}

// multiRows returns n rows of multiSchema in key order: few tenants, each
// with a few regions, each with many timestamps (some repeated).
func multiRows(n int) [][]any {
	rows := make([][]any, n)
	for i := range rows {
		tenant := string(rune('a' + i/1000))
		region := int32(i / 100 % 10)
		ts := arrow.Timestamp(i % 100 / 2 * 1000) // pairs of equal keys
		var amount, note any = float64(i) / 4, "n" + string(rune('a'+i%26))
		if i%7 == 0 {
			amount = nil
		}
		if i%5 == 0 {
			note = nil
		}
		rows[i] = []any{tenant, region, ts, amount, note, int64(i)}
	}
	return rows
}

// TestMultiColumnKeys writes several row key and sort key columns across
// several batches and row groups, and reads back all of it, a subset of
// columns, a subset of row groups, statistics and the page index.
func TestMultiColumnKeys(t *testing.T) {
	const n, rowGroup = 5000, 1200
	mem := newMem(t)
	store := newTestStore(t)
	all := batch(t, mem, multiSchema, multiRows(n)...)
	defer all.Release()
	var batches []arrow.RecordBatch
	for start := int64(0); start < n; start += 700 {
		b := all.NewSlice(start, min(start+700, n))
		defer b.Release()
		batches = append(batches, b)
	}
	info := writeFile(t, store, "t/multi.parquet", multiSchema,
		datafile.WriterOptions{Allocator: mem, RowGroupRows: rowGroup, PageSizeBytes: 1 << 10}, batches...)

	if len(info.MinKey) != 2 || len(info.MaxKey) != 2 {
		t.Fatalf("info keys have %d and %d dimensions, want 2", len(info.MinKey), len(info.MaxKey))
	}
	for d := range 2 {
		if want := schema.AppendValue(nil, all.Column(d), 0); !bytes.Equal(info.MinKey[d], want) {
			t.Errorf("min key %d = %x, want %x", d, info.MinKey[d], want)
		}
		if want := schema.AppendValue(nil, all.Column(d), n-1); !bytes.Equal(info.MaxKey[d], want) {
			t.Errorf("max key %d = %x, want %x", d, info.MaxKey[d], want)
		}
	}

	r := openFile(t, store, info.Key, multiSchema, mem)
	if want := (n + rowGroup - 1) / rowGroup; r.NumRowGroups() != want {
		t.Fatalf("%d row groups, want %d", r.NumRowGroups(), want)
	}

	t.Run("all", func(t *testing.T) {
		got := readColumns(t, r, mem, nil, nil)
		defer releaseAll(got)
		assertColumnsEqual(t, all, allColumns(multiSchema), got)
	})
	t.Run("columns and row groups", func(t *testing.T) {
		got := readColumns(t, r, mem, []int{4, 0}, []int{1, 3})
		defer releaseAll(got)
		want1 := all.NewSlice(rowGroup, 2*rowGroup)
		defer want1.Release()
		want3 := all.NewSlice(3*rowGroup, 4*rowGroup)
		defer want3.Release()
		for i, c := range []int{4, 0} {
			want, err := array.Concatenate([]arrow.Array{want1.Column(c), want3.Column(c)}, mem)
			if err != nil {
				t.Fatal(err)
			}
			if !array.Equal(want, got[i]) {
				t.Errorf("column %d differs", c)
			}
			want.Release()
		}
	})
	t.Run("row group stats", func(t *testing.T) {
		for g := 0; g < r.NumRowGroups(); g++ {
			st, err := r.RowGroupStats(g)
			if err != nil {
				t.Fatal(err)
			}
			part := all.NewSlice(int64(g*rowGroup), min(int64((g+1)*rowGroup), n))
			if st.Rows != part.NumRows() {
				t.Errorf("row group %d has %d rows, want %d", g, st.Rows, part.NumRows())
			}
			for c := range multiSchema.Columns() {
				lo, hi, nulls := columnBounds(part.Column(c))
				cs := st.Columns[c]
				if !bytes.Equal(cs.Min, lo) || !bytes.Equal(cs.Max, hi) || cs.NullCount != nulls {
					t.Errorf("row group %d column %d stats = %+v, want %x..%x nulls %d", g, c, cs, lo, hi, nulls)
				}
			}
			part.Release()
		}
	})
	t.Run("page index", func(t *testing.T) {
		for _, c := range []int{0, 2, 5} {
			pages, err := r.PageStats(0, c)
			if err != nil {
				t.Fatal(err)
			}
			if len(pages) < 2 {
				t.Fatalf("column %d: %d pages, want several", c, len(pages))
			}
			for p, ps := range pages {
				end := int64(rowGroup)
				if p+1 < len(pages) {
					end = pages[p+1].FirstRow
				}
				part := all.NewSlice(ps.FirstRow, end)
				lo, hi, _ := columnBounds(part.Column(c))
				part.Release()
				if !ps.HasMinMax || !bytes.Equal(ps.Min, lo) || !bytes.Equal(ps.Max, hi) {
					t.Errorf("column %d page %d (rows %d..%d) = %x..%x, want %x..%x", c, p, ps.FirstRow, end, ps.Min, ps.Max, lo, hi)
				}
			}
		}
	})
	t.Run("sketches", func(t *testing.T) {
		sk, err := datafile.ReadSketches(context.Background(), store, info.SketchKey)
		if err != nil {
			t.Fatal(err)
		}
		if len(sk) != 2 {
			t.Fatalf("%d sketches, want one per row key", len(sk))
		}
		for d, s := range sk {
			if s.N() != n {
				t.Errorf("sketch %d has N = %d, want %d", d, s.N(), n)
			}
		}
	})
}

// TestUnsortedRejected feeds rows out of key order, within a batch and
// across batches, on every key dimension: Write fails with ErrUnsorted and
// nothing is left in the store.
func TestUnsortedRejected(t *testing.T) {
	row := func(tenant string, region int32, ts arrow.Timestamp) []any {
		return []any{tenant, region, ts, nil, nil, int64(0)}
	}
	for _, tc := range []struct {
		name    string
		batches [][][]any
	}{
		{"within a batch", [][][]any{{row("b", 1, 1), row("a", 1, 1)}}},
		{"across batches", [][][]any{{row("a", 1, 1), row("c", 1, 1)}, {row("b", 1, 1)}}},
		{"second row key", [][][]any{{row("a", 2, 1)}, {row("a", 1, 9)}}},
		{"sort key", [][][]any{{row("a", 1, 5), row("a", 1, 5), row("a", 1, 4)}}},
		{"prefix string", [][][]any{{row("ab", 1, 1), row("a", 1, 1)}}},
		{"negative after positive", [][][]any{{row("a", 1, 1), row("a", -1, 1)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := newMem(t)
			store := newTestStore(t)
			w, err := datafile.NewWriter(context.Background(), store, "t/f.parquet", multiSchema, datafile.WriterOptions{Allocator: mem})
			if err != nil {
				t.Fatal(err)
			}
			var werr error
			for _, rows := range tc.batches {
				b := batch(t, mem, multiSchema, rows...)
				werr = w.Write(b)
				b.Release()
				if werr != nil {
					break
				}
			}
			if !errors.Is(werr, datafile.ErrUnsorted) {
				t.Fatalf("Write = %v, want ErrUnsorted", werr)
			}
			t.Log(werr)
			empty := batch(t, mem, multiSchema)
			if err := w.Write(empty); !errors.Is(err, datafile.ErrUnsorted) {
				t.Errorf("Write after failure = %v, want the first error again", err)
			}
			empty.Release()
			if _, err := w.Close(); !errors.Is(err, datafile.ErrUnsorted) {
				t.Errorf("Close = %v, want ErrUnsorted", err)
			}
			assertEmptyStore(t, store)
		})
	}
}

// TestEqualKeysAccepted checks that repeated keys, a table being a
// multiset, are in order.
func TestEqualKeysAccepted(t *testing.T) {
	mem := newMem(t)
	store := newTestStore(t)
	r := []any{"a", int32(1), arrow.Timestamp(1), nil, nil, int64(0)}
	b := batch(t, mem, multiSchema, r, r, r)
	defer b.Release()
	info := writeFile(t, store, "t/f.parquet", multiSchema, datafile.WriterOptions{Allocator: mem}, b, b)
	if info.Rows != 6 {
		t.Errorf("rows = %d, want 6", info.Rows)
	}
}

func TestBadBatches(t *testing.T) {
	other := &schema.Schema{
		RowKeys: []schema.Column{{Name: "tenant", Type: schema.Varchar}, {Name: "region", Type: schema.BigInt}},
		Values:  []schema.Column{{Name: "x", Type: schema.Double}},
	}
	nullKeys := &schema.Schema{ // the table's columns, but nullable
		RowKeys:  []schema.Column{{Name: "tenant", Type: schema.Varchar, Nullable: true}, {Name: "region", Type: schema.Integer}},
		SortKeys: []schema.Column{{Name: "ts", Type: schema.Timestamp}},
		Values:   multiSchema.Values,
	}
	for _, tc := range []struct {
		name string
		sch  *schema.Schema
		row  []any
		want error
	}{
		{"wrong columns", other, []any{"a", int64(1), 1.0}, datafile.ErrSchemaMismatch},
		{"null key", nullKeys, []any{nil, int32(1), arrow.Timestamp(1), nil, nil, int64(0)}, datafile.ErrNullKey},
		{"null in NOT NULL value", nullKeys, []any{"a", int32(1), arrow.Timestamp(1), nil, nil, nil}, datafile.ErrSchemaMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := newMem(t)
			store := newTestStore(t)
			w, err := datafile.NewWriter(context.Background(), store, "t/f.parquet", multiSchema, datafile.WriterOptions{Allocator: mem})
			if err != nil {
				t.Fatal(err)
			}
			b := batch(t, mem, tc.sch, tc.row)
			defer b.Release()
			if err := w.Write(b); !errors.Is(err, tc.want) {
				t.Errorf("Write = %v, want %v", err, tc.want)
			}
			if err := w.Abort(); err != nil {
				t.Error(err)
			}
			assertEmptyStore(t, store)
		})
	}
}

// TestBatchWithOtherNames accepts a batch whose columns have the table's
// types under other names and nullability, as an engine may produce.
func TestBatchWithOtherNames(t *testing.T) {
	mem := newMem(t)
	store := newTestStore(t)
	renamed := &schema.Schema{
		RowKeys: []schema.Column{{Name: "x", Type: schema.BigInt, Nullable: true}},
		Values:  []schema.Column{{Name: "y", Type: schema.Varchar}},
	}
	sch := &schema.Schema{
		RowKeys: []schema.Column{{Name: "k", Type: schema.BigInt}},
		Values:  []schema.Column{{Name: "v", Type: schema.Varchar, Nullable: true}},
	}
	b := batch(t, mem, renamed, []any{int64(1), "a"}, []any{int64(2), "b"})
	defer b.Release()
	info := writeFile(t, store, "t/f.parquet", sch, datafile.WriterOptions{Allocator: mem}, b)
	r := openFile(t, store, info.Key, sch, mem)
	got := readColumns(t, r, mem, nil, nil)
	defer releaseAll(got)
	assertColumnsEqual(t, b, []int{0, 1}, got)
}

// TestAbort leaves nothing in the store, whether rows were written or not,
// and the Writer refuses further use.
func TestAbort(t *testing.T) {
	for _, rows := range []int{0, 10, 3000} {
		mem := newMem(t)
		store := newTestStore(t)
		w, err := datafile.NewWriter(context.Background(), store, "t/f.parquet", multiSchema,
			datafile.WriterOptions{Allocator: mem, RowGroupRows: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if rows > 0 {
			b := batch(t, mem, multiSchema, multiRows(rows)...)
			if err := w.Write(b); err != nil {
				t.Fatal(err)
			}
			b.Release()
		}
		if err := w.Abort(); err != nil {
			t.Fatal(err)
		}
		assertEmptyStore(t, store)
		b := batch(t, mem, multiSchema)
		if err := w.Write(b); !errors.Is(err, datafile.ErrClosed) {
			t.Errorf("Write after Abort = %v, want ErrClosed", err)
		}
		b.Release()
		if _, err := w.Close(); !errors.Is(err, datafile.ErrClosed) {
			t.Errorf("Close after Abort = %v, want ErrClosed", err)
		}
		if err := w.Abort(); !errors.Is(err, datafile.ErrClosed) {
			t.Errorf("second Abort = %v, want ErrClosed", err)
		}
	}
}

// TestEmptyFile closes a Writer that saw no rows: a valid file of no rows
// with empty sketches.
func TestEmptyFile(t *testing.T) {
	mem := newMem(t)
	store := newTestStore(t)
	info := writeFile(t, store, "t/empty.parquet", multiSchema, datafile.WriterOptions{Allocator: mem})
	if info.Rows != 0 || info.MinKey != nil || info.MaxKey != nil || info.Bytes == 0 {
		t.Errorf("info = %+v", info)
	}
	r := openFile(t, store, info.Key, multiSchema, mem)
	if r.NumRows() != 0 || r.NumRowGroups() != 0 {
		t.Errorf("file has %d rows in %d row groups", r.NumRows(), r.NumRowGroups())
	}
	got := readColumns(t, r, mem, nil, nil)
	if len(got) != 0 {
		t.Errorf("read %d columns of no batches", len(got))
	}
	sk, err := datafile.ReadSketches(context.Background(), store, info.SketchKey)
	if err != nil {
		t.Fatal(err)
	}
	if len(sk) != 2 || sk[0].N() != 0 {
		t.Fatalf("sketches = %v", sk)
	}
	if _, err := sk[0].Quantile(0.5); !errors.Is(err, datafile.ErrEmptySketch) {
		t.Errorf("median of empty sketch: %v, want ErrEmptySketch", err)
	}
}

func TestInfoJSON(t *testing.T) {
	info := datafile.Info{Key: "t/f.parquet", Rows: 3, Bytes: 100, MinKey: [][]byte{{1}}, MaxKey: [][]byte{{2}}, SketchKey: "t/f.sketch"}
	b, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"key", "rows", "bytes", "min_key", "max_key", "sketch_key"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON %s lacks %q", b, k)
		}
	}
	var back datafile.Info
	if err := json.Unmarshal(b, &back); err != nil || !bytes.Equal(back.MaxKey[0], []byte{2}) {
		t.Errorf("round trip = %+v, %v", back, err)
	}
}

func TestNewWriterKey(t *testing.T) {
	_, err := datafile.NewWriter(context.Background(), newTestStore(t), "t/f.csv", multiSchema, datafile.WriterOptions{})
	if err == nil {
		t.Error("NewWriter accepted a key without .parquet")
	}
}

func TestOpenWrongSchema(t *testing.T) {
	mem := newMem(t)
	store := newTestStore(t)
	b := batch(t, mem, multiSchema, multiRows(10)...)
	defer b.Release()
	info := writeFile(t, store, "t/f.parquet", multiSchema, datafile.WriterOptions{Allocator: mem}, b)
	other := &schema.Schema{RowKeys: []schema.Column{{Name: "tenant", Type: schema.BigInt}}}
	if _, err := datafile.Open(context.Background(), store, info.Key, other, datafile.WithAllocator(mem)); !errors.Is(err, datafile.ErrSchemaMismatch) {
		t.Errorf("Open with another schema = %v, want ErrSchemaMismatch", err)
	}
}

func TestRecordsCancelled(t *testing.T) {
	mem := newMem(t)
	store := newTestStore(t)
	b := batch(t, mem, multiSchema, multiRows(10)...)
	defer b.Release()
	info := writeFile(t, store, "t/f.parquet", multiSchema, datafile.WriterOptions{Allocator: mem}, b)
	r := openFile(t, store, info.Key, multiSchema, mem)
	ctx, cancel := context.WithCancel(context.Background())
	rr, err := r.Records(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	cancel()
	if _, err := rr.Next(); !errors.Is(err, context.Canceled) {
		t.Errorf("Next after cancel = %v, want context.Canceled", err)
	}
}

// TestCodecs writes the same rows with each codec and reads them back; the
// file's column chunks name the codec, and an unknown name is refused.
func TestCodecs(t *testing.T) {
	sch := &schema.Schema{
		RowKeys: []schema.Column{{Name: "k", Type: schema.Varchar}},
		Values: []schema.Column{
			{Name: "a", Type: schema.BigInt, Nullable: true},
			{Name: "c", Type: schema.Varchar, Nullable: true},
		},
	}
	var rows [][]any
	for i := range 5000 {
		var c any = fmt.Sprintf("value-%d", i%37)
		if i%11 == 0 {
			c = nil
		}
		rows = append(rows, []any{fmt.Sprintf("k%08d", i*3), int64(i * i), c})
	}
	want := map[string]compress.Compression{"": compress.Codecs.Zstd, "zstd": compress.Codecs.Zstd,
		"snappy": compress.Codecs.Snappy, "lz4_raw": compress.Codecs.Lz4Raw, "none": compress.Codecs.Uncompressed}
	if len(want) != len(datafile.Codecs)+1 {
		t.Fatalf("test covers %d codecs, datafile has %v", len(want)-1, datafile.Codecs)
	}
	for name, codec := range want {
		t.Run(cmp.Or(name, "default"), func(t *testing.T) {
			mem := newMem(t)
			store := newTestStore(t)
			all := batch(t, mem, sch, rows...)
			defer all.Release()
			info := writeFile(t, store, "t/f.parquet", sch, datafile.WriterOptions{Codec: name, CompressionLevel: 1, PageSizeBytes: 4096, Allocator: mem}, all)
			r := openFile(t, store, info.Key, sch, mem)
			got := readColumns(t, r, mem, nil, nil)
			defer releaseAll(got)
			assertColumnsEqual(t, all, allColumns(sch), got)

			pf := parquetFile(t, store, info.Key)
			for c := range 3 {
				cc, err := pf.MetaData().RowGroup(0).ColumnChunk(c)
				if err != nil {
					t.Fatal(err)
				}
				if cc.Compression() != codec {
					t.Errorf("column %d is compressed with %s, want %s", c, cc.Compression(), codec)
				}
			}
		})
	}
	_, err := datafile.NewWriter(context.Background(), newTestStore(t), "t/f.parquet", sch, datafile.WriterOptions{Codec: "gzip"})
	if err == nil || !strings.Contains(err.Error(), "gzip") {
		t.Fatalf("codec gzip: err = %v", err)
	}
}
