package datafile_test

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/schema"
)

// Randomized round trips of the Writer's encodings (delta-packed
// integers, DELTA_BYTE_ARRAY or dictionary byte arrays) through every
// read path: random schemas and values (NULLs, all-NULL columns, empty
// and long strings, integer extremes, sorted and unsorted, duplicate
// keys), many row groups, tiny pages, read back directly and by pqarrow.

var roundTripKeyTypes = []schema.Type{schema.BigInt, schema.Integer, schema.Varchar, schema.Varbinary, schema.Timestamp, schema.Date}
var roundTripValueTypes = []schema.Type{schema.BigInt, schema.Integer, schema.Varchar, schema.Varbinary, schema.Timestamp, schema.Date, schema.Double, schema.Boolean}

// roundTripSchema returns a random schema: one or two row keys, maybe a sort
// key, and up to eight values; the first row key is integer-like when
// intFirst is set.
func roundTripSchema(rng *rand.Rand, intFirst bool) *schema.Schema {
	sch := &schema.Schema{}
	pick := func(ts []schema.Type) schema.Type { return ts[rng.IntN(len(ts))] }
	first := pick(roundTripKeyTypes)
	if intFirst {
		first = pick([]schema.Type{schema.BigInt, schema.Integer, schema.Timestamp, schema.Date})
	}
	sch.RowKeys = append(sch.RowKeys, schema.Column{Name: "k0", Type: first})
	if rng.IntN(3) == 0 {
		sch.RowKeys = append(sch.RowKeys, schema.Column{Name: "k1", Type: pick(roundTripKeyTypes)})
	}
	if rng.IntN(3) == 0 {
		sch.SortKeys = append(sch.SortKeys, schema.Column{Name: "s0", Type: pick(roundTripKeyTypes)})
	}
	for i := range rng.IntN(9) {
		sch.Values = append(sch.Values, schema.Column{Name: fmt.Sprintf("v%d", i), Type: pick(roundTripValueTypes), Nullable: rng.IntN(4) != 0})
	}
	return sch
}

// roundTripGen makes one column's values in one of several shapes.
type roundTripGen struct {
	rng   *rand.Rand
	typ   schema.Type
	mode  int
	nulls int // percent NULL (nullable columns)
	cur   int64
	words []string
}

func newRoundTripGen(rng *rand.Rand, c schema.Column) *roundTripGen {
	g := &roundTripGen{rng: rng, typ: c.Type, mode: rng.IntN(7)}
	if c.Nullable {
		g.nulls = []int{0, 0, 10, 50, 100}[rng.IntN(5)]
	}
	for range 1 + rng.IntN(20) {
		g.words = append(g.words, g.randString())
	}
	g.cur = g.randInt()
	return g
}

func (g *roundTripGen) intBounds() (lo, hi int64) {
	switch g.typ {
	case schema.Integer, schema.Date:
		return math.MinInt32, math.MaxInt32
	}
	return math.MinInt64, math.MaxInt64
}

func (g *roundTripGen) randInt() int64 {
	lo, hi := g.intBounds()
	switch g.rng.IntN(6) {
	case 0:
		return lo
	case 1:
		return hi
	case 2:
		return int64(g.rng.IntN(7)) - 3
	case 3:
		return lo + int64(g.rng.IntN(3))
	case 4:
		return hi - int64(g.rng.IntN(3))
	}
	if hi == math.MaxInt32 {
		return int64(int32(g.rng.Uint32()))
	}
	return int64(g.rng.Uint64())
}

func (g *roundTripGen) randString() string {
	switch g.rng.IntN(6) {
	case 0:
		return ""
	case 1:
		return strings.Repeat("p", g.rng.IntN(40)) + fmt.Sprint(g.rng.IntN(100))
	case 2:
		b := make([]byte, g.rng.IntN(200))
		for i := range b {
			b[i] = byte('a' + g.rng.IntN(3))
		}
		return string(b)
	case 3:
		return fmt.Sprintf("%016x", g.rng.Uint64())
	case 4:
		return "é€" + strings.Repeat("x", g.rng.IntN(20))
	}
	return fmt.Sprint(g.rng.IntN(1000))
}

