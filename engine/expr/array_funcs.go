package expr

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// goFunc is a function computed row by row on Go values: for functions
// whose work is per value anyway (array_to_string) or that look things up
// (the catalog functions the sql package defines over its snapshot).
type goFunc struct {
	name   string
	args   []Expr
	typ    arrow.DataType
	strict bool
	fn     func(ctx *Context, args []any) (any, error)
}

// GoFunc is a call of fn on each row's argument values (Go values, see
// ValueAt), returning a value of type ret (or nil for NULL). With strict,
// a NULL argument gives NULL without calling fn. fn must be safe for
// concurrent use and give the same result for the same arguments (it is
// folded when its arguments are constant).
func GoFunc(name string, args []Expr, ret arrow.DataType, strict bool, fn func(ctx *Context, args []any) (any, error)) Expr {
	return &goFunc{name: name, args: args, typ: ret, strict: strict, fn: fn}
}

func (f *goFunc) Type() arrow.DataType { return f.typ }
func (f *goFunc) Nullable() bool       { return true }
func (f *goFunc) Children() []Expr     { return f.args }
func (f *goFunc) WithChildren(ch []Expr) Expr {
	c := *f
	c.args = ch
	return &c
}
func (f *goFunc) String() string { return f.name + "(" + joinExprs(f.args) + ")" }
func (f *goFunc) mayFail() bool  { return true }

