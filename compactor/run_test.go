package compactor_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/dormousedb/dormouse/compactor"
	"github.com/dormousedb/dormouse/sql"
	"github.com/dormousedb/dormouse/storage"
	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/ingest"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/partition"
	"github.com/dormousedb/dormouse/storage/schema"
	"github.com/dormousedb/dormouse/storage/state"
	"github.com/dormousedb/dormouse/storage/storagetest"
	"github.com/dormousedb/dormouse/storage/table"
)

// runEnv is a database with one table and a SQL session over it.
type runEnv struct {
	db    *storage.DB
	tb    *table.Table
	store objstore.Store
	sess  *sql.Session
}

// newRunEnv creates table t (k varchar row key, ts timestamp sort key,
// v bigint, note varchar) with the given properties; its invariants are
// checked when the test ends.
func newRunEnv(t *testing.T, store objstore.Store, props map[string]string, splitPoints ...string) *runEnv {
	t.Helper()
	sch, err := schema.Parse("k:varchar:key, ts:timestamp:sort, v:bigint, note:varchar")
	if err != nil {
		t.Fatal(err)
	}
	p := catalog.Properties{}
	for k, v := range props {
		if p, err = p.With(k, v); err != nil {
			t.Fatal(err)
		}
	}
	def := catalog.TableDef{Name: "t", Schema: sch, Properties: p}
	for _, sp := range splitPoints {
		def.SplitPoints = append(def.SplitPoints, []byte(sp))
	}
	db := storagetest.NewDB(t, store)
	tb, err := db.CreateTable(context.Background(), def)
	if err != nil {
		t.Fatal(err)
	}
	return &runEnv{db: db, tb: tb, store: store, sess: sql.NewEngine(db, sql.Config{}).NewSession()}
}

