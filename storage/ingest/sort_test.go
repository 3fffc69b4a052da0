package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/storage/schema"
)

// sortSchema has every type, nullable values, and a sequence number (seq)
// that records arrival order.
const sortSchema = "k:varchar:key, g:bigint:sort, seq:bigint:notnull, i:integer, d:double, b:boolean, s:varchar, bin:bytea, ts:timestamp, day:date"

// genBatches makes n rows in batches of up to batchRows: keys drawn from
// distinct key values (few of them makes many equal keys), values random
// with some NULLs.
func genBatches(t testing.TB, alloc memory.Allocator, sch *schema.Schema, rng *rand.Rand, n, batchRows, distinct int) []arrow.RecordBatch {
	t.Helper()
	var out []arrow.RecordBatch
	b := array.NewRecordBuilder(alloc, sch.Arrow())
	defer b.Release()
	for seq := range n {
		kv := rng.IntN(distinct)
		b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("key-%d-%s", kv%7, bytes.Repeat([]byte{'x'}, kv%13)))
		b.Field(1).(*array.Int64Builder).Append(int64(kv%5) - 2)
		b.Field(2).(*array.Int64Builder).Append(int64(seq))
		null := func(f int) bool {
			if rng.IntN(5) == 0 {
				b.Field(f).AppendNull()
				return true
			}
			return false
		}
		if !null(3) {
			b.Field(3).(*array.Int32Builder).Append(rng.Int32())
		}
		if !null(4) {
			b.Field(4).(*array.Float64Builder).Append(rng.NormFloat64())
		}
		if !null(5) {
			b.Field(5).(*array.BooleanBuilder).Append(rng.IntN(2) == 0)
		}
		if !null(6) {
			b.Field(6).(*array.StringBuilder).Append(string(bytes.Repeat([]byte("é"), rng.IntN(70))))
		}
		if !null(7) {
			v := make([]byte, rng.IntN(4))
			for i := range v {
				v[i] = byte(rng.IntN(256))
			}
			b.Field(7).(*array.BinaryBuilder).Append(v)
		}
		if !null(8) {
			b.Field(8).(*array.TimestampBuilder).Append(arrow.Timestamp(rng.Int64N(1e15)))
		}
		if !null(9) {
			b.Field(9).(*array.Date32Builder).Append(arrow.Date32(rng.Int32N(30000)))
		}
		if (seq+1)%batchRows == 0 || seq == n-1 {
			out = append(out, b.NewRecordBatch())
		}
	}
	return out
}

// sortOracle sorts the rows of batches with sort.SliceStable on their keys.
func sortOracle(batches []arrow.RecordBatch, key KeyFunc) (rows []string, keys [][]byte) {
	type row struct {
		key  []byte
		text string
	}
	var all []row
	for _, rec := range batches {
		text := rowsOf(rec)
		for r := range int(rec.NumRows()) {
			all = append(all, row{key(nil, rec, r), text[r]})
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return bytes.Compare(all[i].key, all[j].key) < 0 })
	for _, r := range all {
		rows, keys = append(rows, r.text), append(keys, r.key)
	}
	return rows, keys
}

// drain reads a Sorted stream to the end, checking that each batch has the
// schema and keys in order.
func drain(t testing.TB, out *Sorted, sch *arrow.Schema, maxRows int) (rows []string, keys [][]byte) {
	t.Helper()
	for {
		b, err := out.Next()
		if err == io.EOF {
			return rows, keys
		}
		if err != nil {
			t.Fatal(err)
		}
		if !b.Rec.Schema().Equal(sch) {
			t.Fatalf("output schema %s, want %s", b.Rec.Schema(), sch)
		}
		if n := int(b.Rec.NumRows()); n == 0 || n > maxRows || len(b.Keys) != n {
			t.Fatalf("output batch of %d rows with %d keys, want 1..%d", n, len(b.Keys), maxRows)
		}
		rows = append(rows, rowsOf(b.Rec)...)
		for _, k := range b.Keys {
			keys = append(keys, bytes.Clone(k))
		}
		b.Rec.Release()
	}
}

