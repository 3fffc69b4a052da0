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
)

// SortOptions configures a Sorter.
type SortOptions struct {
	// MemoryBytes bounds what the sorter allocates: the rows it has copied
	// with their keys, the scratch of sorting them, the blocks of spilled
	// runs being merged, and the output batches being decoded or held by
	// the caller. 0 means DefaultSortMemory. One added batch is always
	// taken whole, so the bound should be well above the size of a batch;
	// a few megabytes of I/O buffers come on top.
	MemoryBytes int64
	// TempDir is where spilled runs go, in a private directory that Close
	// removes; "" means os.TempDir().
	TempDir string
	// BatchRows bounds the rows of an output batch; 0 means
	// DefaultBatchRows. Batches are smaller when rows are wide, so that one
	// output batch stays within an eighth of MemoryBytes.
	BatchRows int
	// SpillCompression compresses spilled runs: SpillUncompressed (the
	// default: runs are read once, soon, from a local disk) or SpillLZ4.
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

// Sorter sorts the rows of record batches by a per-row key within a memory
// bound, spilling sorted runs to disk when it must. Add batches, then
// Finish once and read the Sorted stream it returns. A Sorter is not safe
// for concurrent use.
//
// Ownership: Add copies the rows it is given (with their keys, in a compact
// row format), so the caller keeps its batch and may release it as soon as
// Add returns. Finish hands everything to the Sorted stream. Close releases
// everything and removes the spill files; it is needed when Finish is not
// called or fails, and is harmless otherwise.
type Sorter struct {
	sch    *arrow.Schema
	codec  *rowCodec
	opts   SortOptions
	key    KeyFunc
	mem    *memRun
	runs   []*runFile
	dir    string
	stats  SortStats
	rowSum int64 // encoded bytes added, for the average row size
	seq    int   // numbers run files
	done   bool  // Finish or Close was called

	spillAll bool // for tests: Finish spills what is in memory if anything was spilled
}

// NewSorter returns a sorter for batches with sch's storage-order Arrow
// schema (schema.Schema.Arrow), ordered by key.
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
	s.codec = newRowCodec(s.sch)
	s.mem = newMemRun(s.codec, opts.Allocator)
	return s
}

// Stats reports what the sorter has done so far; after Finish, the Sorted
// stream's Stats continues it.
func (s *Sorter) Stats() SortStats { return s.stats }

// Add adds the rows of rec, which must have the sorter's schema. The sorter
// copies them: rec stays the caller's.
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
	incoming, err := s.mem.encode(rec, s.key)
	if err != nil {
		return err
	}
	if s.mem.rows > 0 && s.mem.bytesWith(incoming)+s.outBudget() > s.opts.MemoryBytes {
		if err := s.spill(); err != nil {
			return err
		}
	}
	s.mem.commit()
	s.stats.Rows += rec.NumRows()
	s.rowSum += int64(len(s.mem.pending))
	s.note(s.mem.bytes())
	return nil
}

// note records memory in use for PeakMemory.
func (s *Sorter) note(used int64) { s.stats.PeakMemory = max(s.stats.PeakMemory, used) }

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

// outBudget is the memory kept for output: the batch the caller holds, one
// queued, one being decoded, and the decoder's scratch.
func (s *Sorter) outBudget() int64 { return s.opts.MemoryBytes / 8 }

// batchBytes bounds the encoded rows of one output batch.
func (s *Sorter) batchBytes() int64 { return s.outBudget() / (inFlight + 1) }

// avgRowBytes is the average size of an encoded row so far.
func (s *Sorter) avgRowBytes() int64 {
	if s.stats.Rows == 0 {
		return 1
	}
	return max(1, s.rowSum/s.stats.Rows)
}

// outRows is the number of rows in an output batch.
func (s *Sorter) outRows() int {
	return int(min(int64(s.opts.BatchRows), max(1, s.batchBytes()/s.avgRowBytes())))
}

// blockSize is the size of the blocks in which merges read runs.
func (s *Sorter) blockSize() int { return int(max(4<<10, s.opts.MemoryBytes/64)) }

