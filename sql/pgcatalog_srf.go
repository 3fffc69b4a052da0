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
// function, and with WITH ORDINALITY a bigint column numbering them. Its
// arguments may read the outer query of a subquery.
//
// With left, the FROM items before it, the function is lateral: its
// arguments may read left's columns, and it runs once per row of left.
// The result is then left's columns followed by the function's, the join
// of the two already made.
func (b *binder) bindSetFuncTable(t *ast.FuncTable, left rel) (rel, error) {
	fc, ok := t.Func.(*ast.FuncCall)
	if !ok {
		return nil, errAt(t.Pos, sqlerr.New(sqlerr.FeatureNotSupported, "this function in FROM is not supported"))
	}
	name := strings.ToLower(fc.Name[len(fc.Name)-1])
	if !expr.IsSetFunc(name) {
		return nil, errAt(fc.Pos, sqlerr.New(sqlerr.FeatureNotSupported, "function %s in FROM is not supported", name))
	}
	var base rel = &valuesRel{rows: [][]expr.Expr{{}}}
	sc := &scope{}
	if left != nil {
		base = left
		sc = &scope{cols: left.columns()}
	}
	args := make([]expr.Expr, len(fc.Args))
	for i, a := range fc.Args {
		x, err := b.expr(sc, a)
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
	elem := expr.ElemType(list.Type())
	st, record := elem.(*arrow.StructType)
	colName := name
	switch {
	case len(t.ColumnAliases) > 0 && !record:
		colName = t.ColumnAliases[0]
	case t.Alias != "" && !record:
		colName = t.Alias
	}
	exprs, names := []expr.Expr{list}, []string{colName}
	if t.Ordinality {
		exprs = append(exprs, ordinality(list))
		names = append(names, "ordinality")
	}
	u := newUnnestRel(base, exprs, names, alias)
	nbase := len(base.columns())
	fields := 1
	if record {
		fields = len(st.Fields())
	}
	if len(t.ColumnAliases) > fields+boolInt(t.Ordinality) {
		return nil, errAt(t.Pos, sqlerr.New(sqlerr.InvalidColumnReference, "table \"%s\" has %d columns available but %d columns specified", alias, fields+boolInt(t.Ordinality), len(t.ColumnAliases)))
	}
	if t.Ordinality {
		ord := &u.cols[nbase+1]
		ord.nullable = false
		if fields < len(t.ColumnAliases) {
			ord.name = t.ColumnAliases[fields]
		}
	}
	if !record {
		return u, nil
	}
	// A record's fields become the columns, after base's and before
	// ordinality.
	proj := &projectRel{in: u}
	pass := func(i int) {
		proj.exprs = append(proj.exprs, columnExpr(u.cols, i))
		proj.cols = append(proj.cols, u.cols[i])
	}
	for i := 0; i < nbase; i++ {
		pass(i)
	}
	value := columnExpr(u.cols, nbase)
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
	if t.Ordinality {
		pass(nbase + 1)
	}
	return proj, nil
}

// ordinality numbers the elements of each of list's arrays: {1, 2, …}.
func ordinality(list expr.Expr) expr.Expr {
	return expr.GoFunc("ordinality", []expr.Expr{list}, expr.ListOf(expr.Int8Type), false, func(_ *expr.Context, a []any) (any, error) {
		elems, _ := a[0].([]any)
		out := make([]any, len(elems))
		for i := range out {
			out[i] = int64(i + 1)
		}
		return out, nil
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
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
