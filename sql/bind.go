package sql

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine"
	"github.com/dormousedb/dormouse/engine/agg"
	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/sql/ast"
)

// binder turns a parsed query into a logical plan: it resolves names in
// the snapshot's catalog, types every expression, and checks what SQL
// requires (grouping, aggregates in the right places).
type binder struct {
	s    *Session
	ctx  context.Context
	snap *snapshot
	ctes []map[string]*cte
	// outer is the query around a correlated subquery bound per row (see
	// apply.go), nil elsewhere.
	outer *outerScope
}

// cte is a WITH query visible by name.
type cte struct {
	q       *ast.Query
	columns []string
	bound   rel
}

// scope is the set of columns an expression may name. Above an
// aggregation or a window, g maps the expressions they computed to their
// output columns.
type scope struct {
	cols []col
	g    *grouping
	// subs maps correlated scalar subqueries (by their SQL text) to the
	// column that computes them, once decorrelated into a join.
	subs map[string]int
}

func (b *binder) lookupCTE(name string) *cte {
	for i := len(b.ctes) - 1; i >= 0; i-- {
		if c, ok := b.ctes[i][strings.ToLower(name)]; ok {
			return c
		}
	}
	return nil
}

// bindQuery binds a whole query: WITH, body, ORDER BY, LIMIT, OFFSET.
func (b *binder) bindQuery(q *ast.Query) (rel, error) {
	if q.With != nil {
		if q.With.Recursive {
			return nil, errAt(q.With.Pos, sqlerr.New(sqlerr.FeatureNotSupported, "WITH RECURSIVE is not supported"))
		}
		m := map[string]*cte{}
		for _, c := range q.With.CTEs {
			m[strings.ToLower(c.Name)] = &cte{q: c.Query, columns: c.Columns}
		}
		b.ctes = append(b.ctes, m)
		defer func() { b.ctes = b.ctes[:len(b.ctes)-1] }()
	}
	var r rel
	var err error
	if sel, ok := q.Body.(*ast.Select); ok {
		r, err = b.bindSelect(sel, q.OrderBy)
	} else {
		r, err = b.bindBody(q.Body)
		if err == nil && len(q.OrderBy) > 0 {
			r, err = b.orderByOutput(r, q.OrderBy)
		}
	}
	if err != nil {
		return nil, err
	}
	if q.Limit != nil || q.Offset != nil {
		lim := &limitRel{in: r, count: -1}
		if q.Limit != nil {
			if lim.count, err = b.constInt(q.Limit, "LIMIT"); err != nil {
				return nil, err
			}
		}
		if q.Offset != nil {
			if lim.offset, err = b.constInt(q.Offset, "OFFSET"); err != nil {
				return nil, err
			}
		}
		r = lim
	}
	return r, nil
}

// constInt evaluates a LIMIT or OFFSET: a constant integer, NULL meaning
// none (LIMIT ALL).
func (b *binder) constInt(e ast.Expr, what string) (int64, error) {
	if lit, ok := e.(*ast.Literal); ok {
		switch lit.Kind {
		case ast.LitNull:
			return -1, nil
		case ast.LitInt:
			if lit.Int < 0 {
				code := "2201W" // invalid_row_count_in_limit_clause
				if what == "OFFSET" {
					code = "2201X" // invalid_row_count_in_result_offset_clause
				}
				return 0, errAt(lit.Pos, sqlerr.New(code, "%s must not be negative", what))
			}
			return lit.Int, nil
		}
	}
	return 0, errAt(e.Position(), sqlerr.New(sqlerr.FeatureNotSupported, "%s must be an integer constant", what))
}

func (b *binder) bindBody(body ast.QueryBody) (rel, error) {
	switch body := body.(type) {
	case *ast.Select:
		return b.bindSelect(body, nil)
	case *ast.Query:
		return b.bindQuery(body)
	case *ast.Values:
		return b.bindValues(body)
	case *ast.SetOp:
		return b.bindSetOp(body)
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "unsupported query form %T", body)
}

