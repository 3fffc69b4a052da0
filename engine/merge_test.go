package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/storage/schema"
)

// mergeTestSource is an Operator over fixed batches; it records Close.
type mergeTestSource struct {
	sch    *arrow.Schema
	recs   []arrow.RecordBatch
	err    error // returned after the batches, instead of io.EOF
	closed bool
}

func (s *mergeTestSource) Schema() *arrow.Schema { return s.sch }

func (s *mergeTestSource) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(s.recs) == 0 {
		if s.err != nil {
			return nil, s.err
		}
		return nil, io.EOF
	}
	rec := s.recs[0]
	s.recs = s.recs[1:]
	return rec, nil
}

func (s *mergeTestSource) Close() error {
	s.closed = true
	for _, r := range s.recs {
		r.Release()
	}
	s.recs = nil
	return nil
}

// mergeTestSchema has a BIGINT key and a column of each other type.
var mergeTestSchema = arrow.NewSchema([]arrow.Field{
	{Name: "k", Type: arrow.PrimitiveTypes.Int64},
	{Name: "src", Type: arrow.BinaryTypes.String},
	{Name: "i", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "f", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "bin", Type: arrow.BinaryTypes.Binary, Nullable: true},
	{Name: "ts", Type: arrow.FixedWidthTypes.Timestamp_us, Nullable: true},
	{Name: "d", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	{Name: "ls", Type: arrow.BinaryTypes.LargeString, Nullable: true}, // no fast path
}, nil)

// mergeTestRow is one generated row: its key and a tag naming its input
// and position, from which the other columns are derived.
type mergeTestRow struct {
	key   int64
	input int
	pos   int
}

func (r mergeTestRow) tag() string { return fmt.Sprintf("%d/%d", r.input, r.pos) }

// long is the tag repeated: values from a few bytes to about a hundred,
// either side of what the gather copies as a block (mergeShortCopy).
func (r mergeTestRow) long() string { return strings.Repeat(r.tag(), 1+r.pos%13) }

// mergeTestBatches cuts sorted rows into batches of random sizes,
// some empty.
func mergeTestBatches(rng *rand.Rand, mem memory.Allocator, rows []mergeTestRow) []arrow.RecordBatch {
	var out []arrow.RecordBatch
	for len(rows) > 0 || rng.IntN(4) == 0 {
		n := min(len(rows), rng.IntN(7))
		if rng.IntN(5) == 0 {
			n = min(len(rows), rng.IntN(300))
		}
		out = append(out, mergeTestBatch(mem, rows[:n]))
		rows = rows[n:]
	}
	return out
}

// mergeTestBatch makes one batch of rows.
func mergeTestBatch(mem memory.Allocator, rows []mergeTestRow) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, mergeTestSchema)
	defer b.Release()
	for _, r := range rows {
		b.Field(0).(*array.Int64Builder).Append(r.key)
		b.Field(1).(*array.StringBuilder).Append(r.tag())
		null := r.pos%5 == 3
		for c := 2; c < mergeTestSchema.NumFields(); c++ {
			if null {
				b.Field(c).AppendNull()
				continue
			}
			switch fb := b.Field(c).(type) {
			case *array.Int32Builder:
				fb.Append(int32(r.pos))
			case *array.Float64Builder:
				fb.Append(float64(r.pos) / 4)
			case *array.BooleanBuilder:
				fb.Append(r.pos%2 == 0)
			case *array.BinaryBuilder:
				fb.Append([]byte(r.long()))
			case *array.TimestampBuilder:
				fb.Append(arrow.Timestamp(r.pos))
			case *array.Date32Builder:
				fb.Append(arrow.Date32(r.pos))
			case *array.LargeStringBuilder:
				fb.Append(r.tag())
			}
		}
	}
	return b.NewRecordBatch()
}

func mergeTestKey(dst []byte, rec arrow.RecordBatch, row int) []byte {
	return schema.AppendRowKey(dst, rec, 1, row)
}

