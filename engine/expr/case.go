package expr

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
)

// Conditional expressions: CASE, COALESCE, NULLIF, GREATEST, LEAST. CASE
// and COALESCE evaluate each branch only on the rows that reach it, so a
// branch no row takes never raises an error.

// When is one WHEN … THEN … of a CASE.
type When struct {
	Cond   Expr // a boolean, or the value compared with the operand
	Result Expr
}

// CaseExpr is CASE [Operand] WHEN … THEN … [ELSE …] END.
type CaseExpr struct {
	Operand Expr // nil for a searched CASE
	Whens   []When
	Else    Expr // nil for ELSE NULL
	typ     arrow.DataType
	// For a simple CASE: the type each WHEN compares in.
	cmpKinds []kind
}

// Case builds CASE [operand] WHEN cond THEN result … [ELSE els] END. The
// results (and els) are coerced to their common type (SQLSTATE 42804 if
// there is none); with an operand each WHEN value is compared with it by
// =, else each condition must be boolean.
func Case(operand Expr, whens []When, els Expr) (Expr, error) {
	results := make([]Expr, 0, len(whens)+1)
	for _, w := range whens {
		results = append(results, w.Result)
	}
	if els != nil {
		results = append(results, els)
	}
	t, err := CommonTypeOf("CASE", results...)
	if err != nil {
		return nil, err
	}
	c := &CaseExpr{Operand: operand, typ: t}
	for _, w := range whens {
		var nw When
		if nw.Result, err = ImplicitCast(w.Result, t); err != nil {
			return nil, err
		}
		if operand == nil {
			if nw.Cond, err = asBool("CASE/WHEN", w.Cond); err != nil {
				return nil, err
			}
		} else {
			k, ok := compareType(typeOf(operand), typeOf(w.Cond))
			if !ok {
				return nil, opNotExist("=", operand.Type(), w.Cond.Type())
			}
			if _, err := ImplicitCast(operand, k.typ()); err != nil {
				return nil, err
			}
			if nw.Cond, err = ImplicitCast(w.Cond, k.typ()); err != nil {
				return nil, err
			}
			c.cmpKinds = append(c.cmpKinds, k)
		}
		c.Whens = append(c.Whens, nw)
	}
	if els != nil {
		if c.Else, err = ImplicitCast(els, t); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *CaseExpr) Type() arrow.DataType { return c.typ }
func (c *CaseExpr) Nullable() bool {
	if c.Else == nil || c.Else.Nullable() {
		return true
	}
	for _, w := range c.Whens {
		if w.Result.Nullable() {
			return true
		}
	}
	return false
}
func (c *CaseExpr) mayFail() bool { return false }

// Children are the operand (if any), each WHEN's condition and result,
// then the ELSE (if any).
func (c *CaseExpr) Children() []Expr {
	var ch []Expr
	if c.Operand != nil {
		ch = append(ch, c.Operand)
	}
	for _, w := range c.Whens {
		ch = append(ch, w.Cond, w.Result)
	}
	if c.Else != nil {
		ch = append(ch, c.Else)
	}
	return ch
}

func (c *CaseExpr) WithChildren(ch []Expr) Expr {
	n := *c
	if c.Operand != nil {
		n.Operand, ch = ch[0], ch[1:]
	}
	n.Whens = make([]When, len(c.Whens))
	for i := range n.Whens {
		n.Whens[i] = When{Cond: ch[2*i], Result: ch[2*i+1]}
	}
	if c.Else != nil {
		n.Else = ch[2*len(c.Whens)]
	}
	return &n
}

func (c *CaseExpr) String() string {
	var b strings.Builder
	b.WriteString("CASE")
	if c.Operand != nil {
		b.WriteString(" " + c.Operand.String())
	}
	for _, w := range c.Whens {
		b.WriteString(" WHEN " + w.Cond.String() + " THEN " + w.Result.String())
	}
	if c.Else != nil {
		b.WriteString(" ELSE " + c.Else.String())
	}
	b.WriteString(" END")
	return b.String()
}

// pieces collects the results of branches evaluated on subsets of rows and
// assembles them: row i of the result is row pos[i] of part which[i].
type pieces struct {
	parts      []arrow.Array
	which, pos []int32
}

func newPieces(n int) *pieces {
	p := &pieces{which: make([]int32, n), pos: make([]int32, n)}
	for i := range p.which {
		p.which[i] = -1
	}
	return p
}

// add records a part holding the values of rows: one per row, in order,
// or — when full — one per row of the batch.
func (p *pieces) add(a arrow.Array, rows []int32, full bool) {
	k := int32(len(p.parts))
	p.parts = append(p.parts, a)
	for j, r := range rows {
		p.which[r], p.pos[r] = k, int32(j)
		if full {
			p.pos[r] = r
		}
	}
}

// evalBranch evaluates e for the given rows of rec. A branch that cannot
// fail is evaluated on the whole batch when that is cheaper than
// gathering its inputs (a column or constant, or most of the rows); full
// reports that the result has a value per row of the batch.
func evalBranch(ctx *Context, e Expr, rec arrow.RecordBatch, rows []int32) (arrow.Array, bool, error) {
	n := int(rec.NumRows())
	if len(rows) == n || (!mayFail(e) && (len(rows)*2 >= n || cheap(e))) {
		a, err := e.Eval(ctx, rec)
		return a, true, err
	}
	a, err := evalRows(ctx, e, rec, rows)
	return a, false, err
}

// cheap reports an expression whose evaluation on a whole batch costs
// next to nothing.
func cheap(e Expr) bool {
	switch e.(type) {
	case *Column, *Literal, *Parameter:
		return true
	}
	return false
}

func (p *pieces) release() {
	for _, a := range p.parts {
		a.Release()
	}
}

// build assembles the result; a single part that covers every row in
// order is returned as it is.
func (p *pieces) build(ctx *Context, t arrow.DataType) (arrow.Array, error) {
	n := len(p.which)
	if len(p.parts) == 1 && p.parts[0].Len() == n && p.which[0] == 0 && p.which[n-1] == 0 && p.pos[n-1] == int32(n-1) {
		covers := true
		for i, w := range p.which {
			covers = covers && w == 0 && p.pos[i] == int32(i)
		}
		if covers {
			p.parts[0].Retain()
			return p.parts[0], nil
		}
	}
	if len(p.parts) == 0 {
		return allNull(ctx.Alloc, t, n), nil
	}
	return gather(ctx.Alloc, t, p.parts, p.which, p.pos)
}

func (c *CaseExpr) Eval(ctx *Context, rec arrow.RecordBatch) (arrow.Array, error) {
	n := int(rec.NumRows())
	out := newPieces(n)
	defer out.release()
	var opArr arrow.Array
	if c.Operand != nil {
		var err error
		if opArr, err = c.Operand.Eval(ctx, rec); err != nil {
			return nil, err
		}
		defer opArr.Release()
	}
	remaining := iota32(n)
	for k, w := range c.Whens {
		if len(remaining) == 0 {
			break
		}
		cond, err := c.condition(ctx, rec, k, w, opArr, remaining)
		if err != nil {
			return nil, err
		}
		sel := selectRows(cond, remaining, true)
		rest := selectRows(cond, remaining, false)
		cond.Release()
		if len(sel) > 0 {
			res, full, err := evalBranch(ctx, w.Result, rec, sel)
			if err != nil {
				return nil, err
			}
			out.add(res, sel, full)
		}
		remaining = rest
	}
	if c.Else != nil && len(remaining) > 0 {
		res, full, err := evalBranch(ctx, c.Else, rec, remaining)
		if err != nil {
			return nil, err
		}
		out.add(res, remaining, full)
	}
	return out.build(ctx, c.typ)
}

// condition evaluates WHEN k on the remaining rows: the condition, or
// for a simple CASE the operand = value comparison.
func (c *CaseExpr) condition(ctx *Context, rec arrow.RecordBatch, k int, w When, opArr arrow.Array, rows []int32) (arrow.Array, error) {
	if c.Operand == nil {
		return evalRows(ctx, w.Cond, rec, rows)
	}
	v, err := evalRows(ctx, w.Cond, rec, rows)
	if err != nil {
		return nil, err
	}
	defer v.Release()
	var o arrow.Array
	if len(rows) == opArr.Len() {
		opArr.Retain()
		o = opArr
	} else if o, err = take(ctx.Alloc, opArr, rows); err != nil {
		return nil, err
	}
	defer o.Release()
	if ok := kindOf(o.DataType()); ok != c.cmpKinds[k] {
		co, err := castArray(ctx, o, ok, c.cmpKinds[k])
		if err != nil {
			return nil, err
		}
		defer co.Release()
		o = co
	}
	return compareArrays(ctx, opEq, o, v)
}

// CoalesceExpr is COALESCE(Args…): the first non-NULL argument.
type CoalesceExpr struct {
	Args []Expr
	typ  arrow.DataType
}

// Coalesce returns the first of xs that is not NULL, row by row; later
// arguments are evaluated only on the rows still NULL.
func Coalesce(xs ...Expr) (Expr, error) {
	args, t, err := unify("COALESCE", xs)
	if err != nil {
		return nil, err
	}
	return &CoalesceExpr{Args: args, typ: t}, nil
}

// unify coerces xs to their common type.
func unify(context string, xs []Expr) ([]Expr, arrow.DataType, error) {
	t, err := CommonTypeOf(context, xs...)
	if err != nil {
		return nil, nil, err
	}
	args := make([]Expr, len(xs))
	for i, x := range xs {
		if args[i], err = ImplicitCast(x, t); err != nil {
			return nil, nil, err
		}
	}
	return args, t, nil
}

func (c *CoalesceExpr) Type() arrow.DataType { return c.typ }
func (c *CoalesceExpr) Nullable() bool {
	for _, a := range c.Args {
		if !a.Nullable() {
			return false
		}
	}
	return true
}
func (c *CoalesceExpr) Children() []Expr { return c.Args }
func (c *CoalesceExpr) WithChildren(ch []Expr) Expr {
	return &CoalesceExpr{Args: append([]Expr(nil), ch...), typ: c.typ}
}
func (c *CoalesceExpr) mayFail() bool  { return false }
func (c *CoalesceExpr) String() string { return "COALESCE(" + joinExprs(c.Args) + ")" }

func joinExprs(xs []Expr) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = x.String()
	}
	return strings.Join(parts, ", ")
}

