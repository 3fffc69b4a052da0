package compactor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/internal/lease"
	"github.com/dormousedb/dormouse/storage"
	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/iterator"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/state"
	"github.com/dormousedb/dormouse/storage/table"
)

// Worker defaults.
const (
	DefaultLease = 2 * time.Minute
	DefaultPoll  = 10 * time.Second
)

// Worker claims compaction jobs and runs them, creating them too when
// asked. Any number of workers in any number of processes may share a
// table: a job is taken by committing ClaimJob, kept by renewing its lease
// and given up by ReleaseJob, so no two workers run one job at a time and
// a job whose worker died is taken again once its lease is over.
//
// Set the fields before calling RunOnce or Run and do not change them
// after; the zero value of each optional field means its default.
type Worker struct {
	// Tables lists the tables to work on. It is called once per round, so
	// that tables created or dropped meanwhile are seen (see AllTables,
	// OneTable).
	Tables func(ctx context.Context) ([]*table.Table, error)
	// Name identifies this worker in claims and the job history; slot i of
	// Workers claims as Name/i. Default: host-pid-random.
	Name string
	// Workers is how many jobs run at a time (default 1).
	Workers int
	// CreateJobs makes the worker create jobs (CreateJobs) each round
	// before claiming.
	CreateJobs bool
	// Lease is how long a claim or renewal holds a job (default
	// DefaultLease); Renew is how often a running job's lease is renewed
	// (default Lease/3). A worker that cannot renew before its lease runs
	// out stops the job, since another worker may have taken it.
	Lease, Renew time.Duration
	// Poll is how long Run waits between rounds when there is no work
	// (default DefaultPoll).
	Poll time.Duration
	// Memory bounds each job's memory (RunOptions.Memory; 0 for Run's
	// default); Alloc allocates its Arrow buffers (nil for the default).
	Memory int64
	Alloc  memory.Allocator
	// Logger receives structured logs (default slog.Default()).
	Logger *slog.Logger

	// run executes a claimed job: Run, unless a test watches or stalls it.
	run func(ctx context.Context, t *table.Table, job *state.Job, opts RunOptions) (*Result, error)
}

// Stats counts what a worker did.
type Stats struct {
	Created   int   // jobs created
	Finished  int   // jobs run and committed
	Failed    int   // attempts that failed and were released
	Lost      int   // jobs lost while running: taken by another worker, or gone with a split
	InputRows int64 // rows read by finished jobs
}

func (s *Stats) add(o Stats) {
	s.Created += o.Created
	s.Finished += o.Finished
	s.Failed += o.Failed
	s.Lost += o.Lost
	s.InputRows += o.InputRows
}

// OneTable returns a Worker.Tables for one table.
func OneTable(t *table.Table) func(context.Context) ([]*table.Table, error) {
	return func(context.Context) ([]*table.Table, error) { return []*table.Table{t}, nil }
}

// AllTables returns a Worker.Tables for every table of db, following the
// catalog so that new tables and changed properties are seen.
func AllTables(db *storage.DB) func(context.Context) ([]*table.Table, error) {
	return func(ctx context.Context) ([]*table.Table, error) {
		defs, err := db.Tables(ctx)
		if err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		out := make([]*table.Table, 0, len(defs))
		for _, d := range defs {
			t, err := db.Table(ctx, d.Name)
			if errors.Is(err, catalog.ErrNoTable) {
				continue // dropped since the listing
			}
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		}
		return out, nil
	}
}

var (
	// errLeaseLost is the cause of a run's cancellation when the state
	// refused a renewal: another worker holds the job, or it is gone.
	errLeaseLost = errors.New("lease lost")
	// errLeaseExpired is the cause when the lease ran out before a renewal
	// got through.
	errLeaseExpired = errors.New("lease ran out before it could be renewed")
)

