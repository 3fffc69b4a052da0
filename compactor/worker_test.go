package compactor

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/partition"
	"github.com/dormousedb/dormouse/storage/state"
	"github.com/dormousedb/dormouse/storage/storagetest"
	"github.com/dormousedb/dormouse/storage/table"
)

type runFunc = func(ctx context.Context, t *table.Table, job *state.Job, opts RunOptions) (*Result, error)

// waitFor polls cond until it holds, failing the test after a generous
// bound (a hang, not a slow machine).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mustState(t *testing.T, tb *table.Table) *state.State {
	t.Helper()
	s, _, err := tb.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// ingestLeaves ingests n files into each of the four leaves of a table
// split at g, n and t.
func ingestLeaves(t *testing.T, tb *testTable, n int) {
	for i := range n {
		tb.ingest(t, fmt.Sprint("a", i), fmt.Sprint("h", i), fmt.Sprint("p", i), fmt.Sprint("x", i))
	}
}

func createJobs(t *testing.T, tb *testTable) []*state.Job {
	t.Helper()
	jobs, err := CreateJobs(context.Background(), tb.Table, CreateOptions{Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) == 0 {
		t.Fatal("no jobs created")
	}
	return jobs
}

func statusesOf(h []*state.JobRecord) string {
	var out []string
	for _, r := range h {
		out = append(out, r.Status)
	}
	return strings.Join(out, " ")
}

// TestWorkersRace runs three workers of two slots each, each on its own
// open of the table (as separate processes), over the same jobs: every job
// runs exactly once and every row is still there.
func TestWorkersRace(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		ctx := context.Background()
		tb := newTable(t, store, catalog.Properties{"compaction_files_batch_size": "3", "size_ratio": "1"}, "g", "n", "t")
		ingestLeaves(t, tb, 6)
		before := storagetest.Rows(t, tb.Table)
		jobs := createJobs(t, tb)
		var mu sync.Mutex
		runs := map[string]int{}
		counting := func(ctx context.Context, t *table.Table, job *state.Job, opts RunOptions) (*Result, error) {
			mu.Lock()
			runs[job.ID]++
			mu.Unlock()
			return Run(ctx, t, job, opts)
		}
		var wg sync.WaitGroup
		stats := make([]Stats, 3)
		for i := range stats {
			o := openAgain(t, store, tb)
			w := &Worker{Tables: OneTable(o.Table), Name: fmt.Sprint("w", i), Workers: 2, Logger: quietLog, run: counting}
			wg.Add(1)
			go func() {
				defer wg.Done()
				var err error
				if stats[i], err = w.RunOnce(ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		var total Stats
		for _, s := range stats {
			total.add(s)
		}
		if total.Finished != len(jobs) || total.Failed != 0 || total.Lost != 0 {
			t.Fatalf("stats %+v for %d jobs", total, len(jobs))
		}
		for _, j := range jobs {
			if runs[j.ID] != 1 {
				t.Fatalf("job %s ran %d times", j.ID, runs[j.ID])
			}
		}
		s := mustState(t, tb.Table)
		if len(s.Jobs()) != 0 || strings.Count(statusesOf(s.JobHistory()), state.JobFinished) != len(jobs) {
			t.Fatalf("jobs %v, history %s", s.Jobs(), statusesOf(s.JobHistory()))
		}
		if after := storagetest.Rows(t, tb.Table); !maps.Equal(before, after) {
			t.Fatalf("rows changed: %d keys before, %d after", len(before), len(after))
		}
	})
}

// pauseStore pauses the first stream of a .parquet object to be closed
// (a compaction's output) until resume is closed, after telling paused.
type pauseStore struct {
	objstore.Store
	once           sync.Once
	paused, resume chan struct{}
}

func (s *pauseStore) Create(ctx context.Context, key string) (objstore.Writer, error) {
	w, err := s.Store.Create(ctx, key)
	if err != nil || !strings.HasSuffix(key, ".parquet") {
		return w, err
	}
	return &pauseWriter{Writer: w, s: s}, nil
}

type pauseWriter struct {
	objstore.Writer
	s *pauseStore
}

func (w *pauseWriter) Close() error {
	err := w.Writer.Close()
	w.s.once.Do(func() {
		close(w.s.paused)
		<-w.s.resume
	})
	return err
}

// TestStalledWorkerLosesJob: a worker that claims a job and then stalls
// after writing its output (it neither renews nor notices its lease ran
// out, like a paused process) loses the job to another worker once the
// lease is over; the other finishes it, and the state refuses the stalled
// worker's late commit, whose output is deleted.
func TestStalledWorkerLosesJob(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		ctx := context.Background()
		tb := newTable(t, store, nil)
		for i := range 4 {
			tb.ingest(t, fmt.Sprint("k", i), fmt.Sprint("z", i))
		}
		before := storagetest.Rows(t, tb.Table)
		jobs := createJobs(t, tb)
		hooked := &pauseStore{Store: store, paused: make(chan struct{}), resume: make(chan struct{})}
		stalledTable, err := table.Open(ctx, hooked, tb.Def)
		if err != nil {
			t.Fatal(err)
		}
		lateErr := make(chan error, 1)
		stalled := &Worker{Tables: OneTable(stalledTable), Name: "stalled", Lease: 300 * time.Millisecond, Renew: time.Hour, Logger: quietLog,
			run: func(_ context.Context, t *table.Table, job *state.Job, opts RunOptions) (*Result, error) {
				// The stalled process's timers do not fire: its run is not
				// cancelled when the lease runs out.
				res, err := Run(context.Background(), t, job, opts)
				lateErr <- err
				return res, err
			}}
		stalledStats := make(chan Stats, 1)
		go func() {
			st, _ := stalled.RunOnce(ctx)
			stalledStats <- st
		}()
		<-hooked.paused
		other := &Worker{Tables: OneTable(openAgain(t, store, tb).Table), Name: "other", Logger: quietLog}
		waitFor(t, "the other worker to take the job", func() bool {
			st, err := other.RunOnce(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return st.Finished == 1
		})
		close(hooked.resume)
		if err := <-lateErr; !errors.Is(err, ErrJobLost) || !errors.Is(err, state.ErrJobGone) {
			t.Fatalf("late commit: got %v, want the state's refusal (ErrJobLost, state.ErrJobGone)", err)
		}
		if st := <-stalledStats; st.Lost != 1 || st.Finished != 0 {
			t.Fatalf("stalled worker stats %+v", st)
		}
		h := mustState(t, tb.Table).JobHistory()
		if len(h) != 1 || h[0].ID != jobs[0].ID || h[0].Status != state.JobFinished || h[0].Worker != "other/0" || h[0].Attempts != 2 {
			t.Fatalf("history %+v", h)
		}
		if after := storagetest.Rows(t, tb.Table); !maps.Equal(before, after) {
			t.Fatalf("rows changed: %v -> %v", before, after)
		}
		if orphans, err := tb.Orphans(ctx); err != nil || len(orphans) != 0 {
			t.Fatalf("orphans %v, %v", orphans, err)
		}
	})
}

// TestRenewalKeepsJob: a running job's lease is renewed, so no other
// worker can take it long after its first lease would have run out.
func TestRenewalKeepsJob(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		ctx := context.Background()
		tb := newTable(t, store, nil)
		for i := range 4 {
			tb.ingest(t, fmt.Sprint("k", i))
		}
		createJobs(t, tb)
		lease := time.Second
		other := &Worker{Tables: OneTable(openAgain(t, store, tb).Table), Name: "other", Logger: quietLog}
		w := &Worker{Tables: OneTable(tb.Table), Name: "w", Lease: lease, Renew: 50 * time.Millisecond, Logger: quietLog,
			run: func(ctx context.Context, tt *table.Table, job *state.Job, opts RunOptions) (*Result, error) {
				leaseUntil := func() time.Time {
					s, _, err := tt.State(ctx)
					if err != nil {
						return time.Time{}
					}
					j, _ := s.Job(job.ID)
					return j.LeaseUntil
				}
				first := leaseUntil()
				// Not waitFor: this runs on the worker's goroutine.
				for !leaseUntil().After(first.Add(lease)) {
					if ctx.Err() != nil {
						return nil, context.Cause(ctx)
					}
					time.Sleep(10 * time.Millisecond)
				}
				if st, err := other.RunOnce(ctx); err != nil || st != (Stats{}) {
					t.Errorf("another worker got %+v, %v while the job was held", st, err)
				}
				return Run(ctx, tt, job, opts)
			}}
		st, err := w.RunOnce(ctx)
		if err != nil || st.Finished != 1 {
			t.Fatalf("stats %+v, %v", st, err)
		}
	})
}

