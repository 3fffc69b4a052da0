package ingest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/partition"
	"github.com/dormousedb/dormouse/storage/state"
	"github.com/dormousedb/dormouse/storage/table"
)

// leafWriter writes rows whose keys start with a leaf index, arriving in
// key order, as one data file per leaf and run of that leaf's rows (one
// per leaf when the whole input is sorted at once). Encoding Parquet costs
// more than producing the rows, so each file is written by its own
// goroutine while this one routes the next rows: at most `parallel` files
// are written at once, and the batches queued for them may hold up to
// `budget` bytes, so that the router moves on to the next leaf while the
// last one's file is still being written — with leaves smaller than the
// budget, as many files are written at once as there are cores — and
// memory stays bounded.
type leafWriter struct {
	ctx      context.Context
	t        *table.Table
	leaves   []*partition.Partition
	opts     datafile.WriterOptions
	parallel int
	budget   int64

	cur    *fileJob
	slots  chan struct{} // one token per file being written
	queued *byteBudget
	stop   chan struct{} // closed by cleanup: writers abort
	jobs   []*fileJob
	rows   int64
}

func newLeafWriter(ctx context.Context, t *table.Table, leaves []*partition.Partition, parallel int, budget int64, opts datafile.WriterOptions) *leafWriter {
	parallel = max(parallel, 1)
	return &leafWriter{ctx: ctx, t: t, leaves: leaves, opts: opts, parallel: parallel, budget: budget,
		slots: make(chan struct{}, parallel), queued: newByteBudget(budget), stop: make(chan struct{})}
}

// fileJob is one data file being written by its own goroutine.
type fileJob struct {
	leaf   int
	in     chan queuedBatch
	failed chan struct{} // closed when the writer fails; err says why
	done   chan struct{} // closed when the goroutine ends
	w      *datafile.Writer
	info   datafile.Info
	err    error
	wrote  bool // Close succeeded: the object exists
}

// queuedBatch is rows on their way to a file's writer and the bytes of the
// budget they hold.
type queuedBatch struct {
	rec   arrow.RecordBatch
	bytes int64
}

// jobQueue is how many batches a file's queue holds at most, whatever
// their size; the byte budget is the bound that matters.
const jobQueue = 64

// writeSorted writes a sorted stream (Batch.Keys start with the leaf index)
// to the end.
func (w *leafWriter) writeSorted(sorted *Sorted, progress func()) error {
	for {
		b, err := sorted.Next()
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return fmt.Errorf("sort input: %w", err)
		}
		err = w.writeRows(b.Rec, func(i int) int { return leafOf(b.Keys[i]) }, 0, int(b.Rec.NumRows()))
		b.Rec.Release()
		if err != nil {
			return err
		}
		progress()
	}
}

// writeRows hands rows [from, to) of rec, in key order after the rows
// written before, to their leaves' writers, each run of rows of one leaf
// as a slice of rec; leaf(i) is row i's leaf index. The caller keeps rec.
func (w *leafWriter) writeRows(rec arrow.RecordBatch, leaf func(i int) int, from, to int) error {
	for i := from; i < to; {
		// The rows are in leaf order: find where this leaf's end.
		l := leaf(i)
		j := to
		if leaf(to-1) != l {
			j = i + 1 + sort.Search(to-i-1, func(k int) bool { return leaf(i+1+k) != l })
		}
		if w.cur == nil || l != w.cur.leaf {
			w.finishFile()
			if err := w.startFile(l); err != nil {
				return err
			}
		}
		part := rec.NewSlice(int64(i), int64(j))
		q := queuedBatch{rec: part, bytes: sliceBytes(part)}
		if err := w.queued.acquire(w.ctx, q.bytes, w.cur.failed); err != nil {
			part.Release()
			return w.jobError(err)
		}
		select {
		case w.cur.in <- q:
		case <-w.cur.failed:
			w.queued.release(q.bytes)
			part.Release()
			return w.cur.err
		case <-w.ctx.Done():
			w.queued.release(q.bytes)
			part.Release()
			return w.ctx.Err()
		}
		w.rows += int64(j - i)
		i = j
	}
	return nil
}

// jobError is the current job's failure if that is what stopped a wait.
func (w *leafWriter) jobError(err error) error {
	if errors.Is(err, errJobFailed) {
		return w.cur.err
	}
	return err
}

func (w *leafWriter) startFile(leaf int) error {
	select {
	case w.slots <- struct{}{}:
	case <-w.ctx.Done():
		return w.ctx.Err()
	}
	fw, err := datafile.NewWriter(w.ctx, w.t.Store, w.t.NewFileKey(w.leaves[leaf].ID), w.t.Def.Schema, w.opts)
	if err != nil {
		<-w.slots
		return err
	}
	j := &fileJob{leaf: leaf, in: make(chan queuedBatch, jobQueue), failed: make(chan struct{}), done: make(chan struct{}), w: fw}
	w.cur = j
	w.jobs = append(w.jobs, j)
	go w.run(j)
	return nil
}

