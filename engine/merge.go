package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dormousedb/dormouse/storage/schema"
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
	// KeyColumn, when above 0, is one more than the position of a column
	// that alone orders the inputs, by its plain encoding
	// (schema.AppendValue): key is then not called. The bytes of a VARCHAR
	// or VARBINARY column are compared where they lie in the batch, with
	// no key built or copied (mergeKeyColumn).
	KeyColumn int
}

// mergeBatchRows is the default size of MergeSorted's output batches.
const mergeBatchRows = 64 << 10

// MergeSorted returns an operator that merges inputs, each sorted by key,
// into one stream sorted by key. Rows with equal keys come in input order
// (input 0's first), so a merge of files listed oldest first keeps the
// newest of equal keys last.
//
// It does not move rows one at a time: each step takes from the best input
// the whole run of rows that sort before the best row of every other input
// (found by galloping over the keys of its current batch, computed once
// per batch), and an output batch is gathered column by column from such
// runs. A run that starts an output batch and fills it, or takes the rest
// of its input batch, is passed on as a slice without copying, so merging
// inputs that do not overlap costs little more than reading them.
//
// The inputs are kept ordered by their current row, best first (see
// mergeOp.order): the best input's run ends at the second's row, and after
// a run the input that gave it moves to its new place by binary search.
// That is about log2(k) key comparisons per run, half what a loser tree
// spends (a replay, then a walk for the runner-up), which matters when
// interleaved inputs give runs of a row or two.
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
	n    int     // rec's rows (not asked of the interface at every run)
	keys []byte  // buf, or the key column's data buffer in rec
	offs []int32 // key i is keys[offs[i]:offs[i+1]]: own, or the column's
	own  []int32 // the offsets of the keys built in buf
	buf  []byte  // the keys built for rec
	// heads holds the head of every key of rec, computed in one pass
	// when rec arrives: a probe of runEnd or a move of finishRun reads
	// one of them, not a key through its offsets.
	heads []schema.Head
	done  bool
	// held is set while runs of the output batch being gathered point
	// into rec: moving past rec then hands it to mergeOp.held rather than
	// releasing it, so that runs need no reference of their own.
	held bool
	src  int // rec's place in mergeOp.srcs while held
}

func (in *mergeInput) keyAt(row int) []byte { return in.keys[in.offs[row]:in.offs[row+1]] }

// cur is the key of the current row: wanted only where heads tie.
func (in *mergeInput) cur() []byte { return in.keyAt(in.row) }

