package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/dormousedb/dormouse/storage/partition"
	"github.com/dormousedb/dormouse/storage/schema"
)

// How Write orders its inputs' rows by key before writing them.
//
// Files often come sorted already: exports of a table (one file per
// partition, each in key order), time-ordered logs keyed by time, the
// output of another sorted system. Sorting them again would cost most of
// an ingest that does not write (encoding every row, sorting, spilling,
// merging, decoding) and a memory bound's worth of buffers. So Write first
// merges the inputs as they come: each input is read, one batch ahead, by
// a goroutine of its own (a source, write_sources.go), which checks that
// the rows are in key order; a merge of the sources' heads hands runs of
// rows, as slices of the input batches, to the leaf writer.
//
// An input that can tell where its keys start (KeyBounder: a Parquet
// file, from its footer's statistics) is not read until the merge reaches
// that bound, and holds nothing until then: inputs whose key ranges follow
// one another are read one or two at a time, in key order, however many
// there are and in whatever order they were given. Inputs that cannot tell
// are read from the start. Each input being read holds its reader's
// buffers (a Parquet reader holds its current row group's column chunks)
// and two batches: at most mergeFanIn inputs are read at once within the
// memory bound.
//
// The merge stops as soon as a batch turns out not to be in key order (it
// is checked whole before any of its rows is written), when the inputs
// interleave so finely that the runs are too short to write as slices, or
// when more inputs must be read at once than mergeFanIn. Whatever was
// written by then is sorted and stays: one file per leaf it reached. The
// rest of every input is then sorted by the Sorter and written as further
// files, so a leaf may get two files from one ingest. Unsorted input is
// found out at its first batch and costs only that batch's check.

// mergeInputMemory is what one input being merged is reckoned to hold: a
// Parquet reader keeps its current row group's column chunks (a million
// rows of the benchmark table are about 17 MiB compressed) besides the
// two batches with their keys (the one being merged, the one read ahead).
const mergeInputMemory = 24 << 20

// maxMergeInputs bounds how many inputs one merge reads at once.
const maxMergeInputs = 64

// Short runs: after every runCheck runs the merge has written, it gives up
// if they averaged fewer than minRunRows rows. Each run is a slice handed
// to a Parquet writer, which costs a few microseconds whatever its size;
// below a few dozen rows per run, encoding the rows and sorting them is
// cheaper.
const (
	runCheck   = 1024
	minRunRows = 64
)

// inputWriter reads the inputs of one Write and writes their rows, in key
// order, through a leafWriter.
type inputWriter struct {
	ctx    context.Context
	sch    *schema.Schema
	tree   *partition.Tree
	opts   Options
	limits []lengthLimit
	lw     *leafWriter

	// rowOrder: the tree splits on the first row key only (rowOrderTree);
	// router finds leaves for the merge's goroutine.
	rowOrder bool
	router   *partition.Router

	merging atomic.Bool // the sources check the order of their rows
	stop    chan struct{}
	wg      sync.WaitGroup
	sources []*source

	p Progress
}

// write reads every input to the end and writes the rows; the files are
// lw's to finish or clean up.
func (iw *inputWriter) write(inputs []RecordReader) error {
	iw.stop = make(chan struct{})
	defer iw.stopSources()
	if len(inputs) > 0 {
		iw.rowOrder = rowOrderTree(iw.tree)
		iw.router = partition.NewRouter(iw.tree)
		srcs, err := iw.mergeSources(inputs)
		if err != nil {
			return err
		}
		if srcs != nil {
			iw.sources = srcs
			iw.merging.Store(true)
			done, err := iw.merge()
			if err != nil || done {
				return err
			}
		}
	}
	if iw.sources == nil {
		// One source reads the inputs in turn, so that reading overlaps
		// with sorting but only one input is open at a time.
		iw.sources = []*source{iw.newSource(inputs...)}
	}
	return iw.sortRest()
}

// mergeSources makes a source of each input, with the lower bound of its
// keys where it tells one (KeyBounder; asked of 8 inputs at a time). It
// returns nil when the merge cannot be tried: more inputs without a bound,
// which it must read from the start, than it may read at once.
func (iw *inputWriter) mergeSources(inputs []RecordReader) ([]*source, error) {
	srcs := make([]*source, len(inputs))
	for i, in := range inputs {
		srcs[i] = iw.newSource(in)
	}
	if iw.rowOrder {
		// Bounds are of row keys: they order sources only when the row
		// keys alone order the rows.
		var (
			wg   sync.WaitGroup
			next atomic.Int64
			mu   sync.Mutex
			errs []error
		)
		for range min(8, len(srcs)) {
			wg.Go(func() {
				for i := int(next.Add(1) - 1); i < len(srcs) && iw.ctx.Err() == nil; i = int(next.Add(1) - 1) {
					kb, ok := inputs[i].(KeyBounder)
					if !ok {
						continue
					}
					bound, ok, err := kb.KeyBound()
					if err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
						return
					}
					srcs[i].bound, srcs[i].bounded = bound, ok
				}
			})
		}
		wg.Wait()
		if err := errors.Join(append(errs, iw.ctx.Err())...); err != nil {
			return nil, err
		}
	}
	unbounded := 0
	for _, s := range srcs {
		if !s.bounded {
			unbounded++
		}
	}
	if unbounded > iw.mergeFanIn() {
		return nil, nil
	}
	return srcs, nil
}

// mergeFanIn is how many inputs a merge may read at once within the
// memory bound.
func (iw *inputWriter) mergeFanIn() int {
	return int(min(maxMergeInputs, max(1, iw.opts.MemoryBytes/2/mergeInputMemory)))
}

