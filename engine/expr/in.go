package expr

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
)

// InList is X [NOT] IN (List...). With PostgreSQL's NULL rules: NULL when
// X is NULL, or when nothing matched and the list holds a NULL. A list of
// constants is a hash set built once; otherwise it is an OR of equalities.
type InList struct {
	X    Expr
	List []Expr
	Not  bool
	set  *valueSet // nil unless every item is a constant
	ors  Expr      // the OR of equalities otherwise
}

// In is x IN (list...) or, with not, x NOT IN (list...). x and the items
// are coerced to their common type (SQLSTATE 42804 if there is none).
// When they have none, each equality is resolved on its own, as
// PostgreSQL falls back to x = a OR x = b.
func In(x Expr, list []Expr, not bool) (Expr, error) {
	all := append([]Expr{x}, list...)
	t, err := CommonTypeOf("IN", all...)
	if err != nil {
		eqs := make([]Expr, len(list))
		for i, e := range list {
			if eqs[i], err = Compare("=", x, e); err != nil {
				return nil, err
			}
		}
		return newInList(x, list, not, eqs)
	}
	if k := narrowTo(kindOf(t), all...); k != kindOf(t) {
		t = k.typ()
	}
	for i, e := range all {
		if all[i], err = AssignCast(e, t); err != nil {
			return nil, err
		}
	}
	return newInList(all[0], all[1:], not, nil)
}

// newInList builds the list; eqs are the equalities when the items have
// no common type with x (nil to build them).
func newInList(x Expr, list []Expr, not bool, eqs []Expr) (*InList, error) {
	in := &InList{X: x, List: list, Not: not}
	constant := eqs == nil
	for _, e := range list {
		if _, ok := e.(*Literal); !ok {
			constant = false
		}
	}
	if constant && hashable(kindOf(x.Type())) {
		in.set = newValueSet(kindOf(x.Type()))
		for _, e := range list {
			in.set.add(e.(*Literal).Value)
		}
		return in, nil
	}
	if eqs == nil {
		eqs = make([]Expr, len(list))
		for i, e := range list {
			eqs[i] = &Comparison{Op: "=", Left: x, Right: e}
		}
	}
	ors, err := Or(eqs...)
	if err != nil {
		return nil, err
	}
	if not {
		ors = &NotExpr{X: ors}
	}
	in.ors = ors
	return in, nil
}

func (in *InList) Type() arrow.DataType { return BoolType }
func (in *InList) Nullable() bool {
	if in.X.Nullable() || (in.set != nil && in.set.hasNull) {
		return true
	}
	return in.ors != nil && in.ors.Nullable()
}
func (in *InList) Children() []Expr { return append([]Expr{in.X}, in.List...) }
func (in *InList) WithChildren(ch []Expr) Expr {
	var eqs []Expr
	if in.set == nil && !kindsMatch(ch...) {
		eqs = make([]Expr, len(ch)-1)
		for i, e := range ch[1:] {
			c, err := Compare("=", ch[0], e)
			if err != nil {
				panic(err)
			}
			eqs[i] = c
		}
	}
	n, err := newInList(ch[0], append([]Expr(nil), ch[1:]...), in.Not, eqs)
	if err != nil {
		panic(err) // the children have the types the list was built with
	}
	return n
}
func (in *InList) mayFail() bool { return false }

func (in *InList) String() string {
	items := make([]string, len(in.List))
	for i, e := range in.List {
		items[i] = e.String()
	}
	not := ""
	if in.Not {
		not = "NOT "
	}
	return wrap(in.X) + " " + not + "IN (" + strings.Join(items, ", ") + ")"
}

func (in *InList) Eval(ctx *Context, rec arrow.RecordBatch) (arrow.Array, error) {
	if in.set == nil {
		return in.ors.Eval(ctx, rec)
	}
	a, err := in.X.Eval(ctx, rec)
	if err != nil {
		return nil, err
	}
	defer a.Release()
	n := a.Len()
	found := make([]bool, n)
	in.set.lookup(a, found)
	buf, out := newBitmap(ctx.Alloc, n)
	packBools(found, out)
	validity := copyValidity(ctx.Alloc, a)
	if in.set.hasNull {
		// No match with a NULL in the list is unknown.
		if validity == nil {
			var vb []byte
			validity, vb = newBitmap(ctx.Alloc, n)
			bitutil.SetBitsTo(vb, 0, int64(n), true)
		}
		vb := validity.Bytes()
		for i := range vb {
			if i < len(out) {
				vb[i] &= out[i]
			}
		}
	}
	if in.Not {
		for i := range out {
			out[i] = ^out[i]
		}
	}
	return boolArray(n, buf, validity), nil
}

// hashable reports whether IN can use a hash set for kind k.
func hashable(k kind) bool {
	switch k {
	case kBool, kInt2, kInt4, kInt8, kFloat4, kFloat8, kText, kBytea, kDate, kTimestamp, kTimestampTZ, kInterval:
		return true
	}
	return false
}

