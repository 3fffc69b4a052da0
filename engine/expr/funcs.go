package expr

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// Scalar functions: a registry of overloads by name, resolved by
// PostgreSQL's rules (simplified), and FuncCall, the node that calls one.

// kAny marks a parameter that accepts any type as it is (concat).
const kAny = kind(255)

// overload is one signature of a function.
type overload struct {
	params   []kind
	variadic bool // the last parameter repeats (zero or more times)
	ret      kind
	// strict: NULL in any argument gives NULL without calling eval's
	// per-row logic (eval still sees NULL rows and must skip them).
	strict   bool
	fails    bool // may raise errors at run time
	volatile bool // a different value on every call (random())
	nullOut  bool // may return NULL for valid arguments
	eval     func(c *call) (arrow.Array, error)
}

// call is what an implementation gets: the arguments evaluated over n
// rows, and which of them are constants (with their values).
type call struct {
	ctx     *Context
	numeric bool // the result is numeric (numeric arguments), not double precision
	n       int
	args    []arrow.Array
	consts  []any
	isLit   []bool
	ret     kind
}

var registry = map[string][]*overload{}

// def registers an overload; the signature's parameters and return type
// are kinds.
func def(name string, params []kind, ret kind, eval func(c *call) (arrow.Array, error), opts ...func(*overload)) {
	o := &overload{params: params, ret: ret, strict: true, eval: eval}
	for _, opt := range opts {
		opt(o)
	}
	registry[name] = append(registry[name], o)
}

func variadic(o *overload)   { o.variadic = true }
func nonStrict(o *overload)  { o.strict = false }
func canFail(o *overload)    { o.fails = true }
func isVolatile(o *overload) { o.volatile = true }
func mayBeNull(o *overload)  { o.nullOut = true }

func ks(k ...kind) []kind { return k }

// FuncCall is a call of a scalar function.
type FuncCall struct {
	Name    string // lower case, without pg_catalog.
	Args    []Expr
	fn      *overload
	numeric bool // numeric rather than double precision (IsNumeric)
}

// Call resolves the function name (case-insensitive, pg_catalog. allowed)
// for the argument types — exact matches first, then implicit coercions,
// preferring the category's preferred types — and coerces the arguments.
// COALESCE, NULLIF, GREATEST and LEAST are built as their own nodes; a
// type name with one argument is a cast, as in PostgreSQL (int4(x)).
// An unknown function, or one with no overload for the argument types,
// is SQLSTATE 42883.
func Call(name string, args []Expr) (Expr, error) {
	name = strings.TrimPrefix(strings.ToLower(name), "pg_catalog.")
	switch name {
	case "coalesce":
		return Coalesce(args...)
	case "nullif":
		if len(args) == 2 {
			return NullIf(args[0], args[1])
		}
	case "greatest":
		return Greatest(args...)
	case "least":
		return Least(args...)
	}
	if x, ok, err := arrayCall(name, args); ok {
		return x, err
	}
	o, err := resolve(name, args)
	if err != nil {
		if t, terr := ParseTypeName([]string{name}, nil); terr == nil && len(args) == 1 {
			return Cast(args[0], t)
		}
		return nil, err
	}
	cast := make([]Expr, len(args))
	for i, a := range args {
		pk := o.param(i)
		switch {
		case pk == kAny && isUntyped(a):
			cast[i], err = ImplicitCast(a, TextType)
		case pk == kAny, pk == kindOf(a.Type()) && !isUntyped(a):
			cast[i] = a // as it is: a numeric stays numeric
		default:
			cast[i], err = ImplicitCast(a, pk.typ())
		}
		if err != nil {
			return nil, err
		}
	}
	return newFuncCall(name, cast, o), nil
}

// newFuncCall makes the call; a function of double precision over
// numeric arguments (and no double precision ones) is numeric, as the
// numeric overloads of PostgreSQL's math functions are.
func newFuncCall(name string, args []Expr, o *overload) *FuncCall {
	return &FuncCall{Name: name, Args: args, fn: o, numeric: o.ret == kFloat8 && numericFlavour(args...)}
}

func (o *overload) param(i int) kind {
	if i >= len(o.params)-1 && o.variadic {
		return o.params[len(o.params)-1]
	}
	return o.params[i]
}

// resolve picks the overload of name for args.
func resolve(name string, args []Expr) (*overload, error) {
	var best *overload
	bestScore := -1
	for _, o := range registry[name] {
		if len(args) < len(o.params) && !(o.variadic && len(args) >= len(o.params)-1) ||
			len(args) > len(o.params) && !o.variadic {
			continue
		}
		score, ok := 0, true
		for i, a := range args {
			pk, ak := o.param(i), typeOf(a)
			switch {
			case pk == kAny || ak == pk:
				score += 100
			case ak == kUnknown:
				if pk == kText {
					score++
				}
			case implicitCastable(ak, pk):
				if pk.preferred() {
					score += 10
				}
			default:
				ok = false
			}
		}
		if ok && score > bestScore {
			best, bestScore = o, score
		}
	}
	if best == nil {
		names := make([]string, len(args))
		for i, a := range args {
			names[i] = kindNames[typeOf(a)]
			if typeOf(a) == kOther {
				names[i] = TypeName(a.Type())
			}
		}
		return nil, sqlerr.New(sqlerr.UndefinedFunction, "function %s(%s) does not exist", name, strings.Join(names, ", ")).
			WithHint("No function matches the given name and argument types. You might need to add explicit type casts.")
	}
	return best, nil
}

