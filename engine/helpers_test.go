package engine

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/engine/expr"
)

// Test scaffolding: batches from Go values, rows from batches, and small
// expressions until engine/expr's constructors land.

var (
	tI64  = arrow.PrimitiveTypes.Int64
	tI32  = arrow.PrimitiveTypes.Int32
	tF64  = arrow.PrimitiveTypes.Float64
	tStr  = arrow.BinaryTypes.String
	tBool = arrow.FixedWidthTypes.Boolean
	tDate = arrow.FixedWidthTypes.Date32
	tTS   = arrow.FixedWidthTypes.Timestamp_us
)

func tMem(t testing.TB) *memory.CheckedAllocator {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

func tEC(t testing.TB, mem memory.Allocator, limit int64) *ExecContext {
	return &ExecContext{Ctx: context.Background(), Alloc: mem, Mem: NewMemoryPool(limit), TempDir: t.TempDir(), Parallelism: 4}
}

// tSchema builds a schema from name, type pairs; every field is nullable.
func tSchema(pairs ...any) *arrow.Schema {
	var fields []arrow.Field
	for i := 0; i < len(pairs); i += 2 {
		fields = append(fields, arrow.Field{Name: pairs[i].(string), Type: pairs[i+1].(arrow.DataType), Nullable: true})
	}
	return arrow.NewSchema(fields, nil)
}

// tBatch builds a batch of sch from rows of Go values (nil for NULL).
func tBatch(mem memory.Allocator, sch *arrow.Schema, rows ...[]any) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, sch)
	defer b.Release()
	for _, row := range rows {
		for c, v := range row {
			fb := b.Field(c)
			if v == nil {
				fb.AppendNull()
				continue
			}
			switch fb := fb.(type) {
			case *array.Int64Builder:
				fb.Append(int64(tInt(v)))
			case *array.Int32Builder:
				fb.Append(int32(tInt(v)))
			case *array.Int16Builder:
				fb.Append(int16(tInt(v)))
			case *array.Float64Builder:
				fb.Append(v.(float64))
			case *array.Float32Builder:
				fb.Append(float32(v.(float64)))
			case *array.StringBuilder:
				fb.Append(v.(string))
			case *array.BinaryBuilder:
				fb.Append([]byte(v.(string)))
			case *array.BooleanBuilder:
				fb.Append(v.(bool))
			case *array.Date32Builder:
				fb.Append(arrow.Date32(tInt(v)))
			case *array.TimestampBuilder:
				fb.Append(arrow.Timestamp(tInt(v)))
			default:
				panic(fmt.Sprintf("tBatch: no support for %T", fb))
			}
		}
	}
	return b.NewRecordBatch()
}

func tInt(v any) int {
	switch v := v.(type) {
	case int:
		return v
	case int64:
		return int(v)
	}
	panic(fmt.Sprintf("not an int: %T", v))
}

// tRows renders batches as rows of Go values: int64, float64, string,
// bool or nil (other types as their ValueStr).
func tRows(recs []arrow.RecordBatch) [][]any {
	var out [][]any
	for _, r := range recs {
		for i := range int(r.NumRows()) {
			row := make([]any, r.NumCols())
			for c, tCol := range r.Columns() {
				row[c] = tValue(tCol, i)
			}
			out = append(out, row)
		}
	}
	return out
}

func tValue(tCol arrow.Array, i int) any {
	if tCol.IsNull(i) {
		return nil
	}
	switch tCol := tCol.(type) {
	case *array.Int64:
		return tCol.Value(i)
	case *array.Int32:
		return int64(tCol.Value(i))
	case *array.Int16:
		return int64(tCol.Value(i))
	case *array.Float64:
		return tCol.Value(i)
	case *array.Float32:
		return float64(tCol.Value(i))
	case *array.String:
		return tCol.Value(i)
	case *array.Binary:
		return string(tCol.Value(i))
	case *array.Boolean:
		return tCol.Value(i)
	case *array.Date32:
		return int64(tCol.Value(i))
	case *array.Timestamp:
		return int64(tCol.Value(i))
	}
	return tCol.ValueStr(i)
}

// tSorted renders rows as sorted strings, for order-insensitive checks.
func tSorted(rows [][]any) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = fmt.Sprint(r...)
		out[i] = fmt.Sprintf("%v", r)
	}
	sort.Strings(out)
	return out
}

func tStrings(rows [][]any) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = fmt.Sprintf("%v", r)
	}
	return out
}

// tRun opens and collects p, failing the test on error.
func tRun(t testing.TB, ec *ExecContext, p Plan) [][]any {
	t.Helper()
	recs, err := Run(ec, p)
	if err != nil {
		t.Fatalf("run %s: %v", strings.TrimSpace(Explain(p)), err)
	}
	defer releaseBatches(recs)
	for _, r := range recs {
		if !r.Schema().Equal(p.Schema()) {
			t.Fatalf("batch schema %s, plan schema %s", r.Schema(), p.Schema())
		}
		if r.NumRows() > BatchRows {
			t.Fatalf("batch of %d rows", r.NumRows())
		}
	}
	return tRows(recs)
}

