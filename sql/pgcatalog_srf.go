package sql

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine"
	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/sql/ast"
)

// Set-returning functions: generate_series, unnest, generate_subscripts
// and information_schema._pg_expandarray, in FROM and in a select list.
// Each call is an array-valued expression (expr.SetFunc) that an
// unnestRel turns into rows, in lockstep with the other calls of the same
// select list, as PostgreSQL's ProjectSet does.

// unnestRel adds to each row of in the elements of its arrays exprs, one
// row per element (see engine.Unnest). Its columns are in's, then one per
// expression.
type unnestRel struct {
	in    rel
	exprs []expr.Expr
	cols  []col
}

func (r *unnestRel) columns() []col { return r.cols }

func newUnnestRel(in rel, exprs []expr.Expr, names []string, qual string) *unnestRel {
	u := &unnestRel{in: in, exprs: exprs, cols: append([]col(nil), in.columns()...)}
	for i, e := range exprs {
		u.cols = append(u.cols, col{qual: qual, name: names[i], typ: expr.ElemType(e.Type()), nullable: true})
	}
	return u
}

func (p *planner) planUnnest(u *unnestRel) (engine.Plan, map[int]int, error) {
	in, err := p.planRel(u.in)
	if err != nil {
		return nil, nil, err
	}
	names := make([]string, len(u.exprs))
	for i := range names {
		names[i] = u.cols[len(u.cols)-len(u.exprs)+i].name
	}
	return &engine.Unnest{Input: in, Exprs: u.exprs, Names: names}, nil, nil
}

// bindSetFuncTable binds a function in FROM: its rows, one column per
// field for a function returning records (_pg_expandarray's x and n),
// else one column named by the column alias, the table alias or the
// function. Its arguments may read the outer query of a subquery.
func (b *binder) bindSetFuncTable(t *ast.FuncTable) (rel, error) {
	fc, ok := t.Func.(*ast.FuncCall)
	if !ok {
		return nil, errAt(t.Pos, sqlerr.New(sqlerr.FeatureNotSupported, "this function in FROM is not supported"))
	}
	name := strings.ToLower(fc.Name[len(fc.Name)-1])
	if t.Lateral {
		return nil, errAt(t.Pos, sqlerr.New(sqlerr.FeatureNotSupported, "LATERAL is not supported"))
	}
	if !expr.IsSetFunc(name) {
		return nil, errAt(fc.Pos, sqlerr.New(sqlerr.FeatureNotSupported, "function %s in FROM is not supported", name))
	}
	args := make([]expr.Expr, len(fc.Args))
	for i, a := range fc.Args {
		x, err := b.expr(&scope{}, a)
		if err != nil {
			return nil, err
		}
		args[i] = x
	}
	list, err := expr.SetFunc(name, args)
	if err != nil {
		return nil, errAt(fc.Pos, err)
	}
	alias := t.Alias
	if alias == "" {
		alias = name
	}
	one := &valuesRel{rows: [][]expr.Expr{{}}}
	elem := expr.ElemType(list.Type())
	st, record := elem.(*arrow.StructType)
	colName := name
	switch {
	case len(t.ColumnAliases) > 0 && !record:
		colName = t.ColumnAliases[0]
	case t.Alias != "" && !record:
		colName = t.Alias
	}
	u := newUnnestRel(one, []expr.Expr{list}, []string{colName}, alias)
	var r rel = u
	if record {
		// A record's fields become the columns.
		proj := &projectRel{in: u}
		value := columnExpr(u.cols, 0)
		for i, f := range st.Fields() {
			x, err := expr.Field(value, f.Name)
			if err != nil {
				return nil, err
			}
			n := f.Name
			if i < len(t.ColumnAliases) {
				n = t.ColumnAliases[i]
			}
			proj.exprs = append(proj.exprs, x)
			proj.cols = append(proj.cols, col{qual: alias, name: n, typ: x.Type(), nullable: true})
		}
		r = proj
	}
	if t.Ordinality {
		return nil, errAt(t.Pos, sqlerr.New(sqlerr.FeatureNotSupported, "WITH ORDINALITY is not supported"))
	}
	return r, nil
}

// selectSetFuncs runs the set-returning functions of a select list: each
// distinct call becomes a column of an unnestRel over r, and the returned
// scope binds the calls, wherever they are in the select list, to those
// columns. Without such calls it returns r and in unchanged.
func (b *binder) selectSetFuncs(r rel, in *scope, items []ast.SelectItem, sel *ast.Select) (rel, *scope, error) {
	var calls []*ast.FuncCall
	seen := map[string]bool{}
	for _, it := range items {
		if it.Expr == nil {
			continue
		}
		ast.Inspect(it.Expr, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncCall:
				if n.Over == nil && expr.IsSetFunc(n.Name[len(n.Name)-1]) {
					if text := n.String(); !seen[text] {
						seen[text] = true
						calls = append(calls, n)
					}
					return false
				}
			case *ast.ScalarSubquery, *ast.Exists, *ast.InSubquery, *ast.ArraySubquery:
				return false
			}
			return true
		})
	}
	if len(calls) == 0 {
		return r, in, nil
	}
	if len(sel.GroupBy) > 0 || sel.Having != nil {
		return nil, nil, errAt(calls[0].Pos, sqlerr.New(sqlerr.FeatureNotSupported, "set-returning functions with GROUP BY are not supported"))
	}
	exprs := make([]expr.Expr, len(calls))
	names := make([]string, len(calls))
	for i, fc := range calls {
		if len(collectCalls(fc, nil, false)) > 0 {
			return nil, nil, errAt(fc.Pos, sqlerr.New(sqlerr.FeatureNotSupported, "set-returning functions over aggregates are not supported"))
		}
		args := make([]expr.Expr, len(fc.Args))
		for j, a := range fc.Args {
			x, err := b.expr(in, a)
			if err != nil {
				return nil, nil, err
			}
			args[j] = x
		}
		list, err := expr.SetFunc(fc.Name[len(fc.Name)-1], args)
		if err != nil {
			return nil, nil, errAt(fc.Pos, err)
		}
		exprs[i] = list
		names[i] = strings.ToLower(fc.Name[len(fc.Name)-1])
	}
	u := newUnnestRel(r, exprs, names, "")
	g := &grouping{keys: map[string]int{}, cols: u.cols}
	base := len(in.cols)
	for i, fc := range calls {
		g.keys[fc.String()] = base + i
	}
	return u, &scope{cols: u.cols, g: g, subs: in.subs}, nil
}
