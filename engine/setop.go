package engine

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// Distinct passes on the first occurrence of each distinct row of Input
// (NULLs equal to each other, as DISTINCT and UNION treat them), in input
// order. UNION is Distinct over Union. The hash table of rows seen is
// reserved from ec.Mem; past the limit the statement fails with 53200.
type Distinct struct {
	Input Plan
}

func (d *Distinct) Schema() *arrow.Schema { return d.Input.Schema() }
func (d *Distinct) Children() []Plan      { return []Plan{d.Input} }
func (d *Distinct) WithChildren(c ...Plan) Plan {
	return &Distinct{Input: c[0]}
}
func (d *Distinct) Ordering() []SortKey { return d.Input.Ordering() }
func (d *Distinct) Describe() string    { return "Distinct" }

func (d *Distinct) Open(ec *ExecContext) (Operator, error) {
	t, err := newKeyTable(schemaTypes(d.Input.Schema()))
	if err != nil {
		return nil, err
	}
	in, err := OpenPlan(ec, d.Input)
	if err != nil {
		return nil, err
	}
	return &distinctOp{ec: ec, input: in, table: t}, nil
}

func schemaTypes(sch *arrow.Schema) []arrow.DataType {
	types := make([]arrow.DataType, sch.NumFields())
	for i, f := range sch.Fields() {
		types[i] = f.Type
	}
	return types
}

type distinctOp struct {
	ec    *ExecContext
	input Operator
	table *keyTable
	ids   []uint32
	held  int64
}

func (o *distinctOp) Schema() *arrow.Schema { return o.input.Schema() }

func (o *distinctOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	return nextKept(ctx, o.input, o.filter)
}

// filter returns the rows of rec seen for the first time, or nil.
func (o *distinctOp) filter(ctx context.Context, rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	n := int(rec.NumRows())
	if n == 0 {
		return nil, nil
	}
	o.ids = grow32(o.ids, n)
	before := o.table.Len()
	o.table.insert(rec.Columns(), n, o.ids)
	if err := reserveTo(o.ec, &o.held, o.table.size(), "DISTINCT"); err != nil {
		return nil, err
	}
	var keep []int32
	next := uint32(before) // ids are numbered in order of first appearance
	for i, id := range o.ids {
		if id == next {
			keep = append(keep, int32(i))
			next++
		}
	}
	return takeRows(ctx, o.ec, o.Schema(), rec, keep)
}

// takeRows returns rows keep of rec (rec itself when it is all of them,
// nil when none), as a batch of sch.
func takeRows(ctx context.Context, ec *ExecContext, sch *arrow.Schema, rec arrow.RecordBatch, keep []int32) (arrow.RecordBatch, error) {
	switch len(keep) {
	case 0:
		return nil, nil
	case int(rec.NumRows()):
		rec.Retain()
		return withSchema(rec, sch), nil
	}
	alloc := ec.allocator()
	ind := indexArray(alloc, keep, nil)
	defer ind.Release()
	return takeBatch(ctx, alloc, sch, rec, ind)
}

// reserveTo brings a reservation *held up to size bytes.
func reserveTo(ec *ExecContext, held *int64, size int64, what string) error {
	if size <= *held {
		return nil
	}
	if err := ec.Mem.Reserve(size-*held, what); err != nil {
		return err
	}
	*held = size
	return nil
}

func (o *distinctOp) Close() error {
	o.ec.Mem.Release(o.held)
	o.held = 0
	o.table = nil
	return o.input.Close()
}

// SetOpKind is INTERSECT or EXCEPT.
type SetOpKind int

const (
	Intersect SetOpKind = iota
	Except
)

func (k SetOpKind) String() string {
	if k == Except {
		return "EXCEPT"
	}
	return "INTERSECT"
}

// SetOp is INTERSECT [ALL] or EXCEPT [ALL] of Left and Right, whose
// columns the planner has coerced to the same types. Rows compare with
// NULLs equal. With All, a row that occurs m times on the left and n on
// the right comes out min(m, n) times (INTERSECT ALL) or max(m-n, 0) times
// (EXCEPT ALL); without, at most once. Rows come out in left order; Right
// is read whole into a hash table reserved from ec.Mem.
type SetOp struct {
	Left, Right Plan
	Kind        SetOpKind
	All         bool
}

