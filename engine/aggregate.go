package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine/agg"
	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/internal/vec"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// AggMode says what a HashAggregate reads and what it writes.
type AggMode int

const (
	// AggComplete reads input rows and writes final results.
	AggComplete AggMode = iota
	// AggPartial reads input rows and writes, per group, the group keys
	// then the partial states of each aggregate (agg.Func.State columns,
	// named "<aggregate>.<field>").
	AggPartial
	// AggFinal reads what AggPartial writes — GroupBy must then be the
	// key columns, and the state columns follow them in aggregate order —
	// merges the states of equal keys and writes final results. Its Aggs
	// are the partial node's (their Args only give the argument types).
	AggFinal
)

func (m AggMode) String() string {
	switch m {
	case AggPartial:
		return "partial"
	case AggFinal:
		return "final"
	}
	return "complete"
}

// AggCall is one aggregate in a HashAggregate: Func (a name that
// agg.Resolve knows) over Args (none for count(*)), of distinct argument
// values only when Distinct, over the rows where Filter is TRUE (nil: all),
// fed in the order of OrderBy (string_agg, array_agg).
type AggCall struct {
	Func     string
	Args     []expr.Expr
	Distinct bool
	Filter   expr.Expr
	OrderBy  []AggOrder
	// Name is the output column's name ("" for the call's text).
	Name string
}

// AggOrder is one key of ORDER BY inside an aggregate call.
type AggOrder struct {
	Expr       expr.Expr
	Desc       bool
	NullsFirst bool
}

// Resolve returns the aggregate function the call applies.
func (c AggCall) Resolve() (*agg.Func, error) {
	types := make([]arrow.DataType, len(c.Args))
	for i, a := range c.Args {
		types[i] = a.Type()
	}
	return agg.Resolve(c.Func, types)
}

// Splittable reports whether the call can run as partial aggregates merged
// by a final one: not with ORDER BY inside, nor DISTINCT over more than one
// argument.
func (c AggCall) Splittable() bool {
	return len(c.OrderBy) == 0 && (!c.Distinct || len(c.Args) == 1)
}

func (c AggCall) String() string {
	var b strings.Builder
	b.WriteString(strings.ToLower(c.Func))
	b.WriteByte('(')
	if c.Distinct {
		b.WriteString("DISTINCT ")
	}
	if len(c.Args) == 0 {
		b.WriteByte('*')
	}
	for i, a := range c.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(a.String())
	}
	for i, o := range c.OrderBy {
		if i == 0 {
			b.WriteString(" ORDER BY ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(o.Expr.String())
		if o.Desc {
			b.WriteString(" DESC")
		}
	}
	b.WriteByte(')')
	if c.Filter != nil {
		fmt.Fprintf(&b, " FILTER (WHERE %s)", c.Filter)
	}
	return b.String()
}

func (c AggCall) name() string {
	if c.Name != "" {
		return c.Name
	}
	return c.String()
}

// HashAggregate groups the rows of Input by the values of GroupBy (NULL
// being a group of its own) and computes Aggs per group. Its output is the
// group keys, named by Names (the expressions' text where missing), then
// one column per aggregate (AggComplete, AggFinal) or its partial states
// (AggPartial). With no GROUP BY it yields exactly one row, even for no
// input (count 0, sum NULL). Output order is the order in which groups
// first appeared.
//
// The hash table and the aggregate states are reserved from ec.Mem as they
// grow; past the limit the statement fails with SQLSTATE 53200.
type HashAggregate struct {
	Input   Plan
	GroupBy []expr.Expr
	Names   []string
	Aggs    []AggCall
	Mode    AggMode
}

func (a *HashAggregate) Schema() *arrow.Schema {
	fields := exprFields(a.GroupBy, a.Names)
	for _, c := range a.Aggs {
		f, err := c.Resolve()
		if err != nil {
			fields = append(fields, arrow.Field{Name: c.name(), Type: arrow.Null, Nullable: true})
			continue
		}
		if a.Mode == AggPartial {
			fields = append(fields, stateFields(c, f)...)
			continue
		}
		fields = append(fields, arrow.Field{Name: c.name(), Type: f.Result, Nullable: f.ResultNullable})
	}
	return arrow.NewSchema(fields, nil)
}

// stateFields are the partial-state columns of one call.
func stateFields(c AggCall, f *agg.Func) []arrow.Field {
	if c.Distinct {
		return []arrow.Field{{Name: c.name() + ".distinct", Type: arrow.ListOf(c.Args[0].Type()), Nullable: true}}
	}
	out := make([]arrow.Field, len(f.State))
	for i, s := range f.State {
		s.Name = c.name() + "." + s.Name
		out[i] = s
	}
	return out
}

func (a *HashAggregate) Children() []Plan { return []Plan{a.Input} }
func (a *HashAggregate) WithChildren(c ...Plan) Plan {
	n := *a
	n.Input = c[0]
	return &n
}
func (a *HashAggregate) Ordering() []SortKey { return nil }

func (a *HashAggregate) Describe() string {
	keys := make([]string, len(a.GroupBy))
	for i, k := range a.GroupBy {
		keys[i] = k.String()
	}
	aggs := make([]string, len(a.Aggs))
	for i, c := range a.Aggs {
		aggs[i] = c.String()
	}
	s := "HashAggregate"
	if a.Mode != AggComplete {
		s += " (" + a.Mode.String() + ")"
	}
	if len(keys) > 0 {
		s += " keys=[" + strings.Join(keys, ", ") + "]"
	}
	return s + " aggregates=[" + strings.Join(aggs, ", ") + "]"
}

// Splittable reports whether every aggregate can be split into partial
// and final steps (see Split).
func (a *HashAggregate) Splittable() bool {
	for _, c := range a.Aggs {
		if !c.Splittable() {
			return false
		}
	}
	return a.Mode == AggComplete
}

// Split returns a plan computing a over the union of inputs in parallel: a
// partial aggregate over each input, gathered, then a final aggregate that
// merges them. a.Input is ignored.
func (a *HashAggregate) Split(inputs []Plan, parallelism int) (Plan, error) {
	if !a.Splittable() {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "aggregate %s cannot be split into partial aggregates", a.Describe())
	}
	parts := make([]Plan, len(inputs))
	for i, in := range inputs {
		parts[i] = &HashAggregate{Input: in, GroupBy: a.GroupBy, Names: a.Names, Aggs: a.Aggs, Mode: AggPartial}
	}
	partial := &HashAggregate{Input: OneRow(), GroupBy: a.GroupBy, Names: a.Names, Aggs: a.Aggs, Mode: AggPartial}
	sch := partial.Schema()
	keys := make([]expr.Expr, len(a.GroupBy))
	for i := range keys {
		f := sch.Field(i)
		keys[i] = &expr.Column{Index: i, Name: f.Name, Typ: f.Type, Null: f.Nullable}
	}
	return &HashAggregate{
		Input:   &Gather{Inputs: parts, Parallelism: parallelism, Sch: sch},
		GroupBy: keys, Names: a.Names, Aggs: a.Aggs, Mode: AggFinal,
	}, nil
}