func (b *binder) bindValues(v *ast.Values) (rel, error) {
	if len(v.Rows) == 0 {
		return nil, errAt(v.Pos, sqlerr.New(sqlerr.SyntaxError, "VALUES needs at least one row"))
	}
	empty := &scope{}
	rows := make([][]expr.Expr, len(v.Rows))
	for i, row := range v.Rows {
		if len(row) != len(v.Rows[0]) {
			return nil, errAt(v.Pos, sqlerr.New(sqlerr.SyntaxError, "VALUES lists must all be the same length"))
		}
		rows[i] = make([]expr.Expr, len(row))
		for j, e := range row {
			x, err := b.expr(empty, e)
			if err != nil {
				return nil, err
			}
			rows[i][j] = x
		}
	}
	cols := make([]col, len(rows[0]))
	for j := range cols {
		types := make([]arrow.DataType, len(rows))
		for i := range rows {
			types[i] = rows[i][j].Type()
		}
		t, err := expr.CommonType(types...)
		if err != nil {
			return nil, errAt(v.Pos, err)
		}
		if t.ID() == arrow.NULL {
			t = arrow.BinaryTypes.String
		}
		nullable := false
		for i := range rows {
			if rows[i][j], err = expr.ImplicitCast(rows[i][j], t); err != nil {
				return nil, errAt(v.Rows[0][j].Position(), err)
			}
			nullable = nullable || rows[i][j].Nullable()
		}
		cols[j] = col{name: fmt.Sprintf("column%d", j+1), typ: t, nullable: nullable}
	}
	return &valuesRel{rows: rows, cols: cols}, nil
}

func (b *binder) bindSetOp(op *ast.SetOp) (rel, error) {
	l, err := b.bindBody(op.Left)
	if err != nil {
		return nil, err
	}
	r, err := b.bindBody(op.Right)
	if err != nil {
		return nil, err
	}
	lc, rc := l.columns(), r.columns()
	if len(lc) != len(rc) {
		return nil, errAt(op.Pos, sqlerr.New(sqlerr.SyntaxError, "each %s query must have the same number of columns", op.Op))
	}
	cols := make([]col, len(lc))
	lx, rx := make([]expr.Expr, len(lc)), make([]expr.Expr, len(lc))
	castL, castR := false, false
	for i := range lc {
		t, err := expr.CommonType(lc[i].typ, rc[i].typ)
		if err != nil {
			return nil, errAt(op.Pos, err)
		}
		if t.ID() == arrow.NULL {
			t = arrow.BinaryTypes.String
		}
		cols[i] = col{name: lc[i].name, typ: t, nullable: lc[i].nullable || rc[i].nullable}
		if lx[i], err = expr.ImplicitCast(columnExpr(lc, i), t); err != nil {
			return nil, errAt(op.Pos, err)
		}
		if rx[i], err = expr.ImplicitCast(columnExpr(rc, i), t); err != nil {
			return nil, errAt(op.Pos, err)
		}
		castL = castL || !arrow.TypeEqual(lc[i].typ, t)
		castR = castR || !arrow.TypeEqual(rc[i].typ, t)
	}
	if castL {
		l = &projectRel{in: l, exprs: lx, cols: cols}
	}
	if castR {
		r = &projectRel{in: r, exprs: rx, cols: cols}
	}
	return &setOpRel{op: op.Op.String(), all: op.All, left: l, right: r, cols: cols}, nil
}

// columnExpr is a reference to column i of cols.
func columnExpr(cols []col, i int) expr.Expr {
	return &expr.Column{Index: i, Name: cols[i].name, Typ: cols[i].typ, Null: cols[i].nullable}
}

// orderByOutput sorts a set operation's or VALUES' output by output column
// names or positions.
func (b *binder) orderByOutput(r rel, items []ast.OrderItem) (rel, error) {
	cols := r.columns()
	keys := make([]engine.SortKey, len(items))
	for i, it := range items {
		idx := -1
		switch e := it.Expr.(type) {
		case *ast.Literal:
			if e.Kind == ast.LitInt && e.Int >= 1 && int(e.Int) <= len(cols) {
				idx = int(e.Int) - 1
			}
		case *ast.ColumnRef:
			if len(e.Parts) == 1 {
				for j, c := range cols {
					if strings.EqualFold(c.name, e.Parts[0]) {
						idx = j
						break
					}
				}
			}
		}
		if idx < 0 {
			return nil, errAt(it.Expr.Position(), sqlerr.New(sqlerr.FeatureNotSupported, "ORDER BY on a set operation must name an output column"))
		}
		keys[i] = sortKey(idx, it)
	}
	return &sortRel{in: r, keys: keys}, nil
}

// sortKey applies PostgreSQL's NULL placement: last ascending, first
// descending, unless NULLS FIRST/LAST says otherwise.
func sortKey(column int, it ast.OrderItem) engine.SortKey {
	k := engine.SortKey{Column: column, Desc: it.Desc, NullsFirst: it.Desc}
	if it.NullsFirst != nil {
		k.NullsFirst = *it.NullsFirst
	}
	return k
}