func (c *CoalesceExpr) Eval(ctx *Context, rec arrow.RecordBatch) (arrow.Array, error) {
	n := int(rec.NumRows())
	out := newPieces(n)
	defer out.release()
	remaining := iota32(n)
	for _, arg := range c.Args {
		if len(remaining) == 0 {
			break
		}
		v, full, err := evalBranch(ctx, arg, rec, remaining)
		if err != nil {
			return nil, err
		}
		k := int32(len(out.parts))
		out.parts = append(out.parts, v)
		bits, off := bitsOf(v, 0)
		if v.NullN() == 0 {
			bits = nil
		}
		rest := remaining[:0:0]
		for j, r := range remaining {
			at := j
			if full {
				at = int(r)
			}
			if v.NullN() == v.Len() || !validAt(bits, off, at) {
				rest = append(rest, r)
				continue
			}
			out.which[r], out.pos[r] = k, int32(at)
		}
		remaining = rest
	}
	return out.build(ctx, c.typ)
}

// NullIfExpr is NULLIF(Left, Right): NULL where Left = Right, else Left.
type NullIfExpr struct {
	Left, Right Expr
	cmp         kind // the type the two are compared in
}

// NullIf is NULLIF(a, b), of a's type.
func NullIf(a, b Expr) (Expr, error) {
	k, ok := compareType(typeOf(a), typeOf(b))
	if !ok {
		return nil, opNotExist("=", a.Type(), b.Type())
	}
	if isUntyped(a) {
		var err error
		if a, err = ImplicitCast(a, k.typ()); err != nil {
			return nil, err
		}
	}
	if _, err := ImplicitCast(a, k.typ()); err != nil {
		return nil, err
	}
	b, err := ImplicitCast(b, k.typ())
	if err != nil {
		return nil, err
	}
	return &NullIfExpr{Left: a, Right: b, cmp: k}, nil
}

