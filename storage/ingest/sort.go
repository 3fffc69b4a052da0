package ingest

import (
	"errors"
	"fmt"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/storage/schema"
)

// KeyFunc appends the sort key of rec's row to dst and returns the extended
// slice. Rows are ordered by bytes.Compare of their keys. For ingest the key
// is a 4-byte big-endian partition index followed by schema.AppendRowKey.
// It must not retain dst, rec or the result.
type KeyFunc func(dst []byte, rec arrow.RecordBatch, row int) []byte

// DefaultSortMemory is the memory bound of a Sorter when SortOptions leaves
// it unset.
const DefaultSortMemory = 256 << 20

// Spill compressions for SortOptions.SpillCompression.
const (
	SpillUncompressed = ""
	SpillLZ4          = "lz4"
	SpillZstd         = "zstd"
)

// SortOptions configures a Sorter.
type SortOptions struct {
	// MemoryBytes bounds what the sorter holds: the batches it retains
	// (their Arrow buffers, counted once even if shared), the keys, the sort
	// permutation and, while merging, the batches read back from spilled
	// runs. 0 means DefaultSortMemory. The bound is approximate: a single
	// batch is always accepted whole, so it should be well above the size
	// of one input batch.
	MemoryBytes int64
	// TempDir is where spilled runs go, in a private directory that Close
	// removes; "" means os.TempDir().
	TempDir string
	// BatchRows bounds the rows of an output batch; 0 means
	// DefaultBatchRows. Batches are smaller when rows are wide, so that one
	// output batch stays within an eighth of MemoryBytes.
	BatchRows int
	// SpillCompression compresses spilled runs: SpillUncompressed (the
	// default: spills are read once, soon, from a local disk), SpillLZ4 or
	// SpillZstd.
	SpillCompression string
	// Allocator allocates the sorter's buffers and output batches; nil means
	// memory.DefaultAllocator.
	Allocator memory.Allocator
}

// SortStats describes what a Sorter did.
type SortStats struct {
	Rows        int64 // rows added
	Runs        int   // sorted runs spilled to disk
	MergePasses int   // intermediate merge passes before the final merge
	SpillBytes  int64 // bytes written to spill files, intermediate merges included
	PeakMemory  int64 // the most the sorter counted against MemoryBytes
}

// Sorter sorts record batches by a per-row key within a memory bound,
// spilling sorted runs to disk when it must. Add batches, then Finish once
// and read the Sorted stream it returns. A Sorter is not safe for concurrent
// use.
//
// Ownership: Add retains the batch (it does not copy it), so the caller may
// release its own reference as soon as Add returns and must not modify the
// batch afterwards. Finish hands everything to the Sorted stream. Close
// releases everything and removes the spill files; it is needed only when
// Finish is not called or fails, and is harmless otherwise.
type Sorter struct {
	sch    *arrow.Schema
	opts   SortOptions
	key    KeyFunc
	mem    *memRun
	runs   []*runFile
	dir    string
	stats  SortStats
	used   int64 // bytes counted now, for PeakMemory
	rowSum int64 // bytes added in all (data and keys), for the average row size
	done   bool  // Finish was called or Close
	seq    int   // numbers run files
}

// NewSorter returns a sorter for batches with sch's storage-order Arrow
// schema, ordered by key.
func NewSorter(sch *schema.Schema, opts SortOptions, key KeyFunc) *Sorter {
	if opts.MemoryBytes <= 0 {
		opts.MemoryBytes = DefaultSortMemory
	}
	if opts.BatchRows <= 0 {
		opts.BatchRows = DefaultBatchRows
	}
	if opts.Allocator == nil {
		opts.Allocator = memory.DefaultAllocator
	}
	s := &Sorter{sch: sch.Arrow(), opts: opts, key: key}
	s.mem = newMemRun(s.opts.Allocator)
	return s
}

// Stats reports what the sorter has done so far; after Finish, the Sorted
// stream's Stats continues it.
func (s *Sorter) Stats() SortStats { return s.stats }

// outBudget is the memory kept free for one output batch.
func (s *Sorter) outBudget() int64 { return s.opts.MemoryBytes / 8 }

// Add adds the rows of rec, which must have the sorter's schema. The sorter
// retains rec; the caller keeps its own reference and may release it.
func (s *Sorter) Add(rec arrow.RecordBatch) error {
	if s.done {
		return ErrFinished
	}
	if err := checkSchema(s.sch, rec.Schema()); err != nil {
		return err
	}
	if rec.NumRows() == 0 {
		return nil
	}
	keys, offs := s.mem.computeKeys(rec, s.key)
	data := s.mem.newBytes(rec)
	incoming := data + int64(len(keys)) + 4*int64(len(offs)) + sortScratchPerRow*rec.NumRows()
	if s.mem.rows > 0 && s.mem.bytes()+incoming+s.outBudget() > s.opts.MemoryBytes {
		if err := s.spill(); err != nil {
			return err
		}
	}
	s.mem.add(rec, keys, offs)
	s.stats.Rows += rec.NumRows()
	s.rowSum += data + int64(len(keys))
	s.note(s.mem.bytes())
	return nil
}

// note records memory in use for PeakMemory.
func (s *Sorter) note(used int64) {
	s.used = used
	s.stats.PeakMemory = max(s.stats.PeakMemory, used)
}

func checkSchema(want, got *arrow.Schema) error {
	if got.NumFields() != want.NumFields() {
		return fmt.Errorf("sort: batch has %d columns, want %d (%s)", got.NumFields(), want.NumFields(), want)
	}
	for i, f := range want.Fields() {
		if g := got.Field(i); !arrow.TypeEqual(g.Type, f.Type) {
			return fmt.Errorf("sort: column %d %q has type %s, want %s", i+1, g.Name, g.Type, f.Type)
		}
	}
	return nil
}

