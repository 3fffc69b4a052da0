package export

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/internal/lease"
	"github.com/dormousedb/dormouse/storage"
)

// Worker defaults.
const (
	DefaultLease = 2 * time.Minute
	DefaultPoll  = 10 * time.Second
)

// Rows is a query's result as a task reads it. Next returns io.EOF after
// the last batch; the caller releases each batch.
type Rows interface {
	Schema() *arrow.Schema
	Next(ctx context.Context) (arrow.RecordBatch, error)
	Close() error
}

// Runner runs an export's query. The SQL engine implements it: the
// exporter does not plan SQL itself.
type Runner interface {
	// RunQuery runs the part of q that reads one leaf partition, or all of
	// q when partition is "", against exactly the table states q pins;
	// rows of one partition come in key order.
	RunQuery(ctx context.Context, q *Query, partition string) (Rows, error)
}

// permanentError marks an error that would recur on every attempt.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as one that a retry would meet again (a query that
// no longer binds, a bad input value), so that its task fails at once
// instead of after MaxAttempts.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

func isPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p) || errors.Is(err, ErrInput)
}

// Worker claims export and import tasks from the exports log and runs
// them. Any number of workers in any number of processes may share a
// store: a task is taken by committing Claim, kept by renewing its lease
// and given up by Release, so no two workers run one task at a time and a
// task whose worker died is taken again once its lease is over.
//
// Set the fields before RunOnce or Run and do not change them after.
type Worker struct {
	Log *Log
	// DB is the store whose tables imports fill.
	DB *storage.DB
	// Runner runs exports' queries; a worker without one takes import
	// tasks only.
	Runner Runner
	// Name identifies the worker in claims; slot i claims as Name/i.
	// Default: host-pid-random.
	Name string
	// Slots is how many tasks run at a time (default 1).
	Slots int
	// Lease is how long a claim holds a task (DefaultLease); Renew how
	// often a running task's lease is renewed (Lease/3); Poll how long Run
	// waits when there is nothing to do (DefaultPoll).
	Lease, Renew, Poll time.Duration
	// Memory bounds an import task's sort (ingest's default when 0);
	// TempDir is where it spills; Alloc allocates Arrow buffers.
	Memory  int64
	TempDir string
	Alloc   memory.Allocator
	Logger  *slog.Logger
	// Only restricts the worker to one export: a statement working on its
	// own export.
	Only string
	// Progress, when set, hears of the rows each task writes (an export)
	// or reads (an import) as it goes.
	Progress func(rows int64)
	// Watch, when set, hears of the export's record each time Execute
	// reads it.
	Watch func(e *Export)
}

// Stats counts what a worker did.
type Stats struct {
	Finished int   // tasks finished
	Failed   int   // attempts that failed
	Lost     int   // tasks lost to another worker or an ended export
	Rows     int64 // rows written (exports) or committed (imports)
}

func (s *Stats) add(o Stats) {
	s.Finished += o.Finished
	s.Failed += o.Failed
	s.Lost += o.Lost
	s.Rows += o.Rows
}