func (e *NullIfExpr) Type() arrow.DataType { return e.Left.Type() }
func (e *NullIfExpr) Nullable() bool       { return true }
func (e *NullIfExpr) Children() []Expr     { return []Expr{e.Left, e.Right} }
func (e *NullIfExpr) WithChildren(ch []Expr) Expr {
	return &NullIfExpr{Left: ch[0], Right: ch[1], cmp: e.cmp}
}
func (e *NullIfExpr) mayFail() bool { return false }
func (e *NullIfExpr) String() string {
	return "NULLIF(" + e.Left.String() + ", " + e.Right.String() + ")"
}

func (e *NullIfExpr) Eval(ctx *Context, rec arrow.RecordBatch) (arrow.Array, error) {
	a, err := e.Left.Eval(ctx, rec)
	if err != nil {
		return nil, err
	}
	defer a.Release()
	b, err := e.Right.Eval(ctx, rec)
	if err != nil {
		return nil, err
	}
	defer b.Release()
	ca, err := castArray(ctx, a, kindOf(a.DataType()), e.cmp)
	if err != nil {
		return nil, err
	}
	defer ca.Release()
	eq, err := compareArrays(ctx, opEq, ca, b)
	if err != nil {
		return nil, err
	}
	defer eq.Release()
	n := a.Len()
	equal := selectRows(eq, nil, true)
	if len(equal) == 0 {
		a.Retain()
		return a, nil
	}
	which := make([]int32, n)
	for _, r := range equal {
		which[r] = -1
	}
	return gather(ctx.Alloc, a.DataType(), []arrow.Array{a}, which, iota32(n))
}

