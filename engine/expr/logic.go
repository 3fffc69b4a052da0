package expr

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// Three-valued logic: AND, OR, NOT, IS [NOT] NULL, IS [NOT] TRUE/FALSE/
// UNKNOWN and IS [NOT] DISTINCT FROM, on bitmaps a byte at a time.

// BoolOp is AND or OR of two or more boolean arguments, with Kleene's
// rules: false AND NULL is false, true OR NULL is true, otherwise NULL
// wins. Arguments after the first that could raise an error are
// evaluated only on the rows still undecided, as PostgreSQL's
// short-circuit evaluation would.
type BoolOp struct {
	Op   string // "AND" or "OR"
	Args []Expr
}

// And is the conjunction of xs (true for none).
func And(xs ...Expr) (Expr, error) { return boolOp("AND", xs) }

// Or is the disjunction of xs (false for none).
func Or(xs ...Expr) (Expr, error) { return boolOp("OR", xs) }

func boolOp(op string, xs []Expr) (Expr, error) {
	var args []Expr
	for _, x := range xs {
		x, err := asBool(op, x)
		if err != nil {
			return nil, err
		}
		if b, ok := x.(*BoolOp); ok && b.Op == op {
			args = append(args, b.Args...)
		} else {
			args = append(args, x)
		}
	}
	switch len(args) {
	case 0:
		return Lit(op == "AND", BoolType), nil
	case 1:
		return args[0], nil
	}
	return &BoolOp{Op: op, Args: args}, nil
}

// asBool checks that x is boolean (an untyped literal becomes one).
func asBool(what string, x Expr) (Expr, error) {
	switch typeOf(x) {
	case kBool:
		return x, nil
	case kUnknown:
		return ImplicitCast(x, BoolType)
	}
	return nil, sqlerr.New(sqlerr.DatatypeMismatch, "argument of %s must be type boolean, not type %s", what, TypeName(x.Type()))
}

func (b *BoolOp) Type() arrow.DataType { return BoolType }
func (b *BoolOp) Nullable() bool {
	for _, a := range b.Args {
		if a.Nullable() {
			return true
		}
	}
	return false
}
func (b *BoolOp) Children() []Expr { return b.Args }
func (b *BoolOp) WithChildren(ch []Expr) Expr {
	return &BoolOp{Op: b.Op, Args: append([]Expr(nil), ch...)}
}
func (b *BoolOp) mayFail() bool { return false }

func (b *BoolOp) String() string {
	parts := make([]string, len(b.Args))
	for i, a := range b.Args {
		parts[i] = wrap(a)
	}
	return strings.Join(parts, " "+b.Op+" ")
}

// bits3 is a three-valued bitmap pair: rows known true, rows known false.
type bits3 struct{ t, f []byte }

func (b *BoolOp) Eval(ctx *Context, rec arrow.RecordBatch) (arrow.Array, error) {
	n := int(rec.NumRows())
	nb := int(bitutil.BytesForBits(int64(n)))
	and := b.Op == "AND"
	acc := bits3{t: make([]byte, nb), f: make([]byte, nb)}
	if and {
		fill(acc.t, 0xff)
	} else {
		fill(acc.f, 0xff)
	}
	for k, arg := range b.Args {
		var arr arrow.Array
		var rows []int32
		var err error
		if k > 0 && mayFail(arg) {
			// Only rows not yet decided: AND stops at false, OR at true.
			decided := acc.f
			if !and {
				decided = acc.t
			}
			for i := 0; i < n; i++ {
				if !bitutil.BitIsSet(decided, i) {
					rows = append(rows, int32(i))
				}
			}
			if len(rows) == 0 {
				break
			}
			if len(rows) == n {
				rows = nil
			}
		}
		if rows != nil {
			arr, err = evalRows(ctx, arg, rec, rows)
		} else {
			arr, err = arg.Eval(ctx, rec)
		}
		if err != nil {
			return nil, err
		}
		x := split3(ctx.Alloc, arr, n, rows, and)
		arr.Release()
		for i := range acc.t {
			if and {
				acc.t[i] &= x.t[i]
				acc.f[i] |= x.f[i]
			} else {
				acc.t[i] |= x.t[i]
				acc.f[i] &= x.f[i]
			}
		}
	}
	data, db := newBitmap(ctx.Alloc, n)
	valid, vb := newBitmap(ctx.Alloc, n)
	copy(db, acc.t)
	for i := range vb {
		vb[i] = acc.t[i] | acc.f[i]
	}
	return boolArray(n, data, valid), nil
}

func fill(b []byte, v byte) {
	for i := range b {
		b[i] = v
	}
}

