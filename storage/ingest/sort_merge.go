package ingest

import (
	"bytes"
	"errors"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// mergeRun is one sorted run being merged, spilled (rd) or in memory
// (mem), and its current row.
type mergeRun struct {
	rd   *runReader
	blk  *block
	next int // offset in blk.data of the row after the current one

	mem  *sortedRows
	rows [][]byte // the next rows read from mem, from the current one

	row  []byte // the current row, without its length
	key  []byte
	done bool
}

// merger merges sorted runs with a loser tree. Ties go to the run with the
// lower index, which holds the earlier rows, so the merge is stable.
type merger struct {
	runs    []*mergeRun
	tree    []int // tree[0] is the winner, tree[1:] the losers of the matches
	rows    [][]byte
	retired []*block // blocks that rows of the last output may point into
	held    int64    // bytes of the blocks held
}

// newMerger merges the spilled runs files and, after them (its rows came
// last), the rows of mem if it is not nil. It reads mem but does not own it.
func newMerger(files []*runFile, mem *sortedRows, compression string, blockSize int, alloc memory.Allocator) (*merger, error) {
	m := &merger{}
	for _, f := range files {
		rd, err := openRun(f, compression, blockSize, alloc)
		if err != nil {
			return nil, errors.Join(err, m.close())
		}
		r := &mergeRun{rd: rd}
		m.runs = append(m.runs, r)
		if err := m.load(r); err != nil {
			return nil, errors.Join(err, m.close())
		}
	}
	if mem != nil && mem.remaining() > 0 {
		r := &mergeRun{mem: mem}
		m.runs = append(m.runs, r)
		m.stepMem(r)
	}
	m.initTree()
	return m, nil
}

// load reads the run's next block, or marks it done.
func (m *merger) load(r *mergeRun) error {
	b, err := r.rd.next()
	if err == io.EOF {
		r.done, r.row, r.key = true, nil, nil
		return nil
	}
	if err != nil {
		return err
	}
	r.blk = b
	m.held += int64(b.buf.Cap())
	r.next = 0
	m.step(r)
	return nil
}

// step makes the row at r.next current.
func (m *merger) step(r *mergeRun) {
	r.row, r.next = rowAt(r.blk.data, r.next)
	r.key, _ = splitKey(r.row)
}

// stepMem makes the next row of the run in memory current.
func (m *merger) stepMem(r *mergeRun) {
	if len(r.rows) == 0 {
		r.rows = r.mem.read(r.rows[:0], 256)
		if len(r.rows) == 0 {
			r.done, r.row, r.key = true, nil, nil
			return
		}
	}
	r.row, r.rows = r.rows[0], r.rows[1:]
	r.key, _ = splitKey(r.row)
}

// advance moves the run past its current row.
func (m *merger) advance(r *mergeRun) error {
	if r.mem != nil {
		m.stepMem(r)
		return nil
	}
	if r.next < len(r.blk.data) {
		m.step(r)
		return nil
	}
	m.retired = append(m.retired, r.blk) // the output may still point into it
	r.blk = nil
	return m.load(r)
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
	if c := bytes.Compare(ri.key, rj.key); c != 0 {
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

// next returns up to maxRows rows (and at most about maxBytes) in order.
// They point into blocks that stay valid until the next call.
func (m *merger) next(maxRows int, maxBytes int64) ([][]byte, error) {
	m.releaseRetired()
	m.rows = m.rows[:0]
	var size int64
	for len(m.rows) < maxRows && size < maxBytes && len(m.runs) > 0 {
		r := m.runs[m.tree[0]]
		if r.done {
			break
		}
		m.rows = append(m.rows, r.row)
		size += int64(len(r.row))
		if err := m.advance(r); err != nil {
			return nil, err
		}
		m.replay()
	}
	return m.rows, nil
}

func (m *merger) releaseRetired() {
	for _, r := range m.runs {
		if r.mem != nil {
			r.mem.releaseRead()
		}
	}
	for _, b := range m.retired {
		m.held -= int64(b.buf.Cap())
		b.release()
	}
	clear(m.retired)
	m.retired = m.retired[:0]
}

func (m *merger) close() error {
	m.releaseRetired()
	var errs []error
	for _, r := range m.runs {
		if r.blk != nil {
			r.blk.release()
		}
		if r.rd != nil {
			errs = append(errs, r.rd.close())
		}
	}
	m.runs, m.held = nil, 0
	return errors.Join(errs...)
}

// recordBytes is the allocated size of rec's buffers.
func recordBytes(rec arrow.RecordBatch) int64 {
	var n int64
	for _, c := range rec.Columns() {
		for _, b := range c.Data().Buffers() {
			if b != nil {
				n += int64(b.Cap())
			}
		}
	}
	return n
}