func (g *roundTripGen) next(nullable bool) any {
	if nullable && g.rng.IntN(100) < g.nulls {
		return nil
	}
	switch g.typ {
	case schema.Double:
		switch g.mode {
		case 0:
			return math.Inf(g.rng.IntN(3) - 1)
		case 1:
			return float64(g.rng.IntN(5))
		}
		return g.rng.NormFloat64() * 1e6
	case schema.Boolean:
		return g.rng.IntN(2) == 0
	case schema.Varchar, schema.Varbinary:
		var s string
		switch g.mode {
		case 0, 1:
			s = g.words[g.rng.IntN(len(g.words))] // few distinct: a dictionary
		case 2:
			s = ""
		default:
			s = g.randString()
		}
		if g.typ == schema.Varbinary {
			return []byte(s)
		}
		return s
	}
	var v int64
	lo, hi := g.intBounds()
	switch g.mode {
	case 0: // rising by small steps, wrapping at the top
		step := int64(g.rng.IntN(3))
		if g.cur > hi-step {
			g.cur = lo
		}
		g.cur += step
		v = g.cur
	case 1: // extremes, alternating: deltas of the whole range
		v = []int64{lo, hi}[g.rng.IntN(2)]
	case 2:
		v = g.cur // constant
	default:
		v = g.randInt()
	}
	switch g.typ {
	case schema.Integer:
		return int32(v)
	case schema.Date:
		return arrow.Date32(int32(v))
	case schema.Timestamp:
		return arrow.Timestamp(v)
	}
	return v
}

// compareKeyValue orders two non-NULL key values of one type.
func compareKeyValue(a, b any) int {
	switch a := a.(type) {
	case int64:
		return cmp.Compare(a, b.(int64))
	case int32:
		return cmp.Compare(a, b.(int32))
	case arrow.Timestamp:
		return cmp.Compare(a, b.(arrow.Timestamp))
	case arrow.Date32:
		return cmp.Compare(a, b.(arrow.Date32))
	case string:
		return strings.Compare(a, b.(string))
	case []byte:
		return bytes.Compare(a, b.([]byte))
	}
	panic(fmt.Sprintf("no order for %T", a))
}

// roundTripRows returns n rows of sch, sorted by its keys.
func roundTripRows(rng *rand.Rand, sch *schema.Schema, n int) [][]any {
	cols := sch.Columns()
	gens := make([]*roundTripGen, len(cols))
	for i, c := range cols {
		gens[i] = newRoundTripGen(rng, c)
	}
	rows := make([][]any, n)
	for r := range rows {
		row := make([]any, len(cols))
		for i, c := range cols {
			row[i] = gens[i].next(c.Nullable)
		}
		if r > 0 && rng.IntN(4) == 0 { // duplicate keys
			copy(row[:sch.NumKeys()], rows[r-1][:sch.NumKeys()])
		}
		rows[r] = row
	}
	slices.SortStableFunc(rows, func(a, b []any) int {
		for i := range sch.NumKeys() {
			if c := compareKeyValue(a[i], b[i]); c != 0 {
				return c
			}
		}
		return 0
	})
	return rows
}

// roundTripFile is a random file written by the Writer and its rows.
type roundTripFile struct {
	sch   *schema.Schema
	all   arrow.RecordBatch
	store objstore.Store
	key   string
	opts  datafile.WriterOptions
}

// writeRoundTripFile writes n random rows of sch in row groups of
// rowGroupRows (0: a random number).
func writeRoundTripFile(t *testing.T, rng *rand.Rand, store objstore.Store, key string, sch *schema.Schema, n int, rowGroupRows int64) *roundTripFile {
	t.Helper()
	rows := roundTripRows(rng, sch, n)
	all := batch(t, memory.DefaultAllocator, sch, rows...)
	if rowGroupRows == 0 {
		rowGroupRows = int64(1 + rng.IntN(max(n, 1)+50))
	}
	opts := datafile.WriterOptions{
		RowGroupRows:  rowGroupRows,
		PageSizeBytes: []int64{8, 64, 200, 1 << 10, 1032, 8 << 10}[rng.IntN(6)], // 1032: pages of 129 rows
		Codec:         []string{"zstd", "snappy", "none", "lz4_raw"}[rng.IntN(4)],
	}
	var batches []arrow.RecordBatch
	for off := int64(0); off < int64(n); {
		k := min(int64(n)-off, 1+int64(rng.IntN(n/2+1)))
		batches = append(batches, all.NewSlice(off, off+k))
		off += k
	}
	writeFile(t, store, key, sch, opts, batches...)
	for _, b := range batches {
		b.Release()
	}
	return &roundTripFile{sch: sch, all: all, store: store, key: key, opts: opts}
}