// mergeTestCheck compares the merged output with the rows expected and
// checks that every column agrees with the row's tag.
func mergeTestCheck(t *testing.T, got []arrow.RecordBatch, want []mergeTestRow) {
	t.Helper()
	i := 0
	for _, rec := range got {
		for r := 0; r < int(rec.NumRows()); r++ {
			if i >= len(want) {
				t.Fatalf("more rows than the %d expected", len(want))
			}
			w := want[i]
			k := rec.Column(0).(*array.Int64).Value(r)
			tag := rec.Column(1).(*array.String).Value(r)
			if k != w.key || tag != w.tag() {
				t.Fatalf("row %d is %d %s, want %d %s", i, k, tag, w.key, w.tag())
			}
			null := w.pos%5 == 3
			for c := 2; c < int(rec.NumCols()); c++ {
				col := rec.Column(c)
				if col.IsNull(r) != null {
					t.Fatalf("row %d column %d: null %v, want %v", i, c, col.IsNull(r), null)
				}
				if null {
					continue
				}
				ok := true
				switch a := col.(type) {
				case *array.Int32:
					ok = a.Value(r) == int32(w.pos)
				case *array.Float64:
					ok = a.Value(r) == float64(w.pos)/4
				case *array.Boolean:
					ok = a.Value(r) == (w.pos%2 == 0)
				case *array.Binary:
					ok = string(a.Value(r)) == w.long()
				case *array.Timestamp:
					ok = a.Value(r) == arrow.Timestamp(w.pos)
				case *array.Date32:
					ok = a.Value(r) == arrow.Date32(w.pos)
				case *array.LargeString:
					ok = a.Value(r) == w.tag()
				}
				if !ok {
					t.Fatalf("row %d column %d: %v, want row %s", i, c, col.ValueStr(r), w.tag())
				}
			}
			i++
		}
	}
	if i != len(want) {
		t.Fatalf("merged %d rows, want %d", i, len(want))
	}
}

func TestMergeSortedRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for iter := range 200 {
		t.Run(fmt.Sprint(iter), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			k := rng.IntN(9)
			keyRange := 1 + rng.IntN(50)
			if rng.IntN(3) == 0 {
				keyRange = 100000 // mostly disjoint
			}
			var all []mergeTestRow
			inputs := make([]Operator, k)
			sources := make([]*mergeTestSource, k)
			for in := range k {
				n := rng.IntN(400)
				base := int64(0)
				if rng.IntN(3) == 0 {
					base = int64(in * keyRange) // inputs in key order, not overlapping
				}
				rows := make([]mergeTestRow, n)
				for p := range rows {
					rows[p] = mergeTestRow{key: base + int64(rng.IntN(keyRange)) - 20, input: in}
				}
				sort.Slice(rows, func(a, b int) bool { return rows[a].key < rows[b].key })
				for p := range rows {
					rows[p].pos = p
				}
				all = append(all, rows...)
				sources[in] = &mergeTestSource{sch: mergeTestSchema, recs: mergeTestBatches(rng, mem, rows)}
				inputs[in] = sources[in]
			}
			sort.SliceStable(all, func(a, b int) bool {
				if all[a].key != all[b].key {
					return all[a].key < all[b].key
				}
				return all[a].input < all[b].input
			})
			opts := MergeOptions{Alloc: mem, BatchRows: 1 + rng.IntN(200), Schema: mergeTestSchema}
			if iter%2 == 1 {
				opts.KeyColumn = 1 // the BIGINT key's plain encoding, key unused
			}
			op := MergeSorted(inputs, mergeTestKey, opts)
			if !op.Schema().Equal(mergeTestSchema) {
				t.Fatal("schema")
			}
			var got []arrow.RecordBatch
			for {
				rec, err := op.Next(context.Background())
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, rec)
			}
			mergeTestCheck(t, got, all)
			for _, rec := range got {
				rec.Release()
			}
			if err := op.Close(); err != nil {
				t.Fatal(err)
			}
			for i, s := range sources {
				if !s.closed {
					t.Errorf("input %d not closed", i)
				}
			}
		})
	}
}

