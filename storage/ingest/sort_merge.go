package ingest

import (
	"bytes"
	"errors"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// mergeRun is one spilled run being merged: its current batch and row.
type mergeRun struct {
	rd    *runReader
	cur   arrow.RecordBatch
	keys  binarySource // of cur's key column
	bytes int64        // allocated size of cur
	row   int
	n     int
	src   int // index of cur in merger.srcs, or -1 if it gave no row to the pending output
	done  bool
}

func (r *mergeRun) key() []byte {
	return r.keys.data[r.keys.offs[r.row]:r.keys.offs[r.row+1]]
}

// merger merges sorted runs with a loser tree. Ties go to the run with the
// lower index, which holds the earlier rows, so the merge is stable.
type merger struct {
	alloc   memory.Allocator
	sch     *arrow.Schema // of the output: storage order, plus the key if withKey
	withKey bool
	runs    []*mergeRun
	tree    []int // tree[0] is the winner, tree[1:] the losers of the matches
	srcs    []arrow.RecordBatch
	refs    []entry
	keyBuf  []byte
	keyEnds []int
	keys    [][]byte
	held    int64 // bytes of the batches held, current and pinned
	pinned  int64 // bytes of batches that only srcs still hold
}

func newMerger(files []*runFile, alloc memory.Allocator, sch *arrow.Schema, withKey bool) (*merger, error) {
	m := &merger{alloc: alloc, sch: sch, withKey: withKey}
	if withKey {
		m.sch = spillSchema(sch)
	}
	for _, f := range files {
		rd, err := openRun(f, alloc)
		if err != nil {
			m.close()
			return nil, err
		}
		r := &mergeRun{rd: rd, src: -1}
		m.runs = append(m.runs, r)
		if err := m.load(r); err != nil {
			m.close()
			return nil, err
		}
	}
	m.initTree()
	return m, nil
}

// load reads the run's next non-empty batch, or marks it done.
func (m *merger) load(r *mergeRun) error {
	for {
		rec, err := r.rd.next()
		if err == io.EOF {
			r.done = true
			return nil
		}
		if err != nil {
			return err
		}
		if rec.NumRows() == 0 {
			rec.Release()
			continue
		}
		r.cur, r.row, r.n, r.src = rec, 0, int(rec.NumRows()), -1
		r.keys = binarySourceOf(rec.Column(int(rec.NumCols()) - 1))
		r.bytes = recordBytes(rec)
		m.held += r.bytes
		return nil
	}
}

// less says whether run i's current row goes before run j's.
func (m *merger) less(i, j int) bool {
	ri, rj := m.runs[i], m.runs[j]
	if ri.done || rj.done {
		if ri.done && rj.done {
			return i < j
		}
		return rj.done
	}
	if c := bytes.Compare(ri.key(), rj.key()); c != 0 {
		return c < 0
	}
	return i < j
}

// initTree plays the first tournament. Leaves k..2k-1 stand for the runs;
// node n (1 <= n < k) holds the loser of the match between the winners of
// nodes 2n and 2n+1.
func (m *merger) initTree() {
	k := len(m.runs)
	m.tree = make([]int, max(k, 1))
	if k <= 1 {
		return
	}
	win := make([]int, 2*k)
	for i := range k {
		win[k+i] = i
	}
	for n := k - 1; n >= 1; n-- {
		a, b := win[2*n], win[2*n+1]
		if m.less(b, a) {
			a, b = b, a
		}
		win[n], m.tree[n] = a, b
	}
	m.tree[0] = win[1]
}

// replay finds the new winner after the winner's run moved on, replaying
// only the matches on its path to the root.
func (m *merger) replay() {
	k := len(m.runs)
	w := m.tree[0]
	for n := (w + k) / 2; n >= 1; n /= 2 {
		if m.less(m.tree[n], w) {
			m.tree[n], w = w, m.tree[n]
		}
	}
	m.tree[0] = w
}

// next merges up to maxRows rows into a new batch, owned by the caller, and
// leaves their keys in m.keys (unless withKey, where they are the last
// column). It returns nil at the end.
func (m *merger) next(maxRows int) (arrow.RecordBatch, error) {
	m.refs, m.keys, m.keyBuf, m.keyEnds = m.refs[:0], m.keys[:0], m.keyBuf[:0], m.keyEnds[:0]
	for len(m.refs) < maxRows && len(m.runs) > 0 {
		r := m.runs[m.tree[0]]
		if r.done {
			break
		}
		if r.src < 0 {
			r.src = len(m.srcs)
			r.cur.Retain()
			m.srcs = append(m.srcs, r.cur)
		}
		m.refs = append(m.refs, entry{b: uint32(r.src), r: uint32(r.row)})
		if !m.withKey {
			m.keyBuf = append(m.keyBuf, r.key()...)
			m.keyEnds = append(m.keyEnds, len(m.keyBuf))
		}
		if r.row++; r.row == r.n {
			r.cur.Release()
			m.pinned += r.bytes
			r.cur = nil
			if err := m.load(r); err != nil {
				m.releaseSources()
				return nil, err
			}
		}
		m.replay()
	}
	if len(m.refs) == 0 {
		return nil, nil
	}
	rec := m.gather()
	if !m.withKey {
		m.sliceKeys()
	}
	m.releaseSources()
	return rec, nil
}

// sliceKeys cuts m.keyBuf into the keys of the gathered rows.
func (m *merger) sliceKeys() {
	pos := 0
	for _, end := range m.keyEnds {
		m.keys = append(m.keys, m.keyBuf[pos:end:end])
		pos = end
	}
}

func (m *merger) gather() arrow.RecordBatch {
	ncols := m.sch.NumFields()
	cols := make([]arrow.Array, ncols)
	srcs := make([]arrow.Array, len(m.srcs))
	for c := range cols {
		for i, rec := range m.srcs {
			srcs[i] = rec.Column(c)
		}
		cols[c] = gatherColumn(m.alloc, m.sch.Field(c).Type, srcs, m.refs)
	}
	rec := array.NewRecordBatch(m.sch, cols, int64(len(m.refs)))
	for _, c := range cols {
		c.Release()
	}
	return rec
}

func (m *merger) releaseSources() {
	for _, s := range m.srcs {
		s.Release()
	}
	clear(m.srcs)
	m.srcs = m.srcs[:0]
	for _, r := range m.runs {
		r.src = -1
	}
	m.held -= m.pinned
	m.pinned = 0
}

func (m *merger) close() error {
	m.releaseSources()
	var errs []error
	for _, r := range m.runs {
		if r.cur != nil {
			r.cur.Release()
			r.cur = nil
		}
		errs = append(errs, r.rd.close())
	}
	m.runs = nil
	m.held = 0
	return errors.Join(errs...)
}

// Batch is a batch of sorted rows: Rec has the table's storage-order
// schema and Keys[i] is the sort key of its row i.
type Batch struct {
	Rec  arrow.RecordBatch
	Keys [][]byte
}

// Sorted streams the rows of a Sorter in key order. It is not safe for
// concurrent use.
type Sorted struct {
	sch       *arrow.Schema
	batchRows int
	stats     SortStats

	// Rows sorted in memory.
	mem  *memRun
	perm *perm
	pos  int
	keys [][]byte

	// Rows merged from spilled runs.
	merge *merger
	runs  []*runFile
	dir   string

	err    error
	closed bool
}

// Next returns the next batch of rows in key order, or io.EOF after the
// last. The caller owns b.Rec and releases it; b.Keys is valid until the
// next call of Next or Close.
func (s *Sorted) Next() (Batch, error) {
	switch {
	case s.closed:
		return Batch{}, ErrClosed
	case s.err != nil:
		return Batch{}, s.err
	case s.merge != nil:
		rec, err := s.merge.next(s.batchRows)
		if err != nil {
			s.err = err
			return Batch{}, err
		}
		if rec == nil {
			s.err = io.EOF
			return Batch{}, io.EOF
		}
		s.note(s.merge.held + recordBytes(rec))
		return Batch{Rec: rec, Keys: s.merge.keys}, nil
	}
	if s.pos >= s.perm.len() {
		s.err = io.EOF
		return Batch{}, io.EOF
	}
	ents := s.perm.entries[s.pos:min(s.pos+s.batchRows, s.perm.len())]
	s.pos += len(ents)
	rec := s.mem.gather(ents, s.sch, false)
	s.keys = s.keys[:0]
	for _, e := range ents {
		s.keys = append(s.keys, s.mem.key(e))
	}
	s.note(s.mem.bytes() + s.perm.bytes() + recordBytes(rec))
	return Batch{Rec: rec, Keys: s.keys}, nil
}

func (s *Sorted) note(used int64) { s.stats.PeakMemory = max(s.stats.PeakMemory, used) }

// Stats reports what the sort did, PeakMemory counting the output so far.
func (s *Sorted) Stats() SortStats { return s.stats }

// Close releases everything and removes the spill files. Batches already
// returned stay valid.
func (s *Sorted) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	if s.mem != nil {
		s.perm.release()
		s.mem.reset()
	}
	if s.merge != nil {
		errs = append(errs, s.merge.close())
	}
	for _, r := range s.runs {
		errs = append(errs, r.remove())
	}
	if s.dir != "" {
		errs = append(errs, os.RemoveAll(s.dir))
	}
	return errors.Join(errs...)
}