func (iw *inputWriter) report(stage string) {
	iw.p.Stage, iw.p.RowsWrote, iw.p.Files = stage, iw.lw.rows, len(iw.lw.jobs)
	if iw.opts.Progress != nil {
		iw.opts.Progress(iw.p)
	}
}

// merge merges the sources while their rows come in key order. It
// returns true when it wrote every row, false when the rest must be
// sorted.
//
// Sources without a bound are read from the start. A source with one
// waits, holding nothing, until the merge reaches its bound; the rows
// written before then are those below it. So inputs whose key ranges
// follow one another are read one or two at a time. Should more sources
// than mergeFanIn need reading at once, the rest is sorted.
func (iw *inputWriter) merge() (bool, error) {
	srcs := iw.sources
	var waiting []*source // in order of bound, then of input
	for _, s := range srcs {
		if s.bounded {
			waiting = append(waiting, s)
			continue
		}
		if err := iw.open(s); err != nil || (s.cur != nil && !s.cur.sorted) {
			return false, err
		}
	}
	slices.SortStableFunc(waiting, func(a, b *source) int { return bytes.Compare(a.bound, b.bound) })
	fanIn := iw.mergeFanIn()
	var runs, runRows int64
	for {
		best, second, reading := -1, -1, 0
		for i, s := range srcs {
			switch {
			case s.cur == nil:
				continue
			case best < 0 || bytes.Compare(s.head, srcs[best].head) < 0:
				best, second = i, best
			case second < 0 || bytes.Compare(s.head, srcs[second].head) < 0:
				second = i
			}
			reading++
		}
		if len(waiting) > 0 && (best < 0 || bytes.Compare(waiting[0].bound, srcs[best].head) <= 0) {
			// The merge has reached the next source's bound.
			if reading >= fanIn {
				return false, nil
			}
			s := waiting[0]
			waiting = waiting[1:]
			if err := iw.open(s); err != nil || (s.cur != nil && !s.cur.sorted) {
				return false, err
			}
			continue
		}
		if best < 0 {
			return true, nil
		}
		s := srcs[best]
		n := int(s.cur.rec.NumRows())
		end := n
		if second >= 0 {
			// The rows up to the next source's head; ties go to the
			// source with the lower index, whose rows were added first.
			bound, inclusive := srcs[second].head, best < second
			end = s.pos + sort.Search(n-s.pos, func(k int) bool {
				c := s.compareAt(s.pos+k, bound)
				return c > 0 || c == 0 && !inclusive
			})
		}
		if len(waiting) > 0 {
			// And below the bound of the next source waiting.
			bound := waiting[0].bound
			end = s.pos + sort.Search(end-s.pos, func(k int) bool { return s.compareAt(s.pos+k, bound) >= 0 })
		}
		if err := iw.lw.writeRows(s.cur.rec, iw.leafFunc(s), s.pos, end); err != nil {
			return false, err
		}
		runs++
		runRows += int64(end - s.pos)
		if s.seek(end); s.pos == n {
			if err := iw.next(s); err != nil {
				return false, err
			}
			if s.cur != nil && !s.cur.sorted {
				return false, nil
			}
			iw.report("write")
		}
		if runs == runCheck {
			if runRows < runCheck*minRunRows {
				return false, nil
			}
			runs, runRows = 0, 0
		}
	}
}

// open starts a source and takes its first batch.
func (iw *inputWriter) open(s *source) error {
	iw.start(s)
	return iw.next(s)
}

// leafFunc gives the leaf index of the rows of s's current batch.
func (iw *inputWriter) leafFunc(s *source) func(i int) int {
	b := s.cur
	if b.keyed {
		return func(i int) int {
			s.probe = s.keyAt(s.probe[:0], i)
			return leafOf(s.probe)
		}
	}
	return func(i int) int { return iw.router.Leaf(b.rec, i) }
}

// sortRest sorts whatever the sources have not yet delivered, in source
// order, and writes it as new files.
func (iw *inputWriter) sortRest() error {
	iw.merging.Store(false)
	sorter := NewSorter(iw.sch, SortOptions{
		// The rest of the bound is for the writers' queues and row groups.
		MemoryBytes: iw.opts.MemoryBytes * 3 / 4,
		TempDir:     iw.opts.TempDir,
		Allocator:   iw.opts.Allocator,
	}, iw.newKey())
	defer sorter.Close()
	added := int64(0)
	for _, s := range iw.sources {
		if s.cur == nil {
			iw.start(s)
			if err := iw.next(s); err != nil {
				return err
			}
		} else if s.pos > 0 {
			rest := s.cur.rec.NewSlice(int64(s.pos), s.cur.rec.NumRows())
			err := sorter.Add(rest)
			added += rest.NumRows()
			rest.Release()
			if err != nil {
				return fmt.Errorf("sort input: %w", err)
			}
			if err := iw.next(s); err != nil {
				return err
			}
		}
		for ; s.cur != nil; iw.next(s) {
			if err := sorter.Add(s.cur.rec); err != nil {
				return fmt.Errorf("sort input: %w", err)
			}
			added += s.cur.rec.NumRows()
			iw.report("read")
		}
		if s.err != nil {
			return s.err
		}
	}
	if added == 0 {
		return nil
	}
	sorted, err := sorter.Finish()
	if err != nil {
		return fmt.Errorf("sort input: %w", err)
	}
	defer sorted.Close()
	// The merge's last file may be of the leaf the sorted rows start in:
	// they go to a file of their own.
	iw.lw.finishFile()
	return iw.lw.writeSorted(sorted, func() { iw.report("write") })
}
