package expr

import (
	"bytes"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// Operators on arrays and records: comparison, ||, x op ANY/ALL (a),
// a[i], (r).field and ARRAY[...]. Catalog-sized work, done on Go values
// row by row where that is simplest.

// gatherNested is gather for arrays and records.
func gatherNested(alloc memory.Allocator, dt arrow.DataType, parts []arrow.Array, which, pos []int32) (arrow.Array, error) {
	vals := make([]any, len(pos))
	for i, p := range pos {
		w := int32(0)
		if which != nil {
			w = which[i]
		}
		if w >= 0 {
			vals[i] = valueAt(parts[w], int(p))
		}
	}
	return BuildArray(alloc, dt, vals)
}

// rowValues evaluates e and returns its rows as Go values.
func rowValues(ctx *Context, e Expr, rec arrow.RecordBatch) ([]any, error) {
	a, err := e.Eval(ctx, rec)
	if err != nil {
		return nil, err
	}
	defer a.Release()
	out := make([]any, a.Len())
	for i := range out {
		out[i] = valueAt(a, i)
	}
	return out, nil
}

// compareGo orders two Go values of one SQL type; NULL sorts after every
// value, as in an array comparison.
func compareGo(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	switch x := a.(type) {
	case bool:
		return cmpBool(x, b.(bool))
	case float32:
		return floatCmp(float64(x), float64(b.(float32)))
	case float64:
		return floatCmp(x, b.(float64))
	case string:
		return strings.Compare(x, b.(string))
	case []byte:
		return bytes.Compare(x, b.([]byte))
	case arrow.Date32:
		return cmpOrdered(x, b.(arrow.Date32))
	case arrow.Timestamp:
		return cmpOrdered(x, b.(arrow.Timestamp))
	case arrow.MonthDayNanoInterval:
		y := b.(arrow.MonthDayNanoInterval)
		return cmpOrdered(intervalNanos(x), intervalNanos(y))
	case []any:
		y := b.([]any)
		for i := 0; i < len(x) && i < len(y); i++ {
			if c := compareGo(x[i], y[i]); c != 0 {
				return c
			}
		}
		return cmpOrdered(len(x), len(y))
	}
	ai, _ := toInt64(a)
	bi, _ := toInt64(b)
	return cmpOrdered(ai, bi)
}

func cmpOrdered[T ~int | ~int32 | ~int64 | ~float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// intervalNanos approximates an interval's length as PostgreSQL orders
// intervals: 30-day months, 24-hour days.
func intervalNanos(v arrow.MonthDayNanoInterval) float64 {
	const day = 24 * 3600 * 1e9
	return float64(v.Months)*30*day + float64(v.Days)*day + float64(v.Nanoseconds)
}

// unify brings two operands of which at least one is an array or record
// to one type: an untyped literal takes the other's type, an array may
// widen to the other's element type.
func unifyNested(op string, l, r Expr) (Expr, Expr, error) {
	var err error
	switch {
	case isUntyped(l) && isUntyped(r):
		return nil, nil, opNotExist(op, l.Type(), r.Type())
	case isUntyped(l):
		l, err = ImplicitCast(l, r.Type())
	case isUntyped(r):
		r, err = ImplicitCast(r, l.Type())
	case !arrow.TypeEqual(l.Type(), r.Type()):
		if c, e := ImplicitCast(l, r.Type()); e == nil {
			l = c
		} else if c, e := ImplicitCast(r, l.Type()); e == nil {
			r = c
		} else {
			return nil, nil, opNotExist(op, l.Type(), r.Type())
		}
	}
	return l, r, err
}

// nestedComparison compares arrays (element by element, then by length)
// or records (field by field).
type nestedComparison struct {
	op          cmpOp
	Left, Right Expr
}

func compareNested(o cmpOp, l, r Expr) (Expr, error) {
	l, r, err := unifyNested(cmpNames[o], l, r)
	if err != nil {
		return nil, err
	}
	return &nestedComparison{op: o, Left: l, Right: r}, nil
}

func (c *nestedComparison) Type() arrow.DataType { return BoolType }
func (c *nestedComparison) Nullable() bool       { return c.Left.Nullable() || c.Right.Nullable() }
func (c *nestedComparison) Children() []Expr     { return []Expr{c.Left, c.Right} }
func (c *nestedComparison) WithChildren(ch []Expr) Expr {
	return &nestedComparison{op: c.op, Left: ch[0], Right: ch[1]}
}
func (c *nestedComparison) String() string {
	return wrap(c.Left) + " " + cmpNames[c.op] + " " + wrap(c.Right)
}
func (c *nestedComparison) mayFail() bool { return false }

func (c *nestedComparison) Eval(ctx *Context, rec arrow.RecordBatch) (arrow.Array, error) {
	l, err := rowValues(ctx, c.Left, rec)
	if err != nil {
		return nil, err
	}
	r, err := rowValues(ctx, c.Right, rec)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(l))
	for i := range l {
		if l[i] != nil && r[i] != nil {
			out[i] = c.op.holds(compareGo(l[i], r[i]))
		}
	}
	return BuildArray(ctx.Alloc, BoolType, out)
}

// concatMode says which operands of || are arrays.
type concatMode uint8

const (
	catArrays  concatMode = iota // array || array
	catAppend                    // array || element
	catPrepend                   // element || array
)

// arrayConcat is || with an array operand.
type arrayConcat struct {
	mode concatMode
	L, R Expr
	typ  arrow.DataType
}

func newArrayConcat(l, r Expr) (Expr, error) {
	lt, rt := l.Type(), r.Type()
	var err error
	switch {
	case IsList(lt) && (IsList(rt) || isUntyped(r)), IsList(rt) && isUntyped(l):
		if l, r, err = unifyNested("||", l, r); err != nil {
			return nil, err
		}
		return &arrayConcat{mode: catArrays, L: l, R: r, typ: l.Type()}, nil
	case IsList(lt):
		if r, err = ImplicitCast(r, ElemType(lt)); err != nil {
			return nil, opNotExist("||", lt, rt)
		}
		return &arrayConcat{mode: catAppend, L: l, R: r, typ: lt}, nil
	default:
		if l, err = ImplicitCast(l, ElemType(rt)); err != nil {
			return nil, opNotExist("||", lt, rt)
		}
		return &arrayConcat{mode: catPrepend, L: l, R: r, typ: rt}, nil
	}
}

func (a *arrayConcat) Type() arrow.DataType { return a.typ }
func (a *arrayConcat) Nullable() bool       { return a.L.Nullable() && a.R.Nullable() }
func (a *arrayConcat) Children() []Expr     { return []Expr{a.L, a.R} }
func (a *arrayConcat) WithChildren(ch []Expr) Expr {
	return &arrayConcat{mode: a.mode, L: ch[0], R: ch[1], typ: a.typ}
}
func (a *arrayConcat) String() string { return wrap(a.L) + " || " + wrap(a.R) }
func (a *arrayConcat) mayFail() bool  { return false }

func (a *arrayConcat) Eval(ctx *Context, rec arrow.RecordBatch) (arrow.Array, error) {
	l, err := rowValues(ctx, a.L, rec)
	if err != nil {
		return nil, err
	}
	r, err := rowValues(ctx, a.R, rec)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(l))
	for i := range l {
		switch a.mode {
		case catArrays:
			// A NULL array adds nothing: array_cat(NULL, a) is a.
			switch {
			case l[i] == nil:
				out[i] = r[i]
			case r[i] == nil:
				out[i] = l[i]
			default:
				out[i] = append(append([]any{}, l[i].([]any)...), r[i].([]any)...)
			}
		case catAppend:
			arr, _ := l[i].([]any)
			out[i] = append(append([]any{}, arr...), r[i])
		case catPrepend:
			arr, _ := r[i].([]any)
			out[i] = append([]any{l[i]}, arr...)
		}
	}
	return BuildArray(ctx.Alloc, a.typ, out)
}

