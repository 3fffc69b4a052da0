package expr

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// Arithmetic is a binary arithmetic operator (+ - * / % ^), string or
// bytea concatenation (||), or unary minus (Right nil). Operands have been
// coerced to the types the operator works on; the result is NULL where
// either operand is.
type Arithmetic struct {
	Op          string
	Left, Right Expr
	typ         arrow.DataType
	numeric     bool // numeric rather than double precision (IsNumeric)
}

// opNotExist is PostgreSQL's error for an operator with no overload for
// the operand types.
func opNotExist(op string, l, r arrow.DataType) error {
	var sig string
	if l == nil {
		sig = op + " " + TypeName(r)
	} else {
		sig = TypeName(l) + " " + op + " " + TypeName(r)
	}
	return sqlerr.New(sqlerr.UndefinedFunction, "operator does not exist: %s", sig).
		WithHint("No operator matches the given name and argument types. You might need to add explicit type casts.")
}

// typeOf is e's type for operator resolution: unknown for untyped
// literals and parameters.
func typeOf(e Expr) kind {
	if isUntyped(e) {
		return kUnknown
	}
	return kindOf(e.Type())
}

// Arith is the binary operator op (+ - * / % ^ ||) on l and r, or unary
// minus or plus when r is nil. Types resolve as in PostgreSQL: integers
// widen to the wider operand, an integer with a float gives double
// precision, ^ is always double precision; date ± integer is a date,
// date - date an integer, date or timestamp ± interval a timestamp,
// timestamp - timestamp an interval, interval * float an interval; ||
// joins text with anything (formatted as text) or bytea with bytea.
// An untyped literal takes the other operand's type. Anything else is
// SQLSTATE 42883.
func Arith(op string, l, r Expr) (Expr, error) {
	if r == nil {
		return unary(op, l)
	}
	lk, rk := typeOf(l), typeOf(r)
	if op == "||" {
		return concatOp(l, r, lk, rk)
	}
	if lk == kUnknown && rk == kUnknown {
		return nil, sqlerr.New(sqlerr.AmbiguousFunction, "operator is not unique: unknown %s unknown", op).
			WithHint("Could not choose a best candidate operator. You might need to add explicit type casts.")
	}
	if lk == kUnknown {
		lk = unknownOperand(op, rk, false)
	}
	if rk == kUnknown {
		rk = unknownOperand(op, lk, true)
	}
	lt, rt, res, ok := arithSignature(op, lk, rk)
	if !ok {
		return nil, opNotExist(op, l.Type(), r.Type())
	}
	numeric := res == kFloat8 && lt == kFloat8 && rt == kFloat8 && numericFlavour(l, r)
	var err error
	if l, err = ImplicitCast(l, lt.typ()); err != nil {
		return nil, err
	}
	if r, err = ImplicitCast(r, rt.typ()); err != nil {
		return nil, err
	}
	return &Arithmetic{Op: op, Left: l, Right: r, typ: res.typ(), numeric: numeric}, nil
}

// unknownOperand is the type an untyped operand of op takes opposite an
// operand of kind other: the same type where op exists for (other, other),
// else the one overload there is (date + integer, timestamp + interval).
func unknownOperand(op string, other kind, right bool) kind {
	if _, _, _, ok := arithSignature(op, other, other); ok {
		return other
	}
	switch {
	case other == kDate && op == "+":
		return kInt4
	case (other == kTimestamp || other == kTimestampTZ) && (op == "+" || (op == "-" && right)):
		return kInterval
	case other == kInterval && (op == "*" || op == "/"):
		return kFloat8
	}
	return other
}

