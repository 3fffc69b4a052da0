package background

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dormousedb/dormouse/compactor"
	"github.com/dormousedb/dormouse/splitter"
	"github.com/dormousedb/dormouse/sql"
	"github.com/dormousedb/dormouse/storage"
	"github.com/dormousedb/dormouse/storage/gc"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/storagetest"
	"github.com/dormousedb/dormouse/storage/table"
)

// The simulation: several "processes" (each its own storage.DB, so its own
// caches of the table's log, and its own SQL engine) ingest, create and
// run compaction jobs, split partitions and collect garbage on one table,
// in a seeded random order, sequentially and then concurrently. After
// every step the table's contents, read by SQL through a random process,
// must equal a model — the multiset of the rows inserted, or its
// aggregation for a table with iterators — and the state's invariants must
// hold.

// simProc is one simulated process.
type simProc struct {
	db  *storage.DB
	ses *sql.Session
}

type simRow struct {
	k string
	v int64
	w string
}

// simModel is what the table must hold.
type simModel struct {
	mu   sync.Mutex
	agg  bool
	rows []simRow // in commit order
}

func (m *simModel) add(rows []simRow) {
	m.mu.Lock()
	m.rows = append(m.rows, rows...)
	m.mu.Unlock()
}

// want renders the expected result of simQuery, sorted.
func (m *simModel) want() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	if !m.agg {
		for _, r := range m.rows {
			out = append(out, fmt.Sprintf("%s|%d|%s", r.k, r.v, r.w))
		}
	} else {
		type acc struct {
			sum  int64
			last string
		}
		by := map[string]*acc{}
		for _, r := range m.rows {
			a := by[r.k]
			if a == nil {
				a = &acc{}
				by[r.k] = a
			}
			a.sum += r.v
			a.last = r.w
		}
		for k, a := range by {
			out = append(out, fmt.Sprintf("%s|%d|%s", k, a.sum, a.last))
		}
	}
	sort.Strings(out)
	return out
}

func TestSimulation(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation is long")
	}
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		for _, agg := range []bool{false, true} {
			name := "multiset"
			if agg {
				name = "aggregated"
			}
			t.Run(name, func(t *testing.T) {
				seed := uint64(time.Now().UnixNano())
				t.Logf("seed %d (rerun with it by editing simSeed)", seed)
				if simSeed != 0 {
					seed = simSeed
				}
				simulate(t, store, agg, seed)
			})
		}
	})
}

// simSeed, when not 0, replays one simulation.
var simSeed uint64