// valueSet is the set of an IN list's constants. Floats are keyed by
// value with NaN kept apart (NaN = NaN in PostgreSQL); intervals by their
// ordering key, so '1 day' matches '24 hours' as PostgreSQL's = does.
type valueSet struct {
	k       kind
	ints    map[int64]struct{}
	floats  map[float64]struct{}
	strs    map[string]struct{}
	ivs     map[[2]int64]struct{}
	hasNaN  bool
	hasNull bool
}

func newValueSet(k kind) *valueSet {
	s := &valueSet{k: k}
	switch {
	case k.isFloat():
		s.floats = map[float64]struct{}{}
	case k == kText || k == kBytea:
		s.strs = map[string]struct{}{}
	case k == kInterval:
		s.ivs = map[[2]int64]struct{}{}
	default:
		s.ints = map[int64]struct{}{}
	}
	return s
}

func (s *valueSet) add(v any) {
	switch x := v.(type) {
	case nil:
		s.hasNull = true
	case bool:
		s.ints[int64(b2u(x))] = struct{}{}
	case int16:
		s.ints[int64(x)] = struct{}{}
	case int32:
		s.ints[int64(x)] = struct{}{}
	case int64:
		s.ints[x] = struct{}{}
	case arrow.Date32:
		s.ints[int64(x)] = struct{}{}
	case arrow.Timestamp:
		s.ints[int64(x)] = struct{}{}
	case float32:
		s.addFloat(float64(x))
	case float64:
		s.addFloat(x)
	case string:
		s.strs[x] = struct{}{}
	case []byte:
		s.strs[string(x)] = struct{}{}
	case interval:
		d, r := ivKey(x)
		s.ivs[[2]int64{d, r}] = struct{}{}
	}
}

func (s *valueSet) addFloat(f float64) {
	if f != f {
		s.hasNaN = true
		return
	}
	s.floats[f] = struct{}{}
}

// lookup sets found[i] for the rows of a whose value is in the set (NULL
// rows are left false; the caller masks them).
func (s *valueSet) lookup(a arrow.Array, found []bool) {
	switch s.k {
	case kBool:
		bits, off := bitsOf(a, 1)
		for i := range found {
			_, found[i] = s.ints[int64(b2u(bitutil.BitIsSet(bits, off+i)))]
		}
	case kInt2:
		lookupInts(s.ints, vals[int16](a), found)
	case kInt4, kDate:
		lookupInts(s.ints, vals[int32](a), found)
	case kInt8, kTimestamp, kTimestampTZ:
		lookupInts(s.ints, vals[int64](a), found)
	case kFloat4:
		for i, v := range vals[float32](a) {
			_, found[i] = s.floats[float64(v)]
			found[i] = found[i] || (v != v && s.hasNaN)
		}
	case kFloat8:
		for i, v := range vals[float64](a) {
			_, found[i] = s.floats[v]
			found[i] = found[i] || (v != v && s.hasNaN)
		}
	case kText, kBytea:
		v := viewOf(a)
		for i := range found {
			_, found[i] = s.strs[v.str(i)]
		}
	case kInterval:
		for i, v := range vals[interval](a) {
			d, r := ivKey(v)
			_, found[i] = s.ivs[[2]int64{d, r}]
		}
	}
}

// lookupInts probes the set; a short list is scanned, which beats a
// hash probe below a dozen items.
func lookupInts[T int16 | int32 | int64](set map[int64]struct{}, vs []T, found []bool) {
	if len(set) <= 12 {
		var items [12]T
		k := 0
		for v := range set {
			items[k] = T(v)
			k++
		}
		list := items[:k]
		for i, v := range vs {
			f := 0
			for _, x := range list {
				if v == x {
					f = 1
				}
			}
			found[i] = f != 0
		}
		return
	}
	for i, v := range vs {
		_, found[i] = set[int64(v)]
	}
}

// BetweenExpr is X [NOT] BETWEEN [SYMMETRIC] Lo AND Hi: X >= Lo AND X <= Hi
// (with SYMMETRIC, whichever bound is lower), each comparison resolved on
// its own as PostgreSQL does.
type BetweenExpr struct {
	X, Lo, Hi      Expr
	Not, Symmetric bool
	impl           Expr
}

// Between is x [NOT] BETWEEN [SYMMETRIC] lo AND hi. The three operands
// are coerced to one type, as the two comparisons would coerce them.
func Between(x, lo, hi Expr, not, symmetric bool) (Expr, error) {
	t, ok := compareType(typeOf(x), typeOf(lo))
	if ok {
		t, ok = compareType(t, typeOf(hi))
	}
	if !ok {
		if _, err := Compare(">=", x, lo); err != nil {
			return nil, err
		}
		return nil, opNotExist("<=", x.Type(), hi.Type())
	}
	ops := []Expr{x, lo, hi}
	t = narrowTo(t, ops...)
	tt := t.typ()
	for i, e := range ops {
		var err error
		if ops[i], err = AssignCast(e, tt); err != nil {
			return nil, err
		}
	}
	return newBetween(ops[0], ops[1], ops[2], not, symmetric), nil
}

