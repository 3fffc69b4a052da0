package expr

import (
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/scalar"
)

// Parent is implemented by every expression with sub-expressions, so that
// Walk, Columns, Remap and Fold can see inside it. An Expr defined outside
// this package that has inputs must implement it; one that reads columns
// must do so through *Column children.
type Parent interface {
	Expr
	// Children are the sub-expressions, in evaluation order.
	Children() []Expr
	// WithChildren returns a copy with other sub-expressions of the same
	// types, in the order Children gives them.
	WithChildren(children []Expr) Expr
}

// mayFailer is implemented by our nodes: whether evaluating the node itself
// (not counting its children) can raise an error, which decides whether a
// lazily evaluated branch must be evaluated only on the rows that take it.
type mayFailer interface{ mayFail() bool }

// volatile is implemented by nodes whose value changes between calls
// (random(), clock_timestamp()), which are never folded.
type volatile interface{ volatile() bool }

// Children returns e's sub-expressions (none for leaves and for
// expressions that do not implement Parent).
func Children(e Expr) []Expr {
	if p, ok := e.(Parent); ok {
		return p.Children()
	}
	return nil
}

// Walk calls fn on e and, while fn returns true, on its descendants, in
// pre-order.
func Walk(e Expr, fn func(Expr) bool) {
	if e == nil || !fn(e) {
		return
	}
	for _, c := range Children(e) {
		Walk(c, fn)
	}
}

// Rewrite rebuilds e bottom-up, replacing every node n by fn(n) after its
// children have been rewritten. fn returns its argument to keep a node.
func Rewrite(e Expr, fn func(Expr) Expr) Expr {
	if p, ok := e.(Parent); ok {
		cs := p.Children()
		var changed []Expr
		for i, c := range cs {
			if c == nil {
				continue
			}
			nc := Rewrite(c, fn)
			if nc != c {
				if changed == nil {
					changed = slices.Clone(cs)
				}
				changed[i] = nc
			}
		}
		if changed != nil {
			e = p.WithChildren(changed)
		}
	}
	return fn(e)
}

// Columns returns the distinct input columns e reads, in ascending order.
func Columns(e Expr) []int {
	var cols []int
	Walk(e, func(n Expr) bool {
		if c, ok := n.(*Column); ok && !slices.Contains(cols, c.Index) {
			cols = append(cols, c.Index)
		}
		return true
	})
	slices.Sort(cols)
	return cols
}

// Remap returns e with every column index renumbered by mapping (old index
// to new), as after column pruning. Columns absent from mapping keep their
// index.
func Remap(e Expr, mapping map[int]int) Expr {
	return Rewrite(e, func(n Expr) Expr {
		if c, ok := n.(*Column); ok {
			if to, ok := mapping[c.Index]; ok && to != c.Index {
				cc := *c
				cc.Index = to
				return &cc
			}
		}
		return n
	})
}

// IsConstant reports whether e reads no column and calls nothing
// volatile, so that Fold can replace it by its value. Parameters count as
// constant: fold after the parameters are bound.
func IsConstant(e Expr) bool {
	constant := true
	Walk(e, func(n Expr) bool {
		switch x := n.(type) {
		case *Column:
			constant = false
		case volatile:
			if x.volatile() {
				constant = false
			}
		case *Literal, *Parameter, Parent:
		default:
			constant = false // an opaque node
		}
		return constant
	})
	return constant
}

// Constant returns the value of e if e is a literal (fold first to turn
// constant expressions into literals). The scalar is NULL-valued for NULL.
func Constant(e Expr) (scalar.Scalar, bool) {
	if l, ok := e.(*Literal); ok {
		return l.sc, true
	}
	return nil, false
}

// ConstantValue is Constant's Go value (see Lit for the Go types), nil for
// NULL.
func ConstantValue(e Expr) (any, bool) {
	if l, ok := e.(*Literal); ok {
		return l.Value, true
	}
	return nil, false
}

// Fold replaces every constant sub-expression of e by a literal of its
// value, evaluated with ctx (its Now, TimeZone and Params). Errors are
// those evaluation raises, as PostgreSQL raises them while planning.
// Branches that are evaluated lazily (CASE results, COALESCE arguments
// after the first) are folded only when the whole CASE or COALESCE is
// constant, so a division by zero in a branch that no row takes stays
// harmless.
func Fold(ctx *Context, e Expr) (Expr, error) {
	if _, ok := e.(*Literal); ok {
		return e, nil
	}
	if IsConstant(e) {
		return evalConstant(ctx, e)
	}
	switch e.(type) {
	case *CaseExpr, *CoalesceExpr:
		return e, nil
	}
	p, ok := e.(Parent)
	if !ok {
		return e, nil
	}
	children := p.Children()
	var cs []Expr // a copy, once a child changes: Children may be the node's own
	for i, c := range children {
		if c == nil {
			continue
		}
		f, err := Fold(ctx, c)
		if err != nil {
			return nil, err
		}
		if f != c {
			if cs == nil {
				cs = slices.Clone(children)
			}
			cs[i] = f
		}
	}
	if cs == nil {
		return e, nil
	}
	return p.WithChildren(cs), nil
}

var emptySchema = arrow.NewSchema(nil, nil)

// evalConstant evaluates a constant expression over one row.
func evalConstant(ctx *Context, e Expr) (Expr, error) {
	if p, ok := e.(*Parameter); ok {
		// A prepared statement's parameter, folded on every execution:
		// its value as it is, without a batch to evaluate it over.
		v, err := p.value(ctx)
		if err != nil {
			return nil, err
		}
		l := newLiteral(v, p.Type(), false)
		l.numeric = IsNumeric(p)
		return l, nil
	}
	rec := array.NewRecordBatch(emptySchema, nil, 1)
	defer rec.Release()
	a, err := e.Eval(ctx, rec)
	if err != nil {
		return nil, err
	}
	defer a.Release()
	if kindOf(e.Type()) == kUnknown {
		return Null(UnknownType), nil
	}
	l := newLiteral(valueAt(a, 0), e.Type(), false)
	l.numeric = IsNumeric(e)
	return l, nil
}

// mayFail reports whether evaluating e can raise an error.
func mayFail(e Expr) bool {
	fails := false
	Walk(e, func(n Expr) bool {
		switch x := n.(type) {
		case *Column, *Literal, *Parameter:
		case mayFailer:
			fails = fails || x.mayFail()
		default:
			fails = true
		}
		return !fails
	})
	return fails
}