func simulate(t *testing.T, store objstore.Store, agg bool, seed uint64) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	procs := make([]*simProc, 3)
	for i := range procs {
		db := storagetest.NewDB(t, store) // checks invariants at the end
		procs[i] = &simProc{db: db, ses: sql.NewEngine(db, sql.Config{}).NewSession()}
	}
	// Each simulation has its own table: subtests share the store.
	name := fmt.Sprintf("sim%d", seed%100000)
	strategy := []string{"sizeratio", "basic"}[rng.IntN(2)]
	props := "split_threshold = 120, compaction_files_batch_size = 5, gc_delay = '1h', compaction_strategy = '" + strategy + "'"
	if agg {
		props += ", aggregations = 'sum(v), last(w)'"
	}
	t.Logf("table %s: %s", name, props)
	mustExec(t, procs[0].ses, "CREATE TABLE "+name+" (k text PRIMARY KEY, v bigint, w text) WITH ("+props+")")
	simQuery := "SELECT k, v, w FROM " + name
	model := &simModel{agg: agg}

	tableOf := func(p *simProc) *table.Table {
		tb, err := p.db.Table(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return tb
	}
	key := 0
	ingest := func(p *simProc, r *rand.Rand) error {
		n := 1 + r.IntN(60)
		rows := make([]simRow, n)
		vals := make([]string, n)
		for i := range rows {
			// Keys repeat across ingests so that aggregation has work.
			rows[i] = simRow{k: fmt.Sprintf("k%03d", r.IntN(400)), v: int64(r.IntN(1000) - 100), w: fmt.Sprintf("w%d", key)}
			key++
			vals[i] = fmt.Sprintf("('%s', %d, '%s')", rows[i].k, rows[i].v, rows[i].w)
		}
		if _, err := runSQL(ctx, p.ses, "INSERT INTO "+name+" VALUES "+strings.Join(vals, ", ")); err != nil {
			return err
		}
		model.add(rows)
		return nil
	}
	compact := func(p *simProc, workers int, create bool) error {
		w := &compactor.Worker{Tables: compactor.OneTable(tableOf(p)), Workers: workers, CreateJobs: create,
			Lease: time.Minute, Logger: quiet}
		_, err := w.RunOnce(ctx)
		return err
	}
	createJobs := func(p *simProc) error {
		_, err := compactor.CreateJobs(ctx, tableOf(p), compactor.CreateOptions{Logger: quiet})
		return err
	}
	split := func(p *simProc) error {
		_, err := splitter.Run(ctx, tableOf(p), splitter.Options{Logger: quiet})
		return err
	}
	// collect deletes what has been unreferenced for a moment: safe while
	// nothing runs concurrently (a query that started before would still
	// read those files; none does in the sequential phase).
	collect := func(p *simProc, delay time.Duration) error {
		_, err := gc.Run(ctx, tableOf(p), gc.Options{Delay: delay, Logger: quiet})
		return err
	}
	check := func(step string) {
		t.Helper()
		p := procs[rng.IntN(len(procs))]
		got := queryRows(t, p.ses, simQuery)
		want := model.want()
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("seed %d, after %s: table has %d rows, model %d\n%s", seed, step, len(got), len(want), firstDiff(got, want))
		}
		if err := tableOf(p).Check(ctx); err != nil {
			t.Fatalf("seed %d, after %s: %v", seed, step, err)
		}
	}

	// Sequential phase: one step at a time, checked after each.
	for step := 0; step < 40; step++ {
		p := procs[rng.IntN(len(procs))]
		var err error
		var what string
		switch r := rng.IntN(10); {
		case r < 4:
			what, err = "ingest", ingest(p, rng)
		case r < 6:
			what, err = "compact", compact(p, 1+rng.IntN(2), true)
		case r < 7:
			what, err = "create jobs", createJobs(p)
		case r < 9:
			what, err = "split", split(p)
		default:
			what, err = "gc", collect(p, time.Millisecond)
		}
		if err != nil {
			t.Fatalf("seed %d, step %d (%s): %v", seed, step, what, err)
		}
		check(fmt.Sprintf("step %d (%s)", step, what))
	}

	// Concurrent phase: every process works at once — one ingester (so that
	// last() has one commit order to follow), compactors, splitters and a
	// garbage collector with a delay no step outlasts.
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	run := func(name string, n int, fn func(r *rand.Rand) error) {
		r := rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n; i++ {
				if err := fn(r); err != nil {
					errs <- fmt.Errorf("%s: %w", name, err)
					return
				}
			}
		}()
	}
	run("ingest", 25, func(r *rand.Rand) error { return ingest(procs[0], r) })
	run("compact", 8, func(r *rand.Rand) error { return compact(procs[1], 2, true) })
	run("compact", 8, func(r *rand.Rand) error { return compact(procs[2], 1, r.IntN(2) == 0) })
	run("split", 8, func(r *rand.Rand) error { return split(procs[1+r.IntN(2)]) })
	run("gc", 8, func(r *rand.Rand) error { return collect(procs[2], time.Minute) })
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("seed %d, concurrent phase: %v", seed, err)
	}
	check("concurrent phase")

	// Drain: compact and split until quiet, then collect; the contents
	// must not move and the table must end compact.
	for i := 0; i < 6; i++ {
		if err := split(procs[0]); err != nil {
			t.Fatal(err)
		}
		if err := compact(procs[0], 2, true); err != nil {
			t.Fatal(err)
		}
	}
	if err := collect(procs[0], time.Millisecond); err != nil {
		t.Fatal(err)
	}
	check("drain")
	s, _, err := tableOf(procs[0]).State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	finished := 0
	for _, j := range s.JobHistory() {
		if j.Status == "finished" {
			finished++
		}
	}
	t.Logf("end: %d rows in the model, %d leaves, %d files, %d jobs finished (of the last %d remembered)",
		len(model.rows), len(s.Partitions.Leaves()), s.NumFiles(), finished, len(s.JobHistory()))
	if len(s.Partitions.Leaves()) < 2 || finished == 0 {
		t.Errorf("the simulation split nothing or compacted nothing")
	}
	// A basic strategy leaves fewer files than a batch; size-ratio may keep
	// a few of very different sizes.
	most := 4
	if strategy == "sizeratio" {
		most = 2*5 - 1 // the backlog rule compacts a leaf at twice the batch size
	}
	for _, leaf := range s.Partitions.Leaves() {
		if n := s.NumRefs(leaf.ID); n > most {
			t.Errorf("leaf %s still has %d files after draining", leaf.ID, n)
		}
		for _, r := range s.PartitionRefs(leaf.ID) {
			if !r.Whole {
				t.Errorf("leaf %s still references %s partially after draining", leaf.ID, r.File)
			}
		}
	}
	if n, refs := s.NumFiles(), 0; n > 0 {
		for _, leaf := range s.Partitions.Leaves() {
			refs += s.NumRefs(leaf.ID)
		}
		if refs == 0 && n > 0 {
			t.Errorf("%d files left with no references after gc", n)
		}
	}
}

func runSQL(ctx context.Context, s *sql.Session, q string) ([][]*string, error) {
	rows, err := s.Run(ctx, q)
	if err != nil {
		return nil, err
	}
	res, err := sql.Collect(ctx, rows)
	if err != nil {
		return nil, err
	}
	return res.Rows, nil
}

func mustExec(t *testing.T, s *sql.Session, q string) {
	t.Helper()
	if _, err := runSQL(context.Background(), s, q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// queryRows runs q and returns its rows as sorted "a|b|c" lines.
func queryRows(t *testing.T, s *sql.Session, q string) []string {
	t.Helper()
	rows, err := runSQL(context.Background(), s, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		parts := make([]string, len(r))
		for j, v := range r {
			if v == nil {
				parts[j] = "NULL"
			} else {
				parts[j] = *v
			}
		}
		out[i] = strings.Join(parts, "|")
	}
	sort.Strings(out)
	return out
}

func firstDiff(got, want []string) string {
	for i := 0; i < len(got) || i < len(want); i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			return fmt.Sprintf("first difference at sorted row %d: table %q, model %q", i, g, w)
		}
	}
	return ""
}