// avgRowBytes is the average size of a row and its key so far.
func (s *Sorter) avgRowBytes() int64 {
	if s.stats.Rows == 0 {
		return 1
	}
	return max(1, s.rowSum/s.stats.Rows)
}

// outRows is the number of rows in an output batch.
func (s *Sorter) outRows() int {
	return int(min(int64(s.opts.BatchRows), max(1, s.outBudget()/s.avgRowBytes())))
}

// spillRows is the number of rows in a batch of a spilled run: small enough
// that one batch of each of fanIn runs fits in the bound while merging.
func (s *Sorter) spillRows() int {
	return int(min(int64(s.opts.BatchRows), max(16, s.opts.MemoryBytes/64/s.avgRowBytes())))
}

// fanIn is how many runs one merge reads at once: each holds up to three
// batches of spillRows rows (the current one, one pinned by the output
// being gathered, one being decoded), within half the bound.
func (s *Sorter) fanIn() int {
	perRun := 3 * int64(s.spillRows()) * s.avgRowBytes()
	return int(max(2, s.opts.MemoryBytes/2/max(1, perRun)))
}

// spill sorts the buffered rows and writes them as a run.
func (s *Sorter) spill() error {
	if s.dir == "" {
		dir, err := os.MkdirTemp(s.opts.TempDir, "dormouse-sort-")
		if err != nil {
			return fmt.Errorf("sort: create spill directory: %w", err)
		}
		s.dir = dir
	}
	perm, err := s.mem.sort()
	if err != nil {
		return err
	}
	s.note(s.mem.bytes() + perm.bytes())
	s.seq++
	run, err := writeRun(s.dir, s.seq, s.opts.SpillCompression, s.sch, s.opts.Allocator,
		func(w *runWriter) error {
			n := s.spillRows()
			for start := 0; start < perm.len(); start += n {
				rec := s.mem.gather(perm.entries[start:min(start+n, perm.len())], s.sch, true)
				err := w.write(rec)
				rec.Release()
				if err != nil {
					return err
				}
			}
			return nil
		})
	perm.release()
	if err != nil {
		return err
	}
	s.runs = append(s.runs, run)
	s.stats.Runs++
	s.stats.SpillBytes += run.size
	s.mem.reset()
	s.note(0)
	return nil
}

// Finish ends the input and returns the rows in key order. The Sorted
// stream owns everything the sorter held; on error the sorter still does,
// and Close releases it.
func (s *Sorter) Finish() (*Sorted, error) {
	if s.done {
		return nil, ErrFinished
	}
	if len(s.runs) == 0 {
		perm, err := s.mem.sort()
		if err != nil {
			return nil, err
		}
		s.note(s.mem.bytes() + perm.bytes())
		s.done = true
		out := &Sorted{sch: s.sch, batchRows: s.outRows(), mem: s.mem, perm: perm, stats: s.stats}
		s.mem = nil
		return out, nil
	}
	if s.mem.rows > 0 {
		if err := s.spill(); err != nil {
			return nil, err
		}
	}
	for len(s.runs) > s.fanIn() {
		if err := s.mergePass(); err != nil {
			return nil, err
		}
	}
	m, err := newMerger(s.runs, s.opts.Allocator, s.sch, false)
	if err != nil {
		return nil, err
	}
	s.done = true
	out := &Sorted{sch: s.sch, batchRows: s.outRows(), merge: m, runs: s.runs, dir: s.dir, stats: s.stats}
	out.note(m.held)
	s.runs, s.dir = nil, ""
	s.mem.reset()
	return out, nil
}

// mergePass merges consecutive groups of fanIn runs into one run each,
// consecutive so that equal keys keep their order of arrival.
func (s *Sorter) mergePass() error {
	f := s.fanIn()
	var next []*runFile
	for start := 0; start < len(s.runs); start += f {
		group := s.runs[start:min(start+f, len(s.runs))]
		if len(group) == 1 {
			next = append(next, group[0])
			continue
		}
		run, err := s.mergeRuns(group)
		if err != nil {
			// The runs not yet merged and those made stay for Close.
			s.runs = append(next, s.runs[start:]...)
			return err
		}
		for _, r := range group {
			r.remove()
		}
		next = append(next, run)
	}
	s.runs = next
	s.stats.MergePasses++
	return nil
}

func (s *Sorter) mergeRuns(group []*runFile) (*runFile, error) {
	m, err := newMerger(group, s.opts.Allocator, s.sch, true)
	if err != nil {
		return nil, err
	}
	defer m.close()
	s.seq++
	run, err := writeRun(s.dir, s.seq, s.opts.SpillCompression, s.sch, s.opts.Allocator,
		func(w *runWriter) error {
			for {
				rec, err := m.next(s.spillRows())
				if err != nil || rec == nil {
					return err
				}
				s.note(m.held + recordBytes(rec))
				err = w.write(rec)
				rec.Release()
				if err != nil {
					return err
				}
			}
		})
	if err != nil {
		return nil, err
	}
	s.stats.SpillBytes += run.size
	return run, nil
}

// Close releases the buffered batches and removes spill files. After a
// successful Finish it does nothing.
func (s *Sorter) Close() error {
	s.done = true
	if s.mem != nil {
		s.mem.reset()
		s.mem = nil
	}
	var errs []error
	for _, r := range s.runs {
		errs = append(errs, r.remove())
	}
	s.runs = nil
	if s.dir != "" {
		errs = append(errs, os.RemoveAll(s.dir))
		s.dir = ""
	}
	return errors.Join(errs...)
}
