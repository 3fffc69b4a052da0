package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/internal/vec"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// WindowCall is one window function: Func over Args, in windows of the
// rows with equal PartitionBy values, ordered by OrderBy (keys over the
// Window's input columns).
//
// Funcs: row_number(), rank(), dense_rank(), and the aggregates count(*),
// count(x), sum(x), avg(x), min(x), max(x) over PostgreSQL's default frame:
// with OrderBy, from the partition's first row to the current row's last
// peer (rows with equal OrderBy values); without, the whole partition.
type WindowCall struct {
	Func        string
	Args        []expr.Expr
	PartitionBy []expr.Expr
	OrderBy     []SortKey
	// Name is the output column's name ("" for the call's text).
	Name string
}

func (c WindowCall) String() string { return c.describe(nil) }

// describe renders the call, naming ORDER BY columns from sch when given.
func (c WindowCall) describe(sch *arrow.Schema) string {
	args := make([]string, len(c.Args))
	for i, a := range c.Args {
		args[i] = a.String()
	}
	if len(args) == 0 && strings.EqualFold(c.Func, "count") {
		args = []string{"*"}
	}
	return fmt.Sprintf("%s(%s) OVER (%s)", strings.ToLower(c.Func), strings.Join(args, ", "), c.spec(sch))
}

// spec renders the window: calls with the same spec share one sort.
func (c WindowCall) spec(sch *arrow.Schema) string {
	var parts []string
	if len(c.PartitionBy) > 0 {
		ps := make([]string, len(c.PartitionBy))
		for i, p := range c.PartitionBy {
			ps[i] = p.String()
		}
		parts = append(parts, "PARTITION BY "+strings.Join(ps, ", "))
	}
	if len(c.OrderBy) > 0 {
		if sch == nil {
			sch = arrow.NewSchema(nil, nil)
		}
		keys := describeKeys(sch, c.OrderBy)
		parts = append(parts, "ORDER BY "+keys[1:len(keys)-1])
	}
	return strings.Join(parts, " ")
}

func (c WindowCall) name(sch *arrow.Schema) string {
	if c.Name != "" {
		return c.Name
	}
	return c.describe(sch)
}

// Window computes window functions: its output is the input columns, then
// one column per call. For each distinct window (PARTITION BY and ORDER
// BY) it sorts the rows by partition then order (with Sort, so spilling
// past the memory limit) — unless the input is in that order already — and
// computes the calls over the sorted stream, holding one partition at a
// time (reserved from ec.Mem; a single partition past the limit fails with
// 53200). Output rows come in the order of the last window's sort.
type Window struct {
	Input Plan
	Funcs []WindowCall
}

func (w *Window) Schema() *arrow.Schema {
	in := w.Input.Schema()
	fields := slices.Clone(in.Fields())
	for _, c := range w.Funcs {
		dt, nullable, _ := windowResult(c)
		fields = append(fields, arrow.Field{Name: c.name(in), Type: dt, Nullable: nullable})
	}
	return arrow.NewSchema(fields, nil)
}

func (w *Window) Children() []Plan { return []Plan{w.Input} }
func (w *Window) WithChildren(c ...Plan) Plan {
	n := *w
	n.Input = c[0]
	return &n
}

// Ordering is known for a single window over plain partition columns.
func (w *Window) Ordering() []SortKey {
	stages := w.stages()
	if len(stages) != 1 {
		return nil
	}
	c := w.Funcs[stages[0][0]]
	if w.inputOrdered(c) {
		return w.Input.Ordering()
	}
	var out []SortKey
	for _, p := range c.PartitionBy {
		col, ok := p.(*expr.Column)
		if !ok {
			return nil
		}
		out = append(out, Asc(col.Index))
	}
	return append(out, c.OrderBy...)
}

func (w *Window) Describe() string {
	calls := make([]string, len(w.Funcs))
	for i, c := range w.Funcs {
		calls[i] = c.describe(w.Input.Schema())
	}
	return "Window " + strings.Join(calls, ", ")
}

// stages groups the calls by window, in order of first appearance.
func (w *Window) stages() [][]int {
	var out [][]int
	index := map[string]int{}
	for i, c := range w.Funcs {
		s := c.spec(nil)
		j, ok := index[s]
		if !ok {
			j = len(out)
			index[s] = j
			out = append(out, nil)
		}
		out[j] = append(out[j], i)
	}
	return out
}

// inputOrdered reports whether the input's rows are already grouped by
// c's partition columns and ordered by c's OrderBy within them.
func (w *Window) inputOrdered(c WindowCall) bool {
	have := w.Input.Ordering()
	np := len(c.PartitionBy)
	if len(have) < np+len(c.OrderBy) {
		return false
	}
	want := map[int]bool{}
	for _, p := range c.PartitionBy {
		col, ok := p.(*expr.Column)
		if !ok {
			return false
		}
		want[col.Index] = true
	}
	for _, k := range have[:np] {
		if !want[k.Column] {
			return false
		}
		delete(want, k.Column)
	}
	return len(want) == 0 && slices.Equal(have[np:np+len(c.OrderBy)], c.OrderBy)
}