// TestMergeSortedStringKeyColumn merges inputs ordered by a VARCHAR key
// that is not the first column, compared in place (KeyColumn), from
// sliced batches, with keys that escaping would treat specially (NUL and
// 0xFF bytes, prefixes of each other, empty) and keys around and past
// the sixteen bytes compared as integers first (schema.Head), sharing them:
// the output must be in byte order, equal keys in input order, every row
// there once.
func TestMergeSortedStringKeyColumn(t *testing.T) {
	sch := arrow.NewSchema([]arrow.Field{
		{Name: "tag", Type: arrow.BinaryTypes.String},
		{Name: "k", Type: arrow.BinaryTypes.String},
	}, nil)
	parts := []string{"", "a", "\x00", "\x01", "\xff", "ab", "seven-b", "fifteen-bytes-x"}
	rng := rand.New(rand.NewPCG(7, 8))
	type row struct{ key, tag string }
	for iter := range 50 {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		var all []row
		var inputs []Operator
		for in := range 1 + rng.IntN(6) {
			rows := make([]row, rng.IntN(300))
			for i := range rows {
				var k string
				for range rng.IntN(5) {
					k += parts[rng.IntN(len(parts))]
				}
				rows[i].key = k
			}
			sort.SliceStable(rows, func(a, b int) bool { return rows[a].key < rows[b].key })
			for i := range rows {
				rows[i].tag = fmt.Sprintf("%d/%d", in, i)
			}
			all = append(all, rows...)
			// Batches sliced out of a bigger one: their arrays start at an
			// offset, as the scan's filtered batches do.
			b := array.NewRecordBuilder(mem, sch)
			b.Field(0).(*array.StringBuilder).Append("pad")
			b.Field(1).(*array.StringBuilder).Append("pad")
			for _, r := range rows {
				b.Field(0).(*array.StringBuilder).Append(r.tag)
				b.Field(1).(*array.StringBuilder).Append(r.key)
			}
			whole := b.NewRecordBatch()
			b.Release()
			var recs []arrow.RecordBatch
			for at := 1; at <= len(rows); {
				n := min(len(rows)+1-at, 1+rng.IntN(40))
				recs = append(recs, whole.NewSlice(int64(at), int64(at+n)))
				at += n
			}
			whole.Release()
			inputs = append(inputs, &mergeTestSource{sch: sch, recs: recs})
		}
		sort.SliceStable(all, func(a, b int) bool { return all[a].key < all[b].key }) // inputs in order: stable
		op := MergeSorted(inputs, nil, MergeOptions{Alloc: mem, BatchRows: 1 + rng.IntN(100), KeyColumn: 2})
		want := make([]string, len(all))
		for i, r := range all {
			want[i] = r.tag + " " + r.key // a tag names its row: the key must follow it
		}
		checkMergedTags(t, fmt.Sprintf("iteration %d", iter), op, want, func(rec arrow.RecordBatch, r int) string {
			return rec.Column(0).(*array.String).Value(r) + " " + rec.Column(1).(*array.String).Value(r)
		})
		mem.AssertSize(t, 0)
	}
}