func (a *HashAggregate) Open(ec *ExecContext) (Operator, error) {
	o := &aggOp{plan: a, ec: ec, sch: a.Schema(), offset: len(a.GroupBy)}
	if err := o.init(); err != nil {
		o.release()
		return nil, err
	}
	in, err := OpenPlan(ec, a.Input)
	if err != nil {
		o.release()
		return nil, err
	}
	o.input = in
	return o, nil
}

type aggOp struct {
	plan   *HashAggregate
	ec     *ExecContext
	sch    *arrow.Schema
	input  Operator
	funcs  []*agg.Func
	accs   []agg.Accumulator
	states [][2]int // AggFinal: each call's state columns in the input
	offset int      // first column after the keys
	table  *keyTable
	ids    []uint32
	skip   []uint32 // scratch for FILTER
	groups int
	held   int64 // bytes reserved from ec.Mem
	read   bool  // input consumed
	next   int   // next group to emit
}

func (o *aggOp) Schema() *arrow.Schema { return o.sch }

func (o *aggOp) init() error {
	p := o.plan
	col := len(p.GroupBy)
	for _, c := range p.Aggs {
		f, err := c.Resolve()
		if err != nil {
			return err
		}
		if p.Mode != AggComplete && !c.Splittable() {
			return sqlerr.New(sqlerr.FeatureNotSupported, "aggregate %s cannot run as a partial aggregate", c)
		}
		acc, err := o.accumulator(c, f)
		if err != nil {
			return err
		}
		o.funcs = append(o.funcs, f)
		o.accs = append(o.accs, acc)
		n := len(f.State)
		if c.Distinct {
			n = 1
		}
		o.states = append(o.states, [2]int{col, col + n})
		col += n
	}
	if len(p.GroupBy) == 0 {
		o.grow(1)
		return nil
	}
	types := make([]arrow.DataType, len(p.GroupBy))
	for i, k := range p.GroupBy {
		types[i] = k.Type()
	}
	t, err := newKeyTable(types)
	o.table = t
	return err
}

// accumulator makes the accumulator of one call, wrapped for DISTINCT or
// ORDER BY.
func (o *aggOp) accumulator(c AggCall, f *agg.Func) (agg.Accumulator, error) {
	alloc := o.ec.allocator()
	acc := f.New(alloc)
	switch {
	case c.Distinct:
		return newDistinctAcc(acc, c, alloc, o.plan.Mode == AggPartial)
	case len(c.OrderBy) > 0:
		return newOrderedAcc(acc, c, alloc)
	}
	return acc, nil
}

func (o *aggOp) grow(n int) {
	o.groups = n
	for _, a := range o.accs {
		a.Grow(n)
	}
}