// ingest commits one ingest of CSV lines "k,ts,v,note" (ts in seconds
// since the epoch, an empty field for NULL): one new file per leaf.
func (e *runEnv) ingest(t *testing.T, lines ...string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("k,ts,v,note\n")
	for _, l := range lines {
		f := strings.Split(l, ",")
		sec := 0
		fmt.Sscan(f[1], &sec)
		fmt.Fprintf(&b, "%s,%s,%s,%s\n", f[0], time.Unix(int64(sec), 0).UTC().Format("2006-01-02 15:04:05"), f[2], f[3])
	}
	r, err := ingest.NewCSVReader(strings.NewReader(b.String()), "test.csv", e.tb.Def.Schema, ingest.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := ingest.Ingest(context.Background(), e.tb, []ingest.RecordReader{r}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
}

// query runs SQL and returns its rows as tab-separated lines.
func (e *runEnv) query(t *testing.T, q string) []string {
	t.Helper()
	ctx := context.Background()
	rows, err := e.sess.Run(ctx, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	res, err := sql.Collect(ctx, rows)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	out := make([]string, len(res.Rows))
	for i, r := range res.Rows {
		vals := make([]string, len(r))
		for j, v := range r {
			if v == nil {
				vals[j] = "NULL"
			} else {
				vals[j] = *v
			}
		}
		out[i] = strings.Join(vals, "\t")
	}
	return out
}

// queries are asked before and after each compaction: answers must not
// change.
var runQueries = []string{
	"SELECT k, ts, v, note FROM t ORDER BY k, ts, v, note",
	"SELECT count(*), sum(v), count(note) FROM t",
	"SELECT k, sum(v) FROM t WHERE v > 2 GROUP BY k ORDER BY k",
	"SELECT k, v FROM t WHERE k BETWEEN 'b' AND 'm' ORDER BY k, v",
}

func (e *runEnv) answers(t *testing.T) [][]string {
	out := make([][]string, len(runQueries))
	for i, q := range runQueries {
		out[i] = e.query(t, q)
	}
	return out
}

func (e *runEnv) sameAnswers(t *testing.T, before [][]string) {
	t.Helper()
	after := e.answers(t)
	for i, q := range runQueries {
		if strings.Join(after[i], "\n") != strings.Join(before[i], "\n") {
			t.Errorf("%s\nbefore compaction:\n%s\nafter:\n%s", q, strings.Join(before[i], "\n"), strings.Join(after[i], "\n"))
		}
	}
}

// leaf returns the leaf holding key k.
func (e *runEnv) leaf(t *testing.T, k string) *partition.Partition {
	t.Helper()
	s, _, err := e.tb.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range s.Partitions.Leaves() {
		if l.Region[0].Contains([]byte(k)) {
			return l
		}
	}
	t.Fatalf("no leaf holds %q", k)
	return nil
}

// job assigns every file of the leaf to a new job claimed by worker "w".
func (e *runEnv) job(t *testing.T, leaf string) *state.Job {
	t.Helper()
	ctx := context.Background()
	s, _, err := e.tb.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, r := range s.PartitionRefs(leaf) {
		files = append(files, r.File)
	}
	id := catalog.NewID()
	for _, txn := range []*state.Txn{
		{AssignJob: &state.AssignJob{Job: id, Partition: leaf, Files: files}},
		{ClaimJob: &state.ClaimJob{Job: id, Worker: "w", Lease: time.Hour}},
	} {
		if _, err := e.tb.Commit(ctx, txn); err != nil {
			t.Fatal(err)
		}
	}
	s, _, err = e.tb.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	j, ok := s.Job(id)
	if !ok {
		t.Fatal("job not in the state")
	}
	return j
}

func (e *runEnv) run(t *testing.T, j *state.Job, now time.Time) *compactor.Result {
	t.Helper()
	res, err := compactor.Run(context.Background(), e.tb, j, compactor.RunOptions{Worker: "w", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// refs returns the leaf's references: file keys and whether each is whole.
func (e *runEnv) refs(t *testing.T, leaf string) []*state.FileRef {
	t.Helper()
	s, _, err := e.tb.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s.PartitionRefs(leaf)
}

// noOrphans checks that the store holds no data object the state does not
// know.
func (e *runEnv) noOrphans(t *testing.T) {
	t.Helper()
	orphans, err := e.tb.Orphans(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(orphans) > 0 {
		t.Fatalf("orphans left: %v", orphans)
	}
}

func TestRunMergesFiles(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		e := newRunEnv(t, store, nil)
		// Four overlapping files with repeated keys, NULLs and equal rows.
		e.ingest(t, "a,1,1,x", "c,1,2,", "e,5,3,y", "a,1,1,x")
		e.ingest(t, "b,2,4,z", "c,1,5,w", "d,1,,")
		e.ingest(t, "a,0,6,q", "e,5,7,", "f,9,8,r")
		e.ingest(t, "c,1,2,", "z,1,9,s")
		before := e.answers(t)
		leaf := e.leaf(t, "a").ID
		res := e.run(t, e.job(t, leaf), time.Time{})
		if res.InputFiles != 4 || res.InputRows != 12 || res.OutputRows != 12 || res.Output == "" || res.OutputBytes <= 0 {
			t.Fatalf("result %+v", res)
		}
		refs := e.refs(t, leaf)
		if len(refs) != 1 || refs[0].File != res.Output || !refs[0].Whole || refs[0].Rows != 12 {
			t.Fatalf("references after the run: %+v", refs)
		}
		e.sameAnswers(t, before)
		// The union, as a multiset: the equal rows are both there.
		if got := e.query(t, "SELECT count(*) FROM t WHERE k = 'a' AND v = 1"); got[0] != "2" {
			t.Fatalf("duplicate rows: %v", got)
		}
		e.noOrphans(t)
	})
}

// TestRunCodec: the output is compressed with the table's
// compression_codec, whatever its inputs were written with, and reads the
// same.
func TestRunCodec(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		e := newRunEnv(t, store, map[string]string{"compression_codec": "snappy"})
		e.ingest(t, "a,1,1,x", "c,1,2,")
		e.ingest(t, "b,2,4,z", "c,1,5,w")
		if _, err := e.db.SetProperties(context.Background(), "t", map[string]string{"compression_codec": "lz4_raw"}); err != nil {
			t.Fatal(err)
		}
		tb, err := e.db.Table(context.Background(), "t")
		if err != nil {
			t.Fatal(err)
		}
		e.tb = tb
		before := e.answers(t)
		res := e.run(t, e.job(t, e.leaf(t, "a").ID), time.Time{})
		if res.OutputRows != 4 {
			t.Fatalf("result %+v", res)
		}
		data, err := store.Get(context.Background(), res.Output)
		if err != nil {
			t.Fatal(err)
		}
		pf, err := file.NewParquetReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		defer pf.Close()
		for c := range pf.MetaData().Schema.NumColumns() {
			cc, err := pf.MetaData().RowGroup(0).ColumnChunk(c)
			if err != nil {
				t.Fatal(err)
			}
			if cc.Compression() != compress.Codecs.Lz4Raw {
				t.Errorf("column %d is compressed with %s, want LZ4_RAW", c, cc.Compression())
			}
		}
		e.sameAnswers(t, before)
	})
}

func TestRunAggregates(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		e := newRunEnv(t, store, map[string]string{"aggregations": "sum(v), last(note)"})
		e.ingest(t, "a,1,1,x", "c,1,2,", "e,5,3,y", "a,1,10,")
		e.ingest(t, "a,1,100,p", "c,1,5,w", "c,2,1,")
		e.ingest(t, "e,5,7,", "a,1,1000,q")
		before := e.answers(t)
		want := []string{
			"a\t1970-01-01 00:00:01\t1111\tq",
			"c\t1970-01-01 00:00:01\t7\tw",
			"c\t1970-01-01 00:00:02\t1\tNULL",
			"e\t1970-01-01 00:00:05\t10\tNULL",
		}
		if got := before[0]; strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("aggregated before compaction:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		leaf := e.leaf(t, "a").ID
		res := e.run(t, e.job(t, leaf), time.Time{})
		if res.InputRows != 9 || res.OutputRows != 4 {
			t.Fatalf("result %+v, want 9 rows in, 4 out", res)
		}
		e.sameAnswers(t, before)
		// last() after compaction still follows age order: a newer file's
		// row wins over the compacted one's.
		e.ingest(t, "a,1,1,newest", "c,1,1,")
		before = e.answers(t)
		if got := e.query(t, "SELECT v, note FROM t WHERE k = 'a'"); strings.Join(got, ",") != "1112\tnewest" {
			t.Fatalf("after a later ingest: %v", got)
		}
		e.run(t, e.job(t, leaf), time.Time{})
		e.sameAnswers(t, before)
		e.noOrphans(t)
	})
}

func TestRunAgeOff(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		e := newRunEnv(t, store, map[string]string{"age_off": "ts 1h"})
		// Queries age rows off from their statement's time, the run from
		// its own: both now. Rows two hours old go, those of ten minutes
		// ago stay.
		now := time.Now()
		old, recent := fmt.Sprint(now.Add(-2*time.Hour).Unix()), fmt.Sprint(now.Add(-10*time.Minute).Unix())
		e.ingest(t, "a,"+old+",1,", "b,"+recent+",2,", "c,"+old+",3,")
		e.ingest(t, "a,"+recent+",4,", "d,"+old+",5,")
		before := e.answers(t)
		leaf := e.leaf(t, "a").ID
		res := e.run(t, e.job(t, leaf), now)
		if res.InputRows != 5 || res.OutputRows != 2 {
			t.Fatalf("result %+v, want 5 rows in, 2 out", res)
		}
		e.sameAnswers(t, before)
		if got := e.query(t, "SELECT k, v FROM t ORDER BY k"); strings.Join(got, ",") != "a\t4,b\t2" {
			t.Fatalf("rows after age-off: %v", got)
		}
		// A job whose every row is old by its time commits no output.
		e.ingest(t, "x,"+recent+",1,")
		res = e.run(t, e.job(t, leaf), now.Add(24*time.Hour))
		if res.Output != "" || res.OutputRows != 0 || res.InputRows != 3 {
			t.Fatalf("result %+v, want no output", res)
		}
		if refs := e.refs(t, leaf); len(refs) != 0 {
			t.Fatalf("references left: %+v", refs)
		}
		e.noOrphans(t)
	})
}