func TestSorterAgainstOracle(t *testing.T) {
	sch := mustSchema(t, sortSchema)
	part := func(rec arrow.RecordBatch, row int) uint32 { // a partition per value of g
		return uint32(rec.Column(1).(*array.Int64).Value(row) + 2)
	}
	tests := []struct {
		name        string
		rows        int
		batchRows   int
		distinct    int
		memory      int64
		compression string
		outRows     int
		wantSpill   bool
		wantMerges  bool
		memRun      string // "yes" or "no": whether the rows last in memory join the merge there
		key         string // "skewed" or "equal" instead of partition and row key
		sliced      bool   // add each batch as slices of it
	}{
		{name: "in memory", rows: 5000, batchRows: 333, distinct: 1000, memory: 64 << 20},
		{name: "in memory, many equal keys", rows: 5000, batchRows: 100, distinct: 3, memory: 64 << 20, outRows: 77},
		{name: "spilled", rows: 20000, batchRows: 500, distinct: 5000, memory: 1 << 20, wantSpill: true, memRun: "yes"},
		{name: "spilled, last run too", rows: 20000, batchRows: 500, distinct: 5000, memory: 1 << 20, wantSpill: true, memRun: "no"},
		{name: "spilled, equal keys", rows: 20000, batchRows: 500, distinct: 4, memory: 1 << 20, wantSpill: true},
		{name: "spilled, lz4", rows: 20000, batchRows: 500, distinct: 5000, memory: 1 << 20, compression: SpillLZ4, wantSpill: true},
		{name: "many runs, merge passes", rows: 30000, batchRows: 100, distinct: 30000, memory: 160 << 10, wantSpill: true, wantMerges: true, memRun: "no"},
		{name: "one row", rows: 1, batchRows: 1, distinct: 1, memory: 1 << 20},
		{name: "sliced batches", rows: 5000, batchRows: 333, distinct: 1000, memory: 1 << 20, sliced: true, wantSpill: true},
		{name: "partitioned into buckets", rows: 40000, batchRows: 1000, distinct: 40000, memory: 256 << 20},
		{name: "partitioned, skewed keys", rows: 40000, batchRows: 1000, distinct: 40000, memory: 256 << 20, key: "skewed"},
		{name: "partitioned, all keys equal", rows: 40000, batchRows: 1000, distinct: 40000, memory: 256 << 20, key: "equal"},
		{name: "partitioned and spilled, skewed keys", rows: 60000, batchRows: 1000, distinct: 60000, memory: 10 << 20, key: "skewed", wantSpill: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alloc := newPeakAllocator()
			defer alloc.AssertSize(t, 0)
			rng := rand.New(rand.NewPCG(uint64(tt.rows), uint64(tt.distinct)))
			batches := genBatches(t, alloc, sch, rng, tt.rows, tt.batchRows, tt.distinct)
			key := rowKey(sch, part)
			switch tt.key {
			case "skewed": // few long prefixes, each shared by many keys
				key = func(dst []byte, rec arrow.RecordBatch, row int) []byte {
					g := rec.Column(1).(*array.Int64).Value(row)
					dst = append(dst, "tenant-with-a-long-name-"...)
					dst = append(dst, byte('c'+g))
					dst = append(dst, "-and-more-padding-"...)
					return schema.AppendRowKey(dst, rec, 1, row)
				}
			case "equal":
				key = func(dst []byte, rec arrow.RecordBatch, row int) []byte { return append(dst, "same"...) }
			}
			wantRows, wantKeys := sortOracle(batches, key)
			dir := t.TempDir()
			s := NewSorter(sch, SortOptions{MemoryBytes: tt.memory, TempDir: dir, BatchRows: tt.outRows,
				SpillCompression: tt.compression, Allocator: alloc}, key)
			s.spillAll = tt.memRun == "no"
			for _, rec := range batches {
				parts := []arrow.RecordBatch{rec}
				if n := rec.NumRows(); tt.sliced && n > 2 {
					parts = []arrow.RecordBatch{rec.NewSlice(0, n/3), rec.NewSlice(n/3, n)}
					defer parts[0].Release()
					defer parts[1].Release()
				}
				for _, p := range parts {
					if err := s.Add(p); err != nil {
						t.Fatal(err)
					}
				}
				rec.Release() // the sorter keeps copies
			}
			out, err := s.Finish()
			if err != nil {
				t.Fatal(err)
			}
			if got := map[bool]string{true: "yes", false: "no"}[out.merge != nil && out.mem != nil]; tt.memRun != "" && got != tt.memRun {
				t.Errorf("rows in memory join the merge: %s, want %s", got, tt.memRun)
			}
			if strings.HasPrefix(tt.name, "partitioned") && out.merge == nil {
				checkBuckets(t, out.mem, tt.key)
			}
			maxRows := tt.outRows
			if maxRows == 0 {
				maxRows = DefaultBatchRows
			}
			gotRows, gotKeys := drain(t, out, sch.Arrow(), maxRows)
			st := out.Stats()
			if err := out.Close(); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(gotRows, wantRows) {
				for i := range min(len(gotRows), len(wantRows)) {
					if gotRows[i] != wantRows[i] {
						t.Fatalf("row %d:\n got %s\nwant %s", i, gotRows[i], wantRows[i])
					}
				}
				t.Fatalf("%d rows, want %d", len(gotRows), len(wantRows))
			}
			if !slices.EqualFunc(gotKeys, wantKeys, bytes.Equal) {
				t.Fatalf("keys differ from the oracle's")
			}
			if (st.Runs > 0) != tt.wantSpill || (st.MergePasses > 0) != tt.wantMerges {
				t.Errorf("stats %+v: want spill %v, merge passes %v", st, tt.wantSpill, tt.wantMerges)
			}
			if st.Rows != int64(tt.rows) {
				t.Errorf("stats count %d rows, want %d", st.Rows, tt.rows)
			}
			assertEmptyDir(t, dir)
		})
	}
}

