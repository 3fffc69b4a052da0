package expr

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// Literal is a constant. Value holds the Go value of the SQL type (see Lit)
// or nil for NULL. An untyped literal — a quoted string or NULL whose type
// the context has not decided yet, PostgreSQL's "unknown" — takes the type
// its context asks for, by parsing the string as that type.
type Literal struct {
	Value   any
	Typ     arrow.DataType
	untyped bool
	numeric bool // a numeric constant (Typ is double precision; IsNumeric)
	sc      scalar.Scalar
}

// Lit returns a constant of type t. value is the Go value of the SQL type —
// bool, int16, int32, int64, float32, float64, string, []byte,
// arrow.Date32, arrow.Timestamp (microseconds), arrow.MonthDayNanoInterval
// — or a convertible one: any Go integer or float for a numeric type,
// time.Time for a date or timestamp, nil for NULL. A value that does not
// fit t is a programming error and panics; to turn SQL text into a typed
// constant, Cast an Unknown literal instead.
func Lit(value any, t arrow.DataType) Expr {
	if isNested(t) {
		return newLiteral(value, t, false)
	}
	v, err := normalize(value, kindOf(t))
	if err != nil {
		panic(fmt.Sprintf("expr.Lit(%v, %s): %v", value, TypeName(t), err))
	}
	l := newLiteral(v, storage(t), false)
	l.numeric = isNumericType(t)
	return l
}

// Null returns a NULL of type t; with UnknownType it is the untyped NULL
// literal, which adopts the type of its context.
func Null(t arrow.DataType) Expr {
	l := newLiteral(nil, storage(t), kindOf(t) == kUnknown)
	l.numeric = isNumericType(t)
	return l
}

// Unknown returns an untyped string literal ('abc' as written in SQL),
// which PostgreSQL types by context: compared with a date it is a date,
// added to an integer it is an integer, alone it is text.
func Unknown(s string) Expr { return newLiteral(s, TextType, true) }

func newLiteral(v any, t arrow.DataType, untyped bool) *Literal {
	return &Literal{Value: v, Typ: t, untyped: untyped, sc: scalarOf(v, t)}
}

func (l *Literal) Type() arrow.DataType { return l.Typ }
func (l *Literal) Nullable() bool       { return l.Value == nil }

// Eval repeats the constant rec.NumRows() times.
func (l *Literal) Eval(ctx *Context, rec arrow.RecordBatch) (arrow.Array, error) {
	return scalar.MakeArrayFromScalar(l.sc, int(rec.NumRows()), ctx.Alloc)
}

// Scalar is the constant as an Arrow scalar.
func (l *Literal) Scalar() scalar.Scalar { return l.sc }

// Untyped reports whether the literal is an unresolved string or NULL.
func (l *Literal) Untyped() bool { return l.untyped }

func (l *Literal) String() string {
	if l.Value == nil {
		if l.untyped {
			return "NULL"
		}
		return "NULL::" + TypeName(l.Typ)
	}
	if isNested(l.Typ) {
		return quote(nestedLiteralText(l.Value, l.Typ)) + "::" + TypeName(l.Typ)
	}
	k := kindOf(l.Typ)
	switch k {
	case kBool:
		return strconv.FormatBool(l.Value.(bool))
	case kInt2, kInt4, kInt8:
		return formatValue(l.Value, k)
	case kFloat8:
		f := l.Value.(float64)
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return quote(formatValue(f, k)) + "::double precision"
		}
		return formatValue(l.Value, k)
	case kText:
		return quote(l.Value.(string))
	}
	return quote(formatValue(l.Value, k)) + "::" + TypeName(l.Typ)
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// isUntyped reports whether e is an untyped literal or parameter, whose
// type its context decides.
func isUntyped(e Expr) bool {
	switch x := e.(type) {
	case *Literal:
		return x.untyped
	case *Parameter:
		return kindOf(x.Typ) == kUnknown
	}
	return false
}

// Parameter is the value of $Index (1-based) of a prepared statement, read
// from Context.Params[Index-1], a one-row array cast to Typ if need be.
type Parameter struct {
	Index int
	Typ   arrow.DataType
}