type mergeOp struct {
	opts   MergeOptions
	key    MergeKey
	inputs []*mergeInput
	// order holds the inputs not done, by their current row, best first;
	// equal rows by input index. heads[i] is the head of order[i]'s
	// current key: the searches of reposition read one small array.
	order   []int
	heads   []schema.Head
	runs    []mergeRun
	srcs    []arrow.RecordBatch // the batches of runs, by mergeRun.src
	held    []arrow.RecordBatch // batches left behind that runs still use
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

// mergeCheckEvery is how many runs pass between checks of the context.
const mergeCheckEvery = 256

func (m *mergeOp) next(ctx context.Context) (arrow.RecordBatch, error) {
	if m.closed {
		return nil, io.EOF
	}
	if err := ctx.Err(); err != nil {
		return nil, err
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
		m.runs = runs[:0] // reused by the next batch
		m.unhold()
	}()
	pending := 0
	for pending < m.opts.BatchRows && len(m.order) > 0 {
		if len(runs)%mergeCheckEvery == mergeCheckEvery-1 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		w := m.order[0]
		in := m.inputs[w]
		limit := in.row + (m.opts.BatchRows - pending)
		end, beaten := m.runEnd(w, limit)
		if pending == 0 && (end == in.n || end-in.row == m.opts.BatchRows) {
			// The run is the rest of a batch, or a whole output batch:
			// pass it on as it is.
			out := in.rec.NewSlice(int64(in.row), int64(end))
			in.row = end
			if err := m.finishRun(ctx, w, beaten); err != nil {
				out.Release()
				return nil, err
			}
			return out, nil
		}
		if !in.held {
			in.held, in.src = true, len(m.srcs)
			m.srcs = append(m.srcs, in.rec)
		}
		runs = append(runs, mergeRun{start: in.row, end: end, src: in.src})
		pending += end - in.row
		in.row = end
		if err := m.finishRun(ctx, w, beaten); err != nil {
			return nil, err
		}
	}
	if pending == 0 {
		return nil, io.EOF
	}
	return mergeGather(m.opts.Alloc, m.opts.Schema, m.srcs, runs, pending)
}

// unhold releases the batches left behind during the output batch just
// gathered and clears the sources and the inputs' held marks.
func (m *mergeOp) unhold() {
	clear(m.srcs)
	m.srcs = m.srcs[:0]
	for i, rec := range m.held {
		rec.Release()
		m.held[i] = nil
	}
	m.held = m.held[:0]
	for _, in := range m.inputs {
		in.held, in.src = false, 0
	}
}

// finishRun moves input w, first in the order, to its next batch if the
// run took the rest of its current one, then to its place in the order.
// beaten says the run ended at a row that sorts after the second input's,
// so that w is no longer first.
func (m *mergeOp) finishRun(ctx context.Context, w int, beaten bool) error {
	in := m.inputs[w]
	if in.row == in.n {
		beaten = false // a new batch: its first row may sort anywhere
		if err := m.advance(ctx, w); err != nil {
			return err
		}
	}
	if in.done {
		m.order, m.heads = m.order[1:], m.heads[1:]
		return nil
	}
	m.heads[0] = in.heads[in.row]
	from := 1
	if beaten {
		from = 2 // w sorts after order[1]: no need to compare them again
	}
	m.reposition(from)
	return nil
}

// reposition moves order[0], whose row changed, to its place: after the
// inputs from order[from:] that sort before it (those before from do).
//
// The search is branch-free on the heads: interleaved inputs make each
// probe's outcome a coin toss, and a mispredicted branch per probe cost
// more than the comparisons. A probe whose head equals w's needs the
// keys compared whole: then the search is done again, by them
// (repositionExact).
func (m *mergeOp) reposition(from int) {
	o, heads := m.order, m.heads
	w, wh := o[0], heads[0]
	base, n := min(from, len(o)), len(o)-min(from, len(o))
	// base+n is where w goes if every probe sorts before it; each probe
	// halves n, moving base past the probe if it sorts before w.
	for n > 1 {
		half := n >> 1
		h := heads[base+half-1]
		if h == wh {
			m.repositionExact(from)
			return
		}
		base += half & -int(h.Before(wh))
		n -= half
	}
	if n == 1 {
		h := heads[base]
		if h == wh {
			m.repositionExact(from)
			return
		}
		base += int(h.Before(wh))
	}
	m.moveFirst(base, w, wh)
}

// repositionExact is reposition comparing keys whole where heads are
// equal, with ties to the lower input.
func (m *mergeOp) repositionExact(from int) {
	o, heads := m.order, m.heads
	w, wh := o[0], heads[0]
	lo, hi := min(from, len(o)), len(o)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		// Does o[mid] sort before w? Ties go to the lower input.
		c := heads[mid].Cmp(wh)
		if c == 0 {
			c = bytes.Compare(m.inputs[o[mid]].cur(), m.inputs[w].cur())
		}
		if c < 0 || (c == 0 && o[mid] < w) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	m.moveFirst(lo, w, wh)
}

// moveFirst moves order[0], input w of head wh, to place to-1, the
// entries from 1 to it up one, one by one: a copy of a few elements costs
// more as a call to memmove.
func (m *mergeOp) moveFirst(to, w int, wh schema.Head) {
	o, heads := m.order, m.heads
	for i := 1; i < to; i++ {
		o[i-1], heads[i-1] = o[i], heads[i]
	}
	o[to-1], heads[to-1] = w, wh
}

// runEnd returns the end of the run of input w's rows, from its current
// row and at most up to limit, that sort before the current row of the
// second input in the order. The current row always belongs to it. beaten
// reports that the run ended at such a row of w's batch (not at limit or
// at the batch's end).
func (m *mergeOp) runEnd(w, limit int) (end int, beaten bool) {
	in := m.inputs[w]
	n := min(in.n, limit)
	if len(m.order) < 2 {
		return n, false
	}
	r := m.order[1]
	rh := m.heads[1]
	// Row j stays in the run while its key sorts before r's: below it, or
	// equal when w comes first in input order.
	inRun := func(j int) bool {
		c := in.heads[j].Cmp(rh)
		if c == 0 {
			c = bytes.Compare(in.keyAt(j), m.inputs[r].cur())
		}
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
			return hi, hi < n
		}
		lo, step = next+1, step*2
	}
	return lo, lo < n
}