// checkMergedTags drains op, which it closes, and fails unless the rows
// it gives, each named by tag, are want in order.
func checkMergedTags(t *testing.T, what string, op Operator, want []string, tag func(arrow.RecordBatch, int) string) {
	t.Helper()
	i := 0
	for {
		rec, err := op.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for r := 0; r < int(rec.NumRows()); r++ {
			got := tag(rec, r)
			if i >= len(want) || got != want[i] {
				w := "past the end"
				if i < len(want) {
					w = fmt.Sprintf("%q", want[i])
				}
				t.Fatalf("%s: row %d is %q, want %s", what, i, got, w)
			}
			i++
		}
		rec.Release()
	}
	if i != len(want) {
		t.Fatalf("%s: merged %d rows, want %d", what, i, len(want))
	}
	if err := op.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestMergeSortedDisjointIsZeroCopy checks that inputs that do not overlap
// come out as slices of their batches, without copying.
func TestMergeSortedDisjointIsZeroCopy(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	var inputs []Operator
	for in := range 3 {
		var recs []arrow.RecordBatch
		for p := 0; p < 1000; p += 500 {
			rows := make([]mergeTestRow, 500)
			for i := range rows {
				// input 2's keys first, then 1's, then 0's
				rows[i] = mergeTestRow{key: int64((2-in)*10000 + p + i), input: in, pos: p + i}
			}
			recs = append(recs, mergeTestBatch(mem, rows))
		}
		inputs = append(inputs, &mergeTestSource{sch: mergeTestSchema, recs: recs})
	}
	before := mem.CurrentAlloc()
	op := MergeSorted(inputs, mergeTestKey, MergeOptions{Alloc: mem})
	defer op.Close()
	var got []arrow.RecordBatch
	for {
		rec, err := op.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if mem.CurrentAlloc() > before {
			t.Fatalf("the merge allocated %d bytes for disjoint inputs", mem.CurrentAlloc()-before)
		}
		got = append(got, rec)
	}
	var want []mergeTestRow
	for in := 2; in >= 0; in-- {
		for p := range 1000 {
			want = append(want, mergeTestRow{key: int64((2-in)*10000 + p), input: in, pos: p})
		}
	}
	mergeTestCheck(t, got, want)
	if len(got) != 6 {
		t.Errorf("%d output batches, want the 6 input batches", len(got))
	}
	for _, rec := range got {
		rec.Release()
	}
}

func TestMergeSortedErrors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(9, 10))
	rows := []mergeTestRow{{key: 1}, {key: 2, pos: 1}}
	boom := errors.New("boom")
	good := &mergeTestSource{sch: mergeTestSchema, recs: mergeTestBatches(rng, mem, rows)}
	bad := &mergeTestSource{sch: mergeTestSchema, recs: mergeTestBatches(rng, mem, rows), err: boom}
	op := MergeSorted([]Operator{good, bad}, mergeTestKey, MergeOptions{Alloc: mem})
	var err error
	for err == nil {
		var rec arrow.RecordBatch
		rec, err = op.Next(context.Background())
		if rec != nil {
			rec.Release()
		}
	}
	if !errors.Is(err, boom) {
		t.Fatalf("Next = %v, want boom", err)
	}
	if _, again := op.Next(context.Background()); !errors.Is(again, boom) {
		t.Fatalf("Next after an error = %v", again)
	}
	if err := op.Close(); err != nil {
		t.Fatal(err)
	}
	if !good.closed || !bad.closed {
		t.Fatal("inputs not closed")
	}

	// Cancellation.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	src := &mergeTestSource{sch: mergeTestSchema, recs: mergeTestBatches(rng, mem, rows)}
	op = MergeSorted([]Operator{src}, mergeTestKey, MergeOptions{Alloc: mem})
	if _, err := op.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next on a cancelled context = %v", err)
	}
	op.Close()

	// No inputs at all.
	op = MergeSorted(nil, mergeTestKey, MergeOptions{Schema: mergeTestSchema})
	if _, err := op.Next(context.Background()); err != io.EOF {
		t.Fatalf("Next with no inputs = %v", err)
	}
	if op.Schema() != mergeTestSchema {
		t.Fatal("schema of no inputs")
	}
	op.Close()
}