// AnyAllExpr is x op ANY (a) or x op ALL (a) over an array a.
type AnyAllExpr struct {
	Op   string
	All  bool
	X    Expr
	Arr  Expr
	cmp  Expr // over two columns: x, one element
	elem arrow.DataType
}

// AnyAll is x op ANY (arr), or x op ALL (arr) when all is true: whether
// the comparison holds for some (every) element, NULL when no element
// decides it and one comparison was NULL. arr may be an untyped array
// literal ('{1,2}'), which takes x's type.
func AnyAll(op string, x, arr Expr, all bool) (Expr, error) {
	var err error
	if isUntyped(arr) {
		t := x.Type()
		if isUntyped(x) {
			t = TextType
		}
		if arr, err = ImplicitCast(arr, ListOf(t)); err != nil {
			return nil, err
		}
	}
	if !IsList(arr.Type()) {
		which := "ANY"
		if all {
			which = "ALL"
		}
		return nil, sqlerr.New(sqlerr.WrongObjectType, "op %s/%s (array) requires array on right side", op, which)
	}
	elem := ElemType(arr.Type())
	if isUntyped(x) {
		if x, err = ImplicitCast(x, elem); err != nil {
			return nil, err
		}
	}
	cmp, err := Compare(op, &Column{Index: 0, Name: "x", Typ: x.Type(), Null: true}, &Column{Index: 1, Name: "elem", Typ: elem, Null: true})
	if err != nil {
		return nil, err
	}
	return &AnyAllExpr{Op: op, All: all, X: x, Arr: arr, cmp: cmp, elem: elem}, nil
}