// tRunErr opens and collects p, expecting an error.
func tRunErr(t testing.TB, ec *ExecContext, p Plan) error {
	t.Helper()
	recs, err := Run(ec, p)
	releaseBatches(recs)
	if err == nil {
		t.Fatalf("run %s: want an error", strings.TrimSpace(Explain(p)))
	}
	return err
}

func tCol(i int, name string, dt arrow.DataType) *expr.Column {
	return &expr.Column{Index: i, Name: name, Typ: dt, Null: true}
}

// tExpr is a test expression computed by a Go function of the batch.
type tExpr struct {
	name string
	typ  arrow.DataType
	f    func(ctx *expr.Context, rec arrow.RecordBatch) (arrow.Array, error)
}

func (e *tExpr) Type() arrow.DataType { return e.typ }
func (e *tExpr) Nullable() bool       { return true }
func (e *tExpr) String() string       { return e.name }
func (e *tExpr) Eval(ctx *expr.Context, rec arrow.RecordBatch) (arrow.Array, error) {
	return e.f(ctx, rec)
}

// tPred is a predicate on an integer column: NULL where the column is.
func tPred(c int, name string, f func(int64) bool) expr.Expr {
	return &tExpr{name: name, typ: tBool, f: func(ctx *expr.Context, rec arrow.RecordBatch) (arrow.Array, error) {
		b := array.NewBooleanBuilder(ctx.Alloc)
		defer b.Release()
		colv := rec.Column(c)
		for i := range colv.Len() {
			if colv.IsNull(i) {
				b.AppendNull()
				continue
			}
			b.Append(f(tValue(colv, i).(int64)))
		}
		return b.NewArray(), nil
	}}
}

// tIntFn maps an integer column to an integer column.
func tIntFn(c int, name string, f func(int64) int64) expr.Expr {
	return &tExpr{name: name, typ: tI64, f: func(ctx *expr.Context, rec arrow.RecordBatch) (arrow.Array, error) {
		b := array.NewInt64Builder(ctx.Alloc)
		defer b.Release()
		colv := rec.Column(c)
		for i := range colv.Len() {
			if colv.IsNull(i) {
				b.AppendNull()
				continue
			}
			b.Append(f(tValue(colv, i).(int64)))
		}
		return b.NewArray(), nil
	}}
}

// tLit is a literal test expression.
func tLit(v any, dt arrow.DataType) expr.Expr {
	return &tExpr{name: fmt.Sprint(v), typ: dt, f: func(ctx *expr.Context, rec arrow.RecordBatch) (arrow.Array, error) {
		sch := tSchema("v", dt)
		rows := make([][]any, rec.NumRows())
		for i := range rows {
			rows[i] = []any{v}
		}
		b := tBatch(ctx.Alloc, sch, rows...)
		defer b.Release()
		a := b.Column(0)
		a.Retain()
		return a, nil
	}}
}

var errTBoom = fmt.Errorf("boom")

func tFail(dt arrow.DataType) expr.Expr {
	return &tExpr{name: "fail()", typ: dt, f: func(*expr.Context, arrow.RecordBatch) (arrow.Array, error) {
		return nil, errTBoom
	}}
}

// tSource is a plan over batches built per Open, so every run owns its own.
type tSource struct {
	sch   *arrow.Schema
	rows  [][]any
	per   int // rows per batch
	order []SortKey
	fail  error // returned after the batches
	opens *int
}

func tNewSource(sch *arrow.Schema, per int, rows ...[]any) *tSource {
	return &tSource{sch: sch, rows: rows, per: per}
}

func (s *tSource) Schema() *arrow.Schema     { return s.sch }
func (s *tSource) Children() []Plan          { return nil }
func (s *tSource) WithChildren(...Plan) Plan { return s }
func (s *tSource) Ordering() []SortKey       { return s.order }
func (s *tSource) Describe() string          { return fmt.Sprintf("Source rows=%d", len(s.rows)) }
func (s *tSource) Open(ec *ExecContext) (Operator, error) {
	if s.opens != nil {
		*s.opens++
	}
	return &tSourceOp{s: s, alloc: ec.allocator()}, nil
}

type tSourceOp struct {
	s      *tSource
	alloc  memory.Allocator
	i      int
	closed bool
}

func (o *tSourceOp) Schema() *arrow.Schema { return o.s.sch }
func (o *tSourceOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if o.closed {
		return nil, fmt.Errorf("next after close")
	}
	if o.i >= len(o.s.rows) {
		if o.s.fail != nil {
			return nil, o.s.fail
		}
		return nil, io.EOF
	}
	per := o.s.per
	if per <= 0 {
		per = len(o.s.rows)
	}
	end := min(len(o.s.rows), o.i+per)
	rec := tBatch(o.alloc, o.s.sch, o.s.rows[o.i:end]...)
	o.i = end
	return rec, nil
}
func (o *tSourceOp) Close() error { o.closed = true; return nil }

// tInts makes single-column rows.
func tInts(vs ...any) [][]any {
	out := make([][]any, len(vs))
	for i, v := range vs {
		out[i] = []any{v}
	}
	return out
}
