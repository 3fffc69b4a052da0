package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// MergeKey appends the sort key of one row of rec to dst and returns the
// extended slice. Keys compare with bytes.Compare; schema.AppendRowKey over
// the key columns gives the table's order.
type MergeKey func(dst []byte, rec arrow.RecordBatch, row int) []byte

// MergeOptions tune MergeSorted. The zero value gives the defaults.
type MergeOptions struct {
	// Alloc allocates the output batches (memory.DefaultAllocator).
	Alloc memory.Allocator
	// BatchRows is the most rows in an output batch (64Ki by default).
	BatchRows int
	// Schema is the output schema when there are no inputs (otherwise the
	// first input's).
	Schema *arrow.Schema
}

// mergeBatchRows is the default size of MergeSorted's output batches.
const mergeBatchRows = 64 << 10

// MergeSorted returns an operator that merges inputs, each sorted by key,
// into one stream sorted by key. Rows with equal keys come in input order
// (input 0's first), so a merge of files listed oldest first keeps the
// newest of equal keys last.
//
// It is a k-way merge over a loser tree. It does not move rows one at a
// time: each step takes from the winning input the whole run of rows that
// sort before the best row of every other input (found by galloping over
// the keys of its current batch, computed once per batch), and an output
// batch is gathered column by column from such runs. A run that starts an
// output batch and fills it, or takes the rest of its input batch, is
// passed on as a slice without copying, so merging inputs that do not
// overlap costs little more than reading them.
//
// The operator owns the inputs: it opens nothing, reads them only from the
// first Next, holds one batch of each, and closes them all on Close.
// Inputs must share the output schema.
func MergeSorted(inputs []Operator, key MergeKey, opts MergeOptions) Operator {
	if opts.Alloc == nil {
		opts.Alloc = memory.DefaultAllocator
	}
	if opts.BatchRows <= 0 {
		opts.BatchRows = mergeBatchRows
	}
	if opts.Schema == nil && len(inputs) > 0 {
		opts.Schema = inputs[0].Schema()
	}
	m := &mergeOp{opts: opts, key: key, inputs: make([]*mergeInput, len(inputs))}
	for i, in := range inputs {
		m.inputs[i] = &mergeInput{op: in}
	}
	return m
}

// mergeInput is one input's cursor: its current batch, the next row to
// take and the keys of every row of the batch.
type mergeInput struct {
	op   Operator
	rec  arrow.RecordBatch
	row  int
	keys []byte
	offs []int // key i is keys[offs[i]:offs[i+1]]
	done bool
}

func (in *mergeInput) keyAt(row int) []byte { return in.keys[in.offs[row]:in.offs[row+1]] }

type mergeOp struct {
	opts    MergeOptions
	key     MergeKey
	inputs  []*mergeInput
	tree    []int // tree[0] is the winner, tree[1:] the losers of each match
	runs    []mergeRun
	started bool
	err     error
	closed  bool
}

func (m *mergeOp) Schema() *arrow.Schema { return m.opts.Schema }

func (m *mergeOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if m.err != nil {
		return nil, m.err
	}
	rec, err := m.next(ctx)
	if err != nil {
		m.err = err
	}
	return rec, err
}

func (m *mergeOp) next(ctx context.Context) (arrow.RecordBatch, error) {
	if m.closed {
		return nil, io.EOF
	}
	if !m.started {
		m.started = true
		for i := range m.inputs {
			if err := m.advance(ctx, i); err != nil {
				return nil, err
			}
		}
		m.build()
	}
	runs := m.runs[:0]
	defer func() {
		for i, r := range runs {
			r.rec.Release()
			runs[i] = mergeRun{}
		}
		m.runs = runs[:0] // reused by the next batch
	}()
	pending := 0
	for pending < m.opts.BatchRows {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(m.tree) == 0 {
			break
		}
		w := m.tree[0]
		in := m.inputs[w]
		if in.done {
			break // the winner is exhausted: so are all
		}
		end := m.runEnd(w, in.row+(m.opts.BatchRows-pending))
		if pending == 0 && (end == int(in.rec.NumRows()) || end-in.row == m.opts.BatchRows) {
			// The run is the rest of a batch, or a whole output batch:
			// pass it on as it is.
			out := in.rec.NewSlice(int64(in.row), int64(end))
			in.row = end
			if err := m.finishRun(ctx, w); err != nil {
				out.Release()
				return nil, err
			}
			return out, nil
		}
		in.rec.Retain()
		runs = append(runs, mergeRun{rec: in.rec, start: in.row, end: end})
		pending += end - in.row
		in.row = end
		if err := m.finishRun(ctx, w); err != nil {
			return nil, err
		}
	}
	if pending == 0 {
		return nil, io.EOF
	}
	return mergeGather(m.opts.Alloc, m.opts.Schema, runs, pending)
}