// arithSignature resolves op for operand kinds l and r to the kinds the
// operands are cast to and the result kind.
func arithSignature(op string, l, r kind) (lt, rt, res kind, ok bool) {
	switch {
	case l.isNumeric() && r.isNumeric():
		if op == "^" {
			return kFloat8, kFloat8, kFloat8, true
		}
		switch op {
		case "+", "-", "*", "/", "%":
			t := promote(l, r)
			return t, t, t, true
		}
	case l == kDate && (r == kInt2 || r == kInt4) && (op == "+" || op == "-"):
		return kDate, kInt4, kDate, true
	case (l == kInt2 || l == kInt4) && r == kDate && op == "+":
		return kInt4, kDate, kDate, true
	case l == kDate && r == kDate && op == "-":
		return kDate, kDate, kInt4, true
	case l.isDatetime() && r == kInterval && (op == "+" || op == "-"):
		t := l
		if t == kDate {
			t = kTimestamp
		}
		return t, kInterval, t, true
	case l == kInterval && r.isDatetime() && op == "+":
		t := r
		if t == kDate {
			t = kTimestamp
		}
		return kInterval, t, t, true
	case l.isDatetime() && r.isDatetime() && op == "-":
		t := kTimestamp
		if l == kTimestampTZ || r == kTimestampTZ {
			t = kTimestampTZ
		}
		return t, t, kInterval, true
	case l == kInterval && r == kInterval && (op == "+" || op == "-"):
		return kInterval, kInterval, kInterval, true
	case l == kInterval && r.isNumeric() && (op == "*" || op == "/"):
		return kInterval, kFloat8, kInterval, true
	case l.isNumeric() && r == kInterval && op == "*":
		return kFloat8, kInterval, kInterval, true
	}
	return 0, 0, 0, false
}

func unary(op string, x Expr) (Expr, error) {
	k := typeOf(x)
	if k == kUnknown {
		var err error
		if x, err = ImplicitCast(x, Float8Type); err != nil {
			return nil, err
		}
		k = kFloat8
	}
	if !k.isNumeric() && k != kInterval {
		return nil, opNotExist(op, nil, x.Type())
	}
	switch op {
	case "+":
		return x, nil
	case "-":
		neg := &Arithmetic{Op: "-", Left: x, typ: x.Type(), numeric: IsNumeric(x)}
		if _, ok := x.(*Literal); ok {
			return evalConstant(&Context{Alloc: constAlloc}, neg)
		}
		return neg, nil
	}
	return nil, opNotExist(op, nil, x.Type())
}

// IsNumeric reports whether e, of type double precision, stands for a
// PostgreSQL numeric: a numeric literal or cast, or arithmetic or a math
// function over numerics and integers only. It decides how round(e) and
// casts of e to integers round, and could tell a front door to describe e
// as numeric.
func IsNumeric(e Expr) bool {
	switch x := e.(type) {
	case *Literal:
		return x.numeric
	case *CastExpr:
		return x.numeric
	case *Arithmetic:
		return x.numeric
	case *FuncCall:
		return x.numeric
	}
	return false
}

// numericFlavour reports whether operands of a double precision operation
// make it numeric: one is numeric, and none is a double or real.
func numericFlavour(xs ...Expr) bool {
	numeric := false
	for _, x := range xs {
		switch {
		case IsNumeric(x):
			numeric = true
		case typeOf(x).isFloat():
			return false
		}
	}
	return numeric
}

// Neg is unary minus.
func Neg(x Expr) (Expr, error) { return unary("-", x) }

// concatOp resolves ||: text with text, text with any other type but
// bytea (which it formats as text), or bytea with bytea.
func concatOp(l, r Expr, lk, rk kind) (Expr, error) {
	if IsList(l.Type()) || IsList(r.Type()) {
		return newArrayConcat(l, r)
	}
	switch {
	case lk == kBytea && (rk == kBytea || rk == kUnknown), rk == kBytea && lk == kUnknown:
		return bin("||", l, r, kBytea, kBytea, kBytea)
	case (lk == kText || lk == kUnknown) && rk != kBytea && rk != kOther,
		(rk == kText || rk == kUnknown) && lk != kBytea && lk != kOther:
		return bin("||", l, r, kText, kText, kText)
	}
	return nil, opNotExist("||", l.Type(), r.Type())
}