func (w *Window) Open(ec *ExecContext) (Operator, error) {
	for _, c := range w.Funcs {
		if _, _, err := windowResult(c); err != nil {
			return nil, err
		}
	}
	in, err := OpenPlan(ec, w.Input)
	if err != nil {
		return nil, err
	}
	var op Operator = in
	var order []int // output column of each call
	width := w.Input.Schema().NumFields()
	stages := w.stages()
	for _, st := range stages {
		calls := make([]WindowCall, len(st))
		for i, ci := range st {
			calls[i] = w.Funcs[ci]
		}
		sorted := len(stages) == 1 && w.inputOrdered(calls[0])
		next, err := newWindowStage(ec, op, calls, sorted)
		if err != nil {
			return nil, errors.Join(err, op.Close())
		}
		op = next
		order = append(order, st...)
	}
	return newReorder(op, w.Schema(), width, order), nil
}

// reorder puts the window columns, appended stage by stage, back in call
// order.
type reorder struct {
	Operator
	sch  *arrow.Schema
	perm []int // output column → input column
}

func newReorder(op Operator, sch *arrow.Schema, width int, order []int) Operator {
	perm := make([]int, sch.NumFields())
	for i := range width {
		perm[i] = i
	}
	for pos, call := range order {
		perm[width+call] = width + pos
	}
	return &reorder{Operator: op, sch: sch, perm: perm}
}

func (r *reorder) Schema() *arrow.Schema { return r.sch }

func (r *reorder) Next(ctx context.Context) (arrow.RecordBatch, error) {
	rec, err := r.Operator.Next(ctx)
	if err != nil {
		return nil, err
	}
	defer rec.Release()
	cols := make([]arrow.Array, len(r.perm))
	for i, p := range r.perm {
		cols[i] = rec.Column(p)
		cols[i].Retain()
	}
	return newBatch(r.sch, cols, int(rec.NumRows())), nil
}

// windowStage computes the calls of one window over its input: the input
// with the partition values appended, sorted by partition and order; it
// gathers whole partitions and computes them.
type windowStage struct {
	ec      *ExecContext
	calls   []WindowCall
	input   Operator // sorted, with the partition columns appended
	width   int      // columns of the stage's input
	sch     *arrow.Schema
	partEnc *SortKeyEncoder
	ordEnc  *SortKeyEncoder
	pending []arrow.RecordBatch // rows of the partition still open
	lastKey []byte              // partition key of the last pending row
	keyBuf  []byte
	ends    []int
	held    int64
	out     []arrow.RecordBatch // computed, waiting to be passed on
	done    bool
}

func newWindowStage(ec *ExecContext, in Operator, calls []WindowCall, sorted bool) (Operator, error) {
	inSch := in.Schema()
	width := inSch.NumFields()
	first := calls[0]
	np := len(first.PartitionBy)
	withParts := &appendColumns{Operator: in, ec: ec, exprs: first.PartitionBy}
	fields := slices.Clone(inSch.Fields())
	partKeys := make([]SortKey, np)
	for i, p := range first.PartitionBy {
		fields = append(fields, arrow.Field{Name: fmt.Sprintf("partition %d", i), Type: p.Type(), Nullable: true})
		partKeys[i] = Asc(width + i)
	}
	withParts.sch = arrow.NewSchema(fields, nil)
	partEnc, err := NewSortKeyEncoder(withParts.sch, partKeys)
	if err != nil {
		return nil, err
	}
	ordEnc, err := NewSortKeyEncoder(inSch, first.OrderBy)
	if err != nil {
		return nil, err
	}
	var src Operator = withParts
	if !sorted && np+len(first.OrderBy) > 0 {
		if src, err = newSortOp(ec, withParts, append(partKeys, first.OrderBy...)); err != nil {
			return nil, err
		}
	}
	outFields := slices.Clone(inSch.Fields())
	for _, c := range calls {
		dt, nullable, _ := windowResult(c)
		outFields = append(outFields, arrow.Field{Name: c.name(inSch), Type: dt, Nullable: nullable})
	}
	return &windowStage{
		ec: ec, calls: calls, input: src, width: width, sch: arrow.NewSchema(outFields, nil),
		partEnc: partEnc, ordEnc: ordEnc,
	}, nil
}

func (s *windowStage) Schema() *arrow.Schema { return s.sch }

func (s *windowStage) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for len(s.out) == 0 {
		if s.done {
			return nil, io.EOF
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := s.pull(ctx); err != nil {
			return nil, err
		}
	}
	rec := s.out[0]
	s.out = s.out[1:]
	return rec, nil
}