func newBetween(x, lo, hi Expr, not, symmetric bool) *BetweenExpr {
	b := &BetweenExpr{X: x, Lo: lo, Hi: hi, Not: not, Symmetric: symmetric}
	rng := func(lo, hi Expr) Expr {
		if not {
			return &BoolOp{Op: "OR", Args: []Expr{
				&Comparison{Op: "<", Left: x, Right: lo}, &Comparison{Op: ">", Left: x, Right: hi}}}
		}
		return &BoolOp{Op: "AND", Args: []Expr{
			&Comparison{Op: ">=", Left: x, Right: lo}, &Comparison{Op: "<=", Left: x, Right: hi}}}
	}
	b.impl = rng(lo, hi)
	if symmetric {
		op := "OR"
		if not {
			op = "AND"
		}
		b.impl = &BoolOp{Op: op, Args: []Expr{b.impl, rng(hi, lo)}}
	}
	return b
}

func kindsMatch(es ...Expr) bool {
	for _, e := range es[1:] {
		if !arrow.TypeEqual(e.Type(), es[0].Type()) {
			return false
		}
	}
	return true
}

func (b *BetweenExpr) Type() arrow.DataType { return BoolType }
func (b *BetweenExpr) Nullable() bool       { return b.X.Nullable() || b.Lo.Nullable() || b.Hi.Nullable() }
func (b *BetweenExpr) Children() []Expr     { return []Expr{b.X, b.Lo, b.Hi} }
func (b *BetweenExpr) WithChildren(ch []Expr) Expr {
	return newBetween(ch[0], ch[1], ch[2], b.Not, b.Symmetric)
}
func (b *BetweenExpr) mayFail() bool { return false }

func (b *BetweenExpr) String() string {
	s := wrap(b.X)
	if b.Not {
		s += " NOT"
	}
	s += " BETWEEN "
	if b.Symmetric {
		s += "SYMMETRIC "
	}
	return s + wrap(b.Lo) + " AND " + wrap(b.Hi)
}

func (b *BetweenExpr) Eval(ctx *Context, rec arrow.RecordBatch) (arrow.Array, error) {
	lo, lok := b.Lo.(*Literal)
	hi, hok := b.Hi.(*Literal)
	if !lok || !hok || lo.Value == nil || hi.Value == nil || b.Symmetric {
		return b.impl.Eval(ctx, rec)
	}
	// A range with constant bounds, the common case: one pass.
	var kernel func(a arrow.Array, out []byte)
	switch kindOf(b.X.Type()) {
	case kInt2:
		kernel = func(a arrow.Array, out []byte) {
			between(vals[int16](a), asT[int16](lo.Value), asT[int16](hi.Value), b.Not, out)
		}
	case kInt4, kDate:
		kernel = func(a arrow.Array, out []byte) {
			between(vals[int32](a), asT[int32](lo.Value), asT[int32](hi.Value), b.Not, out)
		}
	case kInt8, kTimestamp, kTimestampTZ:
		kernel = func(a arrow.Array, out []byte) {
			between(vals[int64](a), asT[int64](lo.Value), asT[int64](hi.Value), b.Not, out)
		}
	case kText:
		kernel = func(a arrow.Array, out []byte) {
			betweenText(viewOf(a), lo.Value.(string), hi.Value.(string), b.Not, out)
		}
	default:
		return b.impl.Eval(ctx, rec)
	}
	x, err := b.X.Eval(ctx, rec)
	if err != nil {
		return nil, err
	}
	defer x.Release()
	buf, out := newBitmap(ctx.Alloc, x.Len())
	kernel(x, out)
	return boolArray(x.Len(), buf, copyValidity(ctx.Alloc, x)), nil
}

func between[T intT](a []T, lo, hi T, not bool, out []byte) {
	var tmp [block]bool
	for base := 0; base < len(a); base += block {
		c := a[base:min(base+block, len(a))]
		t := tmp[:len(c)]
		for i, v := range c {
			t[i] = (v >= lo && v <= hi) != not
		}
		packBools(t, out[base/8:])
	}
}

func betweenText(v binaryView, lo, hi string, not bool, out []byte) {
	var tmp [block]bool
	n := len(v.offs) - 1
	for base := 0; base < n; base += block {
		t := tmp[:min(block, n-base)]
		for i := range t {
			s := v.str(base + i)
			t[i] = (s >= lo && s <= hi) != not
		}
		packBools(t, out[base/8:])
	}
}
