package engine

import (
	"context"
	"errors"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/internal/vec"
)

// BatchRows bounds the rows of the batches operators build. Operators that
// pass batches through (Filter, Limit) may pass on what they were given.
const BatchRows = 64 << 10

// Collect reads op to the end and closes it. The caller owns the batches
// and releases them; on error, Collect has released them already.
func Collect(ctx context.Context, op Operator) ([]arrow.RecordBatch, error) {
	var out []arrow.RecordBatch
	for {
		rec, err := op.Next(ctx)
		if err == io.EOF {
			return out, op.Close()
		}
		if err != nil {
			releaseBatches(out)
			return nil, errors.Join(err, op.Close())
		}
		out = append(out, rec)
	}
}

// Drain reads op to the end, releasing every batch, closes it, and returns
// the number of rows read.
func Drain(ctx context.Context, op Operator) (int64, error) {
	var rows int64
	for {
		rec, err := op.Next(ctx)
		if err == io.EOF {
			return rows, op.Close()
		}
		if err != nil {
			return rows, errors.Join(err, op.Close())
		}
		rows += rec.NumRows()
		rec.Release()
	}
}

// Run opens p with ec and collects its output (see Collect).
func Run(ec *ExecContext, p Plan) ([]arrow.RecordBatch, error) {
	op, err := OpenPlan(ec, p)
	if err != nil {
		return nil, err
	}
	return Collect(ec.context(), op)
}

func releaseBatches(recs []arrow.RecordBatch) {
	for _, r := range recs {
		if r != nil {
			r.Release()
		}
	}
}

func releaseArrays(arrs []arrow.Array) {
	for _, a := range arrs {
		if a != nil {
			a.Release()
		}
	}
}

// allocator is ec's allocator, or Go's.
func (ec *ExecContext) allocator() memory.Allocator {
	if ec.Alloc == nil {
		return memory.DefaultAllocator
	}
	return ec.Alloc
}

func (ec *ExecContext) context() context.Context {
	if ec.Ctx == nil {
		return context.Background()
	}
	return ec.Ctx
}

// evalContext is the expression context: ec.Eval, or one made from the
// allocator when the caller set none.
func (ec *ExecContext) evalContext(ctx context.Context) *expr.Context {
	if ec.Eval != nil {
		if ec.Eval.Alloc == nil || ec.Eval.Ctx == nil {
			c := *ec.Eval
			if c.Alloc == nil {
				c.Alloc = ec.allocator()
			}
			if c.Ctx == nil {
				c.Ctx = ctx
			}
			return &c
		}
		return ec.Eval
	}
	return &expr.Context{Ctx: ctx, Alloc: ec.allocator()}
}

// computeContext carries the allocator to arrow's compute functions.
func computeContext(ctx context.Context, alloc memory.Allocator) context.Context {
	return compute.WithAllocator(ctx, alloc)
}

// evalAll evaluates exprs over rec; on error it releases what it made.
func evalAll(ec *expr.Context, exprs []expr.Expr, rec arrow.RecordBatch) ([]arrow.Array, error) {
	out := make([]arrow.Array, len(exprs))
	for i, e := range exprs {
		a, err := e.Eval(ec, rec)
		if err != nil {
			releaseArrays(out)
			return nil, err
		}
		out[i] = a
	}
	return out, nil
}

// exprFields are the output fields of exprs named names (or the
// expressions' text where a name is missing).
func exprFields(exprs []expr.Expr, names []string) []arrow.Field {
	fields := make([]arrow.Field, len(exprs))
	for i, e := range exprs {
		name := ""
		if i < len(names) {
			name = names[i]
		}
		if name == "" {
			name = e.String()
		}
		fields[i] = arrow.Field{Name: name, Type: e.Type(), Nullable: e.Nullable()}
	}
	return fields
}

// newBatch makes a batch of sch from cols, taking over the caller's
// references to cols.
func newBatch(sch *arrow.Schema, cols []arrow.Array, rows int) arrow.RecordBatch {
	rec := array.NewRecordBatch(sch, cols, int64(rows))
	releaseArrays(cols)
	return rec
}

// sliceBatch returns rows lo..hi-1 of rec as a new reference.
func sliceBatch(rec arrow.RecordBatch, lo, hi int64) arrow.RecordBatch {
	if lo == 0 && hi == rec.NumRows() {
		rec.Retain()
		return rec
	}
	return rec.NewSlice(lo, hi)
}

// withSchema returns rec relabelled with sch (same column types), taking
// over the caller's reference to rec.
func withSchema(rec arrow.RecordBatch, sch *arrow.Schema) arrow.RecordBatch {
	if rec.Schema() == sch || rec.Schema().Equal(sch) {
		return rec
	}
	out := array.NewRecordBatch(sch, rec.Columns(), rec.NumRows())
	rec.Release()
	return out
}

// takeBatch gathers rows of rec by indices (an Int32 or Int64 array; a NULL
// index gives a row of NULLs) into a batch of sch.
func takeBatch(ctx context.Context, alloc memory.Allocator, sch *arrow.Schema, rec arrow.RecordBatch, indices arrow.Array) (arrow.RecordBatch, error) {
	cols, err := takeColumns(ctx, alloc, rec.Columns(), indices)
	if err != nil {
		return nil, err
	}
	return newBatch(sch, cols, indices.Len()), nil
}

func takeColumns(ctx context.Context, alloc memory.Allocator, cols []arrow.Array, indices arrow.Array) ([]arrow.Array, error) {
	cctx := computeContext(ctx, alloc)
	out := make([]arrow.Array, len(cols))
	for i, c := range cols {
		a, err := compute.TakeArray(cctx, c, indices)
		if err != nil {
			releaseArrays(out)
			return nil, err
		}
		out[i] = a
	}
	return out, nil
}

// indexArray builds an Int32 index array; valid marks non-NULL indices
// (nil: all).
func indexArray(alloc memory.Allocator, idx []int32, valid []bool) arrow.Array {
	return vec.NewFixed(alloc, arrow.PrimitiveTypes.Int32, idx, valid)
}

// concatBatches concatenates batches of sch into one (an empty batch of sch
// when there are none).
func concatBatches(alloc memory.Allocator, sch *arrow.Schema, recs []arrow.RecordBatch) (arrow.RecordBatch, error) {
	if len(recs) == 1 {
		recs[0].Retain()
		return withSchema(recs[0], sch), nil
	}
	cols := make([]arrow.Array, sch.NumFields())
	var rows int64
	for _, r := range recs {
		rows += r.NumRows()
	}
	for c := range cols {
		parts := make([]arrow.Array, 0, len(recs))
		for _, r := range recs {
			parts = append(parts, r.Column(c))
		}
		var err error
		if len(parts) == 0 {
			cols[c] = array.MakeArrayOfNull(alloc, sch.Field(c).Type, 0)
			continue
		}
		cols[c], err = array.Concatenate(parts, alloc)
		if err != nil {
			releaseArrays(cols)
			return nil, err
		}
	}
	return newBatch(sch, cols, int(rows)), nil
}

// nullableSchema returns sch with every field nullable (the side of an
// outer join that may be missing).
func nullableFields(sch *arrow.Schema) []arrow.Field {
	fields := make([]arrow.Field, sch.NumFields())
	for i, f := range sch.Fields() {
		f.Nullable = true
		fields[i] = f
	}
	return fields
}
