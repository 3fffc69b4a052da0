package sql

import (
	"fmt"

	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/sql/ast"
)

// LATERAL: a FROM item that reads the columns of the items before it. A
// function in FROM is lateral when its arguments name columns (as in
// PostgreSQL, where functions in FROM are always lateral); a subquery
// when it is marked LATERAL. Either runs once per row of the items
// before it (left), and the result is left's columns followed by the
// item's:
//
//   - a function unnests its arrays over left (bindSetFuncTable);
//   - a subquery is bound as an applyRows subquery expression over left —
//     its rows as an array of records, computed once per distinct tuple of
//     the outer values it reads, like any correlated subquery (apply.go) —
//     which is unnested and whose fields become the columns.
//
// An inner join's ON condition filters the result. A LEFT JOIN keeps the
// rows of left with no row of the item: its ON condition moves into the
// item (a condition on left's and the item's columns, the same for the
// rows it keeps), and an empty set of rows becomes one row of NULLs.

// bindLateral binds item after left if it is lateral, with the ON
// condition of the join it is the right side of (nil for a comma or
// CROSS JOIN) and whether that join is a LEFT JOIN. ok is false when item
// is not lateral.
func (b *binder) bindLateral(item ast.TableExpr, left rel, on ast.Expr, outer bool) (r rel, ok bool, err error) {
	if !isLateral(item) {
		return nil, false, nil
	}
	switch t := item.(type) {
	case *ast.FuncTable:
		fc := t.Func.(*ast.FuncCall)
		if outer {
			// The function, filtered by the ON condition, as a subquery.
			alias := t.Alias
			if alias == "" {
				alias = fc.Name[len(fc.Name)-1]
			}
			ft := *t
			ft.Lateral = false
			q := &ast.Query{Body: &ast.Select{Items: []ast.SelectItem{{Star: true}}, From: []ast.TableExpr{&ft}, Where: on, Pos: t.Pos}}
			r, err := b.bindLateralQuery(q, alias, nil, left, true, t.Pos)
			return r, true, err
		}
		r, err := b.bindSetFuncTable(t, left)
		if err == nil && on != nil {
			r, err = b.lateralOn(r, on)
		}
		return r, true, err
	case *ast.Subquery:
		q := t.Query
		names := t.ColumnAliases
		if outer && on != nil {
			sub := *t
			sub.Lateral = false
			q = &ast.Query{Body: &ast.Select{Items: []ast.SelectItem{{Star: true}}, From: []ast.TableExpr{&sub}, Where: on, Pos: t.Pos}}
			names = nil
		}
		r, err := b.bindLateralQuery(q, t.Alias, names, left, outer, t.Pos)
		if err == nil && !outer && on != nil {
			r, err = b.lateralOn(r, on)
		}
		return r, true, err
	}
	return nil, false, nil
}

// bindLateralQuery runs q once per row of left and returns left's columns
// followed by q's, named by alias and column aliases names. With outer a
// row of left for which q returns nothing is kept, with NULLs for q's
// columns.
func (b *binder) bindLateralQuery(q *ast.Query, alias string, names []string, left rel, outer bool, pos int) (rel, error) {
	lc := left.columns()
	rows, cols, err := b.bindApplyCols(&scope{cols: lc}, q, applyRows, nil, "LATERAL "+ast.Format(q))
	if err != nil {
		return nil, err
	}
	if len(names) > len(cols) {
		return nil, errAt(pos, sqlerr.New(sqlerr.InvalidColumnReference, "table \"%s\" has %d columns available but %d columns specified", alias, len(cols), len(names)))
	}
	if outer {
		rows = padEmpty(rows)
	}
	u := newUnnestRel(left, []expr.Expr{rows}, []string{"?lateral"}, "")
	proj := &projectRel{in: u}
	for i, c := range lc {
		proj.exprs = append(proj.exprs, columnExpr(u.cols, i))
		proj.cols = append(proj.cols, c)
	}
	value := columnExpr(u.cols, len(lc))
	for i, c := range cols {
		x, err := expr.Field(value, fmt.Sprintf("f%d", i))
		if err != nil {
			return nil, err
		}
		name := c.name
		if i < len(names) {
			name = names[i]
		}
		proj.exprs = append(proj.exprs, x)
		proj.cols = append(proj.cols, col{qual: alias, name: name, typ: c.typ, nullable: true})
	}
	return proj, nil
}

// padEmpty makes an empty array of rows one row of NULLs.
func padEmpty(rows expr.Expr) expr.Expr {
	return expr.GoFunc("lateral_left", []expr.Expr{rows}, rows.Type(), false, func(_ *expr.Context, a []any) (any, error) {
		if elems, _ := a[0].([]any); len(elems) > 0 {
			return elems, nil
		}
		return []any{nil}, nil
	})
}

// lateralOn filters a lateral inner join by its ON condition.
func (b *binder) lateralOn(r rel, on ast.Expr) (rel, error) {
	cond, err := b.boolExpr(&scope{cols: r.columns()}, on, "JOIN/ON")
	if err != nil {
		return nil, err
	}
	return &filterRel{in: r, cond: cond}, nil
}

// isLateral reports whether a FROM item reads the items before it: a
// function whose arguments name columns, or a LATERAL one.
func isLateral(item ast.TableExpr) bool {
	switch t := item.(type) {
	case *ast.FuncTable:
		fc, ok := t.Func.(*ast.FuncCall)
		return ok && (t.Lateral || namesColumns(fc.Args))
	case *ast.Subquery:
		return t.Lateral
	}
	return false
}

// namesColumns reports whether function arguments name any column.
func namesColumns(args []ast.Expr) bool {
	found := false
	for _, a := range args {
		ast.Inspect(a, func(n ast.Node) bool {
			if _, ok := n.(*ast.ColumnRef); ok {
				found = true
			}
			return !found
		})
	}
	return found
}
