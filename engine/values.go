package engine

import (
	"context"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// Values produces literal rows: first Batches as they are, then one row
// per element of Rows, each expression evaluated over a single row with no
// columns (so literals, parameters and functions of them). The plan owns
// Batches; Release releases them when the plan is no longer needed.
//
// OneRow (no columns, one row) is the input of a SELECT without FROM.
type Values struct {
	Sch     *arrow.Schema
	Batches []arrow.RecordBatch
	Rows    [][]expr.Expr
}

// NewValues returns a Values plan of sch over batches, taking over the
// caller's references to them.
func NewValues(sch *arrow.Schema, batches ...arrow.RecordBatch) *Values {
	return &Values{Sch: sch, Batches: batches}
}

// OneRow returns the plan of one row with no columns.
func OneRow() *Values {
	return &Values{Sch: arrow.NewSchema(nil, nil), Rows: [][]expr.Expr{{}}}
}

func (v *Values) Schema() *arrow.Schema     { return v.Sch }
func (v *Values) Children() []Plan          { return nil }
func (v *Values) WithChildren(...Plan) Plan { return v }
func (v *Values) Ordering() []SortKey       { return nil }
func (v *Values) Describe() string {
	rows := int64(len(v.Rows))
	for _, b := range v.Batches {
		rows += b.NumRows()
	}
	return fmt.Sprintf("Values rows=%d columns=%d", rows, v.Sch.NumFields())
}

// Release releases the plan's batches.
func (v *Values) Release() {
	releaseBatches(v.Batches)
	v.Batches = nil
}

func (v *Values) Open(ec *ExecContext) (Operator, error) {
	for _, row := range v.Rows {
		if len(row) != v.Sch.NumFields() {
			return nil, sqlerr.New(sqlerr.SyntaxError, "VALUES lists must all be the same length")
		}
	}
	return &valuesOp{plan: v, ec: ec}, nil
}

type valuesOp struct {
	plan  *Values
	ec    *ExecContext
	batch int // next of plan.Batches
	row   int // next of plan.Rows
}

func (o *valuesOp) Schema() *arrow.Schema { return o.plan.Sch }

func (o *valuesOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if o.batch < len(o.plan.Batches) {
		rec := o.plan.Batches[o.batch]
		o.batch++
		rec.Retain()
		return withSchema(rec, o.plan.Sch), nil
	}
	if o.row >= len(o.plan.Rows) {
		return nil, io.EOF
	}
	end := min(len(o.plan.Rows), o.row+BatchRows)
	rec, err := o.evalRows(ctx, o.plan.Rows[o.row:end])
	o.row = end
	return rec, err
}

// evalRows evaluates rows of expressions into one batch.
func (o *valuesOp) evalRows(ctx context.Context, rows [][]expr.Expr) (arrow.RecordBatch, error) {
	alloc := o.ec.allocator()
	ectx := o.ec.evalContext(ctx)
	one := array.NewRecordBatch(arrow.NewSchema(nil, nil), nil, 1)
	defer one.Release()
	cols := make([]arrow.Array, o.plan.Sch.NumFields())
	defer releaseArrays(cols)
	for c, f := range o.plan.Sch.Fields() {
		parts := make([]arrow.Array, 0, len(rows))
		for _, row := range rows {
			a, err := row[c].Eval(ectx, one)
			if err != nil {
				releaseArrays(parts)
				return nil, err
			}
			if a.DataType().ID() == arrow.NULL && f.Type.ID() != arrow.NULL {
				a.Release()
				a = array.MakeArrayOfNull(alloc, f.Type, 1)
			}
			parts = append(parts, a)
			if !arrow.TypeEqual(a.DataType(), f.Type) {
				releaseArrays(parts)
				return nil, sqlerr.New(sqlerr.DatatypeMismatch, "VALUES column %d is of type %s, want %s", c+1, a.DataType(), f.Type)
			}
		}
		col, err := array.Concatenate(parts, alloc)
		releaseArrays(parts)
		if err != nil {
			return nil, err
		}
		cols[c] = col
	}
	out := array.NewRecordBatch(o.plan.Sch, cols, int64(len(rows)))
	return out, nil
}

func (o *valuesOp) Close() error { return nil }