// bindFrom binds the FROM list: several items are a cross join.
func (b *binder) bindFrom(items []ast.TableExpr) (rel, error) {
	if len(items) == 0 {
		return &valuesRel{rows: [][]expr.Expr{{}}}, nil
	}
	var out rel
	for _, item := range items {
		if out != nil {
			r, ok, err := b.bindLateral(item, out, nil, false)
			if err != nil {
				return nil, err
			}
			if ok {
				out = r
				continue
			}
		}
		r, err := b.bindTableExpr(item)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = r
			continue
		}
		out = &joinRel{kind: joinCross, left: out, right: r, cols: append(append([]col(nil), out.columns()...), r.columns()...)}
	}
	return out, nil
}

func (b *binder) bindTableExpr(t ast.TableExpr) (rel, error) {
	switch t := t.(type) {
	case *ast.TableRef:
		return b.bindTableRef(t)
	case *ast.Subquery:
		r, err := b.bindQuery(t.Query)
		if err != nil {
			return nil, err
		}
		return requalify(r, t.Alias, t.ColumnAliases, t.Pos)
	case *ast.Join:
		return b.bindJoin(t)
	case *ast.FuncTable:
		return b.bindFuncTable(t)
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "unsupported FROM item %T", t)
}

// requalify renames a relation's columns to alias.col (with optional
// column aliases) by a projection that passes them through.
func requalify(r rel, alias string, names []string, pos int) (rel, error) {
	in := r.columns()
	if len(names) > len(in) {
		return nil, errAt(pos, sqlerr.New(sqlerr.InvalidColumnReference, "table \"%s\" has %d columns available but %d columns specified", alias, len(in), len(names)))
	}
	cols := make([]col, len(in))
	exprs := make([]expr.Expr, len(in))
	for i, c := range in {
		c.qual = alias
		if i < len(names) {
			c.name = names[i]
		}
		cols[i] = c
		exprs[i] = columnExpr(in, i)
	}
	return &projectRel{in: r, exprs: exprs, cols: cols}, nil
}

func (b *binder) bindTableRef(t *ast.TableRef) (rel, error) {
	alias := t.Alias
	if alias == "" {
		alias = t.Name
	}
	if t.Schema == "" {
		if c := b.lookupCTE(t.Name); c != nil {
			if c.bound == nil {
				r, err := b.bindQuery(c.q)
				if err != nil {
					return nil, err
				}
				c.bound = r
			}
			names := t.ColumnAliases
			if names == nil {
				names = c.columns
			}
			return requalify(c.bound, alias, names, t.Pos)
		}
	}
	schemaName := strings.ToLower(t.Schema)
	if schemaName == "" || schemaName == "public" {
		if d, ok := b.snap.def(t.Name); ok {
			ts, err := b.snap.table(b.ctx, d.Name)
			if err != nil {
				return nil, err
			}
			sc := &scanRel{ts: ts, alias: alias}
			all := d.Schema.Columns()
			for _, i := range ts.t.Def.DeclaredColumns() {
				c := all[i]
				sc.cols = append(sc.cols, col{qual: alias, name: c.Name, typ: c.Type.Arrow(), nullable: c.Nullable, from: sc})
				sc.storage = append(sc.storage, i)
			}
			return withColumnAliases(sc, t.ColumnAliases, t.Pos)
		}
	}
	if vt := b.findVirtual(schemaName, t.Name); vt != nil {
		sc := &scanRel{vt: vt, alias: alias}
		for _, c := range vt.cols {
			sc.cols = append(sc.cols, col{qual: alias, name: c.name, typ: c.typ, nullable: true, from: sc})
		}
		return withColumnAliases(sc, t.ColumnAliases, t.Pos)
	}
	name := t.Name
	if t.Schema != "" {
		name = t.Schema + "." + t.Name
	}
	e := sqlerr.New(sqlerr.UndefinedTable, "relation \"%s\" does not exist", name)
	if hint := b.suggestTable(t.Name); hint != "" {
		e = e.WithHint("Perhaps you meant to reference the table \"%s\".", hint)
	}
	return nil, errAt(t.Pos, e)
}

func withColumnAliases(sc *scanRel, names []string, pos int) (rel, error) {
	if len(names) == 0 {
		return sc, nil
	}
	if len(names) > len(sc.cols) {
		return nil, errAt(pos, sqlerr.New(sqlerr.InvalidColumnReference, "table \"%s\" has %d columns available but %d columns specified", sc.alias, len(sc.cols), len(names)))
	}
	for i, n := range names {
		sc.cols[i].name = n
	}
	return sc, nil
}

// findVirtual finds a virtual table by schema (or any schema when empty)
// and name.
func findVirtual(schemaName, name string) *virtualTable {
	for _, v := range append(systemTables(), informationSchema()...) {
		if strings.EqualFold(v.name, name) && (schemaName == "" && v.schema == "dormouse" || strings.EqualFold(v.schema, schemaName)) {
			return v
		}
	}
	return nil
}

