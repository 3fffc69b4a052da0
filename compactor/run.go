package compactor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/engine"
	"github.com/dormousedb/dormouse/internal/cores"
	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/partition"
	"github.com/dormousedb/dormouse/storage/state"
	"github.com/dormousedb/dormouse/storage/table"
)

// ErrJobLost is returned by Run when the job no longer holds its inputs:
// its partition was split, another worker took it after its lease ran
// out, or it ended already. Nothing of the run is left in the store; the
// job's work, if still wanted, belongs to another job or worker.
var ErrJobLost = errors.New("compaction job lost")

// DefaultMemory is RunOptions.Memory's default.
const DefaultMemory = 256 << 20

// RunOptions tune Run. The zero value gives the defaults.
type RunOptions struct {
	// Worker is the worker that claimed the job: the commit applies only
	// while it holds the job. Empty commits without that check (tests, or
	// a job run where it was created).
	Worker string
	// Memory bounds what the run holds at once, whatever the size of its
	// inputs (DefaultMemory): the batches read from each input, the merge,
	// and the output's row group. See memoryPlan.
	Memory int64
	// Now is the time the table's age_off counts back from (time.Now()).
	Now time.Time
	// Alloc allocates the Arrow and Parquet buffers (Go's allocator).
	Alloc memory.Allocator
}