func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) > 0 {
		t.Errorf("%s still holds %d entries, e.g. %s", dir, len(ents), ents[0].Name())
	}
}

// TestSorterStable checks that rows with equal keys come out in the order
// they were added, by their seq column.
func TestSorterStable(t *testing.T) {
	sch := mustSchema(t, sortSchema)
	for _, memory := range []int64{64 << 20, 256 << 10} {
		t.Run(fmt.Sprint(memory), func(t *testing.T) {
			alloc := newPeakAllocator()
			defer alloc.AssertSize(t, 0)
			batches := genBatches(t, alloc, sch, rand.New(rand.NewPCG(9, 9)), 20000, 250, 2)
			s := NewSorter(sch, SortOptions{MemoryBytes: memory, TempDir: t.TempDir(), Allocator: alloc}, rowKey(sch, nil))
			defer s.Close()
			for _, rec := range batches {
				if err := s.Add(rec); err != nil {
					t.Fatal(err)
				}
				rec.Release()
			}
			out, err := s.Finish()
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			var prevKey []byte
			prevSeq := int64(-1)
			for {
				b, err := out.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				seqs := b.Rec.Column(2).(*array.Int64)
				for i, k := range b.Keys {
					c := bytes.Compare(prevKey, k)
					if c > 0 || (c == 0 && seqs.Value(i) <= prevSeq) {
						t.Fatalf("row seq %d after seq %d with key %q after %q", seqs.Value(i), prevSeq, k, prevKey)
					}
					prevKey, prevSeq = bytes.Clone(k), seqs.Value(i)
				}
				b.Rec.Release()
			}
		})
	}
}