// split splits leaf at point on the first row key.
func split(t *testing.T, tb *table.Table, leaf, point string) (string, string) {
	t.Helper()
	l, r := catalog.NewID(), catalog.NewID()
	if _, err := tb.Commit(context.Background(), &state.Txn{SplitPartition: &state.SplitPartition{
		Partition: leaf, Dim: 0, Point: []byte(point), Left: l, Right: r}}); err != nil {
		t.Fatal(err)
	}
	return l, r
}

func TestRunPartialReferences(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		for _, props := range []map[string]string{nil, {"aggregations": "sum(v), last(note)"}} {
			e := newRunEnv(t, store, props)
			e.ingest(t, "a,1,1,x", "k,1,2,", "m,1,3,y", "z,1,4,")
			e.ingest(t, "b,1,5,", "n,1,6,w", "a,1,7,")
			before := e.answers(t)
			l, r := split(t, e.tb, e.leaf(t, "a").ID, "m")
			for _, ref := range e.refs(t, l) {
				if ref.Whole {
					t.Fatalf("reference %+v is whole after the split", ref)
				}
			}
			// Left of m: a, k, b, a; right: m, z, n.
			wantOut := int64(4)
			if props != nil {
				wantOut = 3 // the two rows of 'a' combine
			}
			res := e.run(t, e.job(t, l), time.Time{})
			if res.InputRows != 4 || res.OutputRows != wantOut {
				t.Fatalf("left: %+v, want 4 rows in, %d out", res, wantOut)
			}
			e.sameAnswers(t, before)
			res = e.run(t, e.job(t, r), time.Time{})
			if res.InputRows != 3 || res.OutputRows != 3 {
				t.Fatalf("right: %+v, want 3 rows", res)
			}
			e.sameAnswers(t, before)
			for _, leaf := range []string{l, r} {
				refs := e.refs(t, leaf)
				if len(refs) != 1 || !refs[0].Whole {
					t.Fatalf("leaf %s references %+v, want one whole file", leaf, refs)
				}
			}
			e.noOrphans(t)
			if err := e.db.DropTable(context.Background(), "t"); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// hookStore calls after when a streamed object is closed.
type hookStore struct {
	objstore.Store
	after func(key string)
}

func (s *hookStore) Create(ctx context.Context, key string) (objstore.Writer, error) {
	w, err := s.Store.Create(ctx, key)
	if err != nil {
		return nil, err
	}
	return &hookWriter{Writer: w, after: func() { s.after(key) }}, nil
}

type hookWriter struct {
	objstore.Writer
	after func()
}

func (w *hookWriter) Close() error {
	err := w.Writer.Close()
	if err == nil {
		w.after()
	}
	return err
}

func TestRunJobLost(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		ctx := context.Background()
		e := newRunEnv(t, store, nil)
		e.ingest(t, "a,1,1,", "z,1,2,")
		e.ingest(t, "b,1,3,", "y,1,4,")
		leaf := e.leaf(t, "a").ID

		// Another worker holds the job: nothing is done.
		j := e.job(t, leaf)
		_, err := compactor.Run(ctx, e.tb, j, compactor.RunOptions{Worker: "other"})
		if !errors.Is(err, compactor.ErrJobLost) {
			t.Fatalf("run by another worker: %v, want ErrJobLost", err)
		}

		// The partition is split while the output is written: the commit is
		// refused and the output deleted.
		var once sync.Once
		hooked := &hookStore{Store: store, after: func(key string) {
			if strings.HasSuffix(key, ".parquet") {
				once.Do(func() { split(t, e.tb, leaf, "m") })
			}
		}}
		tb, err := table.Open(ctx, hooked, e.tb.Def)
		if err != nil {
			t.Fatal(err)
		}
		_, err = compactor.Run(ctx, tb, j, compactor.RunOptions{Worker: "w"})
		if !errors.Is(err, compactor.ErrJobLost) {
			t.Fatalf("run across a split: %v, want ErrJobLost", err)
		}
		e.noOrphans(t)
		if got := e.query(t, "SELECT count(*) FROM t"); got[0] != "4" {
			t.Fatalf("rows after the lost job: %v", got)
		}
		// The job is gone: a second run does nothing.
		if _, err := compactor.Run(ctx, tb, j, compactor.RunOptions{Worker: "w"}); !errors.Is(err, compactor.ErrJobLost) {
			t.Fatalf("second run: %v, want ErrJobLost", err)
		}
	})
}

