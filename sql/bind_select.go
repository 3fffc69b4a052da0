package sql

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine"
	"github.com/dormousedb/dormouse/engine/agg"
	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/sql/ast"
)

// grouping is how expressions are bound above an aggregation or window:
// a group key, an aggregate call or a window call written again is a
// reference to the column that computed it, matched by its SQL text.
type grouping struct {
	keys    map[string]int // formatted expression -> column
	aggs    map[string]int
	windows map[string]int
	cols    []col // the columns those indexes refer to
	// grouped is true above a GROUP BY or aggregate: a column of the
	// input that is not a group key may not be named.
	grouped bool
}

// bindSelect binds a SELECT core with the ORDER BY of its query.
func (b *binder) bindSelect(sel *ast.Select, orderBy []ast.OrderItem) (rel, error) {
	from, err := b.bindFrom(sel.From)
	if err != nil {
		return nil, err
	}
	from, subs, err := b.decorrelateScalars(from, sel)
	if err != nil {
		return nil, err
	}
	in := &scope{cols: from.columns(), subs: subs}
	var r rel = from
	if sel.Where != nil {
		if err := noAggregates(sel.Where, "WHERE"); err != nil {
			return nil, err
		}
		where, err := b.rewriteSubqueries(in, sel.Where, &r)
		if err != nil {
			return nil, err
		}
		if where != nil {
			cond, err := b.boolExpr(in, where, "WHERE")
			if err != nil {
				return nil, err
			}
			r = &filterRel{in: r, cond: cond}
		}
	}

	// Expand stars now: the target list is a list of expressions from here.
	items, err := expandStars(sel.Items, in.cols)
	if err != nil {
		return nil, err
	}
	// Set-returning functions in the select list (pgcatalog_srf.go).
	if r, in, err = b.selectSetFuncs(r, in, items, sel); err != nil {
		return nil, err
	}

	// Aggregation.
	var calls []*ast.FuncCall
	for _, it := range items {
		calls = collectCalls(it.Expr, calls, false)
	}
	calls = collectCalls(sel.Having, calls, false)
	for _, o := range orderBy {
		calls = collectCalls(o.Expr, calls, false)
	}
	var g *grouping
	if len(sel.GroupBy) > 0 || len(calls) > 0 || sel.Having != nil {
		if r, g, err = b.aggregate(r, in, sel, items, calls); err != nil {
			return nil, err
		}
	}
	if sel.Having != nil {
		cond, err := b.boolExpr(b.groupedScope(in, g), sel.Having, "HAVING")
		if err != nil {
			return nil, err
		}
		r = &filterRel{in: r, cond: cond}
	}

	// Window functions.
	var wcalls []*ast.FuncCall
	for _, it := range items {
		wcalls = collectCalls(it.Expr, wcalls, true)
	}
	for _, o := range orderBy {
		wcalls = collectCalls(o.Expr, wcalls, true)
	}
	if len(wcalls) > 0 {
		if r, g, err = b.window(r, in, g, wcalls, sel.Windows); err != nil {
			return nil, err
		}
	}

	// The target list, then hidden columns for ORDER BY expressions that
	// are not in it.
	sc := b.groupedScope(in, g)
	proj := &projectRel{in: r}
	for _, it := range items {
		x, err := b.expr(sc, it.Expr)
		if err != nil {
			return nil, err
		}
		proj.exprs = append(proj.exprs, x)
		c := col{name: outputName(it), typ: x.Type(), nullable: x.Nullable()}
		proj.cols = append(proj.cols, c)
	}
	visible := len(proj.exprs)
	var keys []engine.SortKey
	for _, o := range orderBy {
		idx, err := b.orderColumn(sc, proj, items, o, sel.Distinct || len(sel.DistinctOn) > 0)
		if err != nil {
			return nil, err
		}
		keys = append(keys, sortKey(idx, o))
	}
	r = proj
	if sel.Distinct {
		r = &distinctRel{in: r}
	}
	if len(sel.DistinctOn) > 0 {
		return nil, errAt(sel.Pos, sqlerr.New(sqlerr.FeatureNotSupported, "SELECT DISTINCT ON is not supported"))
	}
	if len(keys) > 0 {
		r = &sortRel{in: r, keys: keys}
	}
	if len(proj.cols) > visible {
		cols := proj.cols[:visible]
		exprs := make([]expr.Expr, visible)
		for i := range exprs {
			exprs[i] = columnExpr(proj.cols, i)
		}
		r = &projectRel{in: r, exprs: exprs, cols: cols}
	}
	return r, nil
}