// suggestTable returns the closest table name, for "did you mean".
func (b *binder) suggestTable(name string) string {
	var names []string
	for _, d := range b.snap.defs {
		names = append(names, d.Name)
	}
	return closest(name, names)
}

func (b *binder) bindJoin(j *ast.Join) (rel, error) {
	l, err := b.bindTableExpr(j.Left)
	if err != nil {
		return nil, err
	}
	if lat, ok, err := b.bindJoinLateral(j, l); ok || err != nil {
		return lat, err
	}
	r, err := b.bindTableExpr(j.Right)
	if err != nil {
		return nil, err
	}
	kinds := map[ast.JoinKind]joinKind{ast.InnerJoin: joinInner, ast.LeftJoin: joinLeft, ast.RightJoin: joinRight, ast.FullJoin: joinFull, ast.CrossJoin: joinCross}
	jr := &joinRel{kind: kinds[j.Kind], left: l, right: r}
	lc, rc := l.columns(), r.columns()
	jr.cols = append(append([]col(nil), lc...), rc...)
	if jr.kind == joinLeft || jr.kind == joinFull {
		for i := len(lc); i < len(jr.cols); i++ {
			jr.cols[i].nullable = true
		}
	}
	if jr.kind == joinRight || jr.kind == joinFull {
		for i := 0; i < len(lc); i++ {
			jr.cols[i].nullable = true
		}
	}
	using := j.Using
	if j.Natural {
		for _, a := range lc {
			for _, c := range rc {
				if strings.EqualFold(a.name, c.name) {
					using = append(using, a.name)
				}
			}
		}
	}
	sc := &scope{cols: jr.cols}
	switch {
	case len(using) > 0:
		var conds []expr.Expr
		for _, name := range using {
			li, ri := findCol(lc, name), findCol(rc, name)
			if li < 0 || ri < 0 {
				return nil, errAt(j.Pos, sqlerr.New(sqlerr.UndefinedColumn, "column \"%s\" specified in USING clause does not exist in %s table", name, map[bool]string{true: "left", false: "right"}[li < 0]))
			}
			eq, err := expr.Compare("=", columnExpr(jr.cols, li), columnExpr(jr.cols, len(lc)+ri))
			if err != nil {
				return nil, errAt(j.Pos, err)
			}
			conds = append(conds, eq)
		}
		if jr.cond, err = expr.And(conds...); err != nil {
			return nil, err
		}
		// The right side's USING columns are hidden from unqualified
		// references, as PostgreSQL merges them into one.
		for _, name := range using {
			jr.cols[len(lc)+findCol(rc, name)].name = "?" + name
			if jr.kind == joinRight {
				jr.cols[findCol(lc, name)].name, jr.cols[len(lc)+findCol(rc, name)].name = "?"+name, name
			}
		}
	case j.On != nil:
		cond, err := b.boolExpr(sc, j.On, "JOIN/ON")
		if err != nil {
			return nil, err
		}
		jr.cond = cond
	}
	return jr, nil
}

// bindJoinLateral binds a join whose right side is lateral (bind_lateral.go)
// after its left side l; ok is false for other joins.
func (b *binder) bindJoinLateral(j *ast.Join, l rel) (rel, bool, error) {
	if !isLateral(j.Right) {
		return nil, false, nil
	}
	switch {
	case j.Kind == ast.RightJoin || j.Kind == ast.FullJoin:
		return nil, true, errAt(j.Pos, sqlerr.New(sqlerr.InvalidColumnReference, "the combining JOIN type must be INNER or LEFT for a LATERAL reference"))
	case len(j.Using) > 0 || j.Natural:
		return nil, true, errAt(j.Pos, sqlerr.New(sqlerr.FeatureNotSupported, "USING and NATURAL joins with a LATERAL item are not supported"))
	}
	return b.bindLateral(j.Right, l, j.On, j.Kind == ast.LeftJoin)
}

func findCol(cols []col, name string) int {
	for i, c := range cols {
		if strings.EqualFold(c.name, name) {
			return i
		}
	}
	return -1
}

// bindFuncTable binds a set-returning function in FROM (pgcatalog_srf.go).
func (b *binder) bindFuncTable(t *ast.FuncTable) (rel, error) { return b.bindSetFuncTable(t, nil) }

// isAggregate reports whether a call is an aggregate (not a window call).
func isAggregate(fc *ast.FuncCall) bool {
	return fc.Over == nil && agg.Exists(fc.Name[len(fc.Name)-1])
}