// less reports whether input a's current row sorts before input b's; ties
// go to the lower input index. Neither may be done.
func (m *mergeOp) less(a, b int) bool {
	c := bytes.Compare(m.inputs[a].cur(), m.inputs[b].cur())
	return c < 0 || (c == 0 && a < b)
}

// build orders the inputs that are not done.
func (m *mergeOp) build() {
	m.order = m.order[:0]
	for i, in := range m.inputs {
		if !in.done {
			m.order = append(m.order, i)
		}
	}
	sort.SliceStable(m.order, func(i, j int) bool { return m.less(m.order[i], m.order[j]) })
	m.heads = m.heads[:0]
	for _, i := range m.order {
		in := m.inputs[i]
		m.heads = append(m.heads, in.heads[in.row])
	}
}

// advance replaces input i's batch by its next non-empty one and computes
// its keys, or marks the input done.
func (m *mergeOp) advance(ctx context.Context, i int) error {
	in := m.inputs[i]
	if in.rec != nil {
		if in.held {
			m.held = append(m.held, in.rec)
			in.held, in.src = false, 0
		} else {
			in.rec.Release()
		}
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
		in.rec, in.row, in.n = rec, 0, int(rec.NumRows())
		if m.opts.KeyColumn > 0 && in.columnKeys(rec.Column(m.opts.KeyColumn-1)) {
			in.computeHeads()
			return nil
		}
		n := in.n
		if cap(in.own) < n+1 {
			in.own = make([]int32, n+1)
		}
		offs := in.own[:n+1]
		in.buf = in.buf[:0]
		for r := range n {
			if m.opts.KeyColumn > 0 {
				in.buf = schema.AppendValue(in.buf, rec.Column(m.opts.KeyColumn-1), r)
			} else {
				in.buf = m.key(in.buf, rec, r)
			}
			offs[r+1] = int32(len(in.buf))
		}
		in.keys, in.offs = in.buf, offs
		in.computeHeads()
		return nil
	}
	in.keys, in.offs, in.heads = nil, nil, in.heads[:0]
	return nil
}

// computeHeads computes the heads of the batch's keys.
func (in *mergeInput) computeHeads() {
	n := len(in.offs) - 1
	if cap(in.heads) < n {
		in.heads = make([]schema.Head, n)
	}
	in.heads = in.heads[:n]
	for r := range in.heads {
		in.heads[r] = schema.HeadOf(in.keys[in.offs[r]:in.offs[r+1]])
	}
}

// columnKeys points in's keys at the values of a VARCHAR or VARBINARY key
// column, whose values in byte order are the key order, and reports
// whether it could: the column's own offsets index its data buffer, so
// nothing is copied.
func (in *mergeInput) columnKeys(col arrow.Array) bool {
	switch a := col.(type) {
	case *array.String:
		in.offs = a.ValueOffsets()
	case *array.Binary:
		in.offs = a.ValueOffsets()
	default:
		return false
	}
	in.keys = nil // no data buffer: every value is empty
	if bufs := col.Data().Buffers(); len(bufs) > 2 && bufs[2] != nil {
		in.keys = bufs[2].Bytes()
	}
	return true
}

// mergeKeyColumn returns MergeOptions.KeyColumn for batches of a table's
// columns in layout order: the position, plus one, of the table's only
// key column, or 0 if it has more than one. A single column's plain
// encoding orders rows as the composite key does (strings need the
// composite's escaping only to end before the next column).
func mergeKeyColumn(sch *schema.Schema, layout []int) int {
	if sch.NumKeys() != 1 {
		return 0
	}
	return scanIndexOf(layout, 0) + 1
}

func (m *mergeOp) Close() error {
	if m.closed {
		return nil
	}
	m.closed = true
	m.unhold()
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