// MinMaxExpr is GREATEST(Args…) or LEAST(Args…): NULL arguments are
// ignored; the result is NULL only when all are.
type MinMaxExpr struct {
	Op   string // "GREATEST" or "LEAST"
	Args []Expr
	typ  arrow.DataType
}

// Greatest is GREATEST(xs…).
func Greatest(xs ...Expr) (Expr, error) { return minMax("GREATEST", xs) }

// Least is LEAST(xs…).
func Least(xs ...Expr) (Expr, error) { return minMax("LEAST", xs) }

func minMax(op string, xs []Expr) (Expr, error) {
	args, t, err := unify(op, xs)
	if err != nil {
		return nil, err
	}
	if !orderable(kindOf(t)) {
		return nil, opNotExist(">", t, t)
	}
	return &MinMaxExpr{Op: op, Args: args, typ: t}, nil
}

func (m *MinMaxExpr) Type() arrow.DataType { return m.typ }
func (m *MinMaxExpr) Nullable() bool {
	for _, a := range m.Args {
		if !a.Nullable() {
			return false
		}
	}
	return true
}
func (m *MinMaxExpr) Children() []Expr { return m.Args }
func (m *MinMaxExpr) WithChildren(ch []Expr) Expr {
	return &MinMaxExpr{Op: m.Op, Args: append([]Expr(nil), ch...), typ: m.typ}
}
func (m *MinMaxExpr) mayFail() bool  { return false }
func (m *MinMaxExpr) String() string { return m.Op + "(" + joinExprs(m.Args) + ")" }

func (m *MinMaxExpr) Eval(ctx *Context, rec arrow.RecordBatch) (arrow.Array, error) {
	op := opGt
	if m.Op == "LEAST" {
		op = opLt
	}
	res, err := m.Args[0].Eval(ctx, rec)
	if err != nil {
		return nil, err
	}
	for _, arg := range m.Args[1:] {
		next, err := arg.Eval(ctx, rec)
		if err != nil {
			res.Release()
			return nil, err
		}
		better, err := compareArrays(ctx, op, next, res)
		if err != nil {
			res.Release()
			next.Release()
			return nil, err
		}
		n := res.Len()
		which := make([]int32, n)
		bits, off := bitsOf(better, 1)
		for i := 0; i < n; i++ {
			switch {
			case res.IsNull(i) && next.IsValid(i):
				which[i] = 1
			case better.IsValid(i) && bitutil.BitIsSet(bits, off+i):
				which[i] = 1
			}
		}
		merged, err := gather(ctx.Alloc, m.typ, []arrow.Array{res, next}, which, iota32(n))
		better.Release()
		res.Release()
		next.Release()
		if err != nil {
			return nil, err
		}
		res = merged
	}
	return res, nil
}