func (f *goFunc) Eval(ctx *Context, rec arrow.RecordBatch) (arrow.Array, error) {
	n := int(rec.NumRows())
	cols := make([][]any, len(f.args))
	for j, a := range f.args {
		v, err := rowValues(ctx, a, rec)
		if err != nil {
			return nil, err
		}
		cols[j] = v
	}
	out := make([]any, n)
	args := make([]any, len(f.args))
rows:
	for i := 0; i < n; i++ {
		for j := range args {
			args[j] = cols[j][i]
			if f.strict && args[j] == nil {
				continue rows
			}
		}
		v, err := f.fn(ctx, args)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return BuildArray(ctx.Alloc, f.typ, out)
}

// ElemText formats a Go value of type t as it appears inside an array's
// text (booleans as t and f), in the context's time zone.
func ElemText(ctx *Context, v any, t arrow.DataType) string {
	if isNested(t) {
		return nestedLiteralText(v, t)
	}
	return string(appendValue(nil, v, kindOf(t), ctx.location(), true))
}

// arrayCall resolves the functions over arrays: ok is false for any other
// name.
func arrayCall(name string, args []Expr) (Expr, bool, error) {
	switch name {
	case "array_to_string", "array_upper", "array_lower", "array_length", "cardinality", "array_ndims",
		"array_append", "array_prepend", "array_cat", "array_position", "array_remove":
	case "string_to_array":
		x, err := stringToArray(args)
		return x, true, err
	default:
		return nil, false, nil
	}
	sig := func() error {
		names := make([]string, len(args))
		for i, a := range args {
			names[i] = TypeName(a.Type())
			if isUntyped(a) {
				names[i] = "unknown"
			}
		}
		return sqlerr.New(sqlerr.UndefinedFunction, "function %s(%s) does not exist", name, strings.Join(names, ", ")).
			WithHint("No function matches the given name and argument types. You might need to add explicit type casts.")
	}
	arr := func(i int) bool { return i < len(args) && IsList(args[i].Type()) && !isUntyped(args[i]) }
	intArg := func(i int) (Expr, error) { return ImplicitCast(args[i], Int4Type) }
	switch name {
	case "array_append":
		if len(args) != 2 || !arr(0) {
			return nil, true, sig()
		}
		e, err := ImplicitCast(args[1], ElemType(args[0].Type()))
		if err != nil {
			return nil, true, sig()
		}
		x, err := newArrayConcat(args[0], e)
		return x, true, err
	case "array_prepend":
		if len(args) != 2 || !arr(1) {
			return nil, true, sig()
		}
		e, err := ImplicitCast(args[0], ElemType(args[1].Type()))
		if err != nil {
			return nil, true, sig()
		}
		x, err := newArrayConcat(e, args[1])
		return x, true, err
	case "array_cat":
		if len(args) != 2 || !(arr(0) || arr(1)) {
			return nil, true, sig()
		}
		x, err := newArrayConcat(args[0], args[1])
		return x, true, err
	case "array_to_string":
		if len(args) < 2 || len(args) > 3 || !arr(0) {
			return nil, true, sig()
		}
		rest := make([]Expr, len(args))
		rest[0] = args[0]
		for i := 1; i < len(args); i++ {
			c, err := ImplicitCast(args[i], TextType)
			if err != nil {
				return nil, true, sig()
			}
			rest[i] = c
		}
		elem := ElemType(args[0].Type())
		return GoFunc(name, rest, TextType, false, func(ctx *Context, a []any) (any, error) {
			if a[0] == nil || a[1] == nil {
				return nil, nil
			}
			var b strings.Builder
			first := true
			for _, e := range a[0].([]any) {
				var s string
				switch {
				case e != nil:
					s = ElemText(ctx, e, elem)
				case len(a) == 3 && a[2] != nil:
					s = a[2].(string)
				default:
					continue
				}
				if !first {
					b.WriteString(a[1].(string))
				}
				first = false
				b.WriteString(s)
			}
			return b.String(), nil
		}), true, nil
	case "array_upper", "array_lower", "array_length":
		if len(args) != 2 || !arr(0) {
			return nil, true, sig()
		}
		dim, err := intArg(1)
		if err != nil {
			return nil, true, sig()
		}
		return GoFunc(name, []Expr{args[0], dim}, Int4Type, true, func(_ *Context, a []any) (any, error) {
			n := len(a[0].([]any))
			if a[1].(int32) != 1 || n == 0 {
				return nil, nil
			}
			switch name {
			case "array_lower":
				return int32(1), nil
			}
			return int32(n), nil
		}), true, nil
	case "cardinality", "array_ndims":
		if len(args) != 1 || !arr(0) {
			return nil, true, sig()
		}
		return GoFunc(name, args, Int4Type, true, func(_ *Context, a []any) (any, error) {
			n := len(a[0].([]any))
			if name == "array_ndims" {
				if n == 0 {
					return nil, nil
				}
				return int32(1), nil
			}
			return int32(n), nil
		}), true, nil
	case "array_position", "array_remove":
		if len(args) != 2 || !arr(0) {
			return nil, true, sig()
		}
		elem, err := ImplicitCast(args[1], ElemType(args[0].Type()))
		if err != nil {
			return nil, true, sig()
		}
		ret := Int4Type
		if name == "array_remove" {
			ret = args[0].Type()
		}
		return GoFunc(name, []Expr{args[0], elem}, ret, false, func(_ *Context, a []any) (any, error) {
			if a[0] == nil {
				return nil, nil
			}
			var kept []any
			for i, e := range a[0].([]any) {
				same := (e == nil && a[1] == nil) || (e != nil && a[1] != nil && compareGo(e, a[1]) == 0)
				if name == "array_position" && same {
					return int32(i + 1), nil
				}
				if !same {
					kept = append(kept, e)
				}
			}
			if name == "array_position" {
				return nil, nil
			}
			if kept == nil {
				kept = []any{}
			}
			return kept, nil
		}), true, nil
	}
	return nil, true, sig()
}

// stringToArray is string_to_array(text, delimiter [, null string]).
func stringToArray(args []Expr) (Expr, error) {
	if len(args) < 2 || len(args) > 3 {
		return nil, sqlerr.New(sqlerr.UndefinedFunction, "function string_to_array with %d arguments does not exist", len(args))
	}
	cast := make([]Expr, len(args))
	for i, a := range args {
		c, err := ImplicitCast(a, TextType)
		if err != nil {
			return nil, err
		}
		cast[i] = c
	}
	return GoFunc("string_to_array", cast, ListOf(TextType), false, func(_ *Context, a []any) (any, error) {
		if a[0] == nil {
			return nil, nil
		}
		s := a[0].(string)
		if s == "" {
			return []any{}, nil
		}
		var parts []string
		switch {
		case a[1] == nil:
			for _, r := range s {
				parts = append(parts, string(r))
			}
		case a[1].(string) == "":
			parts = []string{s}
		default:
			parts = strings.Split(s, a[1].(string))
		}
		out := make([]any, len(parts))
		for i, p := range parts {
			if len(a) == 3 && a[2] != nil && p == a[2].(string) {
				continue
			}
			out[i] = p
		}
		return out, nil
	}), nil
}

// Set-returning functions are, to the expression library, functions that
// return an array per row: generate_series(1, 3) is {1,2,3}. The engine's
// Unnest operator turns the arrays into rows (in FROM, or in a select
// list, where several run in lockstep as in PostgreSQL).

// IsSetFunc reports whether name is a set-returning function.
func IsSetFunc(name string) bool {
	switch strings.TrimPrefix(strings.ToLower(name), "pg_catalog.") {
	case "generate_series", "unnest", "_pg_expandarray", "generate_subscripts":
		return true
	}
	return false
}

// SetFunc builds the array-valued expression of a set-returning function
// call: its rows, per input row, as an array. The element type of a
// function returning records (_pg_expandarray) is a struct whose fields
// are the function's columns.
func SetFunc(name string, args []Expr) (Expr, error) {
	name = strings.TrimPrefix(strings.ToLower(name), "pg_catalog.")
	switch name {
	case "generate_series":
		return generateSeries(args)
	case "unnest":
		if len(args) != 1 {
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "unnest of several arrays is not supported")
		}
		x := args[0]
		if isUntyped(x) {
			c, err := ImplicitCast(x, ListOf(TextType))
			if err != nil {
				return nil, err
			}
			x = c
		}
		if !IsList(x.Type()) {
			return nil, sqlerr.New(sqlerr.UndefinedFunction, "function unnest(%s) does not exist", TypeName(x.Type()))
		}
		return x, nil
	case "_pg_expandarray":
		if len(args) != 1 || !IsList(args[0].Type()) {
			return nil, sqlerr.New(sqlerr.UndefinedFunction, "function _pg_expandarray takes one array")
		}
		return &expandArray{X: args[0]}, nil
	case "generate_subscripts":
		if len(args) < 2 || len(args) > 3 || !IsList(args[0].Type()) {
			return nil, sqlerr.New(sqlerr.UndefinedFunction, "function generate_subscripts takes an array and a dimension")
		}
		dim, err := ImplicitCast(args[1], Int4Type)
		if err != nil {
			return nil, err
		}
		return GoFunc(name, []Expr{args[0], dim}, ListOf(Int4Type), true, func(_ *Context, a []any) (any, error) {
			n := len(a[0].([]any))
			if a[1].(int32) != 1 {
				n = 0
			}
			out := make([]any, n)
			for i := range out {
				out[i] = int32(i + 1)
			}
			return out, nil
		}), nil
	}
	return nil, sqlerr.New(sqlerr.UndefinedFunction, "function %s does not exist", name)
}