func (f *FuncCall) Type() arrow.DataType { return f.fn.ret.typ() }

func (f *FuncCall) Nullable() bool {
	if !f.fn.strict || f.fn.nullOut {
		return true
	}
	for _, a := range f.Args {
		if a.Nullable() {
			return true
		}
	}
	return false
}

func (f *FuncCall) Children() []Expr { return f.Args }
func (f *FuncCall) WithChildren(ch []Expr) Expr {
	return newFuncCall(f.Name, append([]Expr(nil), ch...), f.fn)
}
func (f *FuncCall) mayFail() bool  { return f.fn.fails }
func (f *FuncCall) volatile() bool { return f.fn.volatile }
func (f *FuncCall) String() string { return f.Name + "(" + joinExprs(f.Args) + ")" }

func (f *FuncCall) Eval(ctx *Context, rec arrow.RecordBatch) (arrow.Array, error) {
	n := int(rec.NumRows())
	c := &call{ctx: ctx, n: n, args: make([]arrow.Array, len(f.Args)), consts: make([]any, len(f.Args)),
		isLit: make([]bool, len(f.Args)), ret: f.fn.ret, numeric: f.numeric}
	defer func() {
		for _, a := range c.args {
			if a != nil {
				a.Release()
			}
		}
	}()
	for i, a := range f.Args {
		if l, ok := a.(*Literal); ok {
			c.consts[i], c.isLit[i] = l.Value, true
			if l.Value == nil && f.fn.strict {
				return allNull(ctx.Alloc, f.fn.ret.typ(), n), nil
			}
		}
		arr, err := a.Eval(ctx, rec)
		if err != nil {
			return nil, err
		}
		c.args[i] = arr
	}
	return f.fn.eval(c)
}

// validity is the result validity of a strict function: NULL where any
// argument is (owned by the caller; nil when there are no NULLs).
func (c *call) validity() *memory.Buffer {
	return validityAnd(c.ctx.Alloc, c.n, c.args...)
}

// valid returns a row test for a validity bitmap from c.validity().
func valid(v *memory.Buffer) func(int) bool {
	if v == nil {
		return func(int) bool { return true }
	}
	b := v.Bytes()
	return func(i int) bool { return bitutil.BitIsSet(b, i) }
}

// textRows builds a text (or bytea, by c.ret) result row by row over the
// rows where every argument is valid; f appends row i's value to dst.
func (c *call) textRows(f func(dst []byte, i int) ([]byte, error)) (arrow.Array, error) {
	v := c.validity()
	ok := valid(v)
	if v != nil {
		defer v.Release()
	}
	b := newTextBuilder(c.ctx.Alloc, c.ret.typ(), c.n, c.n*8)
	for i := 0; i < c.n; i++ {
		if !ok(i) {
			b.appendNull()
			continue
		}
		var err error
		if b.data, err = f(b.data, i); err != nil {
			return nil, err
		}
		b.offs = append(b.offs, int32(len(b.data)))
	}
	return b.finish(), nil
}

// fixedRows builds a fixed-width result row by row over the valid rows.
func fixedRows[T fixed](c *call, f func(i int) (T, error)) (arrow.Array, error) {
	v := c.validity()
	ok := valid(v)
	buf, out := newFixed[T](c.ctx.Alloc, c.n)
	for i := 0; i < c.n; i++ {
		if !ok(i) {
			var zero T
			out[i] = zero
			continue
		}
		r, err := f(i)
		if err != nil {
			buf.Release()
			if v != nil {
				v.Release()
			}
			return nil, err
		}
		out[i] = r
	}
	return makeArray(c.ret.typ(), c.n, v, buf), nil
}

// boolRows builds a boolean result row by row over the valid rows.
func (c *call) boolRows(f func(i int) bool) (arrow.Array, error) {
	v := c.validity()
	ok := valid(v)
	buf, out := newBitmap(c.ctx.Alloc, c.n)
	for i := 0; i < c.n; i++ {
		if ok(i) && f(i) {
			bitutil.SetBit(out, i)
		}
	}
	return boolArray(c.n, buf, v), nil
}

// Typed views of the arguments.
func (c *call) text(j int) binaryView { return viewOf(c.args[j]) }
func (c *call) i32(j int) []int32     { return vals[int32](c.args[j]) }
func (c *call) i64(j int) []int64     { return vals[int64](c.args[j]) }
func (c *call) f64(j int) []float64   { return vals[float64](c.args[j]) }

// constText is argument j's value when it is a constant string.
func (c *call) constText(j int) (string, bool) {
	s, ok := c.consts[j].(string)
	return s, ok && c.isLit[j]
}