// TestLostLeaseCancelsRun: when a renewal is refused (here because a split
// dropped the job), the worker cancels the run and counts the job lost.
func TestLostLeaseCancelsRun(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		ctx := context.Background()
		tb := newTable(t, store, nil)
		for i := range 4 {
			tb.ingest(t, fmt.Sprint("k", i), fmt.Sprint("z", i))
		}
		createJobs(t, tb)
		w := &Worker{Tables: OneTable(tb.Table), Name: "w", Lease: time.Minute, Renew: 20 * time.Millisecond, Logger: quietLog,
			run: func(ctx context.Context, tt *table.Table, job *state.Job, opts RunOptions) (*Result, error) {
				if _, err := tt.Commit(ctx, &state.Txn{SplitPartition: &state.SplitPartition{
					Partition: partition.RootID, Point: []byte("m"), Left: "L", Right: "R"}}); err != nil {
					return nil, err
				}
				<-ctx.Done()
				return nil, context.Cause(ctx)
			}}
		st, err := w.RunOnce(ctx)
		if err != nil || st.Lost != 1 {
			t.Fatalf("stats %+v, %v", st, err)
		}
		if h := mustState(t, tb.Table).JobHistory(); statusesOf(h) != state.JobDropped || !strings.Contains(h[0].Error, "split") {
			t.Fatalf("history %+v", h)
		}
	})
}