func TestSorterEmpty(t *testing.T) {
	alloc := newPeakAllocator()
	defer alloc.AssertSize(t, 0)
	sch := mustSchema(t, sortSchema)
	s := NewSorter(sch, SortOptions{TempDir: t.TempDir(), Allocator: alloc}, rowKey(sch, nil))
	empty := array.NewRecordBuilder(alloc, sch.Arrow())
	rec := empty.NewRecordBatch()
	empty.Release()
	if err := s.Add(rec); err != nil {
		t.Fatal(err)
	}
	rec.Release()
	out, err := s.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := out.Next(); err != io.EOF {
		t.Fatalf("Next on empty input: %v, want EOF", err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Finish(); !errors.Is(err, ErrFinished) {
		t.Errorf("second Finish: %v", err)
	}
}

func TestSorterAddErrors(t *testing.T) {
	alloc := newPeakAllocator()
	defer alloc.AssertSize(t, 0)
	sch := mustSchema(t, "k:varchar:key, v:bigint")
	s := NewSorter(sch, SortOptions{TempDir: t.TempDir(), Allocator: alloc}, rowKey(sch, nil))
	defer s.Close()

	other := mustSchema(t, "k:varchar:key, v:double")
	b := array.NewRecordBuilder(alloc, other.Arrow())
	b.Field(0).(*array.StringBuilder).Append("x")
	b.Field(1).(*array.Float64Builder).Append(1)
	rec := b.NewRecordBatch()
	b.Release()
	defer rec.Release()
	if err := s.Add(rec); err == nil || err.Error() != `sort: column 2 "v" has type float64, want int64` {
		t.Errorf("Add with the wrong schema: %v", err)
	}

	// A NULL key is refused even if the batch's schema claims otherwise.
	nb := array.NewRecordBuilder(alloc, arrow.NewSchema([]arrow.Field{
		{Name: "k", Type: arrow.BinaryTypes.String, Nullable: true}, {Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil))
	nb.Field(0).AppendNull()
	nb.Field(1).(*array.Int64Builder).Append(1)
	nrec := nb.NewRecordBatch()
	nb.Release()
	defer nrec.Release()
	if err := s.Add(nrec); err == nil || err.Error() != `sort: column "k" is NOT NULL but the batch has NULLs in it` {
		t.Errorf("Add with a NULL key: %v", err)
	}
}

// TestSorterCleanup checks that spill files go away whichever way the
// sorter ends.
func TestSorterCleanup(t *testing.T) {
	sch := mustSchema(t, sortSchema)
	for _, how := range []string{"close without finish", "close mid-stream", "close after EOF", "add after error"} {
		t.Run(how, func(t *testing.T) {
			alloc := newPeakAllocator()
			defer alloc.AssertSize(t, 0)
			dir := t.TempDir()
			batches := genBatches(t, alloc, sch, rand.New(rand.NewPCG(1, 1)), 10000, 200, 10000)
			s := NewSorter(sch, SortOptions{MemoryBytes: 512 << 10, TempDir: dir, Allocator: alloc}, rowKey(sch, nil))
			for _, rec := range batches {
				if err := s.Add(rec); err != nil {
					t.Fatal(err)
				}
				rec.Release()
			}
			if s.Stats().Runs == 0 {
				t.Fatal("nothing spilled")
			}
			switch how {
			case "close without finish":
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			case "add after error":
				// Make spilling fail: the spill directory disappears.
				os.RemoveAll(s.dir)
				if _, err := s.Finish(); err == nil {
					t.Fatal("Finish succeeded without its spill directory")
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			default:
				out, err := s.Finish()
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				if len(mustReadDir(t, dir)) == 0 {
					t.Fatal("no spill directory while merging")
				}
				b, err := out.Next()
				if err != nil {
					t.Fatal(err)
				}
				b.Rec.Release()
				if how == "close after EOF" {
					for err == nil {
						if b, err = out.Next(); err == nil {
							b.Rec.Release()
						}
					}
				}
				if err := out.Close(); err != nil {
					t.Fatal(err)
				}
				if _, err := out.Next(); !errors.Is(err, ErrClosed) {
					t.Errorf("Next after Close: %v", err)
				}
			}
			assertEmptyDir(t, dir)
		})
	}
}

func mustReadDir(t *testing.T, dir string) []os.DirEntry {
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return ents
}

// TestSorterMemoryFlat sorts N and 4N rows under a small bound: both spill,
// and the most memory allocated at any time stays within the bound, the
// same for both.
func TestSorterMemoryFlat(t *testing.T) {
	sch := mustSchema(t, benchSchema)
	const bound = 10 << 20
	peaks := map[int]int{}
	for _, n := range []int{150_000, 600_000} {
		alloc := newPeakAllocator()
		s := NewSorter(sch, SortOptions{MemoryBytes: bound, TempDir: t.TempDir(), Allocator: alloc}, rowKey(sch, nil))
		rng := rand.New(rand.NewPCG(3, uint64(n)))
		b := array.NewRecordBuilder(alloc, sch.Arrow())
		for row := range n {
			b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("key%012d", rng.Int64N(1e12)))
			b.Field(1).(*array.Int64Builder).Append(rng.Int64())
			b.Field(2).(*array.Float64Builder).Append(rng.Float64())
			b.Field(3).(*array.StringBuilder).Append(fmt.Sprintf("value-%d", rng.IntN(1e6)))
			if (row+1)%4096 == 0 || row == n-1 {
				rec := b.NewRecordBatch()
				if err := s.Add(rec); err != nil {
					t.Fatal(err)
				}
				rec.Release()
			}
		}
		b.Release()
		out, err := s.Finish()
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := drain(t, out, sch.Arrow(), DefaultBatchRows)
		st := out.Stats()
		out.Close()
		alloc.AssertSize(t, 0)
		if len(rows) != n {
			t.Fatalf("%d rows out, want %d", len(rows), n)
		}
		if st.Runs < 1 {
			t.Errorf("n=%d: %d runs, want a spill", n, st.Runs)
		}
		if st.PeakMemory > bound {
			t.Errorf("n=%d: counted peak %d > bound %d", n, st.PeakMemory, bound)
		}
		// Slack for the batch being built by this test and the one the
		// sorter has not yet decided to spill for.
		if slack := 1 << 20; alloc.Peak() > bound+slack {
			t.Errorf("n=%d: allocated peak %d > bound %d + %d", n, alloc.Peak(), bound, slack)
		}
		peaks[n] = alloc.Peak()
		t.Logf("n=%d: runs %d, merge passes %d, counted peak %d, allocated peak %d", n, st.Runs, st.MergePasses, st.PeakMemory, alloc.Peak())
	}
	if p1, p4 := peaks[150_000], peaks[600_000]; float64(p4) > 1.25*float64(p1) {
		t.Errorf("peak grew with input: %d for N, %d for 4N", p1, p4)
	}
}

func TestCountAtMost(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for range 2000 {
		s := make([]uint64, rng.IntN(40))
		for i := range s {
			s[i] = rng.Uint64N(50)
		}
		slices.Sort(s)
		s = slices.Compact(s)
		p := rng.Uint64N(55)
		want := sort.Search(len(s), func(i int) bool { return s[i] > p })
		if got := countAtMost(s, p); got != want {
			t.Fatalf("countAtMost(%v, %d) = %d, want %d", s, p, got, want)
		}
	}
}

// checkBuckets checks that rows in memory were dealt into buckets of about
// the target size, in key order, and that equal keys make an in-order
// bucket.
func checkBuckets(t *testing.T, rows *sortedRows, key string) {
	t.Helper()
	if len(rows.buckets) < 2 && key != "equal" {
		t.Fatalf("%d buckets, want several", len(rows.buckets))
	}
	var last []byte
	for i, b := range rows.buckets {
		if b.size > 4*bucketTarget && key != "equal" {
			t.Errorf("bucket %d holds %d bytes, want about %d", i, b.size, bucketTarget)
		}
		if key == "equal" && !b.inOrder {
			t.Errorf("bucket %d of equal keys is not read in order", i)
		}
		for _, data := range b.data {
			for off := 0; off < len(data); {
				row, next := rowAt(data, off)
				k, _ := splitKey(row)
				if i > 0 && bytes.Compare(k, last) < 0 && off == 0 {
					t.Fatalf("bucket %d starts below the keys of bucket %d", i, i-1)
				}
				off = next
			}
		}
		if b.rows > 0 {
			row, _ := rowAt(b.data[0], 0)
			last, _ = splitKey(row)
		}
	}
}
