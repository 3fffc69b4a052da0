package engine

import (
	"bytes"
	"container/heap"
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine/internal/vec"
)

// TopN is ORDER BY Keys LIMIT N OFFSET Offset without a full sort: it
// keeps the best N+Offset rows seen in a bounded heap, and at the end
// passes on rows Offset.. of them in order. Ties keep their input order, so
// TopN gives what a stable Sort then Limit would. The rows kept are
// reserved from ec.Mem (53200 past the limit: a large N wants a Sort).
type TopN struct {
	Input  Plan
	Keys   []SortKey
	N      int64
	Offset int64
}

func (t *TopN) Schema() *arrow.Schema { return t.Input.Schema() }
func (t *TopN) Children() []Plan      { return []Plan{t.Input} }
func (t *TopN) WithChildren(c ...Plan) Plan {
	n := *t
	n.Input = c[0]
	return &n
}
func (t *TopN) Ordering() []SortKey { return t.Keys }
func (t *TopN) Describe() string {
	s := fmt.Sprintf("TopN %d by %s", t.N, describeKeys(t.Input.Schema(), t.Keys))
	if t.Offset > 0 {
		s += fmt.Sprintf(" offset=%d", t.Offset)
	}
	return s
}

func (t *TopN) Open(ec *ExecContext) (Operator, error) {
	enc, err := NewSortKeyEncoder(t.Input.Schema(), t.Keys)
	if err != nil {
		return nil, err
	}
	in, err := OpenPlan(ec, t.Input)
	if err != nil {
		return nil, err
	}
	return &topNOp{plan: t, ec: ec, input: in, enc: enc, k: max(0, t.N) + max(0, t.Offset)}, nil
}

// topEntry is a row in the heap: its key, its arrival number (for ties)
// and where it is.
type topEntry struct {
	key   []byte
	seq   int64
	batch int // index in topNOp.batches
	row   int
}

func entryLess(a, b *topEntry) bool {
	if c := bytes.Compare(a.key, b.key); c != 0 {
		return c < 0
	}
	return a.seq < b.seq
}

// topHeap is a max-heap: the worst row kept is on top.
type topHeap []*topEntry