// split3 turns a boolean array into known-true and known-false bitmaps of
// n rows. When the array covers only the listed rows, the other rows get
// the neutral value of the operator (true for AND, false for OR).
func split3(alloc memory.Allocator, a arrow.Array, n int, rows []int32, and bool) bits3 {
	nb := int(bitutil.BytesForBits(int64(n)))
	x := bits3{t: make([]byte, nb), f: make([]byte, nb)}
	if rows != nil {
		if and {
			fill(x.t, 0xff)
		} else {
			fill(x.f, 0xff)
		}
		for j, r := range rows {
			bitutil.ClearBit(x.t, int(r))
			bitutil.ClearBit(x.f, int(r))
			if a.IsValid(j) {
				if a.(interface{ Value(int) bool }).Value(j) {
					bitutil.SetBit(x.t, int(r))
				} else {
					bitutil.SetBit(x.f, int(r))
				}
			}
		}
		return x
	}
	if a.NullN() == a.Len() {
		return x
	}
	data, rel := alignedBits(alloc, a, 1)
	defer rel()
	var valid []byte
	if a.NullN() > 0 {
		var relv func()
		valid, relv = alignedBits(alloc, a, 0)
		defer relv()
	}
	for i := range x.t {
		v := byte(0xff)
		if valid != nil {
			v = valid[i]
		}
		x.t[i] = v & data[i]
		x.f[i] = v &^ data[i]
	}
	return x
}

// NotExpr is NOT X: NULL stays NULL.
type NotExpr struct{ X Expr }

// Not is the negation of a boolean.
func Not(x Expr) (Expr, error) {
	x, err := asBool("NOT", x)
	if err != nil {
		return nil, err
	}
	return &NotExpr{X: x}, nil
}

func (n *NotExpr) Type() arrow.DataType        { return BoolType }
func (n *NotExpr) Nullable() bool              { return n.X.Nullable() }
func (n *NotExpr) Children() []Expr            { return []Expr{n.X} }
func (n *NotExpr) WithChildren(ch []Expr) Expr { return &NotExpr{X: ch[0]} }
func (n *NotExpr) String() string              { return "NOT " + wrap(n.X) }
func (n *NotExpr) mayFail() bool               { return false }

func (n *NotExpr) Eval(ctx *Context, rec arrow.RecordBatch) (arrow.Array, error) {
	a, err := n.X.Eval(ctx, rec)
	if err != nil {
		return nil, err
	}
	defer a.Release()
	rows := a.Len()
	if a.NullN() == rows {
		return allNull(ctx.Alloc, BoolType, rows), nil
	}
	buf, out := newBitmap(ctx.Alloc, rows)
	bits, off := bitsOf(a, 1)
	bitutil.InvertBitmap(bits, off, rows, out, 0)
	return boolArray(rows, buf, copyValidity(ctx.Alloc, a)), nil
}

// NullTest is X IS NULL, or X IS NOT NULL when Not; never NULL itself.
type NullTest struct {
	X   Expr
	Not bool
}

// IsNull is x IS NULL (not false) or x IS NOT NULL (not true).
func IsNull(x Expr, not bool) Expr { return &NullTest{X: x, Not: not} }

func (t *NullTest) Type() arrow.DataType        { return BoolType }
func (t *NullTest) Nullable() bool              { return false }
func (t *NullTest) Children() []Expr            { return []Expr{t.X} }
func (t *NullTest) WithChildren(ch []Expr) Expr { return &NullTest{X: ch[0], Not: t.Not} }
func (t *NullTest) mayFail() bool               { return false }
func (t *NullTest) String() string {
	if t.Not {
		return wrap(t.X) + " IS NOT NULL"
	}
	return wrap(t.X) + " IS NULL"
}

func (t *NullTest) Eval(ctx *Context, rec arrow.RecordBatch) (arrow.Array, error) {
	a, err := t.X.Eval(ctx, rec)
	if err != nil {
		return nil, err
	}
	defer a.Release()
	n := a.Len()
	buf, out := newBitmap(ctx.Alloc, n)
	switch bits, off := bitsOf(a, 0); {
	case a.NullN() == 0:
		bitutil.SetBitsTo(out, 0, int64(n), t.Not)
	case bits == nil: // all NULL
		bitutil.SetBitsTo(out, 0, int64(n), !t.Not)
	case t.Not:
		bitutil.CopyBitmap(bits, off, n, out, 0)
	default:
		bitutil.InvertBitmap(bits, off, n, out, 0)
	}
	return boolArray(n, buf, nil), nil
}

// BoolTest is X IS [NOT] TRUE / FALSE / UNKNOWN; never NULL itself.
type BoolTest struct {
	X    Expr
	Test string // "TRUE", "FALSE" or "UNKNOWN"
	Not  bool
}