func (o *aggOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if o.input == nil {
		return nil, io.EOF // closed
	}
	if !o.read {
		if err := o.consume(ctx); err != nil {
			return nil, err
		}
		o.read = true
	}
	if o.next >= o.groups {
		return nil, io.EOF
	}
	lo, hi := o.next, min(o.groups, o.next+BatchRows)
	o.next = hi
	return o.emit(lo, hi)
}

func (o *aggOp) consume(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := o.input.Next(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		err = o.add(ctx, rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
}

// add folds one batch into the groups.
func (o *aggOp) add(ctx context.Context, rec arrow.RecordBatch) error {
	rows := int(rec.NumRows())
	if rows == 0 {
		return nil
	}
	ectx := o.ec.evalContext(ctx)
	var groups []uint32
	if o.table != nil {
		keys, err := evalAll(ectx, o.plan.GroupBy, rec)
		if err != nil {
			return err
		}
		if cap(o.ids) < rows {
			o.ids = make([]uint32, rows)
		}
		groups = o.ids[:rows]
		o.table.insert(keys, rows, groups)
		releaseArrays(keys)
		o.grow(o.table.Len())
	}
	for i, c := range o.plan.Aggs {
		if err := o.update(ectx, i, c, rec, groups); err != nil {
			return err
		}
	}
	return o.reserve()
}

func (o *aggOp) update(ectx *expr.Context, i int, c AggCall, rec arrow.RecordBatch, groups []uint32) error {
	rows := int(rec.NumRows())
	if o.plan.Mode == AggFinal {
		s := o.states[i]
		return o.accs[i].Merge(rec.Columns()[s[0]:s[1]], groups)
	}
	if c.Filter != nil {
		g, err := o.filterGroups(ectx, c.Filter, rec, groups)
		if err != nil {
			return err
		}
		groups = g
	}
	exprs := c.Args
	for _, ob := range c.OrderBy {
		exprs = append(exprs[:len(exprs):len(exprs)], ob.Expr)
	}
	args, err := evalAll(ectx, exprs, rec)
	if err != nil {
		return err
	}
	defer releaseArrays(args)
	return o.accs[i].Update(rows, args, groups)
}

// filterGroups returns groups with Skip for the rows where cond is not
// TRUE.
func (o *aggOp) filterGroups(ectx *expr.Context, cond expr.Expr, rec arrow.RecordBatch, groups []uint32) ([]uint32, error) {
	mask, err := cond.Eval(ectx, rec)
	if err != nil {
		return nil, err
	}
	defer mask.Release()
	rows := int(rec.NumRows())
	if cap(o.skip) < rows {
		o.skip = make([]uint32, rows)
	}
	out := o.skip[:rows]
	if groups == nil {
		clear(out)
	} else {
		copy(out, groups)
	}
	if mask.DataType().ID() == arrow.NULL {
		for i := range out {
			out[i] = agg.Skip
		}
		return out, nil
	}
	vals, valid := vec.Bools(mask), vec.Validity(mask)
	for i := range out {
		if !valid.Valid(i) || !vals.Get(i) {
			out[i] = agg.Skip
		}
	}
	return out, nil
}

// reserve brings the reservation up to what the table and states hold.
func (o *aggOp) reserve() error {
	var size int64
	if o.table != nil {
		size += o.table.size() + int64(cap(o.ids)+cap(o.skip))*4
	}
	for _, a := range o.accs {
		size += a.Size()
	}
	if size <= o.held {
		return nil
	}
	what := fmt.Sprintf("hash aggregate (%d groups)", o.groups)
	if err := o.ec.Mem.Reserve(size-o.held, what); err != nil {
		return err
	}
	o.held = size
	return nil
}

// emit builds the output batch of groups lo..hi-1.
func (o *aggOp) emit(lo, hi int) (arrow.RecordBatch, error) {
	alloc := o.ec.allocator()
	var cols []arrow.Array
	if o.table != nil {
		cols = o.table.keys(alloc, lo, hi)
	}
	for _, a := range o.accs {
		if o.plan.Mode == AggPartial {
			st, err := a.State(alloc, lo, hi)
			if err != nil {
				releaseArrays(cols)
				return nil, err
			}
			cols = append(cols, st...)
			continue
		}
		r, err := a.Result(alloc, lo, hi)
		if err != nil {
			releaseArrays(cols)
			return nil, err
		}
		cols = append(cols, r)
	}
	return newBatch(o.sch, cols, hi-lo), nil
}

func (o *aggOp) release() {
	for _, a := range o.accs {
		a.Release()
	}
	o.accs = nil
	o.table = nil
	o.ec.Mem.Release(o.held)
	o.held = 0
}

func (o *aggOp) Close() error {
	o.release()
	o.groups, o.next = 0, 0
	if o.input == nil {
		return nil
	}
	err := o.input.Close()
	o.input = nil
	return errors.Join(err)
}
