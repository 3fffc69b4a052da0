package sql

import (
	"strings"

	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/sql/ast"
)

// decorrelateScalars rewrites correlated scalar subqueries of the form
//
//	(SELECT agg(x) FROM u WHERE u.a = t.b [AND u.a2 = t.b2 …] [AND local conditions])
//
// in a SELECT's target list and WHERE into a left join of the FROM with
// the subquery grouped by its correlated columns, so the subquery runs once
// rather than once per row. It returns the new FROM relation and the
// column of each rewritten subquery, by its SQL text. count(…) of no rows
// is 0, not NULL, as PostgreSQL gives.
func (b *binder) decorrelateScalars(from rel, sel *ast.Select) (rel, map[string]int, error) {
	var found []*ast.ScalarSubquery
	seen := map[string]bool{}
	visit := func(e ast.Expr) {
		if e == nil {
			return
		}
		ast.Inspect(e, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ScalarSubquery:
				if !seen[n.String()] {
					seen[n.String()] = true
					found = append(found, n)
				}
				return false
			case *ast.Exists, *ast.InSubquery:
				return false
			}
			return true
		})
	}
	// Above a GROUP BY the join would have to be grouped too: subqueries in
	// a grouped select list run per group instead (apply.go).
	grouped := len(sel.GroupBy) > 0 || sel.Having != nil ||
		len(collectCalls(&ast.Row{Elems: selectExprs(sel)}, nil, false)) > 0
	if !grouped {
		for _, it := range sel.Items {
			visit(it.Expr)
		}
	}
	visit(sel.Where)
	var subs map[string]int
	for _, sq := range found {
		// An uncorrelated subquery binds on its own: leave it to be run
		// once as a constant.
		probe := &binder{s: b.s, ctx: b.ctx, snap: b.snap, ctes: b.ctes}
		if _, err := probe.bindQuery(sq.Query); err == nil {
			continue
		} else if code := sqlerr.Code(err); code != sqlerr.UndefinedColumn && code != sqlerr.UndefinedTable {
			return nil, nil, err
		}
		joined, col, ok, err := b.decorrelateOne(from, sq)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			continue // not a join: bound to run per outer row (apply.go)
		}
		from = joined
		if subs == nil {
			subs = map[string]int{}
		}
		subs[sq.String()] = col
	}
	return from, subs, nil
}

// decorrelateOne joins outer with one correlated aggregate subquery and
// returns the joined relation and the column holding the subquery's value.
func (b *binder) decorrelateOne(outer rel, sq *ast.ScalarSubquery) (rel, int, bool, error) {
	q := sq.Query
	sel, ok := q.Body.(*ast.Select)
	if !ok || q.With != nil || len(q.OrderBy) > 0 || q.Limit != nil || q.Offset != nil || sel.Where == nil ||
		len(sel.GroupBy) > 0 || sel.Having != nil || sel.Distinct || len(sel.Items) != 1 || sel.Items[0].Star {
		return nil, 0, false, nil
	}
	fc, ok := sel.Items[0].Expr.(*ast.FuncCall)
	if !ok || !isAggregate(fc) {
		return nil, 0, false, nil
	}
	sub := &binder{s: b.s, ctx: b.ctx, snap: b.snap, ctes: b.ctes}
	inner, err := sub.bindFrom(sel.From)
	if code := sqlerr.Code(err); code == sqlerr.UndefinedColumn || code == sqlerr.UndefinedTable {
		return nil, 0, false, nil // FROM reads the outer query (a function's arguments): run per row
	} else if err != nil {
		return nil, 0, false, err
	}
	innerScope := &scope{cols: inner.columns()}
	outerScope := &scope{cols: outer.columns()}
	r, corr, err := sub.splitCorrelated(inner, sel.Where)
	if err != nil {
		return nil, 0, false, err
	}
	var innerKeys, outerKeys []expr.Expr
	for _, c := range corr {
		bx, ok := c.(*ast.Binary)
		if !ok || bx.Op != ast.OpEq {
			return nil, 0, false, nil
		}
		il, lerr := sub.expr(innerScope, bx.L)
		or, rerr := b.expr(outerScope, bx.R)
		if lerr != nil || rerr != nil {
			if il, lerr = sub.expr(innerScope, bx.R); lerr != nil {
				return nil, 0, false, nil
			}
			if or, rerr = b.expr(outerScope, bx.L); rerr != nil {
				return nil, 0, false, nil
			}
		}
		innerKeys, outerKeys = append(innerKeys, il), append(outerKeys, or)
	}
	if len(innerKeys) == 0 {
		return nil, 0, false, nil
	}
	call, err := sub.aggCall(innerScope, fc)
	if err != nil {
		return nil, 0, false, err
	}
	a := &aggRel{in: r, groups: innerKeys, aggs: []aggCall{call}}
	for i, k := range innerKeys {
		a.cols = append(a.cols, col{qual: "?sub", name: "?key" + string(rune('0'+i%10)), typ: k.Type(), nullable: k.Nullable()})
	}
	a.cols = append(a.cols, col{qual: "?sub", name: "?value", typ: call.fn.Result, nullable: true})
	oc := outer.columns()
	j := &joinRel{kind: joinLeft, left: outer, right: a}
	j.cols = append(append([]col(nil), oc...), a.cols...)
	for i := len(oc); i < len(j.cols); i++ {
		j.cols[i].nullable = true
	}
	var conds []expr.Expr
	for i, ok := range outerKeys {
		eq, err := expr.Compare("=", ok, columnExpr(j.cols, len(oc)+i))
		if err != nil {
			return nil, 0, false, errAt(sq.Pos, err)
		}
		conds = append(conds, eq)
	}
	if j.cond, err = expr.And(conds...); err != nil {
		return nil, 0, false, err
	}
	valueCol := len(j.cols) - 1
	if strings.EqualFold(fc.Name[len(fc.Name)-1], "count") {
		// count over no rows is 0: project it so.
		exprs := identity(j.cols)
		c, err := expr.Coalesce(columnExpr(j.cols, valueCol), expr.Lit(int64(0), call.fn.Result))
		if err != nil {
			return nil, 0, false, err
		}
		exprs[valueCol] = c
		cols := append([]col(nil), j.cols...)
		cols[valueCol].nullable = false
		return &projectRel{in: j, exprs: exprs, cols: cols}, valueCol, true, nil
	}
	return j, valueCol, true, nil
}

// subqueryColumn reads the column of a decorrelated subquery.
func (b *binder) subqueryColumn(sc *scope, i int) (expr.Expr, error) {
	if sc.g != nil && sc.g.grouped {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "a correlated subquery may not be used with GROUP BY")
	}
	return columnExpr(sc.cols, i), nil
}