// pull reads a batch and computes the partitions it completes.
func (s *windowStage) pull(ctx context.Context) error {
	rec, err := s.input.Next(ctx)
	if err == io.EOF {
		s.done = true
		return s.flush(ctx, len(s.pending))
	}
	if err != nil {
		return err
	}
	n := int(rec.NumRows())
	if n == 0 {
		rec.Release()
		return nil
	}
	s.partEnc.Bind(rec)
	s.keyBuf, s.ends = s.partEnc.AppendAll(s.keyBuf[:0], s.ends[:0], n)
	key := func(i int) []byte { return s.keyBuf[keyStart(s.ends, i):s.ends[i]] }
	// cut is where the last partition of rec starts; the rows before it
	// close every pending partition.
	cut := -1
	for i := n - 1; i >= 1 && cut < 0; i-- {
		if !bytes.Equal(key(i), key(i-1)) {
			cut = i
		}
	}
	if cut < 0 && len(s.pending) > 0 && !bytes.Equal(key(0), s.lastKey) {
		cut = 0
	}
	s.lastKey = append(s.lastKey[:0], key(n-1)...)
	if cut < 0 {
		return s.hold(rec)
	}
	defer rec.Release()
	if cut > 0 {
		if err := s.hold(rec.NewSlice(0, int64(cut))); err != nil {
			return err
		}
	}
	if err := s.flush(ctx, len(s.pending)); err != nil {
		return err
	}
	return s.hold(rec.NewSlice(int64(cut), int64(n)))
}

func keyStart(ends []int, i int) int {
	if i == 0 {
		return 0
	}
	return ends[i-1]
}

// hold keeps rec (taking over the reference) as part of the open
// partition.
func (s *windowStage) hold(rec arrow.RecordBatch) error {
	s.pending = append(s.pending, rec)
	size := vec.BatchSize(rec)
	if err := s.ec.Mem.Reserve(size, "window partition"); err != nil {
		return err
	}
	s.held += size
	return nil
}

// flush computes the first k pending batches, which hold whole partitions.
func (s *windowStage) flush(ctx context.Context, k int) error {
	if k == 0 {
		return nil
	}
	batches := s.pending[:k]
	chunk, err := concatBatches(s.ec.allocator(), batches[0].Schema(), batches)
	releaseBatches(batches)
	s.pending = slices.Delete(s.pending, 0, k)
	s.rebalance()
	if err != nil {
		return err
	}
	defer chunk.Release()
	out, err := s.compute(ctx, chunk)
	if err != nil {
		return err
	}
	for lo := int64(0); lo < out.NumRows(); lo += BatchRows {
		s.out = append(s.out, out.NewSlice(lo, min(out.NumRows(), lo+BatchRows)))
	}
	out.Release()
	return nil
}

// rebalance brings the reservation down to what is pending.
func (s *windowStage) rebalance() {
	var size int64
	for _, r := range s.pending {
		size += vec.BatchSize(r)
	}
	if size < s.held {
		s.ec.Mem.Release(s.held - size)
		s.held = size
	}
}

func (s *windowStage) Close() error {
	releaseBatches(s.pending)
	releaseBatches(s.out)
	s.pending, s.out, s.done = nil, nil, true
	s.ec.Mem.Release(s.held)
	s.held = 0
	return s.input.Close()
}

// appendColumns appends the values of exprs to each batch of its input.
type appendColumns struct {
	Operator
	ec    *ExecContext
	exprs []expr.Expr
	sch   *arrow.Schema
}

func (a *appendColumns) Schema() *arrow.Schema { return a.sch }

func (a *appendColumns) Next(ctx context.Context) (arrow.RecordBatch, error) {
	rec, err := a.Operator.Next(ctx)
	if err != nil {
		return nil, err
	}
	defer rec.Release()
	extra, err := evalAll(a.ec.evalContext(ctx), a.exprs, rec)
	if err != nil {
		return nil, err
	}
	cols := append(slices.Clone(rec.Columns()), extra...)
	for _, c := range rec.Columns() {
		c.Retain()
	}
	return newBatch(a.sch, cols, int(rec.NumRows())), nil
}

// windowResult is the type of a call's result.
func windowResult(c WindowCall) (arrow.DataType, bool, error) {
	switch strings.ToLower(c.Func) {
	case "row_number", "rank", "dense_rank":
		if len(c.Args) > 0 {
			return arrow.Null, true, sqlerr.New(sqlerr.UndefinedFunction, "function %s takes no arguments", c.Func)
		}
		return arrow.PrimitiveTypes.Int64, false, nil
	case "count":
		return arrow.PrimitiveTypes.Int64, false, nil
	case "sum", "avg", "min", "max":
		if len(c.Args) != 1 {
			break
		}
		dt := c.Args[0].Type()
		f, err := AggCall{Func: c.Func, Args: c.Args}.Resolve()
		if err != nil {
			return arrow.Null, true, err
		}
		if !windowAggType(dt) {
			return arrow.Null, true, sqlerr.New(sqlerr.FeatureNotSupported, "window function %s over %s is not supported", c.Func, dt)
		}
		return f.Result, true, nil
	}
	return arrow.Null, true, sqlerr.New(sqlerr.UndefinedFunction, "window function %s does not exist", c)
}