// config returns w with its defaults filled in.
func (w *Worker) config() (*Worker, error) {
	c := *w
	if c.Tables == nil {
		return nil, fmt.Errorf("compactor worker: no Tables")
	}
	if c.Name == "" {
		c.Name = lease.WorkerName()
	}
	c.Workers = max(c.Workers, 1)
	if c.Lease <= 0 {
		c.Lease = DefaultLease
	}
	if c.Renew <= 0 {
		c.Renew = c.Lease / 3
	}
	if c.Poll <= 0 {
		c.Poll = DefaultPoll
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.Logger = c.Logger.With("worker", c.Name)
	if c.run == nil {
		c.run = Run
	}
	return &c, nil
}

// RunOnce does the work there is now and returns: it creates jobs (when
// CreateJobs is set), then runs claimable jobs on Workers slots until none
// is left. Jobs other workers hold are left to them.
func (w *Worker) RunOnce(ctx context.Context) (Stats, error) {
	c, err := w.config()
	if err != nil {
		return Stats{}, err
	}
	tables, err := c.Tables(ctx)
	if err != nil {
		return Stats{}, err
	}
	var total Stats
	var errs []error
	if c.CreateJobs {
		n, err := c.create(ctx, tables)
		total.Created += n
		errs = append(errs, err)
	}
	busy := &lease.Busy[string]{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range c.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("%s/%d", c.Name, i)
			for ctx.Err() == nil {
				cl, err := c.claim(ctx, tables, name, busy)
				if err != nil || cl == nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				st := c.execute(ctx, cl)
				busy.Remove(cl.job.ID)
				mu.Lock()
				total.add(st)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	return total, errors.Join(errs...)
}

// Run works until ctx ends: every Poll it lists the tables and creates jobs
// (when CreateJobs is set), while Workers slots claim and run jobs, waiting
// for the next round when there is none. Errors are logged, not returned:
// a store that fails now may work later. Run returns when ctx ends and every
// running job has stopped (a job stopped this way is released).
func (w *Worker) Run(ctx context.Context) error {
	c, err := w.config()
	if err != nil {
		return err
	}
	var (
		mu     sync.Mutex
		tables []*table.Table
		round  = make(chan struct{}) // closed when a round's tables are ready
	)
	current := func() ([]*table.Table, chan struct{}) {
		mu.Lock()
		defer mu.Unlock()
		return tables, round
	}
	refresh := func() {
		ts, err := c.Tables(ctx)
		if err != nil {
			if ctx.Err() == nil {
				c.Logger.Warn("list tables", "error", err)
			}
			return
		}
		if c.CreateJobs {
			if _, err := c.create(ctx, ts); err != nil && ctx.Err() == nil {
				c.Logger.Warn("create compaction jobs", "error", err)
			}
		}
		mu.Lock()
		tables = ts
		close(round)
		round = make(chan struct{})
		mu.Unlock()
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(c.Poll)
		defer tick.Stop()
		for {
			refresh()
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	busy := &lease.Busy[string]{}
	for i := range c.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("%s/%d", c.Name, i)
			for ctx.Err() == nil {
				ts, next := current()
				cl, err := c.claim(ctx, ts, name, busy)
				if err != nil && ctx.Err() == nil {
					c.Logger.Warn("claim compaction job", "error", err)
				}
				if cl == nil {
					select {
					case <-ctx.Done():
					case <-next:
					}
					continue
				}
				c.execute(ctx, cl)
				busy.Remove(cl.job.ID)
			}
		}()
	}
	wg.Wait()
	return nil
}

// create creates jobs on every table.
func (w *Worker) create(ctx context.Context, tables []*table.Table) (int, error) {
	n := 0
	var errs []error
	for _, t := range tables {
		w.dropAbandoned(ctx, t)
		jobs, err := CreateJobs(ctx, t, CreateOptions{Logger: w.Logger})
		n += len(jobs)
		if err != nil {
			errs = append(errs, fmt.Errorf("table %s: %w", t.Def.Name, err))
		}
	}
	return n, errors.Join(errs...)
}

// dropAbandoned drops the jobs of t whose every attempt's lease ran out
// (their workers died each time), so that their files go into the jobs
// created next rather than waiting a round.
func (w *Worker) dropAbandoned(ctx context.Context, t *table.Table) {
	s, _, err := t.State(ctx)
	if err != nil {
		return // create reports the store's failure
	}
	now := time.Now()
	for _, j := range s.Jobs() {
		if !j.Held(now) && j.Attempts >= state.MaxJobAttempts {
			w.release(ctx, t, j, w.Name, fmt.Sprintf("abandoned: the lease of each of its %d attempts ran out", j.Attempts), true)
		}
	}
}

// claimed is a job this worker holds.
type claimed struct {
	t        *table.Table
	job      *state.Job
	worker   string
	deadline time.Time // when the lease runs out, by the local clock
}

// claim claims a job of one of the tables: pending, or with its lease
// over. It returns nil when there is none. Along the way it drops jobs
// whose last attempt's lease ran out (their worker died each time).
func (w *Worker) claim(ctx context.Context, tables []*table.Table, name string, busy *lease.Busy[string]) (*claimed, error) {
	var errs []error
	for _, i := range rand.Perm(len(tables)) {
		t := tables[i]
		s, _, err := t.State(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("table %s: %w", t.Def.Name, err))
			continue
		}
		jobs := s.Jobs()
		now := time.Now()
		for _, j := range shuffled(jobs) {
			if j.Held(now) || !busy.Add(j.ID) {
				continue
			}
			if j.Attempts >= state.MaxJobAttempts {
				w.release(ctx, t, j, name, fmt.Sprintf("abandoned: the lease of each of its %d attempts ran out", j.Attempts), true)
				busy.Remove(j.ID)
				continue
			}
			start := time.Now()
			_, err := t.Commit(ctx, &state.Txn{ClaimJob: &state.ClaimJob{Job: j.ID, Worker: name, Lease: w.Lease}})
			if err == nil {
				return &claimed{t: t, job: j, worker: name, deadline: start.Add(w.Lease)}, nil
			}
			busy.Remove(j.ID)
			if !errors.Is(err, state.ErrInvalid) {
				errs = append(errs, err)
				break // the store is failing; try the next table
			}
		}
	}
	return nil, errors.Join(errs...)
}

// shuffled returns jobs in random order, so that workers racing for the
// same pending jobs mostly take different ones.
func shuffled(jobs []*state.Job) []*state.Job {
	rand.Shuffle(len(jobs), func(i, j int) { jobs[i], jobs[j] = jobs[j], jobs[i] })
	return jobs
}

// execute runs a claimed job, renewing its lease meanwhile, and records a
// failure with ReleaseJob.
func (w *Worker) execute(ctx context.Context, cl *claimed) Stats {
	job := cl.job
	log := w.Logger.With("table", cl.t.Def.Name, "job", job.ID, "kind", job.Kind, "partition", job.Partition,
		"files", len(job.Files), "worker", cl.worker)
	log.Debug("compaction job claimed")
	runCtx, cancel := context.WithCancelCause(ctx)
	var renewing sync.WaitGroup
	renewing.Add(1)
	go func() {
		defer renewing.Done()
		lease.Keeper{
			Every: w.Renew, Lease: w.Lease,
			Renew: func(ctx context.Context) error {
				_, err := cl.t.Commit(ctx, &state.Txn{RenewJob: &state.RenewJob{Job: cl.job.ID, Worker: cl.worker, Lease: w.Lease}})
				return err
			},
			Refused: func(err error) bool { return errors.Is(err, state.ErrInvalid) },
			Lost:    func(err error) error { return fmt.Errorf("%w: %w", errLeaseLost, err) },
			Expired: errLeaseExpired,
			Log:     log, What: "compaction job",
		}.Keep(runCtx, cancel, cl.deadline)
	}()
	start := time.Now()
	res, err := w.run(runCtx, cl.t, job, RunOptions{Worker: cl.worker, Memory: w.Memory, Now: start, Alloc: w.Alloc})
	cause := context.Cause(runCtx)
	cancel(nil)
	renewing.Wait()
	took := time.Since(start)
	if err == nil {
		log.Info("compaction job finished", "input_rows", res.InputRows, "output_rows", res.OutputRows,
			"output_bytes", res.OutputBytes, "duration", took, "rows_per_s", perSecond(res.InputRows, took))
		return Stats{Finished: 1, InputRows: res.InputRows}
	}
	switch {
	case errors.Is(cause, errLeaseLost), errors.Is(err, ErrJobLost), errors.Is(err, state.ErrJobGone):
		log.Warn("compaction job lost", "error", err, "cause", cause, "duration", took)
		// Drop it if this worker still holds it; refused otherwise.
		w.release(ctx, cl.t, job, cl.worker, err.Error(), true)
		return Stats{Lost: 1}
	case errors.Is(cause, errLeaseExpired):
		log.Warn("compaction job stopped: its lease ran out", "duration", took)
		w.release(ctx, cl.t, job, cl.worker, errLeaseExpired.Error(), false)
		return Stats{Failed: 1}
	case ctx.Err() != nil:
		log.Info("compaction job stopped with the worker", "duration", took)
		w.release(ctx, cl.t, job, cl.worker, "worker stopped", false)
		return Stats{Failed: 1}
	default:
		drop := permanent(err)
		log.Warn("compaction job failed", "error", err, "cause", cause, "drop", drop, "attempt", job.Attempts+1, "duration", took)
		w.release(ctx, cl.t, job, cl.worker, err.Error(), drop)
		return Stats{Failed: 1}
	}
}

// permanent reports whether a job's error would recur on every retry: its
// inputs are gone or unreadable as the table's files, or the table's
// iterators are invalid.
func permanent(err error) bool {
	return errors.Is(err, objstore.ErrNotFound) || errors.Is(err, datafile.ErrSchemaMismatch) ||
		errors.Is(err, datafile.ErrUnsorted) || errors.Is(err, iterator.ErrInvalid)
}

// release commits ReleaseJob. A refusal means the job is no longer this
// worker's to release, which is what the caller wanted to know anyway.
func (w *Worker) release(ctx context.Context, t *table.Table, job *state.Job, worker, msg string, drop bool) {
	// Even a stopping worker records the outcome.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_, err := t.Commit(ctx, &state.Txn{ReleaseJob: &state.ReleaseJob{Job: job.ID, Worker: worker, Error: msg, Drop: drop}})
	if err != nil && !errors.Is(err, state.ErrInvalid) {
		w.Logger.Warn("release compaction job", "table", t.Def.Name, "job", job.ID, "error", err)
	}
}

func perSecond(rows int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(rows) / d.Seconds()
}
