package sql

import (
	"github.com/dormousedb/dormouse/engine/expr"
)

// pushFilters moves filter conditions as close to the scans as they can
// go, so that key ranges reach the table scans they restrict: through
// projections that only pass columns along, into both sides of inner joins
// (and the preserved side of outer joins), and into each other.
func pushFilters(r rel) rel {
	switch n := r.(type) {
	case *filterRel:
		return pushFilter(pushFilters(n.in), n.cond)
	case *projectRel:
		c := *n
		c.in = pushFilters(n.in)
		return &c
	case *aggRel:
		c := *n
		c.in = pushFilters(n.in)
		return &c
	case *sortRel:
		c := *n
		c.in = pushFilters(n.in)
		return &c
	case *limitRel:
		c := *n
		c.in = pushFilters(n.in)
		return &c
	case *distinctRel:
		return &distinctRel{in: pushFilters(n.in)}
	case *joinRel:
		c := *n
		c.left, c.right = pushFilters(n.left), pushFilters(n.right)
		return &c
	case *setOpRel:
		c := *n
		c.left, c.right = pushFilters(n.left), pushFilters(n.right)
		return &c
	case *windowRel:
		c := *n
		c.in = pushFilters(n.in)
		return &c
	case *unnestRel:
		c := *n
		c.in = pushFilters(n.in)
		return &c
	}
	return r
}

// pushFilter places cond over in, as deep as it may go.
func pushFilter(in rel, cond expr.Expr) rel {
	switch n := in.(type) {
	case *filterRel:
		both, err := expr.And(n.cond, cond)
		if err != nil {
			break
		}
		return pushFilter(n.in, both)
	case *projectRel:
		// Through a projection whose outputs the condition reads are plain
		// columns of its input.
		mapping := map[int]int{}
		for _, c := range expr.Columns(cond) {
			col, ok := n.exprs[c].(*expr.Column)
			if !ok {
				return &filterRel{in: in, cond: cond}
			}
			mapping[c] = col.Index
		}
		c := *n
		c.in = pushFilter(n.in, expr.Remap(cond, mapping))
		return &c
	case *joinRel:
		nl := len(n.left.columns())
		var left, right, rest []expr.Expr
		for _, c := range conjuncts(cond) {
			switch sideOf(c, nl) {
			case 0:
				if n.kind == joinInner || n.kind == joinCross || n.kind == joinLeft || n.kind == joinSemi || n.kind == joinAnti || n.kind == joinAntiNullAware {
					left = append(left, c)
					continue
				}
			case 1:
				if n.kind == joinInner || n.kind == joinCross || n.kind == joinRight {
					shift := map[int]int{}
					for _, col := range expr.Columns(c) {
						shift[col] = col - nl
					}
					right = append(right, expr.Remap(c, shift))
					continue
				}
			}
			rest = append(rest, c)
		}
		j := *n
		if len(left) > 0 {
			if l, err := expr.And(left...); err == nil {
				j.left = pushFilter(n.left, l)
			} else {
				rest = append(rest, left...)
			}
		}
		if len(right) > 0 {
			if r, err := expr.And(right...); err == nil {
				j.right = pushFilter(n.right, r)
			} else {
				return &filterRel{in: in, cond: cond}
			}
		}
		if len(rest) == 0 {
			return &j
		}
		r, err := expr.And(rest...)
		if err != nil {
			return &filterRel{in: in, cond: cond}
		}
		return &filterRel{in: &j, cond: r}
	}
	return &filterRel{in: in, cond: cond}
}

// sideOf tells which input of a join a condition reads: 0 left, 1 right,
// -1 both or neither.
func sideOf(e expr.Expr, nl int) int {
	cols := expr.Columns(e)
	if len(cols) == 0 {
		return -1
	}
	s := -1
	for _, c := range cols {
		cs := 0
		if c >= nl {
			cs = 1
		}
		if s >= 0 && cs != s {
			return -1
		}
		s = cs
	}
	return s
}