func (a *AnyAllExpr) Type() arrow.DataType { return BoolType }
func (a *AnyAllExpr) Nullable() bool       { return true }
func (a *AnyAllExpr) Children() []Expr     { return []Expr{a.X, a.Arr} }
func (a *AnyAllExpr) WithChildren(ch []Expr) Expr {
	c := *a
	c.X, c.Arr = ch[0], ch[1]
	return &c
}
func (a *AnyAllExpr) mayFail() bool { return false }
func (a *AnyAllExpr) String() string {
	q := "ANY"
	if a.All {
		q = "ALL"
	}
	return wrap(a.X) + " " + a.Op + " " + q + " (" + a.Arr.String() + ")"
}

func (a *AnyAllExpr) Eval(ctx *Context, rec arrow.RecordBatch) (arrow.Array, error) {
	xs, err := a.X.Eval(ctx, rec)
	if err != nil {
		return nil, err
	}
	defer xs.Release()
	la, err := a.Arr.Eval(ctx, rec)
	if err != nil {
		return nil, err
	}
	defer la.Release()
	n := la.Len()
	out := make([]any, n)
	list, ok := la.(*array.List)
	if !ok { // all NULL
		return BuildArray(ctx.Alloc, BoolType, out)
	}
	// One row per (row, element) pair, compared in one go.
	var rowOf, xRows, eRows []int32
	for i := 0; i < n; i++ {
		if list.IsNull(i) {
			continue
		}
		s, e := list.ValueOffsets(i)
		for j := s; j < e; j++ {
			rowOf = append(rowOf, int32(i))
			xRows = append(xRows, int32(i))
			eRows = append(eRows, int32(j))
		}
	}
	var res *array.Boolean
	if len(rowOf) > 0 {
		xt, err := take(ctx.Alloc, xs, xRows)
		if err != nil {
			return nil, err
		}
		defer xt.Release()
		et, err := take(ctx.Alloc, list.ListValues(), eRows)
		if err != nil {
			return nil, err
		}
		defer et.Release()
		sch := arrow.NewSchema([]arrow.Field{{Name: "x", Type: xt.DataType(), Nullable: true}, {Name: "elem", Type: et.DataType(), Nullable: true}}, nil)
		pairs := array.NewRecordBatch(sch, []arrow.Array{xt, et}, int64(len(rowOf)))
		defer pairs.Release()
		r, err := a.cmp.Eval(ctx, pairs)
		if err != nil {
			return nil, err
		}
		defer r.Release()
		res = r.(*array.Boolean)
	}
	decided := make([]bool, n)
	sawNull := make([]bool, n)
	for k, row := range rowOf {
		if decided[row] {
			continue
		}
		switch {
		case res.IsNull(k):
			sawNull[row] = true
		case res.Value(k) != a.All:
			decided[row] = true
			out[row] = !a.All
		}
	}
	for i := 0; i < n; i++ {
		if decided[i] || list.IsNull(i) {
			continue
		}
		if !sawNull[i] {
			out[i] = a.All
		}
	}
	return BuildArray(ctx.Alloc, BoolType, out)
}