// Param returns the parameter $i (1-based) of type t. A parameter of
// UnknownType takes the type its context asks for (the binder reads it
// back with Walk to describe the statement's parameters).
func Param(i int, t arrow.DataType) Expr { return &Parameter{Index: i, Typ: storage(t)} }

// Type is the parameter's type; one whose type nothing decided is text,
// as PostgreSQL resolves a lone unknown.
func (p *Parameter) Type() arrow.DataType {
	if kindOf(p.Typ) == kUnknown {
		return TextType
	}
	return p.Typ
}
func (p *Parameter) Nullable() bool { return true }
func (p *Parameter) String() string { return "$" + strconv.Itoa(p.Index) }

func (p *Parameter) Eval(ctx *Context, rec arrow.RecordBatch) (arrow.Array, error) {
	v, err := p.value(ctx)
	if err != nil {
		return nil, err
	}
	return scalar.MakeArrayFromScalar(scalarOf(v, p.Type()), int(rec.NumRows()), ctx.Alloc)
}

// value is the parameter's Go value, cast to its type.
func (p *Parameter) value(ctx *Context) (any, error) {
	if p.Index < 1 || p.Index > len(ctx.Params) {
		return nil, sqlerr.New(sqlerr.UndefinedParameter, "there is no parameter $%d", p.Index)
	}
	a := ctx.Params[p.Index-1]
	if a.Len() == 0 || a.IsNull(0) {
		return nil, nil
	}
	if !arrow.TypeEqual(a.DataType(), p.Type()) {
		c, err := castArray(ctx, a, kindOf(a.DataType()), kindOf(p.Type()))
		if err != nil {
			return nil, err
		}
		defer c.Release()
		a = c
	}
	return valueAt(a, 0), nil
}

// OuterRef is a value of the outer query's current row read by a
// correlated subquery, which is run once per outer row with the row's
// values in Context.Outer.
type OuterRef struct {
	Slot int
	Name string
	Typ  arrow.DataType
	Null bool
}

func (o *OuterRef) Type() arrow.DataType { return o.Typ }
func (o *OuterRef) Nullable() bool       { return o.Null }
func (o *OuterRef) String() string       { return "outer." + o.Name }

func (o *OuterRef) Eval(ctx *Context, rec arrow.RecordBatch) (arrow.Array, error) {
	v, err := o.value(ctx)
	if err != nil {
		return nil, err
	}
	return scalar.MakeArrayFromScalar(scalarOf(v, o.Typ), int(rec.NumRows()), ctx.Alloc)
}

func (o *OuterRef) value(ctx *Context) (any, error) {
	if o.Slot < 0 || o.Slot >= len(ctx.Outer) {
		return nil, fmt.Errorf("outer reference %s: slot %d of %d", o.Name, o.Slot, len(ctx.Outer))
	}
	a := ctx.Outer[o.Slot]
	if a.Len() == 0 || a.IsNull(0) {
		return nil, nil
	}
	return valueAt(a, 0), nil
}

// operand is an evaluated input of a kernel: an array of every row, or a
// constant (arr nil; val nil for NULL) that the kernel need not repeat.
type operand struct {
	arr arrow.Array
	val any
}

// evalOperand evaluates e, keeping constants unrepeated.
func evalOperand(ctx *Context, e Expr, rec arrow.RecordBatch) (operand, error) {
	switch x := e.(type) {
	case *Literal:
		return operand{val: x.Value}, nil
	case *Parameter:
		v, err := x.value(ctx)
		return operand{val: v}, err
	case *OuterRef:
		v, err := x.value(ctx)
		return operand{val: v}, err
	}
	a, err := e.Eval(ctx, rec)
	return operand{arr: a}, err
}

func (o operand) release() {
	if o.arr != nil {
		o.arr.Release()
	}
}

func (o operand) isNullConst() bool { return o.arr == nil && o.val == nil }

// materialize returns o as an array of n values of type t (the caller
// releases it).
func (o operand) materialize(alloc memory.Allocator, t arrow.DataType, n int) (arrow.Array, error) {
	if o.arr != nil {
		o.arr.Retain()
		return o.arr, nil
	}
	return scalar.MakeArrayFromScalar(scalarOf(o.val, t), n, alloc)
}

