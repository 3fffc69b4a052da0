package expr

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// testNow is the statement time of every test: 2024-02-29 13:14:15.123456 UTC.
var testNow = time.Date(2024, 2, 29, 13, 14, 15, 123456000, time.UTC).UnixMicro()

// newCtx returns an evaluation context whose allocator the test checks for
// leaks when it ends.
func newCtx(t testing.TB) *Context {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return &Context{Alloc: mem, Now: testNow}
}

// arr builds an array of type dt from Go values (nil for NULL).
func arr(alloc memory.Allocator, dt arrow.DataType, vs ...any) arrow.Array {
	b := array.NewBuilder(alloc, dt)
	defer b.Release()
	for _, v := range vs {
		if v == nil {
			b.AppendNull()
			continue
		}
		nv, err := normalize(v, kindOf(dt))
		if err != nil {
			panic(fmt.Sprintf("arr(%s, %v): %v", dt, v, err))
		}
		switch x := b.(type) {
		case *array.BooleanBuilder:
			x.Append(nv.(bool))
		case *array.Int16Builder:
			x.Append(nv.(int16))
		case *array.Int32Builder:
			x.Append(nv.(int32))
		case *array.Int64Builder:
			x.Append(nv.(int64))
		case *array.Float32Builder:
			x.Append(nv.(float32))
		case *array.Float64Builder:
			x.Append(nv.(float64))
		case *array.StringBuilder:
			x.Append(nv.(string))
		case *array.BinaryBuilder:
			x.Append(nv.([]byte))
		case *array.Date32Builder:
			x.Append(nv.(arrow.Date32))
		case *array.TimestampBuilder:
			x.Append(nv.(arrow.Timestamp))
		case *array.MonthDayNanoIntervalBuilder:
			x.Append(nv.(arrow.MonthDayNanoInterval))
		default:
			panic("arr: unsupported builder")
		}
	}
	return b.NewArray()
}

// batch makes a record batch of the given columns, named c0, c1, …; the
// caller releases it (the columns are released here).
func batch(cols ...arrow.Array) arrow.RecordBatch {
	fields := make([]arrow.Field, len(cols))
	n := int64(1)
	for i, c := range cols {
		fields[i] = arrow.Field{Name: fmt.Sprintf("c%d", i), Type: c.DataType(), Nullable: true}
		n = int64(c.Len())
	}
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, n)
	for _, c := range cols {
		c.Release()
	}
	return rec
}

// oneRow is a batch of one row and no columns, for constant expressions.
func oneRow() arrow.RecordBatch { return array.NewRecordBatch(emptySchema, nil, 1) }

// col refers to column i of a batch.
func col(i int, t arrow.DataType) Expr {
	return &Column{Index: i, Name: fmt.Sprintf("c%d", i), Typ: t, Null: true}
}

// eval evaluates e over rec and returns the values as Go values.
func eval(t testing.TB, ctx *Context, e Expr, rec arrow.RecordBatch) ([]any, error) {
	t.Helper()
	a, err := e.Eval(ctx, rec)
	if err != nil {
		return nil, err
	}
	defer a.Release()
	if a.Len() != int(rec.NumRows()) {
		t.Fatalf("%s: %d values for %d rows", e, a.Len(), rec.NumRows())
	}
	if !arrow.TypeEqual(a.DataType(), e.Type()) {
		t.Fatalf("%s: evaluated to %s, declared %s", e, a.DataType(), e.Type())
	}
	out := make([]any, a.Len())
	for i := range out {
		if a.DataType().ID() == arrow.NULL {
			continue
		}
		out[i] = valueAt(a, i)
	}
	return out, nil
}

// mk returns e, panicking on a construction error (a broken test).
func mk(e Expr, err error) Expr {
	if err != nil {
		panic(err)
	}
	return e
}

// wantCode checks that err is a SQL error with the SQLSTATE code.
func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	var se *sqlerr.Error
	if !errors.As(err, &se) {
		t.Fatalf("got error %v, want SQLSTATE %s", err, code)
	}
	if se.Code != code {
		t.Fatalf("got SQLSTATE %s (%s), want %s", se.Code, se.Message, code)
	}
}

// show renders values for comparison: text as PostgreSQL prints them.
func show(vs []any, k kind) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		if v == nil {
			out[i] = "NULL"
			continue
		}
		out[i] = string(appendValue(nil, v, k, time.UTC, false))
	}
	return out
}

// evalConst evaluates a constant expression and renders its value.
func evalConst(t testing.TB, e Expr) (string, error) {
	t.Helper()
	ctx := newCtx(t)
	rec := oneRow()
	defer rec.Release()
	vs, err := eval(t, ctx, e, rec)
	if err != nil {
		return "", err
	}
	return show(vs, kindOf(e.Type()))[0], nil
}

// u is an untyped literal; i4, i8, f8, tx typed ones.
func u(s string) Expr            { return Unknown(s) }
func i4(v int32) Expr            { return Lit(v, Int4Type) }
func i8(v int64) Expr            { return Lit(v, Int8Type) }
func i2(v int16) Expr            { return Lit(v, Int2Type) }
func f8(v float64) Expr          { return Lit(v, Float8Type) }
func tx(s string) Expr           { return Lit(s, TextType) }
func bl(b bool) Expr             { return Lit(b, BoolType) }
func null(t arrow.DataType) Expr { return Null(t) }

func nan() float64 { return math.NaN() }
func inf() float64 { return math.Inf(1) }