// TestFailuresAreRecorded: a failing job is retried up to MaxJobAttempts
// and then dropped; an error a retry cannot cure drops it at once; the
// history records each attempt, and a finished job's rows.
func TestFailuresAreRecorded(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		ctx := context.Background()
		tb := newTable(t, store, nil)
		for i := range 4 {
			tb.ingest(t, fmt.Sprint("k", i), fmt.Sprint("z", i))
		}
		failing := func(err error) runFunc {
			return func(context.Context, *table.Table, *state.Job, RunOptions) (*Result, error) { return nil, err }
		}
		cases := []struct {
			run     runFunc
			want    Stats
			history string
			err     string
		}{
			{failing(errors.New("disk on fire")), Stats{Created: 1, Failed: 3}, "failed failed dropped", "disk on fire"},
			{failing(fmt.Errorf("open input: %w", objstore.ErrNotFound)), Stats{Created: 1, Failed: 1}, "dropped", "object not found"},
			{nil, Stats{Created: 1, Finished: 1, InputRows: 8}, "finished", ""},
		}
		var history []*state.JobRecord
		for i, c := range cases {
			w := &Worker{Tables: OneTable(tb.Table), Name: "w", CreateJobs: true, Logger: quietLog, run: c.run}
			st, err := w.RunOnce(ctx)
			if err != nil || st != c.want {
				t.Fatalf("case %d: stats %+v, %v; want %+v", i, st, err, c.want)
			}
			h := mustState(t, tb.Table).JobHistory()
			added := h[len(history):]
			history = h
			if statusesOf(added) != c.history {
				t.Fatalf("case %d: history %s, want %s", i, statusesOf(added), c.history)
			}
			last := added[len(added)-1]
			if !strings.Contains(last.Error, c.err) || last.InputFiles != 4 || last.Worker != "w/0" {
				t.Fatalf("case %d: record %+v", i, last)
			}
			if c.run == nil && (last.InputRows != 8 || last.OutputRows != 8 || last.Started.IsZero() || last.Finished.Before(last.Started)) {
				t.Fatalf("finished record %+v", last)
			}
		}
	})
}

// TestRunLoop runs workers that create and run jobs until the table is
// compacted, then stops them.
func TestRunLoop(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		tb := newTable(t, store, nil, "g", "n", "t")
		ingestLeaves(t, tb, 12)
		before := storagetest.Rows(t, tb.Table)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		w := &Worker{Tables: OneTable(tb.Table), CreateJobs: true, Workers: 2, Poll: 20 * time.Millisecond, Logger: quietLog}
		go func() { done <- w.Run(ctx) }()
		waitFor(t, "every leaf compacted into one file", func() bool {
			s := mustState(t, tb.Table)
			for _, leaf := range s.Partitions.Leaves() {
				if s.NumRefs(leaf.ID) != 1 {
					return false
				}
			}
			return len(s.Jobs()) == 0
		})
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if after := storagetest.Rows(t, tb.Table); !maps.Equal(before, after) {
			t.Fatalf("rows changed: %d keys before, %d after", len(before), len(after))
		}
	})
}