// orderColumn finds or adds the projection column an ORDER BY item sorts
// on: an output position, an output column's name, or an expression over
// the input (added as a hidden column).
func (b *binder) orderColumn(sc *scope, proj *projectRel, items []ast.SelectItem, o ast.OrderItem, distinct bool) (int, error) {
	switch e := o.Expr.(type) {
	case *ast.Literal:
		if e.Kind == ast.LitInt {
			if e.Int < 1 || int(e.Int) > len(items) {
				return 0, errAt(e.Pos, sqlerr.New(sqlerr.InvalidColumnReference, "ORDER BY position %d is not in select list", e.Int))
			}
			return int(e.Int) - 1, nil
		}
	case *ast.ColumnRef:
		if len(e.Parts) == 1 && !e.Star {
			for i, it := range items {
				if it.Alias != "" && strings.EqualFold(it.Alias, e.Parts[0]) {
					return i, nil
				}
			}
		}
	}
	text := o.Expr.String()
	for i, it := range items {
		if it.Expr != nil && it.Expr.String() == text {
			return i, nil
		}
	}
	if distinct {
		return 0, errAt(o.Expr.Position(), sqlerr.New(sqlerr.InvalidColumnReference, "for SELECT DISTINCT, ORDER BY expressions must appear in select list"))
	}
	x, err := b.expr(sc, o.Expr)
	if err != nil {
		return 0, err
	}
	proj.exprs = append(proj.exprs, x)
	proj.cols = append(proj.cols, col{name: "?sort?", typ: x.Type(), nullable: x.Nullable()})
	return len(proj.exprs) - 1, nil
}

// outputName is the column name PostgreSQL gives a target list entry.
func outputName(it ast.SelectItem) string {
	if it.Alias != "" {
		return it.Alias
	}
	return exprName(it.Expr)
}

func exprName(e ast.Expr) string {
	if name, strength := figureColname(e); strength > 0 {
		return name
	}
	return "?column?"
}

// figureColname is PostgreSQL's FigureColname: a name and how strongly
// the expression suggests it (2 a column, function or field; 1 a type or
// CASE; 0 nothing), so that 'a'::text is "text" but x::text is "x", and
// a CASE is named by its ELSE when that names a column.
func figureColname(e ast.Expr) (string, int) {
	switch e := e.(type) {
	case *ast.ColumnRef:
		if len(e.Parts) > 0 && !e.Star {
			return e.Parts[len(e.Parts)-1], 2
		}
	case *ast.FuncCall:
		return strings.ToLower(e.Name[len(e.Name)-1]), 2
	case *ast.Cast:
		if name, s := figureColname(e.X); s > 1 {
			return name, s
		}
		return strings.ToLower(e.Type.Names[len(e.Type.Names)-1]), 1
	case *ast.Case:
		if e.Else != nil {
			if name, s := figureColname(e.Else); s > 1 {
				return name, s
			}
		}
		return "case", 1
	case *ast.Exists:
		return "exists", 2
	case *ast.ArrayExpr, *ast.ArraySubquery:
		return "array", 2
	case *ast.Row:
		return "row", 2
	case *ast.Subscript:
		return figureColname(e.X)
	case *ast.FieldSelect:
		return e.Field, 2
	case *ast.Collate:
		return figureColname(e.X)
	case *ast.ScalarSubquery:
		if sel, ok := e.Query.Body.(*ast.Select); ok && len(sel.Items) == 1 {
			return outputName(sel.Items[0]), 2
		}
	}
	return "", 0
}

// expandStars replaces * and t.* by the columns they stand for.
func expandStars(items []ast.SelectItem, cols []col) ([]ast.SelectItem, error) {
	var out []ast.SelectItem
	for _, it := range items {
		if !it.Star {
			out = append(out, it)
			continue
		}
		found := false
		for _, c := range cols {
			if strings.HasPrefix(c.name, "?") {
				continue // hidden: a USING column's second copy
			}
			if len(it.Qualifier) > 0 && !strings.EqualFold(c.qual, it.Qualifier[len(it.Qualifier)-1]) {
				continue
			}
			found = true
			parts := []string{c.name}
			if c.qual != "" {
				parts = []string{c.qual, c.name}
			}
			out = append(out, ast.SelectItem{Expr: &ast.ColumnRef{Parts: parts, Pos: it.Pos}, Pos: it.Pos})
		}
		if len(it.Qualifier) > 0 && !found {
			return nil, errAt(it.Pos, sqlerr.New(sqlerr.UndefinedTable, "missing FROM-clause entry for table \"%s\"", strings.Join(it.Qualifier, ".")))
		}
	}
	if len(out) == 0 && len(items) > 0 {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "SELECT * with no columns")
	}
	return out, nil
}

