package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/ingest"
	"github.com/dormousedb/dormouse/storage/partition"
	"github.com/dormousedb/dormouse/storage/schema"
	"github.com/dormousedb/dormouse/storage/state"
	"github.com/dormousedb/dormouse/storage/storagetest"
	"github.com/dormousedb/dormouse/storage/table"
)

// listRows yields rows (id, n, tag) for the given ids, in the given
// order, in batches of batch rows; n is the id's number and tag marks the
// input. After failAt batches it fails, if failAt > 0.
type listRows struct {
	ids    []string
	batch  int
	tag    float64
	failAt int
	alloc  memory.Allocator
	sent   int
}

var errBroken = errors.New("broken input")

func (r *listRows) Next() (arrow.RecordBatch, error) {
	if r.failAt > 0 && r.sent == r.failAt {
		return nil, errBroken
	}
	if len(r.ids) == 0 {
		return nil, io.EOF
	}
	r.sent++
	n := min(r.batch, len(r.ids))
	ib, nb, vb := array.NewStringBuilder(r.alloc), array.NewInt64Builder(r.alloc), array.NewFloat64Builder(r.alloc)
	defer ib.Release()
	defer nb.Release()
	defer vb.Release()
	for _, id := range r.ids[:n] {
		var num int64
		fmt.Sscanf(id[strings.LastIndexByte(id, '-')+1:], "%d", &num)
		ib.Append(id)
		nb.Append(num)
		vb.Append(r.tag)
	}
	r.ids = r.ids[n:]
	cols := []arrow.Array{ib.NewArray(), nb.NewArray(), vb.NewArray()}
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	return array.NewRecordBatch(testSchema.Arrow(), cols, int64(n)), nil
}

func (r *listRows) Close() error { return nil }

// ids is "<prefix>-<i>" for i in [from, to) stepping by step, in order.
func ids(prefix string, from, to, step int) []string {
	var out []string
	for i := from; i < to; i += step {
		out = append(out, fmt.Sprintf("%s-%07d", prefix, i))
	}
	return out
}

// blocks is the ids of ids(prefix, 0, n, 1) in the i-th of every k blocks
// of block ids.
func blocks(prefix string, n, block, k, i int) []string {
	var out []string
	for j, id := range ids(prefix, 0, n, 1) {
		if j/block%k == i {
			out = append(out, id)
		}
	}
	return out
}

// TestWriteSortedInputs ingests inputs in key order, in whole or in part,
// and checks that every row arrives once, in order in its file, with one
// file per leaf and run of the rows: sorted inputs are merged without the
// Sorter (no "read" stage), and whatever turns out unsorted is sorted.
func TestWriteSortedInputs(t *testing.T) {
	shuffled := func(s []string) []string {
		s = slices.Clone(s)
		rand.New(rand.NewPCG(3, 4)).Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
		return s
	}
	// Leaves: [, w02), [w02, w05), [w05, ).
	cases := []struct {
		name   string
		inputs [][]string
		// files is the number of data files written; sorted says whether
		// the Sorter was left out.
		files  int
		sorted bool
	}{
		{"one sorted input", [][]string{ids("w01", 0, 9000, 1)}, 1, true},
		{"disjoint inputs out of order", [][]string{ids("w06", 0, 5000, 1), ids("w00", 0, 5000, 1), ids("w03", 0, 5000, 1)}, 3, true},
		{"inputs across leaves", [][]string{
			append(ids("w00", 0, 3000, 1), ids("w03", 0, 3000, 1)...),
			append(ids("w01", 0, 3000, 1), ids("w06", 0, 3000, 1)...)}, 3, true},
		{"interleaved in long runs", [][]string{blocks("w00", 20000, 500, 2, 0), blocks("w00", 20000, 500, 2, 1)}, 1, true},
		{"interleaved row by row", [][]string{ids("w03", 0, 30000, 3), ids("w03", 1, 30000, 3), ids("w03", 2, 30000, 3)}, 2, false},
		{"unsorted", [][]string{shuffled(ids("w00", 0, 6000, 1)), shuffled(ids("w06", 0, 6000, 1))}, 2, false},
		{"sorted then not", [][]string{append(ids("w00", 0, 4000, 1), shuffled(ids("w01", 0, 4000, 1))...)}, 2, false},
		{"one input unsorted", [][]string{ids("w00", 0, 4000, 1), shuffled(ids("w06", 0, 4000, 1))}, 2, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			db := storagetest.NewDB(t, storagetest.LocalStore(t))
			tb := createTable(t, db, "sorted")
			alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer alloc.AssertSize(t, 0)
			want := map[string]int{}
			var inputs []ingest.RecordReader
			total := 0
			for i, in := range c.inputs {
				inputs = append(inputs, &listRows{ids: in, batch: 1000, tag: float64(i), alloc: alloc})
				for _, id := range in {
					want[id]++
				}
				total += len(in)
			}
			var mu sync.Mutex
			stages := map[string]bool{}
			res, err := ingest.Ingest(ctx, tb, inputs, ingest.Options{TempDir: t.TempDir(), Allocator: alloc,
				Progress: func(p ingest.Progress) { mu.Lock(); stages[p.Stage] = true; mu.Unlock() }})
			if err != nil {
				t.Fatal(err)
			}
			if res.Rows != int64(total) || len(res.Files) != c.files {
				t.Errorf("ingested %d rows in %d files, want %d in %d", res.Rows, len(res.Files), total, c.files)
			}
			if stages["read"] == c.sorted {
				t.Errorf("stages %v: the Sorter ran: %v, want %v", stages, stages["read"], !c.sorted)
			}
			got := map[string]int{}
			for _, f := range res.Files {
				for _, row := range fileRows(t, tb, f.Key) {
					got[strings.SplitN(row, "|", 2)[0]]++
				}
			}
			if !sameCounts(got, want) {
				t.Errorf("got %d distinct ids, want %d (or counts differ)", len(got), len(want))
			}
			if n := len(storagetest.Rows(t, tb)); n != len(want) {
				t.Errorf("the table has %d rows, want %d", n, len(want))
			}
		})
	}
}

func sameCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// fileRows reads a data file's rows, in order, as "id|n|tag".
func fileRows(t testing.TB, tb *table.Table, key string) []string {
	t.Helper()
	ctx := context.Background()
	r, err := datafile.Open(ctx, tb.Store, key, tb.Def.Schema)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rr, err := r.Records(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	var out []string
	for {
		rec, err := rr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		for row := range int(rec.NumRows()) {
			out = append(out, fmt.Sprintf("%s|%d|%s", rec.Column(0).ValueStr(row), rec.Column(1).(*array.Int64).Value(row), rec.Column(2).ValueStr(row)))
		}
		rec.Release()
	}
}

// TestWriteMergeTies merges inputs with equal keys: rows with equal keys
// come out in input order, as the Sorter keeps them.
func TestWriteMergeTies(t *testing.T) {
	ctx := context.Background()
	db := storagetest.NewDB(t, storagetest.LocalStore(t))
	tb := createTable(t, db, "ties")
	const repeat = 100 // each key's rows in each input: runs long enough to merge
	var keys []string
	for _, id := range ids("w00", 0, 40, 1) {
		for range repeat {
			keys = append(keys, id)
		}
	}
	inputs := []ingest.RecordReader{
		&listRows{ids: keys, batch: 700, tag: 0, alloc: memory.DefaultAllocator},
		&listRows{ids: keys, batch: 300, tag: 1, alloc: memory.DefaultAllocator},
		&listRows{ids: keys, batch: 1100, tag: 2, alloc: memory.DefaultAllocator},
	}
	var stages []string
	res, err := ingest.Ingest(ctx, tb, inputs, ingest.Options{Progress: func(p ingest.Progress) { stages = append(stages, p.Stage) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 1 || slices.Contains(stages, "read") {
		t.Fatalf("%d files, stages %v: want 1 file, merged", len(res.Files), slices.Compact(stages))
	}
	rows := fileRows(t, tb, res.Files[0].Key)
	if len(rows) != 3*len(keys) {
		t.Fatalf("%d rows, want %d", len(rows), 3*len(keys))
	}
	for i, row := range rows {
		key, input := i/(3*repeat), i%(3*repeat)/repeat
		if want := fmt.Sprintf("w00-%07d|%d|%d", key, key, input); row != want {
			t.Fatalf("row %d is %s, want %s", i, row, want)
		}
	}
}

// TestWriteMergeFailure fails an input in the middle of a merge, after
// files were started: nothing is committed, nothing is left, nothing
// leaks.
func TestWriteMergeFailure(t *testing.T) {
	ctx := context.Background()
	db := storagetest.NewDB(t, storagetest.LocalStore(t))
	tb := createTable(t, db, "failing")
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer alloc.AssertSize(t, 0)
	for _, failAt := range []int{1, 3, 9} {
		inputs := []ingest.RecordReader{
			&listRows{ids: ids("w00", 0, 5000, 1), batch: 500, alloc: alloc},
			&listRows{ids: ids("w03", 0, 5000, 1), batch: 500, alloc: alloc, failAt: failAt},
			&listRows{ids: ids("w06", 0, 5000, 1), batch: 500, alloc: alloc},
		}
		_, before, _ := tb.State(ctx)
		_, err := ingest.Ingest(ctx, tb, inputs, ingest.Options{})
		if !errors.Is(err, errBroken) {
			t.Fatalf("failAt %d: got %v, want the input's error", failAt, err)
		}
		if _, after, _ := tb.State(ctx); after != before {
			t.Fatalf("failAt %d: log moved from %d to %d", failAt, before, after)
		}
		if orphans, err := tb.Orphans(ctx); err != nil || len(orphans) != 0 {
			t.Fatalf("failAt %d: %d objects left (%v)", failAt, len(orphans), err)
		}
	}
}

// TestWriteSecondDimension ingests sorted inputs into a table whose tree
// splits on its second row key, where the order of (leaf, row key) is not
// that of the row keys: inputs in that order merge, others are sorted.
func TestWriteSecondDimension(t *testing.T) {
	ctx := context.Background()
	sch := &schema.Schema{
		RowKeys: []schema.Column{{Name: "id", Type: schema.Varchar}, {Name: "n", Type: schema.BigInt}},
		Values:  []schema.Column{{Name: "v", Type: schema.Double, Nullable: true}},
	}
	for _, c := range []struct {
		name   string
		n      func(i int) int64 // the second key of row i, ids in order
		sorted bool
	}{
		{"both keys rise", func(i int) int64 { return int64(i) }, true},
		{"second key jumps", func(i int) int64 { return int64(i * 7919 % 3000) }, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := storagetest.NewDB(t, storagetest.LocalStore(t))
			tb, err := db.CreateTable(ctx, catalog.TableDef{Name: "two", Schema: sch})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tb.Commit(ctx, &state.Txn{SplitPartition: &state.SplitPartition{
				Partition: partition.RootID, Dim: 1, Point: schema.EncodeInt(1500), Left: "lo", Right: "hi",
			}}); err != nil {
				t.Fatal(err)
			}
			var recs []arrow.RecordBatch
			for start := 0; start < 3000; start += 500 {
				ib, nb, vb := array.NewStringBuilder(memory.DefaultAllocator), array.NewInt64Builder(memory.DefaultAllocator), array.NewFloat64Builder(memory.DefaultAllocator)
				for i := start; i < start+500; i++ {
					ib.Append(fmt.Sprintf("id-%05d", i))
					nb.Append(c.n(i))
					vb.Append(float64(i))
				}
				cols := []arrow.Array{ib.NewArray(), nb.NewArray(), vb.NewArray()}
				recs = append(recs, array.NewRecordBatch(sch.Arrow(), cols, 500))
				for _, col := range cols {
					col.Release()
				}
			}
			var stages []string
			res, err := ingest.Ingest(ctx, tb, []ingest.RecordReader{storagetest.NewBatches(recs...)},
				ingest.Options{Progress: func(p ingest.Progress) { stages = append(stages, p.Stage) }})
			if err != nil {
				t.Fatal(err)
			}
			if res.Rows != 3000 || len(res.Files) != 2 {
				t.Fatalf("%d rows in %d files, want 3000 in 2", res.Rows, len(res.Files))
			}
			if merged := !slices.Contains(stages, "read"); merged != c.sorted {
				t.Fatalf("stages %v: merged %v, want %v", slices.Compact(stages), merged, c.sorted)
			}
			if n := len(storagetest.Rows(t, tb)); n != 3000 {
				t.Fatalf("the table has %d rows, want 3000", n)
			}
		})
	}
}

// boundedRows is a listRows that tells the row key of its first row as its
// bound, and counts how many such inputs are being read at once: from the
// first Next to the io.EOF.
type boundedRows struct {
	*listRows
	bound         []byte
	reading, most *atomic.Int64
	started, done bool
}

func newBoundedRows(t *testing.T, l *listRows, reading, most *atomic.Int64) *boundedRows {
	first, err := (&listRows{ids: l.ids[:1], batch: 1, alloc: memory.DefaultAllocator}).Next()
	if err != nil {
		t.Fatal(err)
	}
	defer first.Release()
	return &boundedRows{listRows: l, bound: schema.AppendRowKey(nil, first, testSchema.NumKeys(), 0), reading: reading, most: most}
}

func (b *boundedRows) KeyBound() ([]byte, bool, error) { return b.bound, true, nil }

func (b *boundedRows) Next() (arrow.RecordBatch, error) {
	if !b.started {
		b.started = true
		n := b.reading.Add(1)
		for m := b.most.Load(); n > m && !b.most.CompareAndSwap(m, n); m = b.most.Load() {
		}
	}
	rec, err := b.listRows.Next()
	if err == io.EOF && !b.done {
		b.done = true
		b.reading.Add(-1)
	}
	return rec, err
}

// TestWriteWaitsForBounds merges 30 inputs that tell where their keys
// start (KeyBounder), given out of order, with memory for one input at a
// time: they are merged, not sorted, reading one input at a time; inputs
// whose ranges overlap more than memory allows are sorted, and nothing is
// lost either way.
func TestWriteWaitsForBounds(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name    string
		overlap bool
	}{{"ranges follow one another", false}, {"ranges overlap", true}} {
		t.Run(c.name, func(t *testing.T) {
			db := storagetest.NewDB(t, storagetest.LocalStore(t))
			tb := createTable(t, db, "bounded")
			var reading, most atomic.Int64
			var inputs []ingest.RecordReader
			want := map[string]int{}
			for i := range 30 {
				in := ids(fmt.Sprintf("w%02d", i/3), i%3*1000, i%3*1000+1000, 1)
				if c.overlap {
					in = ids("w04", i, 30000, 30)
				}
				for _, id := range in {
					want[id]++
				}
				inputs = append(inputs, newBoundedRows(t, &listRows{ids: in, batch: 400, alloc: memory.DefaultAllocator}, &reading, &most))
			}
			rand.New(rand.NewPCG(5, 6)).Shuffle(len(inputs), func(i, j int) { inputs[i], inputs[j] = inputs[j], inputs[i] })
			var stages []string
			res, err := ingest.Ingest(ctx, tb, inputs, ingest.Options{MemoryBytes: 64 << 20, TempDir: t.TempDir(),
				Progress: func(p ingest.Progress) { stages = append(stages, p.Stage) }})
			if err != nil {
				t.Fatal(err)
			}
			merged := !slices.Contains(stages, "read")
			if merged == c.overlap {
				t.Fatalf("merged %v, want %v", merged, !c.overlap)
			}
			if !c.overlap && (most.Load() != 1 || len(res.Files) != 3) {
				t.Fatalf("read up to %d inputs at once into %d files, want 1 and 3", most.Load(), len(res.Files))
			}
			got := map[string]int{}
			for _, f := range res.Files {
				for _, row := range fileRows(t, tb, f.Key) {
					got[strings.SplitN(row, "|", 2)[0]]++
				}
			}
			if !sameCounts(got, want) {
				t.Fatalf("got %d distinct ids, want %d (or counts differ)", len(got), len(want))
			}
		})
	}
}

// TestIngestSortedParquetFiles ingests sorted Parquet files, named out of
// key order, more than the memory bound lets a merge read at once: their
// footers' statistics tell where each starts (ParquetReader.KeyBound), so
// they are merged one after the other, not sorted.
func TestIngestSortedParquetFiles(t *testing.T) {
	ctx := context.Background()
	db := storagetest.NewDB(t, storagetest.LocalStore(t))
	tb := createTable(t, db, "fromparquet")
	dir := t.TempDir()
	var paths []string
	total := 0
	for i := range 12 {
		l := &listRows{ids: ids(fmt.Sprintf("w%02d", i/2), i%2*1000, i%2*1000+1000, 1), batch: 250, alloc: memory.DefaultAllocator}
		total += len(l.ids)
		path := filepath.Join(dir, fmt.Sprintf("%02d.parquet", (i*7)%12))
		writeParquet(t, path, l)
		paths = append(paths, path)
		f, err := ingest.Open(ctx, path, testSchema, ingest.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		bound, ok, err := f.(ingest.KeyBounder).KeyBound()
		first, _ := f.Next()
		if err != nil || !ok || bytes.Compare(bound, schema.AppendRowKey(nil, first, testSchema.NumKeys(), 0)) > 0 {
			t.Fatalf("%s: bound %x, %v, %v: want one at or below the first row's key", path, bound, ok, err)
		}
		first.Release()
		f.Close()
	}
	slices.Sort(paths)
	var stages []string
	res, err := ingest.IngestFiles(ctx, tb, paths, ingest.OpenOptions{}, ingest.Options{MemoryBytes: 64 << 20, TempDir: t.TempDir(),
		Progress: func(p ingest.Progress) { stages = append(stages, p.Stage) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != int64(total) || len(res.Files) != 3 || slices.Contains(stages, "read") {
		t.Fatalf("%d rows in %d files, stages %v: want %d rows merged into 3", res.Rows, len(res.Files), slices.Compact(stages), total)
	}
	if n := len(storagetest.Rows(t, tb)); n != total {
		t.Fatalf("the table has %d rows, want %d", n, total)
	}
}

// writeParquet writes the rows of l to a Parquet file, with statistics.
func writeParquet(t *testing.T, path string, l *listRows) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pqarrow.NewFileWriter(testSchema.Arrow(), f, parquet.NewWriterProperties(parquet.WithStats(true)), pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	for {
		rec, err := l.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		err = w.WriteBuffered(rec)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