func (o RunOptions) withDefaults() RunOptions {
	if o.Memory <= 0 {
		o.Memory = DefaultMemory
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Alloc == nil {
		o.Alloc = memory.DefaultAllocator
	}
	return o
}

// Result describes a run.
type Result struct {
	Job        string
	InputFiles int
	// InputRows are the rows read from the inputs inside the job's
	// partition; OutputRows those written, fewer when the table's
	// iterators combined or aged off rows.
	InputRows, OutputRows int64
	OutputBytes           int64
	Output                string // the output file's key; "" when every row was dropped
	Started, Finished     time.Time
}

// Run executes a compaction job: it merges the job's input files, in key
// order and oldest first, into one sorted file in the job's partition and
// commits one transaction (ReplaceFiles) that replaces the inputs'
// references by the output's.
//
// The inputs are read through the query engine's partition scan, limited
// to the job's files: rows outside the partition (a reference left by a
// split) are dropped, and the table's iterators are applied exactly as a
// query applies them, with opts.Now as the age-off time, so compaction
// never changes an answer. Memory stays within opts.Memory however large
// the inputs are (memoryPlan).
//
// The output is invisible until the commit. Any failure before the commit
// aborts it, leaving nothing. If the commit is refused, the output is
// deleted, and when the refusal is because the job no longer holds its
// inputs the error wraps ErrJobLost; a retried commit that finds its own
// transaction applied is success. After a failure that leaves unknown
// whether the commit landed, the output stays: referenced, or an orphan
// for the garbage collector. When every input row was dropped the commit
// has no output.
func Run(ctx context.Context, t *table.Table, job *state.Job, opts RunOptions) (*Result, error) {
	opts = opts.withDefaults()
	running.Add(1)
	defer running.Add(-1)
	res := &Result{Job: job.ID, Started: time.Now()}
	s, seq, err := t.State(ctx)
	if err != nil {
		return nil, fmt.Errorf("compaction job %s: %w", job.ID, err)
	}
	j, leaf, err := heldJob(s, job.ID, opts.Worker)
	if err != nil {
		return nil, err
	}
	res.InputFiles = len(j.Files)
	plan := newMemoryPlan(t, s, j, opts.Memory)
	out, err := writeOutput(ctx, t, s, seq, j, leaf, plan, opts, res)
	if err != nil {
		return nil, fmt.Errorf("compaction job %s: %w", j.ID, err)
	}
	if err := commit(ctx, t, j, opts, res, out); err != nil {
		return nil, err
	}
	res.Finished = time.Now()
	return res, nil
}

// heldJob returns the job as the state has it and its leaf, or ErrJobLost
// when the state no longer gives it to the worker.
func heldJob(s *state.State, id, worker string) (*state.Job, *partition.Partition, error) {
	j, ok := s.Job(id)
	if !ok {
		return nil, nil, fmt.Errorf("compaction job %s: %w: not in the table's state (finished, dropped, or its partition was split)", id, ErrJobLost)
	}
	if worker != "" && j.Worker != worker {
		return nil, nil, fmt.Errorf("compaction job %s: %w: held by %q, not %q", id, ErrJobLost, j.Worker, worker)
	}
	leaf, ok := s.Partitions.Get(j.Partition)
	if !ok || !leaf.IsLeaf() {
		return nil, nil, fmt.Errorf("compaction job %s: %w: partition %s is not a leaf", id, ErrJobLost, j.Partition)
	}
	return j, leaf, nil
}

// writeOutput merges the inputs into a new data file and returns it, or
// nil when no row is left. On error nothing is left in the store.
func writeOutput(ctx context.Context, t *table.Table, s *state.State, seq uint64, j *state.Job,
	leaf *partition.Partition, plan memoryPlan, opts RunOptions, res *Result) (*datafile.Info, error) {
	sch := t.Def.Schema
	cols := make([]int, len(sch.Columns()))
	for i := range cols {
		cols[i] = i
	}
	scan := &engine.PartitionScan{Table: t, State: s, Seq: seq, Partition: leaf, Columns: cols,
		Ordered: true, Limit: -1, Now: opts.Now, Files: j.Files, BatchRows: plan.batchRows}
	ec := &engine.ExecContext{Ctx: ctx, Alloc: opts.Alloc, Stats: &engine.Stats{}, Parallelism: 1}
	op, err := scan.Open(ec)
	if err != nil {
		return nil, err
	}
	sketches, err := mergedSketches(ctx, t, s, j)
	if err != nil {
		return nil, errors.Join(err, op.Close())
	}
	w, err := datafile.NewWriter(ctx, t.Store, t.NewFileKey(j.Partition), sch, datafile.WriterOptions{
		RowGroupRows: plan.rowGroupRows, PageSizeBytes: t.Def.Properties.Int("page_size_bytes"),
		Codec: t.Def.Properties.Get("compression_codec"), CompressionLevel: datafile.FastZstdLevel, CompressionLevelUp: datafile.FastZstdLevelUp,
		Sketches: sketches, Allocator: opts.Alloc})
	if err != nil {
		return nil, errors.Join(err, op.Close())
	}
	if err := copyRows(ctx, op, w, readAhead()); err != nil {
		return nil, errors.Join(err, op.Close(), w.Abort())
	}
	if err := op.Close(); err != nil {
		return nil, errors.Join(err, w.Abort())
	}
	info, err := w.Close()
	if err != nil {
		return nil, err
	}
	res.OutputRows = info.Rows
	res.InputRows = info.Rows
	if c, ok := ec.Stats.Node(scan).Counter[engine.IteratorRowsCounter]; ok {
		res.InputRows = c[1]
	}
	if info.Rows == 0 {
		// Every row aged off: the commit drops the inputs and adds nothing.
		return nil, deleteOutput(ctx, t, &info)
	}
	res.Output, res.OutputBytes = info.Key, info.Bytes
	return &info, nil
}

// running counts the runs in progress in this process (readAhead).
var running atomic.Int64

// readAhead says whether a run starting now should read and merge its
// inputs on a goroutine of its own, a batch ahead of its writer: only
// while the runs in progress leave this process a core to spare. The two
// halves cost about the same (the writer's encoding and compression; the
// readers' decoding and the merge), so a lone job finishes in about 0.7
// of the time; but each merged batch is then encoded on another core,
// not from the cache of the one that gathered it, which cost 4-6% more
// CPU a row in the 11-file benchmark job. When runs fill the cores,
// overlap buys no time and only costs that.
func readAhead() bool { return running.Load() < int64(cores.N()) }

// copyRows writes every batch of op to w, reading ahead on a goroutine of
// its own when ahead is set (readAhead). On return nothing reads op any
// more and every batch is released.
func copyRows(ctx context.Context, op engine.Operator, w *datafile.Writer, ahead bool) error {
	if !ahead {
		for {
			rec, err := op.Next(ctx)
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			err = w.Write(rec)
			rec.Release()
			if err != nil {
				return err
			}
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan arrow.RecordBatch, 1)
	var readErr error // set before batches closes
	go func() {
		defer close(batches)
		for {
			rec, err := op.Next(ctx)
			if err != nil {
				if err != io.EOF {
					readErr = err
				}
				return
			}
			select {
			case batches <- rec:
			case <-ctx.Done():
				rec.Release()
				readErr = ctx.Err()
				return
			}
		}
	}()
	var writeErr error
	for rec := range batches {
		if writeErr == nil {
			if writeErr = w.Write(rec); writeErr != nil {
				cancel() // stop the reader; drain what it sent
			}
		}
		rec.Release()
	}
	if writeErr != nil {
		return writeErr
	}
	return readErr
}

// commit replaces the job's input references by the output's. A refusal
// deletes the output; one because the job is gone reports ErrJobLost.
func commit(ctx context.Context, t *table.Table, j *state.Job, opts RunOptions, res *Result, out *datafile.Info) error {
	op := &state.ReplaceFiles{Job: j.ID, Worker: opts.Worker, InputRows: res.InputRows, OutputRows: res.OutputRows, Started: res.Started}
	if out != nil {
		op.Outputs = []state.NewFile{{
			File: state.File{Key: out.Key, SketchKey: out.SketchKey, Rows: out.Rows, Bytes: out.Bytes, MinKey: out.MinKey, MaxKey: out.MaxKey},
			Refs: []state.PartRows{{Partition: j.Partition, Rows: out.Rows}},
		}}
	}
	// One id per job: a commit retried after it landed is recognised.
	_, err := t.Commit(ctx, &state.Txn{ID: "compact-" + j.ID, ReplaceFiles: op})
	if err == nil || errors.Is(err, state.ErrDuplicate) {
		return nil
	}
	if out != nil && errors.Is(err, state.ErrInvalid) {
		// Refused: the output was never referenced, so delete it now
		// rather than leave it to the collector. After any other failure
		// the commit may have landed, and the file must stay.
		if derr := deleteOutput(context.WithoutCancel(ctx), t, out); derr != nil {
			err = errors.Join(err, derr)
		}
	}
	if errors.Is(err, state.ErrJobGone) {
		return fmt.Errorf("compaction job %s: %w: %w", j.ID, ErrJobLost, err)
	}
	return fmt.Errorf("compaction job %s: %w", j.ID, err)
}

// deleteOutput removes a written output file and its sketch.
func deleteOutput(ctx context.Context, t *table.Table, info *datafile.Info) error {
	var errs []error
	for _, k := range []string{info.Key, info.SketchKey} {
		if k == "" {
			continue
		}
		if err := t.Store.Delete(ctx, k); err != nil {
			errs = append(errs, fmt.Errorf("delete %s: %w", k, err))
		}
	}
	return errors.Join(errs...)
}