// normalize converts a Go value to the canonical Go type of kind k.
func normalize(v any, k kind) (any, error) {
	if v == nil {
		return nil, nil
	}
	bad := fmt.Errorf("value of Go type %T does not fit", v)
	switch k {
	case kBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case kInt2, kInt4, kInt8:
		i, ok := toInt64(v)
		if !ok {
			return nil, bad
		}
		switch k {
		case kInt2:
			if i != int64(int16(i)) {
				return nil, bad
			}
			return int16(i), nil
		case kInt4:
			if i != int64(int32(i)) {
				return nil, bad
			}
			return int32(i), nil
		}
		return i, nil
	case kFloat4, kFloat8:
		var f float64
		switch x := v.(type) {
		case float64:
			f = x
		case float32:
			f = float64(x)
		default:
			i, ok := toInt64(v)
			if !ok {
				return nil, bad
			}
			f = float64(i)
		}
		if k == kFloat4 {
			return float32(f), nil
		}
		return f, nil
	case kText:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case kBytea:
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
	case kDate:
		switch x := v.(type) {
		case arrow.Date32:
			return x, nil
		case time.Time:
			y, m, d := x.Date()
			return arrow.Date32(daysFromCivil(int64(y), int(m), d)), nil
		}
	case kTimestamp, kTimestampTZ:
		switch x := v.(type) {
		case arrow.Timestamp:
			return x, nil
		case time.Time:
			if k == kTimestamp {
				y, m, d := x.Date()
				x = time.Date(y, m, d, x.Hour(), x.Minute(), x.Second(), x.Nanosecond(), time.UTC)
			}
			return arrow.Timestamp(x.UnixMicro()), nil
		}
	case kInterval:
		switch x := v.(type) {
		case arrow.MonthDayNanoInterval:
			return x, nil
		case time.Duration:
			return arrow.MonthDayNanoInterval{Nanoseconds: int64(x / time.Microsecond * time.Microsecond)}, nil
		}
	case kUnknown:
		return nil, bad
	}
	return nil, bad
}

func toInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		return int64(x), x <= math.MaxInt64
	case uint:
		return int64(x), uint64(x) <= math.MaxInt64
	}
	return 0, false
}

// scalarOf is the Arrow scalar of a canonical Go value of type t.
func scalarOf(v any, t arrow.DataType) scalar.Scalar {
	if v == nil {
		return scalar.MakeNullScalar(t)
	}
	switch x := v.(type) {
	case bool:
		return scalar.NewBooleanScalar(x)
	case int16:
		return scalar.NewInt16Scalar(x)
	case int32:
		return scalar.NewInt32Scalar(x)
	case int64:
		return scalar.NewInt64Scalar(x)
	case float32:
		return scalar.NewFloat32Scalar(x)
	case float64:
		return scalar.NewFloat64Scalar(x)
	case string:
		return scalar.NewStringScalar(x)
	case []byte:
		return scalar.NewBinaryScalar(memory.NewBufferBytes(x), t)
	case arrow.Date32:
		return scalar.NewDate32Scalar(x)
	case arrow.Timestamp:
		return scalar.NewTimestampScalar(x, t)
	case arrow.MonthDayNanoInterval:
		return scalar.NewMonthDayNanoIntervalScalar(x)
	case []any:
		return nestedScalar(x, t)
	}
	panic(fmt.Sprintf("expr: no scalar for %T", v))
}

// valueAt is row i of a as its canonical Go value (nil for NULL). Strings
// and bytes are copied.
func valueAt(a arrow.Array, i int) any {
	if a.IsNull(i) {
		return nil
	}
	switch x := a.(type) {
	case *array.Boolean:
		return x.Value(i)
	case *array.Int16:
		return x.Value(i)
	case *array.Int32:
		return x.Value(i)
	case *array.Int64:
		return x.Value(i)
	case *array.Float32:
		return x.Value(i)
	case *array.Float64:
		return x.Value(i)
	case *array.String:
		return strings.Clone(x.Value(i))
	case *array.Binary:
		return append([]byte(nil), x.Value(i)...)
	case *array.Date32:
		return x.Value(i)
	case *array.Timestamp:
		return x.Value(i)
	case *array.MonthDayNanoInterval:
		return x.Value(i)
	case *array.List, *array.Struct:
		return nestedValue(a, i)
	}
	panic(fmt.Sprintf("expr: no value for %s", a.DataType()))
}
