package sql

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// paramState is what the binder knows of $1, $2, … while it binds a
// statement: their types (nil while undecided) and, when the statement
// runs, their values. A nil *paramState means the statement has no
// parameters: $n is then an error, as in PostgreSQL's simple query.
type paramState struct {
	types  []arrow.DataType
	values []arrow.Array
	// infer is set while Prepare binds: $n beyond the declared types may
	// appear, and note records the type each first takes.
	infer bool
}

// param binds $n: typed when its type is declared or already inferred,
// else of unknown type, which its context resolves (expr.Param).
func (p *paramState) param(n int) (expr.Expr, error) {
	if p == nil || n < 1 || (!p.infer && n > len(p.types)) {
		return nil, sqlerr.New(sqlerr.UndefinedParameter, "there is no parameter $%d", n)
	}
	for len(p.types) < n {
		p.types = append(p.types, nil)
	}
	if t := p.types[n-1]; t != nil {
		return expr.Param(n, t), nil
	}
	return expr.Param(n, expr.UnknownType), nil
}

// note records the types that the parameters in x took from their
// context, for those still undecided: the first use decides.
func (p *paramState) note(x expr.Expr) {
	if p == nil || !p.infer {
		return
	}
	decide := func(prm *expr.Parameter, t arrow.DataType) {
		if i := prm.Index - 1; i >= 0 && i < len(p.types) && p.types[i] == nil {
			p.types[i] = t
		}
	}
	expr.Walk(x, func(n expr.Expr) bool {
		if prm, ok := n.(*expr.Parameter); ok && prm.Typ.ID() != arrow.NULL {
			decide(prm, prm.Typ)
		}
		// $1::numeric is a numeric-flavoured cast of a double precision
		// parameter: the parameter is numeric.
		if par, ok := n.(expr.Parent); ok && expr.IsNumeric(n) {
			for _, c := range par.Children() {
				if prm, ok := c.(*expr.Parameter); ok && prm.Typ.ID() == arrow.FLOAT64 {
					decide(prm, expr.NumericType)
				}
			}
		}
		return true
	})
}

// resolved is the final type of every parameter: one nothing decided is
// text, as PostgreSQL resolves a lone unknown. A numeric parameter keeps
// expr.NumericType (its values are double precision), so that clients
// are told numeric.
func (p *paramState) resolved() []arrow.DataType {
	out := make([]arrow.DataType, len(p.types))
	for i, t := range p.types {
		if t == nil {
			t = expr.TextType
		}
		out[i] = t
	}
	return out
}

// describing reports whether the statement is being bound to describe it
// (Prepare), not to run it.
func (p *paramState) describing() bool { return p != nil && p.infer }

// arrays are the parameter values for the expression context.
func (p *paramState) arrays() []arrow.Array {
	if p == nil {
		return nil
	}
	return p.values
}