// subscriptExpr is a[i]: the i-th element (from 1), NULL outside.
type subscriptExpr struct {
	X, Index Expr
}

// Subscript is arr[index]; an index outside the array gives NULL.
func Subscript(arr, index Expr) (Expr, error) {
	if !IsList(arr.Type()) {
		return nil, sqlerr.New(sqlerr.DatatypeMismatch, "cannot subscript type %s because it does not support subscripting", TypeName(arr.Type()))
	}
	idx, err := ImplicitCast(index, Int8Type)
	if err != nil {
		return nil, sqlerr.New(sqlerr.DatatypeMismatch, "array subscript must have type integer")
	}
	return &subscriptExpr{X: arr, Index: idx}, nil
}

func (s *subscriptExpr) Type() arrow.DataType        { return ElemType(s.X.Type()) }
func (s *subscriptExpr) Nullable() bool              { return true }
func (s *subscriptExpr) Children() []Expr            { return []Expr{s.X, s.Index} }
func (s *subscriptExpr) WithChildren(ch []Expr) Expr { return &subscriptExpr{X: ch[0], Index: ch[1]} }
func (s *subscriptExpr) String() string              { return wrap(s.X) + "[" + s.Index.String() + "]" }
func (s *subscriptExpr) mayFail() bool               { return false }

func (s *subscriptExpr) Eval(ctx *Context, rec arrow.RecordBatch) (arrow.Array, error) {
	la, err := s.X.Eval(ctx, rec)
	if err != nil {
		return nil, err
	}
	defer la.Release()
	ia, err := s.Index.Eval(ctx, rec)
	if err != nil {
		return nil, err
	}
	defer ia.Release()
	n := la.Len()
	list, ok := la.(*array.List)
	if !ok {
		return allNull(ctx.Alloc, s.Type(), n), nil
	}
	idx := ia.(*array.Int64)
	which, pos := make([]int32, n), make([]int32, n)
	for i := 0; i < n; i++ {
		which[i] = -1
		if list.IsNull(i) || idx.IsNull(i) {
			continue
		}
		st, e := list.ValueOffsets(i)
		if k := idx.Value(i); k >= 1 && k <= e-st {
			which[i], pos[i] = 0, int32(st+k-1)
		}
	}
	return gather(ctx.Alloc, s.Type(), []arrow.Array{list.ListValues()}, which, pos)
}

// fieldExpr is (r).field of a record.
type fieldExpr struct {
	X     Expr
	Name  string
	index int
}

// Field is (x).name, a field of a record.
func Field(x Expr, name string) (Expr, error) {
	st, ok := x.Type().(*arrow.StructType)
	if !ok {
		return nil, sqlerr.New(sqlerr.WrongObjectType, "column notation .%s applied to type %s, which is not a composite type", name, TypeName(x.Type()))
	}
	i, ok := st.FieldIdx(name)
	if !ok {
		return nil, sqlerr.New(sqlerr.UndefinedColumn, "column \"%s\" not found in data type record", name)
	}
	return &fieldExpr{X: x, Name: name, index: i}, nil
}