// seriesLimit bounds one generate_series, so that a typo cannot exhaust
// memory.
const seriesLimit = 10_000_000

// generateSeries is generate_series(start, stop [, step]) over integers.
func generateSeries(args []Expr) (Expr, error) {
	if len(args) < 2 || len(args) > 3 {
		return nil, sqlerr.New(sqlerr.UndefinedFunction, "function generate_series with %d arguments does not exist", len(args))
	}
	t := Int4Type
	for _, a := range args {
		switch k := typeOf(a); {
		case k == kInt8:
			t = Int8Type
		case k == kInt2 || k == kInt4 || k == kUnknown:
		default:
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "generate_series over %s is not supported", TypeName(a.Type()))
		}
	}
	cast := make([]Expr, len(args))
	for i, a := range args {
		c, err := ImplicitCast(a, Int8Type)
		if err != nil {
			return nil, err
		}
		cast[i] = c
	}
	return GoFunc("generate_series", cast, ListOf(t), true, func(_ *Context, a []any) (any, error) {
		lo, hi, step := a[0].(int64), a[1].(int64), int64(1)
		if len(a) == 3 {
			step = a[2].(int64)
		}
		if step == 0 {
			return nil, sqlerr.New(sqlerr.InvalidParameterValue, "step size cannot equal zero")
		}
		var out []any
		for v := lo; (step > 0 && v <= hi) || (step < 0 && v >= hi); v += step {
			if len(out) >= seriesLimit {
				return nil, sqlerr.New(sqlerr.ProgramLimitExceeded, "generate_series is limited to 10 million rows")
			}
			if t == Int4Type {
				out = append(out, int32(v))
			} else {
				out = append(out, v)
			}
			if (step > 0 && v > hi-step) || (step < 0 && v < hi-step) {
				break // the next step would overflow or pass the end
			}
		}
		if out == nil {
			out = []any{}
		}
		return out, nil
	}), nil
}

// expandArray is information_schema._pg_expandarray(a): the rows (x, n),
// each element with its position.
type expandArray struct{ X Expr }

func (e *expandArray) Type() arrow.DataType {
	return arrow.ListOf(arrow.StructOf(
		arrow.Field{Name: "x", Type: ElemType(e.X.Type()), Nullable: true},
		arrow.Field{Name: "n", Type: Int4Type, Nullable: true}))
}
func (e *expandArray) Nullable() bool              { return true }
func (e *expandArray) Children() []Expr            { return []Expr{e.X} }
func (e *expandArray) WithChildren(ch []Expr) Expr { return &expandArray{X: ch[0]} }
func (e *expandArray) String() string              { return "_pg_expandarray(" + e.X.String() + ")" }
func (e *expandArray) mayFail() bool               { return false }

func (e *expandArray) Eval(ctx *Context, rec arrow.RecordBatch) (arrow.Array, error) {
	vals, err := rowValues(ctx, e.X, rec)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(vals))
	for i, v := range vals {
		if v == nil {
			continue
		}
		elems := v.([]any)
		rows := make([]any, len(elems))
		for j, x := range elems {
			rows[j] = []any{x, int32(j + 1)}
		}
		out[i] = rows
	}
	return BuildArray(ctx.Alloc, e.Type(), out)
}