func BenchmarkMergeSorted(b *testing.B) {
	for _, tc := range []struct {
		name    string
		overlap bool
	}{{"interleaved", true}, {"disjoint", false}} {
		b.Run(tc.name, func(b *testing.B) {
			const k, n = 8, 1 << 16
			var rows [k][]mergeTestRow
			for in := range k {
				rows[in] = make([]mergeTestRow, n)
				for p := range n {
					key := int64(p*k + in)
					if !tc.overlap {
						key = int64(in*n + p)
					}
					rows[in][p] = mergeTestRow{key: key, input: in, pos: p}
				}
			}
			// The columns with a fast path: the benchmark measures those.
			sch := arrow.NewSchema(mergeTestSchema.Fields()[:mergeTestSchema.NumFields()-1], nil)
			var batches [k][]arrow.RecordBatch
			for in := range k {
				for p := 0; p < n; p += 8192 {
					full := mergeTestBatch(memory.DefaultAllocator, rows[in][p:p+8192])
					batches[in] = append(batches[in], array.NewRecordBatch(sch, full.Columns()[:sch.NumFields()], full.NumRows()))
					full.Release()
				}
			}
			b.ResetTimer()
			for b.Loop() {
				inputs := make([]Operator, k)
				for in := range k {
					for _, r := range batches[in] {
						r.Retain()
					}
					inputs[in] = &mergeTestSource{sch: sch, recs: append([]arrow.RecordBatch(nil), batches[in]...)}
				}
				if _, err := mergeTestDrain(MergeSorted(inputs, mergeTestKey, MergeOptions{})); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(k*n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func mergeTestDrain(op Operator) (int64, error) {
	defer op.Close()
	var n int64
	for {
		rec, err := op.Next(context.Background())
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n += rec.NumRows()
		rec.Release()
	}
}

// BenchmarkMergeCompaction merges inputs shaped like a compaction's: 11
// sorted inputs of random 16-byte VARCHAR keys over the same range (so
// they interleave row by row), a BIGINT, a DOUBLE and a short VARCHAR, in
// batches of 16Ki rows, ordered by the key column (KeyColumn).
func BenchmarkMergeCompaction(b *testing.B) {
	const k, n, batchRows = 11, 1 << 17, 16 << 10
	sch := arrow.NewSchema([]arrow.Field{
		{Name: "key", Type: arrow.BinaryTypes.String},
		{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "b", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "c", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	var batches [k][]arrow.RecordBatch
	for in := range k {
		keys := make([]string, n)
		for i := range keys {
			keys[i] = fmt.Sprintf("k%015d", rng.Int64N(1e15))
		}
		sort.Strings(keys)
		bld := array.NewRecordBuilder(memory.DefaultAllocator, sch)
		for p := 0; p < n; p += batchRows {
			for _, key := range keys[p : p+batchRows] {
				bld.Field(0).(*array.StringBuilder).Append(key)
				bld.Field(1).(*array.Int64Builder).Append(rng.Int64N(1e6))
				bld.Field(2).(*array.Float64Builder).Append(float64(rng.Int64N(1e6)) / 1000)
				bld.Field(3).(*array.StringBuilder).Append(fmt.Sprintf("value-%d", rng.IntN(100000)))
			}
			batches[in] = append(batches[in], bld.NewRecordBatch())
		}
		bld.Release()
	}
	b.ReportAllocs()
	cpu0 := mergeBenchCPU()
	for b.Loop() {
		inputs := make([]Operator, k)
		for in := range k {
			for _, r := range batches[in] {
				r.Retain()
			}
			inputs[in] = &mergeTestSource{sch: sch, recs: append([]arrow.RecordBatch(nil), batches[in]...)}
		}
		op := MergeSorted(inputs, nil, MergeOptions{BatchRows: batchRows, KeyColumn: 1})
		if got, err := mergeTestDrain(op); err != nil || got != k*n {
			b.Fatalf("merged %d rows, %v", got, err)
		}
	}
	rows := float64(k*n) * float64(b.N)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/rows, "ns/row")
	b.ReportMetric(float64(mergeBenchCPU()-cpu0)/rows, "cpu-ns/row")
}

// mergeBenchCPU is the CPU time of the process so far, user and system:
// on a shared machine a steadier measure than elapsed time.
func mergeBenchCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