func (f *roundTripFile) String() string {
	return fmt.Sprintf("%s, %d rows, options %+v", f.sch, f.all.NumRows(), f.opts)
}

// wantRows returns the file's rows of cols in the selection's ranges.
func (f *roundTripFile) wantRows(t *testing.T, rgStart int64, cols []int, ranges []datafile.RowRange) []arrow.Array {
	out := make([]arrow.Array, len(cols))
	for i, c := range cols {
		var parts []arrow.Array
		for _, rr := range ranges {
			parts = append(parts, array.NewSlice(f.all.Column(c), rgStart+rr.Start, rgStart+rr.End))
		}
		if len(parts) == 0 {
			out[i] = array.MakeArrayOfNull(memory.DefaultAllocator, f.all.Column(c).DataType(), 0)
			continue
		}
		a, err := array.Concatenate(parts, memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		releaseAll(parts)
		out[i] = a
	}
	return out
}

// readSel reads a selection with ReadRows, each column concatenated.
func readSel(t *testing.T, r *datafile.Reader, sch *schema.Schema, cols []int, sel []datafile.Selection) []arrow.Array {
	t.Helper()
	rr, err := r.ReadRows(context.Background(), cols, sel)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	parts := make([][]arrow.Array, len(cols))
	for {
		rec, err := rr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for c := range cols {
			a := rec.Column(c)
			a.Retain()
			parts[c] = append(parts[c], a)
		}
		rec.Release()
	}
	out := make([]arrow.Array, len(cols))
	for c, p := range parts {
		if len(p) == 0 {
			out[c] = array.MakeArrayOfNull(memory.DefaultAllocator, sch.Arrow().Field(cols[c]).Type, 0)
			continue
		}
		a, err := array.Concatenate(p, memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		releaseAll(p)
		out[c] = a
	}
	return out
}

func sameColumns(t *testing.T, what string, f *roundTripFile, cols []int, got, want []arrow.Array) {
	t.Helper()
	for i, c := range cols {
		if !array.Equal(got[i], want[i]) {
			t.Fatalf("%s: column %d (%s) differs (file: %s)\n got %v\nwant %v", what, c, f.sch.Columns()[c].Name, f, got[i], want[i])
		}
	}
}

// randomRanges returns sorted, disjoint, non-empty ranges of [0, n).
func randomRanges(rng *rand.Rand, n int64) []datafile.RowRange {
	var out []datafile.RowRange
	for start := rng.Int64N(max(n/3, 1)); start < n; {
		end := min(n, start+1+rng.Int64N(max(n/4, 1)))
		out = append(out, datafile.RowRange{Start: start, End: end})
		start = end + rng.Int64N(max(n/5, 1))
		if rng.IntN(4) == 0 {
			break
		}
	}
	return out
}

// checkRoundTripFile reads f back every way there is and compares.
func checkRoundTripFile(t *testing.T, rng *rand.Rand, f *roundTripFile, cache *datafile.PageCache) {
	t.Helper()
	ctx := context.Background()
	mem := newMem(t)
	opts := []datafile.ReaderOption{datafile.WithAllocator(mem), datafile.WithBatchRows(1 + rng.IntN(500))}
	if cache != nil {
		opts = append(opts, datafile.WithPageCache(cache))
	}
	direct, err := datafile.Open(ctx, f.store, f.key, f.sch, opts...)
	if err != nil {
		t.Fatalf("open %s: %v", f, err)
	}
	defer direct.Close()
	plain, err := datafile.Open(ctx, f.store, f.key, f.sch)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	datafile.SetDirect(plain, false)
	if direct.NumRows() != f.all.NumRows() {
		t.Fatalf("%d rows, wrote %d", direct.NumRows(), f.all.NumRows())
	}
	cols := allColumns(f.sch)
	// Whole file, both paths.
	for _, r := range []*datafile.Reader{direct, plain} {
		got := readColumns(t, r, memory.DefaultAllocator, cols, nil)
		if len(got) == 0 { // no batches: an empty file
			if f.all.NumRows() != 0 {
				t.Fatalf("read no rows of %d", f.all.NumRows())
			}
			continue
		}
		want := f.wantRows(t, 0, cols, []datafile.RowRange{{Start: 0, End: f.all.NumRows()}})
		sameColumns(t, "whole file", f, cols, got, want)
		releaseAll(got)
		releaseAll(want)
	}
	// Random selections of random row groups and columns.
	rgStart := make([]int64, direct.NumRowGroups()+1)
	for rg := range direct.NumRowGroups() {
		st, err := direct.RowGroupStats(rg)
		if err != nil {
			t.Fatal(err)
		}
		rgStart[rg+1] = rgStart[rg] + st.Rows
	}
	for range 8 {
		if direct.NumRowGroups() == 0 {
			break
		}
		rg := rng.IntN(direct.NumRowGroups())
		n := rgStart[rg+1] - rgStart[rg]
		ranges := randomRanges(rng, n)
		if len(ranges) == 0 {
			continue
		}
		sub := slices.Clone(cols)
		rng.Shuffle(len(sub), func(i, j int) { sub[i], sub[j] = sub[j], sub[i] })
		sub = sub[:1+rng.IntN(len(sub))]
		sel := []datafile.Selection{{RowGroup: rg, Rows: ranges}}
		want := f.wantRows(t, rgStart[rg], sub, ranges)
		got := readSel(t, direct, f.sch, sub, sel)
		sameColumns(t, fmt.Sprintf("direct selection %v of row group %d", ranges, rg), f, sub, got, want)
		releaseAll(got)
		got = readSel(t, plain, f.sch, sub, sel)
		sameColumns(t, fmt.Sprintf("pqarrow selection %v of row group %d", ranges, rg), f, sub, got, want)
		releaseAll(got)
		small, ok, err := direct.ReadSmall(sel[0], sub)
		if err != nil {
			t.Fatalf("ReadSmall %v: %v", ranges, err)
		}
		if ok {
			sameColumns(t, fmt.Sprintf("ReadSmall %v of row group %d", ranges, rg), f, sub, small, want)
			releaseAll(small)
		}
		releaseAll(want)
	}
	checkSortedIntKeyRows(t, rng, f, direct, rgStart)
}

// keyInt returns the first key column's value in row i as an int64.
func (f *roundTripFile) keyInt(i int) int64 {
	switch a := f.all.Column(0).(type) {
	case *array.Int64:
		return a.Value(i)
	case *array.Int32:
		return int64(a.Value(i))
	case *array.Timestamp:
		return int64(a.Value(i))
	case *array.Date32:
		return int64(a.Value(i))
	}
	return 0
}

// checkSortedIntKeyRows compares point searches of the first key with a
// scan of the rows written.
func checkSortedIntKeyRows(t *testing.T, rng *rand.Rand, f *roundTripFile, r *datafile.Reader, rgStart []int64) {
	t.Helper()
	if !f.sch.Column(0).Type.IntegerLike() || f.all.NumRows() == 0 {
		return
	}
	searched := 0
	for range 20 {
		rg := rng.IntN(r.NumRowGroups())
		var lo int64
		if rng.IntN(4) == 0 {
			lo = f.keyInt(rng.IntN(int(f.all.NumRows())))
		} else {
			lo = f.keyInt(int(rgStart[rg] + rng.Int64N(rgStart[rg+1]-rgStart[rg])))
		}
		sp := datafile.IntSpan{Lo: lo, Hi: lo + 1}
		switch rng.IntN(4) {
		case 0:
			sp.Open = true
		case 1:
			if lo < math.MaxInt64-1000 {
				sp.Hi = lo + rng.Int64N(1000)
			}
		}
		if lo == math.MaxInt64 {
			sp.Open = true
		}
		rows, ok, err := r.SortedIntKeyRows(rg, []datafile.IntSpan{sp})
		if err != nil {
			t.Fatalf("SortedIntKeyRows(%d, %+v): %v (file: %s)", rg, sp, err, f)
		}
		if !ok {
			continue
		}
		searched++
		var want []datafile.RowRange
		for i := rgStart[rg]; i < rgStart[rg+1]; i++ {
			v := f.keyInt(int(i))
			if v < sp.Lo || !sp.Open && v >= sp.Hi {
				continue
			}
			row := i - rgStart[rg]
			if k := len(want); k > 0 && want[k-1].End == row {
				want[k-1].End++
			} else {
				want = append(want, datafile.RowRange{Start: row, End: row + 1})
			}
		}
		if len(rows) == 0 && len(want) == 0 {
			continue
		}
		if !slices.Equal(rows, want) {
			t.Fatalf("SortedIntKeyRows(%d, %+v) = %v, want %v (file: %s)", rg, sp, rows, want, f)
		}
	}
	if searched == 0 {
		t.Errorf("SortedIntKeyRows never searched (file: %s)", f)
	}
}

// TestRandomRoundTrip writes random files with the Writer and reads
// them back through the direct path and through pqarrow.
func TestRandomRoundTrip(t *testing.T) {
	iters := 60
	if testing.Short() {
		iters = 15
	}
	for it := range iters {
		rng := rand.New(rand.NewPCG(uint64(it), 99))
		sch := roundTripSchema(rng, it%2 == 0)
		n := []int{0, 1, 2, 31, 33, 129, 700, 3000}[rng.IntN(8)]
		t.Run(fmt.Sprintf("%d", it), func(t *testing.T) {
			store := newTestStore(t)
			f := writeRoundTripFile(t, rng, store, "t/r.parquet", sch, n, 0)
			defer f.all.Release()
			var cache *datafile.PageCache
			if rng.IntN(2) == 0 {
				cache = datafile.NewPageCache([]int64{4 << 10, 64 << 20}[rng.IntN(2)])
			}
			checkRoundTripFile(t, rng, f, cache)
			if cache != nil { // again, from the cache
				checkRoundTripFile(t, rng, f, cache)
			}
		})
	}
}

// TestConcurrentReaders reads files through one small page cache
// from several goroutines at once (run with -race): pages decoded into
// reused buffers must never be ones another reader holds.
func TestConcurrentReaders(t *testing.T) {
	store := newTestStore(t)
	var files []*roundTripFile
	for i := range 3 {
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		f := writeRoundTripFile(t, rng, store, fmt.Sprintf("t/c%d.parquet", i), roundTripSchema(rng, true), 3000, 0)
		defer f.all.Release()
		files = append(files, f)
	}
	cache := datafile.NewPageCache(16 << 10)
	t.Run("group", func(t *testing.T) {
		for g := range 4 {
			t.Run(fmt.Sprint(g), func(t *testing.T) {
				t.Parallel()
				rng := rand.New(rand.NewPCG(uint64(g), 3))
				for i := range 6 {
					checkRoundTripFile(t, rng, files[(g+i)%len(files)], cache)
				}
			})
		}
	})
}

// TestLargeSelections reads selections of more rows than the direct
// path decodes at once (streamed page by page) from row groups of 40,000
// rows of random columns.
func TestLargeSelections(t *testing.T) {
	seeds := 3
	if testing.Short() {
		seeds = 1
	}
	for seed := range seeds {
		rng := rand.New(rand.NewPCG(uint64(seed), 555))
		store := newTestStore(t)
		const n = 40000
		f := writeRoundTripFile(t, rng, store, "t/large.parquet", roundTripSchema(rng, seed%2 == 0), n, n)
		defer f.all.Release()
		ctx := context.Background()
		direct, err := datafile.Open(ctx, store, f.key, f.sch, datafile.WithAllocator(newMem(t)), datafile.WithBatchRows(2000),
			datafile.WithPageCache(datafile.NewPageCache(32<<10)))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := datafile.Open(ctx, store, f.key, f.sch)
		if err != nil {
			t.Fatal(err)
		}
		datafile.SetDirect(plain, false)
		cols := allColumns(f.sch)
		for range 3 {
			var ranges []datafile.RowRange
			for start := rng.Int64N(1000); start < n; {
				end := min(n, start+1+rng.Int64N(15000))
				ranges = append(ranges, datafile.RowRange{Start: start, End: end})
				start = end + rng.Int64N(2000)
			}
			sel := []datafile.Selection{{Rows: ranges}}
			want := f.wantRows(t, 0, cols, ranges)
			got := readSel(t, direct, f.sch, cols, sel)
			sameColumns(t, "direct large selection", f, cols, got, want)
			releaseAll(got)
			got = readSel(t, plain, f.sch, cols, sel)
			sameColumns(t, "pqarrow large selection", f, cols, got, want)
			releaseAll(got)
			releaseAll(want)
		}
		direct.Close()
		plain.Close()
	}
}