func (f *fieldExpr) Type() arrow.DataType { return f.X.Type().(*arrow.StructType).Field(f.index).Type }
func (f *fieldExpr) Nullable() bool       { return true }
func (f *fieldExpr) Children() []Expr     { return []Expr{f.X} }
func (f *fieldExpr) WithChildren(ch []Expr) Expr {
	return &fieldExpr{X: ch[0], Name: f.Name, index: f.index}
}
func (f *fieldExpr) String() string { return "(" + f.X.String() + ")." + f.Name }
func (f *fieldExpr) mayFail() bool  { return false }

func (f *fieldExpr) Eval(ctx *Context, rec arrow.RecordBatch) (arrow.Array, error) {
	a, err := f.X.Eval(ctx, rec)
	if err != nil {
		return nil, err
	}
	defer a.Release()
	s, ok := a.(*array.Struct)
	if !ok {
		return allNull(ctx.Alloc, f.Type(), a.Len()), nil
	}
	field := s.Field(f.index)
	which := make([]int32, s.Len())
	for i := range which {
		if s.IsNull(i) {
			which[i] = -1
		}
	}
	return gather(ctx.Alloc, f.Type(), []arrow.Array{field}, which, iota32(s.Len()))
}

// arrayCtor is ARRAY[e1, e2, …].
type arrayCtor struct {
	Elems []Expr
	typ   arrow.DataType
}

// ArrayOf is ARRAY[elems...]: the elements meet in their common type.
// ARRAY[] is an empty text[] (to be cast to the type wanted).
func ArrayOf(elems []Expr) (Expr, error) {
	if len(elems) == 0 {
		return Lit([]any{}, ListOf(TextType)), nil
	}
	t, err := CommonTypeOf("ARRAY", elems...)
	if err != nil {
		return nil, err
	}
	if isNested(t) {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "multidimensional arrays are not supported")
	}
	cast := make([]Expr, len(elems))
	for i, e := range elems {
		if cast[i], err = ImplicitCast(e, t); err != nil {
			return nil, err
		}
	}
	return &arrayCtor{Elems: cast, typ: ListOf(t)}, nil
}

func (a *arrayCtor) Type() arrow.DataType        { return a.typ }
func (a *arrayCtor) Nullable() bool              { return false }
func (a *arrayCtor) Children() []Expr            { return a.Elems }
func (a *arrayCtor) WithChildren(ch []Expr) Expr { return &arrayCtor{Elems: ch, typ: a.typ} }
func (a *arrayCtor) String() string              { return "ARRAY[" + joinExprs(a.Elems) + "]" }
func (a *arrayCtor) mayFail() bool               { return false }

func (a *arrayCtor) Eval(ctx *Context, rec arrow.RecordBatch) (arrow.Array, error) {
	n, m := int(rec.NumRows()), len(a.Elems)
	parts := make([]arrow.Array, m)
	defer func() {
		for _, p := range parts {
			if p != nil {
				p.Release()
			}
		}
	}()
	for j, e := range a.Elems {
		p, err := e.Eval(ctx, rec)
		if err != nil {
			return nil, err
		}
		parts[j] = p
	}
	which, pos := make([]int32, n*m), make([]int32, n*m)
	offs := make([]int32, n+1)
	for i := 0; i < n; i++ {
		for j := 0; j < m; j++ {
			which[i*m+j], pos[i*m+j] = int32(j), int32(i)
		}
		offs[i+1] = int32((i + 1) * m)
	}
	vals, err := gather(ctx.Alloc, ElemType(a.typ), parts, which, pos)
	if err != nil {
		return nil, err
	}
	defer vals.Release()
	return listFrom(ctx.Alloc, a.typ, offs, nil, vals), nil
}