// collectCalls appends the aggregate calls (or, with windows, the window
// calls) in e, without looking inside subqueries.
func collectCalls(e ast.Expr, into []*ast.FuncCall, windows bool) []*ast.FuncCall {
	if e == nil {
		return into
	}
	ast.Inspect(e, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncCall:
			if windows && n.Over != nil {
				into = append(into, n)
				return false
			}
			if !windows && isAggregate(n) {
				into = append(into, n)
				return false
			}
		case *ast.ScalarSubquery, *ast.Exists, *ast.InSubquery:
			return false
		}
		return true
	})
	return into
}

// noAggregates reports an error for an aggregate where none is allowed.
func noAggregates(e ast.Expr, clause string) error {
	if calls := collectCalls(e, nil, false); len(calls) > 0 {
		return errAt(calls[0].Pos, sqlerr.New(sqlerr.GroupingError, "aggregate functions are not allowed in %s", clause))
	}
	if calls := collectCalls(e, nil, true); len(calls) > 0 {
		return errAt(calls[0].Pos, sqlerr.New(sqlerr.WindowingError, "window functions are not allowed in %s", clause))
	}
	return nil
}

// aggregate builds the aggRel for a SELECT's GROUP BY and aggregate calls.
func (b *binder) aggregate(r rel, in *scope, sel *ast.Select, items []ast.SelectItem, calls []*ast.FuncCall) (rel, *grouping, error) {
	a := &aggRel{in: r}
	g := &grouping{keys: map[string]int{}, aggs: map[string]int{}, grouped: true}
	for _, ge := range sel.GroupBy {
		e := ge
		// GROUP BY 2 and GROUP BY alias name target list entries.
		if lit, ok := ge.(*ast.Literal); ok && lit.Kind == ast.LitInt {
			if lit.Int < 1 || int(lit.Int) > len(items) {
				return nil, nil, errAt(lit.Pos, sqlerr.New(sqlerr.InvalidColumnReference, "GROUP BY position %d is not in select list", lit.Int))
			}
			e = items[lit.Int-1].Expr
		} else if cr, ok := ge.(*ast.ColumnRef); ok && len(cr.Parts) == 1 && findCol(in.cols, cr.Parts[0]) < 0 {
			for _, it := range items {
				if strings.EqualFold(it.Alias, cr.Parts[0]) {
					e = it.Expr
				}
			}
		}
		if err := noAggregates(e, "GROUP BY"); err != nil {
			return nil, nil, err
		}
		text := e.String()
		if _, dup := g.keys[text]; dup {
			continue
		}
		x, err := b.expr(in, e)
		if err != nil {
			return nil, nil, err
		}
		g.keys[text] = len(a.groups)
		a.groups = append(a.groups, x)
		name := exprName(e)
		qual := ""
		if cr, ok := e.(*ast.ColumnRef); ok {
			if i := b.resolveIndex(in, cr); i >= 0 {
				qual = in.cols[i].qual
			}
		}
		a.cols = append(a.cols, col{qual: qual, name: name, typ: x.Type(), nullable: x.Nullable()})
		// A grouped column may still be named by its plain or qualified
		// name: index both spellings.
		if cr, ok := e.(*ast.ColumnRef); ok {
			if i := b.resolveIndex(in, cr); i >= 0 {
				g.keys[(&ast.ColumnRef{Parts: []string{in.cols[i].name}}).String()] = len(a.groups) - 1
				if in.cols[i].qual != "" {
					g.keys[(&ast.ColumnRef{Parts: []string{in.cols[i].qual, in.cols[i].name}}).String()] = len(a.groups) - 1
				}
			}
		}
	}
	for _, fc := range calls {
		text := fc.String()
		if _, dup := g.aggs[text]; dup {
			continue
		}
		call, err := b.aggCall(in, fc)
		if err != nil {
			return nil, nil, err
		}
		g.aggs[text] = len(a.groups) + len(a.aggs)
		a.aggs = append(a.aggs, call)
		a.cols = append(a.cols, col{name: strings.ToLower(fc.Name[len(fc.Name)-1]), typ: call.fn.Result, nullable: call.fn.ResultNullable})
	}
	g.cols = a.cols
	return a, g, nil
}

