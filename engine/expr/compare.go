package expr

import (
	"bytes"
	"cmp"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// Comparison is a comparison operator (= <> < <= > >=) between operands
// coerced to one type. Text and bytea compare byte-wise — the C collation,
// which for UTF-8 is code point order; floats order NaN above every other
// value and equal to itself, as PostgreSQL does.
type Comparison struct {
	Op          string // "=", "<>", "<", "<=", ">", ">="
	Left, Right Expr
}

type cmpOp uint8

const (
	opEq cmpOp = iota
	opNe
	opLt
	opLe
	opGt
	opGe
)

var cmpOps = map[string]cmpOp{"=": opEq, "<>": opNe, "!=": opNe, "<": opLt, "<=": opLe, ">": opGt, ">=": opGe}
var cmpNames = [...]string{"=", "<>", "<", "<=", ">", ">="}

// swap is the operator with the operands exchanged: a < b is b > a.
func (o cmpOp) swap() cmpOp {
	switch o {
	case opLt:
		return opGt
	case opLe:
		return opGe
	case opGt:
		return opLt
	case opGe:
		return opLe
	}
	return o
}

// holds reports whether a three-way comparison result c satisfies o.
func (o cmpOp) holds(c int) bool {
	switch o {
	case opEq:
		return c == 0
	case opNe:
		return c != 0
	case opLt:
		return c < 0
	case opLe:
		return c <= 0
	case opGt:
		return c > 0
	}
	return c >= 0
}

// narrowTo keeps an integer column's own type when the other operands are
// integer constants that fit in it: smallint_col = 5 compares as
// smallint, as PostgreSQL's cross-type operators do, so the planner sees
// the column itself rather than a cast of it.
func narrowTo(t kind, xs ...Expr) kind {
	if !t.isInt() {
		return t
	}
	for _, x := range xs {
		k := typeOf(x)
		if !k.isInt() || numericRank(k) >= numericRank(t) {
			continue
		}
		fits := true
		for _, y := range xs {
			if y != x && !fitsInt(y, k) && typeOf(y) != k {
				fits = false
			}
		}
		if fits {
			return k
		}
	}
	return t
}

// fitsInt reports whether e is an integer literal (or NULL) in k's range.
func fitsInt(e Expr, k kind) bool {
	l, ok := e.(*Literal)
	if !ok || l.untyped {
		return false
	}
	if l.Value == nil {
		return true
	}
	v, ok := toInt64(l.Value)
	if !ok {
		return false
	}
	switch k {
	case kInt2:
		return v == int64(int16(v))
	case kInt4:
		return v == int64(int32(v))
	}
	return true
}

// orderable reports whether values of kind k can be ordered.
func orderable(k kind) bool { return k != kOther && k != kUnknown }

// compareType is the type two operands meet in for comparison.
func compareType(l, r kind) (kind, bool) {
	switch {
	case l == kUnknown && r == kUnknown:
		return kText, true
	case l == kUnknown:
		return r, orderable(r)
	case r == kUnknown:
		return l, orderable(l)
	case l == r:
		return l, orderable(l)
	case l.isNumeric() && r.isNumeric():
		return promote(l, r), true
	case l.isDatetime() && r.isDatetime():
		if l == kTimestampTZ || r == kTimestampTZ {
			return kTimestampTZ, true
		}
		return kTimestamp, true
	}
	return 0, false
}

// Compare is l op r for op one of = <> != < <= > >=, after coercing both
// sides to a common type (numeric promotion, date with timestamp, an
// untyped literal to the other side's type). Incomparable types are
// SQLSTATE 42883.
func Compare(op string, l, r Expr) (Expr, error) {
	o, ok := cmpOps[op]
	if !ok {
		return nil, opNotExist(op, l.Type(), r.Type())
	}
	if isNested(l.Type()) || isNested(r.Type()) {
		return compareNested(o, l, r)
	}
	l, r, err := coercePair(cmpNames[o], l, r)
	if err != nil {
		return nil, err
	}
	return &Comparison{Op: cmpNames[o], Left: l, Right: r}, nil
}

// coercePair casts l and r to their comparison type.
func coercePair(op string, l, r Expr) (Expr, Expr, error) {
	t, ok := compareType(typeOf(l), typeOf(r))
	if !ok {
		return nil, nil, opNotExist(op, l.Type(), r.Type())
	}
	t = narrowTo(t, l, r)
	tt := t.typ()
	var err error
	if l, err = AssignCast(l, tt); err != nil { // implicit, or a fitting literal narrowed
		return nil, nil, err
	}
	if r, err = AssignCast(r, tt); err != nil {
		return nil, nil, err
	}
	return l, r, nil
}

func (c *Comparison) Type() arrow.DataType { return BoolType }
func (c *Comparison) Nullable() bool       { return c.Left.Nullable() || c.Right.Nullable() }
func (c *Comparison) Children() []Expr     { return []Expr{c.Left, c.Right} }
func (c *Comparison) WithChildren(ch []Expr) Expr {
	return &Comparison{Op: c.Op, Left: ch[0], Right: ch[1]}
}
func (c *Comparison) String() string { return wrap(c.Left) + " " + c.Op + " " + wrap(c.Right) }
func (c *Comparison) mayFail() bool  { return false }

func (c *Comparison) Eval(ctx *Context, rec arrow.RecordBatch) (arrow.Array, error) {
	l, err := evalOperand(ctx, c.Left, rec)
	if err != nil {
		return nil, err
	}
	defer l.release()
	r, err := evalOperand(ctx, c.Right, rec)
	if err != nil {
		return nil, err
	}
	defer r.release()
	return compareOperands(ctx, cmpOps[c.Op], l, r, int(rec.NumRows()), kindOf(c.Left.Type()))
}

// compareArrays compares two arrays of one kind row by row.
func compareArrays(ctx *Context, op cmpOp, a, b arrow.Array) (arrow.Array, error) {
	return compareOperands(ctx, op, operand{arr: a}, operand{arr: b}, a.Len(), kindOf(a.DataType()))
}

// compareOperands is the comparison kernel: a boolean array of n rows,
// NULL where either side is.
func compareOperands(ctx *Context, op cmpOp, l, r operand, n int, k kind) (arrow.Array, error) {
	if l.isNullConst() || r.isNullConst() {
		return allNull(ctx.Alloc, BoolType, n), nil
	}
	if l.arr == nil && r.arr == nil {
		var err error
		if l.arr, err = l.materialize(ctx.Alloc, k.typ(), n); err != nil {
			return nil, err
		}
		defer l.arr.Release()
	}
	if l.arr == nil { // constant op column → column op' constant
		l, r, op = r, l, op.swap()
	}
	buf, out := newBitmap(ctx.Alloc, n)
	switch k {
	case kInt2:
		cmpFixed[int16](op, l, r, out)
	case kInt4, kDate:
		cmpFixed[int32](op, l, r, out)
	case kInt8, kTimestamp, kTimestampTZ:
		cmpFixed[int64](op, l, r, out)
	case kFloat4:
		cmpFloat[float32](op, l, r, out)
	case kFloat8:
		cmpFloat[float64](op, l, r, out)
	case kText, kBytea:
		cmpBinary(op, l, r, out)
	case kBool:
		lb, lo := bitsOf(l.arr, 1)
		if r.arr == nil {
			rv := r.val.(bool)
			cmpRows(op, n, out, func(i int) int { return cmpBool(bitutil.BitIsSet(lb, lo+i), rv) })
		} else {
			rb, ro := bitsOf(r.arr, 1)
			cmpRows(op, n, out, func(i int) int { return cmpBool(bitutil.BitIsSet(lb, lo+i), bitutil.BitIsSet(rb, ro+i)) })
		}
	case kInterval:
		a := vals[interval](l.arr)
		if r.arr == nil {
			rv := asT[interval](r.val)
			cmpRows(op, n, out, func(i int) int { return ivCompare(a[i], rv) })
		} else {
			b := vals[interval](r.arr)
			cmpRows(op, n, out, func(i int) int { return ivCompare(a[i], b[i]) })
		}
	default:
		buf.Release()
		return nil, sqlerr.New(sqlerr.UndefinedFunction, "cannot compare values of type %s", kindNames[k])
	}
	return boolArray(n, buf, validityAnd(ctx.Alloc, n, l.arr, r.arr)), nil
}

func cmpBool(a, b bool) int { return int(b2u(a)) - int(b2u(b)) }

// block is how many results the kernels compute as bools before packing
// them into bits.
const block = 1024

// cmpRows is the generic comparison loop, for the types that need a
// function per row.
func cmpRows(op cmpOp, n int, out []byte, c func(i int) int) {
	var tmp [block]bool
	for base := 0; base < n; base += block {
		t := tmp[:min(block, n-base)]
		for i := range t {
			t[i] = op.holds(c(base + i))
		}
		packBools(t, out[base/8:])
	}
}

func cmpFixed[T number](op cmpOp, l, r operand, out []byte) {
	a := vals[T](l.arr)
	if r.arr == nil {
		cmpVS(op, a, asT[T](r.val), out)
		return
	}
	cmpVV(op, a, vals[T](r.arr), out)
}

func cmpVS[T cmp.Ordered](op cmpOp, a []T, s T, out []byte) {
	var tmp [block]bool
	for base := 0; base < len(a); base += block {
		c := a[base:min(base+block, len(a))]
		t := tmp[:len(c)]
		switch op {
		case opEq:
			for i, v := range c {
				t[i] = v == s
			}
		case opNe:
			for i, v := range c {
				t[i] = v != s
			}
		case opLt:
			for i, v := range c {
				t[i] = v < s
			}
		case opLe:
			for i, v := range c {
				t[i] = v <= s
			}
		case opGt:
			for i, v := range c {
				t[i] = v > s
			}
		case opGe:
			for i, v := range c {
				t[i] = v >= s
			}
		}
		packBools(t, out[base/8:])
	}
}

func cmpVV[T cmp.Ordered](op cmpOp, a, b []T, out []byte) {
	var tmp [block]bool
	switch op {
	case opGt, opGe:
		a, b, op = b, a, op.swap()
	}
	for base := 0; base < len(a); base += block {
		end := min(base+block, len(a))
		x, y := a[base:end], b[base:end]
		t := tmp[:len(x)]
		y = y[:len(x)]
		switch op {
		case opEq:
			for i := range x {
				t[i] = x[i] == y[i]
			}
		case opNe:
			for i := range x {
				t[i] = x[i] != y[i]
			}
		case opLt:
			for i := range x {
				t[i] = x[i] < y[i]
			}
		case opLe:
			for i := range x {
				t[i] = x[i] <= y[i]
			}
		}
		packBools(t, out[base/8:])
	}
}

// cmpFloat uses the fast loops unless a NaN is present, which PostgreSQL
// orders above everything and equal to itself.
func cmpFloat[T floatT](op cmpOp, l, r operand, out []byte) {
	a := vals[T](l.arr)
	var b []T
	var s T
	if r.arr != nil {
		b = vals[T](r.arr)
	} else {
		s = asT[T](r.val)
	}
	if !hasNaN(a) && !hasNaN(b) && s == s {
		cmpFixed[T](op, l, r, out)
		return
	}
	if b == nil {
		cmpRows(op, len(a), out, func(i int) int { return floatCmp(a[i], s) })
	} else {
		cmpRows(op, len(a), out, func(i int) int { return floatCmp(a[i], b[i]) })
	}
}

func hasNaN[T floatT](a []T) bool {
	nan := false
	for _, v := range a {
		nan = nan || v != v
	}
	return nan
}

// floatCmp is PostgreSQL's float comparison: NaN equals NaN and sorts
// after every other value.
func floatCmp[T floatT](a, b T) int {
	switch an, bn := a != a, b != b; {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	}
	return cmp.Compare(a, b)
}

func cmpBinary(op cmpOp, l, r operand, out []byte) {
	a := viewOf(l.arr)
	n := l.arr.Len()
	var tmp [block]bool
	var sv []byte
	var b binaryView
	if r.arr == nil {
		switch v := r.val.(type) {
		case string:
			sv = []byte(v)
		case []byte:
			sv = v
		}
	} else {
		b = viewOf(r.arr)
	}
	for base := 0; base < n; base += block {
		t := tmp[:min(block, n-base)]
		switch {
		case r.arr == nil && (op == opEq || op == opNe):
			for i := range t {
				t[i] = bytes.Equal(a.at(base+i), sv) == (op == opEq)
			}
		case r.arr == nil:
			for i := range t {
				t[i] = op.holds(bytes.Compare(a.at(base+i), sv))
			}
		case op == opEq || op == opNe:
			for i := range t {
				t[i] = bytes.Equal(a.at(base+i), b.at(base+i)) == (op == opEq)
			}
		default:
			for i := range t {
				t[i] = op.holds(bytes.Compare(a.at(base+i), b.at(base+i)))
			}
		}
		packBools(t, out[base/8:])
	}
}