// peakAllocator tracks the most bytes allocated at once.
type peakAllocator struct {
	memory.Allocator
	cur, peak atomic.Int64
}

func (a *peakAllocator) add(n int64) {
	c := a.cur.Add(n)
	for {
		p := a.peak.Load()
		if c <= p || a.peak.CompareAndSwap(p, c) {
			return
		}
	}
}

func (a *peakAllocator) Allocate(n int) []byte {
	a.add(int64(n))
	return a.Allocator.Allocate(n)
}

func (a *peakAllocator) Reallocate(n int, b []byte) []byte {
	a.add(int64(n - len(b)))
	return a.Allocator.Reallocate(n, b)
}

func (a *peakAllocator) Free(b []byte) {
	a.add(-int64(len(b)))
	a.Allocator.Free(b)
}

// TestRunMemoryBounded runs jobs of four files of growing size: the Arrow
// and Parquet memory a run holds at once stays flat, and within the bound.
func TestRunMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a few million rows")
	}
	const bound = 24 << 20
	store := storagetest.LocalStore(t)
	var peaks []int64
	for i, rows := range []int{16_384, 65_536, 262_144} {
		// Row groups as small as the smallest input, so that every input
		// holds whole ones: only the number of row groups grows.
		e := newRunEnv(t, store, map[string]string{"row_group_rows": "16384", "page_size_bytes": "65536"})
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		for range 4 {
			lines := make([]string, rows)
			for r := range lines {
				lines[r] = fmt.Sprintf("key%08d,%d,%d,note %d", rng.IntN(rows*4), rng.IntN(1000), rng.Int64N(1e12), rng.IntN(1e6))
			}
			e.ingest(t, lines...)
		}
		j := e.job(t, e.leaf(t, "a").ID)
		alloc := &peakAllocator{Allocator: memory.NewGoAllocator()}
		runtime.GC()
		base := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		metrics.Read(base)
		stop := sampleHeap()
		res, err := compactor.Run(context.Background(), e.tb, j, compactor.RunOptions{Worker: "w", Memory: bound, Alloc: alloc})
		heap := stop()
		if err != nil {
			t.Fatal(err)
		}
		if res.OutputRows != int64(4*rows) {
			t.Fatalf("%d rows out, want %d", res.OutputRows, 4*rows)
		}
		if got := e.query(t, "SELECT count(*) FROM t"); got[0] != fmt.Sprint(4*rows) {
			t.Fatalf("count after compaction: %v", got)
		}
		peaks = append(peaks, alloc.peak.Load())
		t.Logf("4 files of %d rows: peak %.1f MiB of Arrow and Parquet buffers (bound %d MiB), Go heap live after a GC at most %.1f MiB above the %.1f MiB before, output %d bytes",
			rows, float64(alloc.peak.Load())/(1<<20), bound>>20, (float64(heap)-float64(base[0].Value.Uint64()))/(1<<20), float64(base[0].Value.Uint64())/(1<<20), res.OutputBytes)
		if err := e.db.DropTable(context.Background(), "t"); err != nil {
			t.Fatal(err)
		}
	}
	sorted := append([]int64(nil), peaks...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	if sorted[len(sorted)-1] > bound {
		t.Errorf("peak %d bytes above the bound %d", sorted[len(sorted)-1], bound)
	}
	// The smallest input's files are mostly footer, which makes the plan
	// read it in smaller batches: compare the two larger ones.
	if peaks[2] > peaks[1]*5/4+(1<<20) {
		t.Errorf("memory grows with the input: peaks %v for inputs of 16Ki, 64Ki, 256Ki rows per file", peaks)
	}
}

// sampleHeap samples the Go heap's live bytes (as of the last GC) until
// the returned function is called, which returns the most seen: a figure
// to report, not to assert on.
func sampleHeap() func() uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-stopped
		return peak.Load()
	}
}