// aggCall binds one aggregate call over the aggregation's input.
func (b *binder) aggCall(in *scope, fc *ast.FuncCall) (aggCall, error) {
	name := strings.ToLower(fc.Name[len(fc.Name)-1])
	call := aggCall{distinct: fc.Distinct, text: fc.String()}
	var types []arrow.DataType
	for _, a := range fc.Args {
		if err := noAggregates(a, "aggregate function calls"); err != nil {
			return call, err
		}
		x, err := b.expr(in, a)
		if err != nil {
			return call, err
		}
		call.args = append(call.args, x)
		types = append(types, x.Type())
	}
	if fc.Star {
		if name != "count" {
			return call, errAt(fc.Pos, sqlerr.New(sqlerr.SyntaxError, "%s(*) specified, but %s is not an aggregate function", name, name))
		}
		call.args, types = nil, nil
	}
	if fc.Filter != nil {
		f, err := b.boolExpr(in, fc.Filter, "FILTER")
		if err != nil {
			return call, err
		}
		call.filter = f
	}
	fn, err := agg.Resolve(name, types)
	if err != nil {
		return call, errAt(fc.Pos, err)
	}
	call.fn = fn
	return call, nil
}

// groupedScope is the scope of expressions above an aggregation or window:
// the input's columns, consulted through g.
func (b *binder) groupedScope(in *scope, g *grouping) *scope {
	if g == nil {
		return in
	}
	return &scope{cols: in.cols, g: g, subs: in.subs}
}

// window adds a windowRel computing every window call.
func (b *binder) window(r rel, in *scope, g *grouping, calls []*ast.FuncCall, named []*ast.WindowSpec) (rel, *grouping, error) {
	sc := b.groupedScope(in, g)
	base := r.columns()
	w := &windowRel{in: r, cols: append([]col(nil), base...)}
	ng := &grouping{keys: map[string]int{}, aggs: map[string]int{}, windows: map[string]int{}}
	if g != nil {
		for k, v := range g.keys {
			ng.keys[k] = v
		}
		for k, v := range g.aggs {
			ng.aggs[k] = v
		}
		ng.grouped = g.grouped
	}
	for _, fc := range calls {
		text := fc.String()
		if _, dup := ng.windows[text]; dup {
			continue
		}
		spec := fc.Over
		if spec.Name != "" && len(spec.PartitionBy) == 0 && len(spec.OrderBy) == 0 {
			found := false
			for _, n := range named {
				if strings.EqualFold(n.Name, spec.Name) {
					spec, found = n, true
				}
			}
			if !found {
				return nil, nil, errAt(fc.Pos, sqlerr.New(sqlerr.UndefinedObject, "window \"%s\" does not exist", spec.Name))
			}
		}
		if spec.Frame != nil {
			return nil, nil, errAt(fc.Pos, sqlerr.New(sqlerr.FeatureNotSupported, "window frame clauses are not supported"))
		}
		wc := windowCall{name: strings.ToLower(fc.Name[len(fc.Name)-1]), text: text}
		for _, p := range spec.PartitionBy {
			x, err := b.expr(sc, p)
			if err != nil {
				return nil, nil, err
			}
			wc.partitionBy = append(wc.partitionBy, x)
		}
		for i, o := range spec.OrderBy {
			x, err := b.expr(sc, o.Expr)
			if err != nil {
				return nil, nil, err
			}
			wc.orderExprs = append(wc.orderExprs, x)
			wc.orderBy = append(wc.orderBy, sortKey(i, o))
		}
		switch wc.name {
		case "row_number", "rank", "dense_rank":
			if len(fc.Args) > 0 {
				return nil, nil, errAt(fc.Pos, sqlerr.New(sqlerr.UndefinedFunction, "function %s takes no arguments", wc.name))
			}
			wc.typ = arrow.PrimitiveTypes.Int64
		default:
			var types []arrow.DataType
			for _, a := range fc.Args {
				x, err := b.expr(sc, a)
				if err != nil {
					return nil, nil, err
				}
				wc.args = append(wc.args, x)
				types = append(types, x.Type())
			}
			if fc.Star {
				wc.args, types = nil, nil
			}
			fn, err := agg.Resolve(wc.name, types)
			if err != nil {
				return nil, nil, errAt(fc.Pos, sqlerr.New(sqlerr.UndefinedFunction, "window function %s does not exist", wc.name))
			}
			wc.fn, wc.typ = fn, fn.Result
		}
		ng.windows[text] = len(w.cols)
		w.funcs = append(w.funcs, wc)
		w.cols = append(w.cols, col{name: wc.name, typ: wc.typ, nullable: wc.fn != nil})
	}
	ng.cols = w.cols
	return w, ng, nil
}