// fanIn is how many runs one merge reads at once: each holds a block and
// may pin one more for the output, within half the bound.
func (s *Sorter) fanIn() int {
	return int(max(2, s.opts.MemoryBytes/2/(2*int64(s.blockSize()))))
}

// spill sorts the buffered rows and writes them as a run.
func (s *Sorter) spill() error {
	s.note(s.mem.bytes())
	rows := s.mem.sort()
	err := s.spillSorted(rows)
	rows.release()
	return err
}

func (s *Sorter) spillSorted(rows *sortedRows) error {
	if s.dir == "" {
		dir, err := os.MkdirTemp(s.opts.TempDir, "dormouse-sort-")
		if err != nil {
			return fmt.Errorf("sort: create spill directory: %w", err)
		}
		s.dir = dir
	}
	s.seq++
	run, err := writeRun(s.dir, s.seq, s.opts.SpillCompression, rows.writeTo)
	if err != nil {
		return err
	}
	s.runs = append(s.runs, run)
	s.stats.Runs++
	s.stats.SpillBytes += run.size
	return nil
}

// Finish ends the input and returns the rows in key order. The Sorted
// stream owns everything the sorter held; on error the sorter still does,
// and Close releases it.
//
// If nothing was spilled the rows come straight from memory. Otherwise the
// runs are merged, and the rows still in memory join the merge as a run of
// their own if they fit beside the merge's blocks, else they are spilled
// too.
func (s *Sorter) Finish() (*Sorted, error) {
	if s.done {
		return nil, ErrFinished
	}
	out := &Sorted{
		dec:       newRowDecoder(s.codec, s.opts.Allocator),
		batchRows: s.outRows(),
		outBytes:  s.batchBytes(),
	}
	s.note(s.mem.bytes())
	inMemory := len(s.runs) == 0 || s.mergeInMemory()
	rows := s.mem.sort()
	if !inMemory {
		err := s.spillSorted(rows)
		rows.release()
		if err != nil {
			return nil, err
		}
		rows = nil
	}
	for len(s.runs) > s.fanIn() {
		if err := s.mergePass(); err != nil {
			return nil, errors.Join(err, releaseRows(rows))
		}
	}
	if len(s.runs) > 0 {
		m, err := newMerger(s.runs, rows, s.opts.SpillCompression, s.blockSize(), s.opts.Allocator)
		if err != nil {
			return nil, errors.Join(err, releaseRows(rows))
		}
		out.merge, out.runs, out.dir = m, s.runs, s.dir
	}
	out.mem, out.stats = rows, s.stats
	s.runs, s.dir, s.done = nil, "", true
	return out, nil
}

// mergeInMemory says whether the rows in memory can join the final merge
// without being spilled: no merge pass is needed first, and they fit in the
// bound beside a block (and one pinned) for every run and the output.
func (s *Sorter) mergeInMemory() bool {
	runs := int64(len(s.runs))
	need := s.mem.bytes() + runs*2*int64(s.blockSize()) + s.outBudget()
	return len(s.runs)+1 <= s.fanIn() && need <= s.opts.MemoryBytes && !s.spillAll
}

func releaseRows(r *sortedRows) error {
	if r != nil {
		r.release()
	}
	return nil
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
			s.runs = append(next, s.runs[start:]...) // left for Close
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
	m, err := newMerger(group, nil, s.opts.SpillCompression, s.blockSize(), s.opts.Allocator)
	if err != nil {
		return nil, err
	}
	defer m.close()
	s.seq++
	run, err := writeRun(s.dir, s.seq, s.opts.SpillCompression, func(w *runWriter) error {
		for {
			rows, err := m.next(s.outRows(), s.batchBytes())
			if err != nil || len(rows) == 0 {
				return err
			}
			s.note(m.held)
			for _, row := range rows {
				if err := w.write(row); err != nil {
					return err
				}
			}
		}
	})
	if err != nil {
		return nil, err
	}
	s.stats.SpillBytes += run.size
	return run, nil
}

// Close releases the buffered rows and removes spill files. After a
// successful Finish it does nothing.
func (s *Sorter) Close() error {
	s.done = true
	if s.mem != nil {
		s.mem.release()
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
