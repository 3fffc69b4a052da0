package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/internal/vec"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// Filter keeps the rows of Input for which Cond is TRUE (NULL and FALSE
// drop the row). Batches where every row passes go through untouched;
// batches where none does are dropped.
type Filter struct {
	Input Plan
	Cond  expr.Expr
}

func (f *Filter) Schema() *arrow.Schema { return f.Input.Schema() }
func (f *Filter) Children() []Plan      { return []Plan{f.Input} }
func (f *Filter) WithChildren(c ...Plan) Plan {
	n := *f
	n.Input = c[0]
	return &n
}
func (f *Filter) Ordering() []SortKey { return f.Input.Ordering() }
func (f *Filter) Describe() string    { return fmt.Sprintf("Filter %s", f.Cond) }

func (f *Filter) Open(ec *ExecContext) (Operator, error) {
	if id := f.Cond.Type().ID(); id != arrow.BOOL && id != arrow.NULL {
		return nil, sqlerr.New(sqlerr.DatatypeMismatch, "argument of WHERE must be type boolean, not type %s", f.Cond.Type())
	}
	in, err := OpenPlan(ec, f.Input)
	if err != nil {
		return nil, err
	}
	return &filterOp{plan: f, ec: ec, input: in}, nil
}

type filterOp struct {
	plan  *Filter
	ec    *ExecContext
	input Operator
}

func (o *filterOp) Schema() *arrow.Schema { return o.plan.Input.Schema() }

func (o *filterOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	return nextKept(ctx, o.input, o.filter)
}

// nextKept pulls batches from in and passes each to keep, which returns
// the rows it keeps or nil for none, until a batch keeps rows or the input
// ends. Each input batch is released after keep. Filters, DISTINCT and
// INTERSECT/EXCEPT share it.
func nextKept(ctx context.Context, in Operator, keep func(context.Context, arrow.RecordBatch) (arrow.RecordBatch, error)) (arrow.RecordBatch, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rec, err := in.Next(ctx)
		if err != nil {
			return nil, err
		}
		out, err := keep(ctx, rec)
		rec.Release()
		if err != nil || out != nil {
			return out, err
		}
	}
}

// filter returns the rows of rec that pass, or nil if none does.
func (o *filterOp) filter(ctx context.Context, rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	if rec.NumRows() == 0 {
		return nil, nil
	}
	mask, err := o.plan.Cond.Eval(o.ec.evalContext(ctx), rec)
	if err != nil {
		return nil, err
	}
	defer mask.Release()
	if mask.DataType().ID() == arrow.NULL {
		return nil, nil
	}
	switch countTrue(mask) {
	case 0:
		return nil, nil
	case int(rec.NumRows()):
		rec.Retain()
		return rec, nil
	}
	return compute.FilterRecordBatch(computeContext(ctx, o.ec.allocator()), rec, mask,
		&compute.FilterOptions{NullSelection: compute.SelectionDropNulls})
}

// countTrue counts the TRUE values of a boolean array.
func countTrue(arr arrow.Array) int {
	vals := vec.Bools(arr)
	if arr.NullN() == 0 {
		return bitutil.CountSetBits(vals.Bits, vals.Off, arr.Len())
	}
	valid := vec.Validity(arr)
	n := 0
	for i := range arr.Len() {
		if valid.Valid(i) && vals.Get(i) {
			n++
		}
	}
	return n
}

func (o *filterOp) Close() error { return errors.Join(o.input.Close()) }
