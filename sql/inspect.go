package sql

import (
	"github.com/dormousedb/dormouse/engine/expr"
)

// The planner reads the shape of bound expressions to push work down: the
// conjuncts of a condition, and the predicates the scan can prune with.

func asAnd(e expr.Expr) ([]expr.Expr, bool) {
	if b, ok := e.(*expr.BoolOp); ok && b.Op == "AND" {
		return b.Args, true
	}
	return nil, false
}

func asOr(e expr.Expr) ([]expr.Expr, bool) {
	if b, ok := e.(*expr.BoolOp); ok && b.Op == "OR" {
		return b.Args, true
	}
	return nil, false
}

func asComparison(e expr.Expr) (string, expr.Expr, expr.Expr, bool) {
	if c, ok := e.(*expr.Comparison); ok {
		return c.Op, c.Left, c.Right, true
	}
	return "", nil, nil, false
}

// asEquality splits "l = r".
func asEquality(e expr.Expr) (expr.Expr, expr.Expr, bool) {
	if op, l, r, ok := asComparison(e); ok && op == "=" {
		return l, r, true
	}
	return nil, nil, false
}

func asIn(e expr.Expr) (expr.Expr, []expr.Expr, bool) {
	if in, ok := e.(*expr.InList); ok && !in.Not {
		return in.X, in.List, true
	}
	return nil, nil, false
}

func asBetween(e expr.Expr) (x, lo, hi expr.Expr, ok bool) {
	if b, ok := e.(*expr.BetweenExpr); ok && !b.Not && !b.Symmetric {
		return b.X, b.Lo, b.Hi, true
	}
	return nil, nil, nil, false
}

// asLike returns the subject and constant pattern of a case-sensitive,
// non-negated LIKE.
func asLike(e expr.Expr) (expr.Expr, string, bool) {
	l, ok := e.(*expr.LikeExpr)
	if !ok || l.Not || l.CaseInsensitive {
		return nil, "", false
	}
	v, ok := expr.ConstantValue(l.Pattern)
	s, isStr := v.(string)
	if !ok || !isStr {
		return nil, "", false
	}
	return l.X, s, true
}