// IsBool is x IS [NOT] TRUE, FALSE or UNKNOWN (test, case-insensitive).
func IsBool(x Expr, test string, not bool) (Expr, error) {
	test = strings.ToUpper(test)
	if test != "TRUE" && test != "FALSE" && test != "UNKNOWN" {
		return nil, sqlerr.New(sqlerr.SyntaxError, "syntax error at or near %q", test)
	}
	x, err := asBool("IS "+test, x)
	if err != nil {
		return nil, err
	}
	return &BoolTest{X: x, Test: test, Not: not}, nil
}

func (t *BoolTest) Type() arrow.DataType { return BoolType }
func (t *BoolTest) Nullable() bool       { return false }
func (t *BoolTest) Children() []Expr     { return []Expr{t.X} }
func (t *BoolTest) WithChildren(ch []Expr) Expr {
	return &BoolTest{X: ch[0], Test: t.Test, Not: t.Not}
}
func (t *BoolTest) mayFail() bool { return false }
func (t *BoolTest) String() string {
	if t.Not {
		return wrap(t.X) + " IS NOT " + t.Test
	}
	return wrap(t.X) + " IS " + t.Test
}

func (t *BoolTest) Eval(ctx *Context, rec arrow.RecordBatch) (arrow.Array, error) {
	a, err := t.X.Eval(ctx, rec)
	if err != nil {
		return nil, err
	}
	defer a.Release()
	n := a.Len()
	x := split3(ctx.Alloc, a, n, nil, true)
	buf, out := newBitmap(ctx.Alloc, n)
	for i := range out {
		var v byte
		switch t.Test {
		case "TRUE":
			v = x.t[i]
		case "FALSE":
			v = x.f[i]
		default:
			v = ^(x.t[i] | x.f[i])
		}
		if t.Not {
			v = ^v
		}
		out[i] = v
	}
	return boolArray(n, buf, nil), nil
}

// DistinctTest is Left IS DISTINCT FROM Right (or IS NOT DISTINCT FROM
// when Not): a comparison in which NULL equals NULL; never NULL itself.
type DistinctTest struct {
	Left, Right Expr
	Not         bool
}

// IsDistinctFrom is l IS DISTINCT FROM r, or IS NOT DISTINCT FROM when not.
func IsDistinctFrom(l, r Expr, not bool) (Expr, error) {
	l, r, err := coercePair("IS DISTINCT FROM", l, r)
	if err != nil {
		return nil, err
	}
	return &DistinctTest{Left: l, Right: r, Not: not}, nil
}

func (d *DistinctTest) Type() arrow.DataType { return BoolType }
func (d *DistinctTest) Nullable() bool       { return false }
func (d *DistinctTest) Children() []Expr     { return []Expr{d.Left, d.Right} }
func (d *DistinctTest) WithChildren(ch []Expr) Expr {
	return &DistinctTest{Left: ch[0], Right: ch[1], Not: d.Not}
}
func (d *DistinctTest) mayFail() bool { return false }
func (d *DistinctTest) String() string {
	if d.Not {
		return wrap(d.Left) + " IS NOT DISTINCT FROM " + wrap(d.Right)
	}
	return wrap(d.Left) + " IS DISTINCT FROM " + wrap(d.Right)
}

func (d *DistinctTest) Eval(ctx *Context, rec arrow.RecordBatch) (arrow.Array, error) {
	n := int(rec.NumRows())
	l, err := d.Left.Eval(ctx, rec)
	if err != nil {
		return nil, err
	}
	defer l.Release()
	r, err := d.Right.Eval(ctx, rec)
	if err != nil {
		return nil, err
	}
	defer r.Release()
	ne, err := compareOperands(ctx, opNe, operand{arr: l}, operand{arr: r}, n, kindOf(l.DataType()))
	if err != nil {
		return nil, err
	}
	defer ne.Release()
	x := split3(ctx.Alloc, ne, n, nil, true)
	lv := validBytes(ctx.Alloc, l)
	rv := validBytes(ctx.Alloc, r)
	buf, out := newBitmap(ctx.Alloc, n)
	for i := range out {
		v := x.t[i] | (lv[i] ^ rv[i]) // distinct: unequal, or exactly one NULL
		if d.Not {
			v = ^v
		}
		out[i] = v
	}
	return boolArray(n, buf, nil), nil
}

// validBytes is a's validity as an aligned bitmap (all ones without NULLs).
func validBytes(alloc memory.Allocator, a arrow.Array) []byte {
	nb := int(bitutil.BytesForBits(int64(a.Len())))
	out := make([]byte, nb)
	switch bits, off := bitsOf(a, 0); {
	case a.NullN() == 0:
		fill(out, 0xff)
	case bits != nil:
		bitutil.CopyBitmap(bits, off, a.Len(), out, 0)
	}
	return out
}