func (s *SetOp) Schema() *arrow.Schema { return s.Left.Schema() }
func (s *SetOp) Children() []Plan      { return []Plan{s.Left, s.Right} }
func (s *SetOp) WithChildren(c ...Plan) Plan {
	n := *s
	n.Left, n.Right = c[0], c[1]
	return &n
}
func (s *SetOp) Ordering() []SortKey { return s.Left.Ordering() }
func (s *SetOp) Describe() string {
	if s.All {
		return fmt.Sprintf("SetOp %s ALL", s.Kind)
	}
	return fmt.Sprintf("SetOp %s", s.Kind)
}

func (s *SetOp) Open(ec *ExecContext) (Operator, error) {
	lt, rt := schemaTypes(s.Left.Schema()), schemaTypes(s.Right.Schema())
	if len(lt) != len(rt) {
		return nil, sqlerr.New(sqlerr.SyntaxError, "each %s query must have the same number of columns", s.Kind)
	}
	for i := range lt {
		if !arrow.TypeEqual(lt[i], rt[i]) {
			return nil, sqlerr.New(sqlerr.DatatypeMismatch, "%s types %s and %s cannot be matched", s.Kind, lt[i], rt[i])
		}
	}
	t, err := newKeyTable(lt)
	if err != nil {
		return nil, err
	}
	left, err := OpenPlan(ec, s.Left)
	if err != nil {
		return nil, err
	}
	right, err := OpenPlan(ec, s.Right)
	if err != nil {
		return nil, errors.Join(err, left.Close())
	}
	return &setOpOp{plan: s, ec: ec, left: left, right: right, table: t}, nil
}

type setOpOp struct {
	plan        *SetOp
	ec          *ExecContext
	left, right Operator
	table       *keyTable
	counts      []int64 // per id: right rows not yet paired with a left row
	emitted     []bool  // per id: came out already (without All)
	ids         []uint32
	built       bool
	held        int64
}

func (o *setOpOp) Schema() *arrow.Schema { return o.plan.Left.Schema() }

func (o *setOpOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if !o.built {
		if err := o.build(ctx); err != nil {
			return nil, err
		}
		o.built = true
	}
	return nextKept(ctx, o.left, o.filter)
}

// build counts the rows of the right side per distinct row.
func (o *setOpOp) build(ctx context.Context) error {
	for {
		rec, err := o.right.Next(ctx)
		if err == io.EOF {
			return o.right.Close()
		}
		if err != nil {
			return err
		}
		n := int(rec.NumRows())
		o.ids = grow32(o.ids, n)
		o.table.insert(rec.Columns(), n, o.ids)
		rec.Release()
		o.grow()
		for _, id := range o.ids[:n] {
			o.counts[id]++
		}
		if err := o.reserve(); err != nil {
			return err
		}
	}
}

func (o *setOpOp) grow() {
	for len(o.counts) < o.table.Len() {
		o.counts = append(o.counts, 0)
		o.emitted = append(o.emitted, false)
	}
}

func (o *setOpOp) reserve() error {
	size := o.table.size() + int64(cap(o.counts))*9
	return reserveTo(o.ec, &o.held, size, o.plan.Kind.String())
}

// filter returns the rows of a left batch that come out, or nil.
func (o *setOpOp) filter(ctx context.Context, rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	n := int(rec.NumRows())
	if n == 0 {
		return nil, nil
	}
	o.ids = grow32(o.ids, n)
	if o.plan.All {
		o.table.lookup(rec.Columns(), n, o.ids)
	} else {
		// Left rows join the table so that each comes out once.
		o.table.insert(rec.Columns(), n, o.ids)
		o.grow()
		if err := o.reserve(); err != nil {
			return nil, err
		}
	}
	var keep []int32
	for i, id := range o.ids[:n] {
		inRight := id != noID && o.counts[id] > 0
		var out bool
		switch {
		case o.plan.All && o.plan.Kind == Intersect:
			out = inRight
		case o.plan.All:
			out = !inRight
		default:
			out = !o.emitted[id] && inRight == (o.plan.Kind == Intersect)
			o.emitted[id] = o.emitted[id] || out
		}
		if o.plan.All && inRight {
			o.counts[id]--
		}
		if out {
			keep = append(keep, int32(i))
		}
	}
	return takeRows(ctx, o.ec, o.Schema(), rec, keep)
}

func (o *setOpOp) Close() error {
	o.ec.Mem.Release(o.held)
	o.held = 0
	o.table, o.counts, o.emitted = nil, nil, nil
	o.built = true
	return errors.Join(o.left.Close(), o.right.Close())
}