// run writes a job's batches as they come and closes its file after the
// last.
func (w *leafWriter) run(j *fileJob) {
	defer func() { <-w.slots }()
	defer close(j.done)
	fail := func(err error) {
		j.err = err
		j.w.Abort()
		close(j.failed)
	}
	for q := range j.in {
		if j.err == nil {
			select {
			case <-w.stop:
				fail(errStopped)
			default:
				if err := j.w.Write(q.rec); err != nil {
					fail(err)
				}
			}
		}
		// After a failure, keep reading until the router stops, so that
		// every batch sent is released.
		q.rec.Release()
		w.queued.release(q.bytes)
	}
	if j.err == nil {
		j.info, j.err = j.w.Close()
		j.wrote = j.err == nil
	}
}

// finishFile tells the current file's writer that no more rows come.
func (w *leafWriter) finishFile() {
	if w.cur != nil {
		close(w.cur.in)
		w.cur = nil
	}
}

// finish waits for every file and returns them, one per job.
func (w *leafWriter) finish() ([]state.NewFile, error) {
	w.finishFile()
	files := make([]state.NewFile, 0, len(w.jobs))
	for _, j := range w.jobs {
		<-j.done
		if j.err != nil {
			return nil, j.err
		}
		info := j.info
		files = append(files, state.NewFile{
			File: state.File{Key: info.Key, SketchKey: info.SketchKey, Rows: info.Rows, Bytes: info.Bytes, MinKey: info.MinKey, MaxKey: info.MaxKey},
			Refs: []state.PartRows{{Partition: w.leaves[j.leaf].ID, Rows: info.Rows}},
		})
	}
	return files, nil
}

// cleanup stops every writer and deletes the files already written.
func (w *leafWriter) cleanup() error {
	w.finishFile()
	close(w.stop)
	var errs []error
	ctx := context.WithoutCancel(w.ctx)
	for _, j := range w.jobs {
		<-j.done
		if !j.wrote {
			continue
		}
		errs = append(errs, w.t.Store.Delete(ctx, j.info.Key))
		if j.info.SketchKey != "" {
			errs = append(errs, w.t.Store.Delete(ctx, j.info.SketchKey))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("clean up after failed ingest (orphans remain for the garbage collector): %w", err)
	}
	return nil
}

var (
	errJobFailed = errors.New("ingest: a data file writer failed")
	errStopped   = errors.New("ingest: stopped")
)

// byteBudget bounds the bytes of batches queued for the file writers. One
// goroutine acquires; any release. A batch is always let through when
// nothing is queued, so one bigger than the budget cannot wait forever.
type byteBudget struct {
	mu   sync.Mutex
	used int64
	max  int64
	wake chan struct{} // signalled on release
}

func newByteBudget(n int64) *byteBudget {
	return &byteBudget{max: n, wake: make(chan struct{}, 1)}
}

// acquire waits until n more bytes fit, ctx ends (its error) or failed is
// closed (errJobFailed).
func (b *byteBudget) acquire(ctx context.Context, n int64, failed <-chan struct{}) error {
	for {
		b.mu.Lock()
		if b.used == 0 || b.used+n <= b.max {
			b.used += n
			b.mu.Unlock()
			return nil
		}
		b.mu.Unlock()
		select {
		case <-b.wake:
		case <-failed:
			return errJobFailed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (b *byteBudget) release(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// leafOf is the leaf index a key starts with.
func leafOf(key []byte) int { return int(binary.BigEndian.Uint32(key)) }

// sliceBytes estimates the memory a batch's rows hold: their share of each
// of its buffers, which a slice shares with the batch it was cut from,
// scaled up by how much more than its length the buffer allocated (a
// builder's doubling).
func sliceBytes(rec arrow.RecordBatch) int64 {
	var total float64
	for _, c := range rec.Columns() {
		d := c.Data()
		n := int64(d.Len())
		for i, b := range d.Buffers() {
			if b == nil || b.Len() == 0 {
				continue
			}
			var share int64
			switch {
			case i == 0: // validity
				share = n/8 + 1
			case i == 2: // variable-length values
				share = int64(b.Len())
				if offs := binaryOffsets(c); len(offs) > 0 {
					share = int64(offs[len(offs)-1] - offs[0])
				}
			default:
				switch dt := c.DataType().(type) {
				case arrow.BinaryDataType:
					share = 4 * (n + 1)
				case arrow.FixedWidthDataType:
					share = (n*int64(dt.BitWidth()) + 7) / 8
				default:
					share = int64(b.Len())
				}
			}
			total += float64(share) * float64(b.Cap()) / float64(b.Len())
		}
	}
	return int64(total)
}

// binaryOffsets returns the offsets of a string or binary array's values.
func binaryOffsets(a arrow.Array) []int32 {
	switch a := a.(type) {
	case *array.String:
		return a.ValueOffsets()
	case *array.Binary:
		return a.ValueOffsets()
	}
	return nil
}