func (h topHeap) Len() int           { return len(h) }
func (h topHeap) Less(i, j int) bool { return entryLess(h[j], h[i]) }
func (h topHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *topHeap) Push(x any)        { *h = append(*h, x.(*topEntry)) }
func (h *topHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

type topNOp struct {
	plan    *TopN
	ec      *ExecContext
	input   Operator
	enc     *SortKeyEncoder
	k       int64
	heap    topHeap
	batches []arrow.RecordBatch // batches rows of the heap are in (nil once unused)
	refs    []int               // heap rows per batch
	seq     int64
	keyBuf  []byte
	ends    []int
	held    int64
	out     arrow.RecordBatch // the kept rows, in order, once read
	pos     int64             // next row of out to pass on
}

func (o *topNOp) Schema() *arrow.Schema { return o.plan.Input.Schema() }

func (o *topNOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if o.out == nil {
		if err := o.consume(ctx); err != nil {
			return nil, err
		}
	}
	n := o.out.NumRows()
	if o.pos >= n {
		return nil, io.EOF
	}
	hi := min(n, o.pos+BatchRows)
	rec := o.out.NewSlice(o.pos, hi)
	o.pos = hi
	return rec, nil
}

func (o *topNOp) consume(ctx context.Context) error {
	for o.k > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := o.input.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		err = o.add(rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
	if err := o.input.Close(); err != nil {
		return err
	}
	return o.finish(ctx)
}

// add offers every row of rec to the heap.
func (o *topNOp) add(rec arrow.RecordBatch) error {
	n := int(rec.NumRows())
	if n == 0 {
		return nil
	}
	o.enc.Bind(rec)
	o.keyBuf, o.ends = o.enc.AppendAll(o.keyBuf[:0], o.ends[:0], n)
	bi := len(o.batches)
	kept := 0
	start := 0
	for i := range n {
		key := o.keyBuf[start:o.ends[i]]
		start = o.ends[i]
		seq := o.seq + int64(i)
		if int64(len(o.heap)) < o.k {
			heap.Push(&o.heap, &topEntry{key: slices.Clone(key), seq: seq, batch: bi, row: i})
			kept++
			continue
		}
		top := o.heap[0]
		if c := bytes.Compare(key, top.key); c > 0 || c == 0 && seq > top.seq {
			continue // no better than the worst kept
		}
		o.drop(top)
		o.heap[0] = &topEntry{key: slices.Clone(key), seq: seq, batch: bi, row: i}
		heap.Fix(&o.heap, 0)
		kept++
	}
	o.seq += int64(n)
	if kept == 0 {
		return nil
	}
	rec.Retain()
	o.batches = append(o.batches, rec)
	o.refs = append(o.refs, 0)
	for _, e := range o.heap {
		if e.batch == bi {
			o.refs[bi]++
		}
	}
	if len(o.batches) > 16 {
		if err := o.compact(context.Background()); err != nil {
			return err
		}
	}
	return o.reserve()
}

// drop notes that e left the heap, releasing its batch when no row of the
// heap is in it any more.
func (o *topNOp) drop(e *topEntry) {
	if e.batch >= len(o.refs) { // e's batch is the one being added
		return
	}
	o.refs[e.batch]--
	if o.refs[e.batch] == 0 {
		o.batches[e.batch].Release()
		o.batches[e.batch] = nil
	}
}

func (o *topNOp) reserve() error {
	var size int64
	for _, b := range o.batches {
		if b != nil {
			size += vec.BatchSize(b)
		}
	}
	for _, e := range o.heap {
		size += int64(len(e.key)) + 64
	}
	if size < o.held {
		o.ec.Mem.Release(o.held - size)
		o.held = size
		return nil
	}
	return reserveTo(o.ec, &o.held, size, "ORDER BY … LIMIT")
}

// compact gathers the heap's rows into one batch, so that the batches
// they came from can go.
func (o *topNOp) compact(ctx context.Context) error {
	var live []arrow.RecordBatch
	base := make([]int, len(o.batches))
	rows := 0
	for i, b := range o.batches {
		if b != nil {
			base[i] = rows
			rows += int(b.NumRows())
			live = append(live, b)
		}
	}
	all, err := concatBatches(o.ec.allocator(), o.Schema(), live)
	if err != nil {
		return err
	}
	defer all.Release()
	idx := make([]int32, len(o.heap))
	for i, e := range o.heap {
		idx[i] = int32(base[e.batch] + e.row)
	}
	alloc := o.ec.allocator()
	ind := indexArray(alloc, idx, nil)
	defer ind.Release()
	packed, err := takeBatch(ctx, alloc, o.Schema(), all, ind)
	if err != nil {
		return err
	}
	releaseBatches(o.batches)
	o.batches, o.refs = []arrow.RecordBatch{packed}, []int{len(o.heap)}
	for i, e := range o.heap {
		e.batch, e.row = 0, i
	}
	return nil
}

// finish puts the kept rows in order, past the offset, into o.out.
func (o *topNOp) finish(ctx context.Context) error {
	entries := []*topEntry(o.heap)
	slices.SortFunc(entries, func(a, b *topEntry) int {
		if entryLess(a, b) {
			return -1
		}
		return 1
	})
	if skip := min(int64(len(entries)), max(0, o.plan.Offset)); skip > 0 {
		entries = entries[skip:]
	}
	o.heap = topHeap(entries)
	if err := o.compact(ctx); err != nil {
		return err
	}
	o.out = o.batches[0]
	o.batches, o.refs, o.heap = nil, nil, nil
	return nil
}

func (o *topNOp) Close() error {
	releaseBatches(o.batches)
	o.batches = nil
	if o.out != nil {
		o.out.Release()
		o.out = nil
	}
	o.pos = 0
	o.ec.Mem.Release(o.held)
	o.held = 0
	o.k = 0
	return o.input.Close()
}

// describeKeys renders sort keys with column names, for EXPLAIN.
func describeKeys(sch *arrow.Schema, keys []SortKey) string {
	s := "["
	for i, k := range keys {
		if i > 0 {
			s += ", "
		}
		if k.Column >= 0 && k.Column < sch.NumFields() {
			s += sch.Field(k.Column).Name
		} else {
			s += fmt.Sprintf("#%d", k.Column)
		}
		if k.Desc {
			s += " DESC"
		}
		if k.NullsFirst != k.Desc {
			if k.NullsFirst {
				s += " NULLS FIRST"
			} else {
				s += " NULLS LAST"
			}
		}
	}
	return s + "]"
}