func bin(op string, l, r Expr, lt, rt, res kind) (Expr, error) {
	var err error
	if l, err = Cast(l, lt.typ()); err != nil {
		return nil, err
	}
	if r, err = Cast(r, rt.typ()); err != nil {
		return nil, err
	}
	return &Arithmetic{Op: op, Left: l, Right: r, typ: res.typ()}, nil
}

func (a *Arithmetic) Type() arrow.DataType { return a.typ }
func (a *Arithmetic) Nullable() bool {
	return a.Left.Nullable() || (a.Right != nil && a.Right.Nullable())
}

func (a *Arithmetic) Children() []Expr {
	if a.Right == nil {
		return []Expr{a.Left}
	}
	return []Expr{a.Left, a.Right}
}

func (a *Arithmetic) WithChildren(ch []Expr) Expr {
	c := *a
	c.Left = ch[0]
	if len(ch) > 1 {
		c.Right = ch[1]
	}
	return &c
}

func (a *Arithmetic) String() string {
	if a.Right == nil {
		return "-" + wrap(a.Left)
	}
	return wrap(a.Left) + " " + a.Op + " " + wrap(a.Right)
}

func (a *Arithmetic) mayFail() bool {
	k := kindOf(a.typ)
	return k != kText && k != kBytea && !(a.Right == nil && k.isFloat())
}

func (a *Arithmetic) Eval(ctx *Context, rec arrow.RecordBatch) (arrow.Array, error) {
	n := int(rec.NumRows())
	if a.Right == nil {
		x, err := a.Left.Eval(ctx, rec)
		if err != nil {
			return nil, err
		}
		defer x.Release()
		switch k := kindOf(a.typ); k {
		case kInt2:
			return negInt[int16](ctx, x, k)
		case kInt4:
			return negInt[int32](ctx, x, k)
		case kInt8:
			return negInt[int64](ctx, x, k)
		case kFloat4:
			return negFloat[float32](ctx, x, k), nil
		case kFloat8:
			return negFloat[float64](ctx, x, k), nil
		case kInterval:
			return negInterval(ctx, x)
		}
		return nil, opNotExist("-", nil, a.typ)
	}
	l, err := evalOperand(ctx, a.Left, rec)
	if err != nil {
		return nil, err
	}
	defer l.release()
	r, err := evalOperand(ctx, a.Right, rec)
	if err != nil {
		return nil, err
	}
	defer r.release()
	if l.isNullConst() || r.isNullConst() {
		return allNull(ctx.Alloc, a.typ, n), nil
	}
	if l.arr == nil && r.arr == nil {
		if l.arr, err = l.materialize(ctx.Alloc, a.Left.Type(), n); err != nil {
			return nil, err
		}
		defer l.arr.Release()
	}
	lk, rk := kindOf(a.Left.Type()), kindOf(a.Right.Type())
	op := a.Op[0]
	switch res := kindOf(a.typ); {
	case a.Op == "||":
		return concatArrays(ctx, l, r, n, res)
	case lk.isNumeric() && rk.isNumeric():
		switch res {
		case kInt2:
			return arithInt[int16](ctx, op, l, r, n, res)
		case kInt4:
			return arithInt[int32](ctx, op, l, r, n, res)
		case kInt8:
			return arithInt[int64](ctx, op, l, r, n, res)
		case kFloat4:
			return arithFloat[float32](ctx, op, l, r, n, res)
		}
		return arithFloat[float64](ctx, op, l, r, n, res)
	}
	return arithTemporal(ctx, op, l, r, n, lk, rk, kindOf(a.typ))
}

// wrap renders a sub-expression, in parentheses when it is an operator.
func wrap(e Expr) string {
	switch x := e.(type) {
	case *Arithmetic, *Comparison, *BoolOp, *NotExpr, *NullTest, *BoolTest, *DistinctTest,
		*InList, *BetweenExpr, *LikeExpr, *RegexExpr:
		return "(" + e.String() + ")"
	case *Literal:
		s := x.String()
		if len(s) > 0 && s[0] == '-' {
			return "(" + s + ")"
		}
		return s
	}
	return e.String()
}