func (w *Worker) config() (*Worker, error) {
	c := *w
	if c.Log == nil {
		return nil, fmt.Errorf("exporter: no Log")
	}
	if c.Name == "" {
		c.Name = lease.WorkerName()
	}
	c.Slots = max(c.Slots, 1)
	if c.Lease <= 0 {
		c.Lease = DefaultLease
	}
	if c.Renew <= 0 {
		c.Renew = c.Lease / 3
	}
	if c.Poll <= 0 {
		c.Poll = DefaultPoll
	}
	if c.Alloc == nil {
		c.Alloc = memory.DefaultAllocator
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.Logger = c.Logger.With("worker", c.Name)
	return &c, nil
}

// RunOnce does the work there is now and returns: it finishes and cleans
// up exports that wait for it, then runs claimable tasks on Slots slots
// until none is left. Tasks that other workers hold are left to them.
func (w *Worker) RunOnce(ctx context.Context) (Stats, error) {
	c, err := w.config()
	if err != nil {
		return Stats{}, err
	}
	return c.round(ctx)
}

// Run works until ctx ends, waiting Poll between rounds that found
// nothing to do. Errors are logged: a store that fails now may work later.
func (w *Worker) Run(ctx context.Context) error {
	c, err := w.config()
	if err != nil {
		return err
	}
	for ctx.Err() == nil {
		st, err := c.round(ctx)
		if err != nil && ctx.Err() == nil {
			c.Logger.Warn("exporter round", "error", err)
		}
		if st.Finished+st.Failed+st.Lost > 0 {
			continue // there may be more
		}
		select {
		case <-ctx.Done():
		case <-time.After(c.Poll):
		}
	}
	return nil
}

func (w *Worker) round(ctx context.Context) (Stats, error) {
	var (
		total Stats
		errs  []error
		mu    sync.Mutex
		wg    sync.WaitGroup
	)
	errs = append(errs, w.sweep(ctx))
	busy := &lease.Busy[taskKey]{}
	for i := range w.Slots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("%s/%d", w.Name, i)
			for ctx.Err() == nil {
				cl, err := w.claim(ctx, name, busy)
				if err != nil || cl == nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				st := w.execute(ctx, cl)
				busy.Remove(cl.key())
				mu.Lock()
				total.add(st)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	errs = append(errs, w.sweep(ctx))
	return total, errors.Join(errs...)
}

// sweep finishes exports whose tasks are all done (their finishing
// worker died before the manifest), fails those with a task that ran out
// of attempts, and cleans up failed ones.
func (w *Worker) sweep(ctx context.Context) error {
	s, _, err := w.Log.State(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	var errs []error
	for _, e := range s.List() {
		if w.Only != "" && e.ID != w.Only {
			continue
		}
		switch {
		case e.Status == StatusRunning && e.Count(TaskDone) == len(e.Tasks):
			errs = append(errs, w.finalize(ctx, e))
		case e.Status == StatusRunning:
			for i, t := range e.Tasks {
				if t.Status == TaskRunning && !t.Held(now) && t.Attempts >= MaxAttempts {
					err := w.Log.commit(ctx, &Txn{Release: &Release{Export: e.ID, Task: i, Worker: w.Name,
						Error: fmt.Sprintf("abandoned: the lease of each of its %d attempts ran out (last error: %s)", t.Attempts, orNone(t.Error))}})
					if err != nil && !Refused(err) {
						errs = append(errs, err)
					}
				}
			}
		case e.Status == StatusFailed && !e.Cleaned:
			errs = append(errs, w.clean(ctx, e))
		}
	}
	return errors.Join(errs...)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// taskKey names one task of one export.
type taskKey struct {
	export string
	task   int
}

// claimed is a task this worker holds.
type claimed struct {
	e        *Export
	task     int
	worker   string
	deadline time.Time // when the lease runs out, by the local clock
}

func (c *claimed) key() taskKey { return taskKey{c.e.ID, c.task} }

// claim takes a claimable task of a running export, in random order so
// that racing workers mostly take different ones; nil when there is none.
func (w *Worker) claim(ctx context.Context, name string, busy *lease.Busy[taskKey]) (*claimed, error) {
	s, _, err := w.Log.State(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	var cands []taskKey
	for _, e := range s.Exports {
		if e.Status != StatusRunning || (w.Only != "" && e.ID != w.Only) || (e.Kind == KindExport && w.Runner == nil) ||
			(e.Kind == KindImport && w.DB == nil) {
			continue
		}
		for i := range e.Tasks {
			if e.Tasks[i].Claimable(name, now) {
				cands = append(cands, taskKey{e.ID, i})
			}
		}
	}
	rand.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
	for _, k := range cands {
		if !busy.Add(k) {
			continue
		}
		start := time.Now()
		err := w.Log.commit(ctx, &Txn{Claim: &Claim{Export: k.export, Task: k.task, Worker: name, Lease: w.Lease}})
		if err == nil {
			return &claimed{e: s.Exports[k.export], task: k.task, worker: name, deadline: start.Add(w.Lease)}, nil
		}
		busy.Remove(k)
		if !Refused(err) {
			return nil, err
		}
	}
	return nil, nil
}

// execute runs a claimed task, renewing its lease meanwhile, and commits
// its end: Finish, or Release with the error.
func (w *Worker) execute(ctx context.Context, cl *claimed) Stats {
	e, i := cl.e, cl.task
	log := w.Logger.With("export", e.ID, "kind", e.Kind, "task", i, "partition", e.Tasks[i].Partition, "slot", cl.worker)
	runCtx, cancel := context.WithCancelCause(ctx)
	var renewing sync.WaitGroup
	renewing.Add(1)
	go func() {
		defer renewing.Done()
		lease.Keeper{
			Every: w.Renew, Lease: w.Lease,
			Renew: func(ctx context.Context) error {
				return w.Log.commit(ctx, &Txn{Renew: &Claim{Export: cl.e.ID, Task: cl.task, Worker: cl.worker, Lease: w.Lease}})
			},
			Refused: Refused,
			Lost:    func(err error) error { return fmt.Errorf("%w: %w", ErrLost, err) },
			Expired: fmt.Errorf("%w: the lease ran out before it could be renewed", ErrLost),
			Log:     log, What: "task",
		}.Keep(runCtx, cancel, cl.deadline)
	}()
	start := time.Now()
	var (
		fin *Finish
		err error
	)
	if e.Kind == KindImport {
		fin, err = w.runImport(runCtx, e, i)
	} else {
		fin, err = w.runExport(runCtx, e, i)
	}
	cause := context.Cause(runCtx)
	cancel(nil)
	renewing.Wait()
	took := time.Since(start)
	if err == nil {
		fin.Export, fin.Task, fin.Worker = e.ID, i, cl.worker
		err = w.Log.commit(ctx, &Txn{Finish: fin})
		if err == nil {
			log.Info("task finished", "rows", fin.Rows, "bytes", fin.Bytes, "files", len(fin.Files), "duration", took)
			w.maybeFinalize(ctx, e.ID, log)
			return Stats{Finished: 1, Rows: fin.Rows}
		}
		if Refused(err) {
			log.Warn("task lost before its finish was committed", "error", err)
			return Stats{Lost: 1}
		}
		err = fmt.Errorf("commit the task's finish: %w", err)
	}
	switch {
	case errors.Is(cause, ErrLost):
		log.Warn("task lost", "error", err, "cause", cause, "duration", took)
		return Stats{Lost: 1}
	case ctx.Err() != nil:
		log.Info("task stopped with the worker", "duration", took)
		w.release(ctx, e.ID, i, cl.worker, "worker stopped", false)
		return Stats{Failed: 1}
	}
	perm := isPermanent(err)
	log.Warn("task failed", "error", err, "permanent", perm, "duration", took)
	w.release(ctx, e.ID, i, cl.worker, err.Error(), perm)
	return Stats{Failed: 1}
}

// release commits Release; a refusal means the task is no longer this
// worker's, which is what it wanted to know.
func (w *Worker) release(ctx context.Context, id string, i int, worker, msg string, permanent bool) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	err := w.Log.commit(ctx, &Txn{Release: &Release{Export: id, Task: i, Worker: worker, Error: msg, Permanent: permanent}})
	if err != nil && !Refused(err) {
		w.Logger.Warn("release task", "export", id, "task", i, "error", err)
	}
	if permanent {
		if e, err := w.Log.Get(ctx, id); err == nil && e.Status == StatusFailed && !e.Cleaned {
			if err := w.clean(ctx, e); err != nil {
				w.Logger.Warn("clean up failed export", "export", id, "error", err)
			}
		}
	}
}

// maybeFinalize finishes the export when the task just committed was its
// last.
func (w *Worker) maybeFinalize(ctx context.Context, id string, log *slog.Logger) {
	e, err := w.Log.Get(ctx, id)
	if err != nil || e.Status != StatusRunning || e.Count(TaskDone) != len(e.Tasks) {
		return
	}
	if err := w.finalize(ctx, e); err != nil {
		log.Warn("finish export", "error", err)
	}
}

// finalize writes the manifest of an export whose tasks are all done
// and commits Complete. Two workers may both do it: they write the same
// manifest, and one Complete applies.
func (w *Worker) finalize(ctx context.Context, e *Export) error {
	if e.Kind == KindExport {
		store, err := e.Target.Create(ctx)
		if err != nil {
			return err
		}
		if err := writeManifest(ctx, store, manifestOf(e)); err != nil {
			return err
		}
		removeStaleTemp(ctx, store, w.Lease)
	}
	err := w.Log.commit(ctx, &Txn{Complete: &Complete{Export: e.ID}})
	if err != nil && !Refused(err) {
		return fmt.Errorf("complete export %s: %w", e.ID, err)
	}
	if Refused(err) {
		// Failed meanwhile (a cancelled statement): the manifest just
		// written must go with the rest.
		if cur, gerr := w.Log.Get(ctx, e.ID); gerr == nil && cur.Status == StatusFailed && !cur.Cleaned {
			return w.clean(ctx, cur)
		}
	}
	return nil
}

// staleRemover is a store that can remove what killed writers left: a
// local directory's temporary files, S3's unfinished multipart uploads.
type staleRemover interface {
	RemoveStaleTemp(ctx context.Context, prefix string, olderThan time.Time) (int, int64, error)
}

// removeStaleTemp removes, best effort, what writers of the target killed
// mid-file left there: a finished export's every task has ended, so what
// is older than a lease is nobody's.
func removeStaleTemp(ctx context.Context, store any, lease time.Duration) {
	if r, ok := store.(staleRemover); ok {
		_, _, _ = r.RemoveStaleTemp(ctx, "", time.Now().Add(-lease))
	}
}