// finishRun moves input w to its next batch if the run took the rest of
// its current one, and replays its matches.
func (m *mergeOp) finishRun(ctx context.Context, w int) error {
	in := m.inputs[w]
	if in.row == int(in.rec.NumRows()) {
		if err := m.advance(ctx, w); err != nil {
			return err
		}
	}
	m.replay(w)
	return nil
}

// runEnd returns the end of the run of input w's rows, from its current
// row and at most up to limit, that sort before the best row of every
// other input. The current row always belongs to it.
func (m *mergeOp) runEnd(w, limit int) int {
	in := m.inputs[w]
	n := min(int(in.rec.NumRows()), limit)
	r := m.runnerUp(w)
	if r < 0 {
		return n
	}
	rk := m.inputs[r].keyAt(m.inputs[r].row)
	// Row j stays in the run while its key sorts before rk: below it, or
	// equal when w comes first in input order.
	inRun := func(j int) bool {
		c := bytes.Compare(in.keyAt(j), rk)
		return c < 0 || (c == 0 && w < r)
	}
	// Gallop: probe rows row+1, row+2, row+4, … then search the last gap.
	lo, step := in.row+1, 1 // rows before lo are in the run
	for lo < n && inRun(lo) {
		next := lo + step
		if next >= n || !inRun(next) {
			hi := min(next, n)
			// The run ends in (lo, hi]: binary search for the first row out.
			for lo+1 < hi {
				mid := int(uint(lo+hi) >> 1)
				if inRun(mid) {
					lo = mid
				} else {
					hi = mid
				}
			}
			return hi
		}
		lo, step = next+1, step*2
	}
	return lo
}

// runnerUp returns the best input other than the winner w, or -1 if every
// other input is exhausted: the best of the losers on w's path, since the
// second best lost its match to w.
func (m *mergeOp) runnerUp(w int) int {
	best := -1
	for node := (w + len(m.inputs)) / 2; node >= 1; node /= 2 {
		c := m.tree[node]
		if !m.inputs[c].done && (best < 0 || m.less(c, best)) {
			best = c
		}
	}
	return best
}

// less reports whether input a's current row sorts before input b's.
// Exhausted inputs sort last; ties go to the lower input index.
func (m *mergeOp) less(a, b int) bool {
	ia, ib := m.inputs[a], m.inputs[b]
	switch {
	case ia.done:
		return false
	case ib.done:
		return true
	}
	c := bytes.Compare(ia.keyAt(ia.row), ib.keyAt(ib.row))
	return c < 0 || (c == 0 && a < b)
}

// build plays the initial matches. Leaf i sits at node k+i; node n's
// children are 2n and 2n+1; internal nodes keep their match's loser.
func (m *mergeOp) build() {
	k := len(m.inputs)
	if k == 0 {
		return
	}
	m.tree = make([]int, k)
	var play func(node int) int
	play = func(node int) int {
		if node >= k {
			return node - k
		}
		a, b := play(2*node), play(2*node+1)
		if m.less(b, a) {
			a, b = b, a
		}
		m.tree[node] = b
		return a
	}
	m.tree[0] = play(1)
	if k == 1 {
		m.tree[0] = 0
	}
}

// replay replays the matches on leaf i's path after its row changed.
func (m *mergeOp) replay(i int) {
	winner := i
	for node := (i + len(m.inputs)) / 2; node >= 1; node /= 2 {
		if m.less(m.tree[node], winner) {
			m.tree[node], winner = winner, m.tree[node]
		}
	}
	m.tree[0] = winner
}

// advance replaces input i's batch by its next non-empty one and computes
// its keys, or marks the input done.
func (m *mergeOp) advance(ctx context.Context, i int) error {
	in := m.inputs[i]
	if in.rec != nil {
		in.rec.Release()
		in.rec = nil
	}
	for !in.done {
		rec, err := in.op.Next(ctx)
		if err == io.EOF {
			in.done = true
			break
		}
		if err != nil {
			return fmt.Errorf("merge input %d: %w", i, err)
		}
		if rec.NumRows() == 0 {
			rec.Release()
			continue
		}
		in.rec, in.row = rec, 0
		n := int(rec.NumRows())
		in.keys = in.keys[:0]
		if cap(in.offs) < n+1 {
			in.offs = make([]int, n+1)
		}
		in.offs = in.offs[:n+1]
		for r := range n {
			in.keys = m.key(in.keys, rec, r)
			in.offs[r+1] = len(in.keys)
		}
		return nil
	}
	in.keys, in.offs = nil, nil
	return nil
}

func (m *mergeOp) Close() error {
	if m.closed {
		return nil
	}
	m.closed = true
	var errs []error
	for _, in := range m.inputs {
		if in.rec != nil {
			in.rec.Release()
			in.rec = nil
		}
		errs = append(errs, in.op.Close())
	}
	return errors.Join(errs...)
}
