package sql

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/dormousedb/dormouse/engine"
	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/sql/ast"
)

// prepare binds and plans a query against a fresh snapshot.
func (s *Session) prepare(ctx context.Context, q *ast.Query, ec *engine.ExecContext) (engine.Plan, error) {
	plan, _, err := s.bindPlan(ctx, q, ec)
	return plan, err
}

// bindPlan binds and plans a query against a fresh snapshot, and returns
// the bound relation too, which describes the result's columns.
func (s *Session) bindPlan(ctx context.Context, q *ast.Query, ec *engine.ExecContext) (engine.Plan, rel, error) {
	snap, err := s.snapshot(ctx)
	if err != nil {
		return nil, nil, err
	}
	return s.bindPlanIn(ctx, snap, q, ec)
}

// bindPlanCached is bindPlan for an execution of the prepared statement
// st, reusing its binding when it can (prepare_cache.go); it returns the
// result's columns rather than the relation, which the cache describes
// once.
func (s *Session) bindPlanCached(ctx context.Context, st *Statement, q *ast.Query, ec *engine.ExecContext) (engine.Plan, []Column, error) {
	snap, err := s.snapshot(ctx)
	if err != nil {
		return nil, nil, err
	}
	r, pushed, locked, err := s.bindCached(ctx, st, snap, q)
	if err != nil {
		return nil, nil, err
	}
	if !locked {
		p := &planner{b: &binder{s: s, ctx: ctx, snap: snap}, ec: ec}
		plan, err := p.planRel(pushed)
		return plan, describeRel(r), err
	}
	// r is the cached relation. A kept plan (c.plan) is not taken here:
	// queryKept found that this execution's parameters make its filter
	// one the scan cannot apply exactly, so it is planned afresh.
	c := &st.bound
	defer c.mu.Unlock()
	if c.cols == nil {
		c.cols = describeRel(r)
	}
	p := &planner{b: &binder{s: s, ctx: ctx, snap: snap}, ec: ec, record: c.plan == nil}
	plan, err := p.planRel(pushed)
	if err == nil && p.record {
		c.keepPlan(plan, p.planned)
	}
	return plan, c.cols, err
}

// bindPlanIn binds and plans a query against snap (split.go pins its
// tables at given log sequence numbers).
func (s *Session) bindPlanIn(ctx context.Context, snap *snapshot, q *ast.Query, ec *engine.ExecContext) (engine.Plan, rel, error) {
	b := &binder{s: s, ctx: ctx, snap: snap}
	r, err := b.bindQuery(q)
	if err != nil {
		return nil, nil, err
	}
	p := &planner{b: b, ec: ec}
	plan, err := p.plan(r)
	return plan, r, err
}

func (s *Session) query(ctx context.Context, q *ast.Query) (Rows, error) {
	st := s.running
	cached := st != nil && st.stmt == q && !s.params.describing()
	if cached {
		if rows, ok, err := s.queryKept(ctx, st); ok {
			return rows, err
		}
	}
	ec := s.execContext(ctx, false)
	var plan engine.Plan
	var cols []Column
	var err error
	if cached {
		plan, cols, err = s.bindPlanCached(ctx, st, q, ec)
	} else {
		var r rel
		if plan, r, err = s.bindPlan(ctx, q, ec); err == nil {
			cols = describeRel(r)
		}
	}
	if err != nil {
		return nil, err
	}
	op, err := engine.OpenPlan(ec, plan)
	if err != nil {
		return nil, err
	}
	return &planRows{op: op, cols: cols}, nil
}

// explain shows a plan, and with ANALYZE runs it and shows what each node
// did: rows, time, and how much the scan pruned at each level.
func (s *Session) explain(ctx context.Context, st *ast.Explain) (Rows, error) {
	q, ok := st.Stmt.(*ast.Query)
	if !ok {
		return nil, errAt(st.Pos, sqlerr.New(sqlerr.FeatureNotSupported, "EXPLAIN supports queries only"))
	}
	for _, o := range st.Options {
		switch o.Name {
		case "analyze", "verbose", "costs", "timing", "summary", "buffers":
		case "format":
			if !strings.EqualFold(o.Value, "text") {
				return nil, errAt(o.Pos, sqlerr.New(sqlerr.FeatureNotSupported, "EXPLAIN format %s is not supported", o.Value))
			}
		default:
			return nil, errAt(o.Pos, sqlerr.New(sqlerr.SyntaxError, "unrecognized EXPLAIN option \"%s\"", o.Name))
		}
	}
	ec := s.execContext(ctx, st.Analyze)
	plan, err := s.prepare(ctx, q, ec)
	if err != nil {
		return nil, err
	}
	var text string
	if st.Analyze {
		op, err := engine.OpenPlan(ec, plan)
		if err != nil {
			return nil, err
		}
		rows := int64(0)
		for {
			rec, err := op.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				op.Close()
				return nil, err
			}
			rows += rec.NumRows()
			rec.Release()
		}
		op.Close()
		text = engine.ExplainAnalyze(plan, ec.Stats) + fmt.Sprintf("Rows: %d, peak memory: %d bytes", rows, ec.Mem.Peak())
	} else {
		text = strings.TrimRight(engine.Explain(plan), "\n")
	}
	lines := strings.Split(text, "\n")
	out := make([][]string, len(lines))
	for i, l := range lines {
		out[i] = []string{l}
	}
	return textRows([]string{"QUERY PLAN"}, out, "EXPLAIN"), nil
}

// scalarSubquery runs an uncorrelated subquery used as a value once, at
// planning time, and stands its value in as a constant.
func (b *binder) scalarSubquery(e *ast.ScalarSubquery) (expr.Expr, error) {
	sub := &binder{s: b.s, ctx: b.ctx, snap: b.snap, ctes: b.ctes}
	r, err := sub.bindQuery(e.Query)
	if err != nil {
		return nil, err
	}
	cols := r.columns()
	if len(cols) != 1 {
		return nil, sqlerr.New(sqlerr.SyntaxError, "subquery must return only one column")
	}
	// Its value becomes part of the binding, which a prepared statement
	// then must not keep (boundCache).
	b.snap.boundData = true
	if b.s.params.describing() {
		// Prepare only needs its type; its parameters have no values yet.
		return expr.Null(cols[0].typ), nil
	}
	ec := b.s.execContext(b.ctx, false)
	p := &planner{b: sub, ec: ec}
	plan, err := p.plan(r)
	if err != nil {
		return nil, err
	}
	op, err := engine.OpenPlan(ec, plan)
	if err != nil {
		return nil, err
	}
	defer op.Close()
	var val any
	n := 0
	for {
		rec, err := op.Next(b.ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			n++
			if n > 1 {
				rec.Release()
				return nil, sqlerr.New(sqlerr.CardinalityViolation, "more than one row returned by a subquery used as an expression")
			}
			val = goValue(rec.Column(0), i)
		}
		rec.Release()
	}
	if val == nil {
		return expr.Null(cols[0].typ), nil
	}
	return expr.Lit(val, cols[0].typ), nil
}

// goValue reads one value of an array as the Go value expr.Lit takes.
func goValue(a arrow.Array, i int) any {
	if a.IsNull(i) {
		return nil
	}
	switch a := a.(type) {
	case *array.Boolean:
		return a.Value(i)
	case *array.Int16:
		return a.Value(i)
	case *array.Int32:
		return a.Value(i)
	case *array.Int64:
		return a.Value(i)
	case *array.Float32:
		return a.Value(i)
	case *array.Float64:
		return a.Value(i)
	case *array.String:
		return a.Value(i)
	case *array.Binary:
		return append([]byte(nil), a.Value(i)...)
	case *array.Date32:
		return a.Value(i)
	case *array.Timestamp:
		return a.Value(i)
	case *array.MonthDayNanoInterval:
		return a.Value(i)
	}
	return expr.ValueAt(a, i) // arrays and records
}

// rewriteSubqueries turns the top-level conjuncts of a WHERE that are
// uncorrelated IN (subquery), NOT IN (subquery), EXISTS and NOT EXISTS into
// semi and anti joins of *r, and returns what remains of the WHERE.
func (b *binder) rewriteSubqueries(in *scope, where ast.Expr, r *rel) (ast.Expr, error) {
	parts := splitAnd(where)
	var rest ast.Expr
	for _, p := range parts {
		done, err := b.subqueryJoin(in, p, r)
		if err != nil {
			return nil, err
		}
		if done {
			continue
		}
		if rest == nil {
			rest = p
		} else {
			rest = &ast.Binary{Op: ast.OpAnd, L: rest, R: p, Pos: p.Position()}
		}
	}
	return rest, nil
}

func (b *binder) subqueryJoin(in *scope, e ast.Expr, r *rel) (bool, error) {
	not := false
	if u, ok := e.(*ast.Unary); ok && u.Op == ast.OpNot {
		if ex, ok := u.X.(*ast.Exists); ok {
			e, not = ex, true
		}
	}
	switch e := e.(type) {
	case *ast.InSubquery:
		x, err := b.expr(in, e.X)
		if err != nil {
			return false, err
		}
		kind := joinSemi
		if e.Not {
			kind = joinAntiNullAware
		}
		return true, b.correlatedJoin(in, e.Query, kind, x, e.Pos, r)
	case *ast.Exists:
		kind := joinSemi
		if not {
			kind = joinAnti
		}
		return true, b.correlatedJoin(in, e.Query, kind, nil, e.Pos, r)
	}
	return false, nil
}

// correlatedJoin joins *r with a subquery of IN or EXISTS as a semi or anti
// join. A subquery whose WHERE names columns of the outer query (a
// correlated subquery: EXISTS (SELECT … FROM u WHERE u.k = t.k AND …)) is
// decorrelated: those conjuncts become the join's condition, the others
// filter the subquery. For IN, x (over the outer query) must equal the
// subquery's one output column.
func (b *binder) correlatedJoin(in *scope, q *ast.Query, kind joinKind, x expr.Expr, pos int, r *rel) error {
	left := *r

	sub := &binder{s: b.s, ctx: b.ctx, snap: b.snap, ctes: b.ctes}
	var right rel
	var corr []ast.Expr
	sel, simple := q.Body.(*ast.Select)
	simple = simple && q.With == nil && len(q.OrderBy) == 0 && q.Limit == nil && q.Offset == nil &&
		len(sel.GroupBy) == 0 && sel.Having == nil && !sel.Distinct && len(sel.DistinctOn) == 0 &&
		len(collectCalls(&ast.Row{Elems: selectExprs(sel)}, nil, false)) == 0
	if simple && sel.Where != nil {
		from, err := sub.bindFrom(sel.From)
		if err != nil {
			return err
		}
		inner := &scope{cols: from.columns()}
		if right, corr, err = sub.splitCorrelated(from, sel.Where); err != nil {
			return err
		}
		if x != nil {
			items, err := expandStars(sel.Items, inner.cols)
			if err != nil {
				return err
			}
			if len(items) != 1 {
				return errAt(pos, sqlerr.New(sqlerr.SyntaxError, "subquery has too many columns"))
			}
			v, err := sub.expr(inner, items[0].Expr)
			if err != nil {
				return err
			}
			right = &projectRel{in: right, exprs: append(identity(inner.cols), v), cols: append(append([]col(nil), inner.cols...), col{name: "?in?", typ: v.Type(), nullable: v.Nullable()})}
		}
	} else {
		var err error
		if right, err = sub.bindQuery(q); err != nil {
			return err
		}
		if x != nil && len(right.columns()) != 1 {
			return errAt(pos, sqlerr.New(sqlerr.SyntaxError, "subquery has too many columns"))
		}
	}
	rc := right.columns()
	both := &scope{cols: append(append([]col(nil), left.columns()...), rc...)}
	var conds []expr.Expr
	if x != nil {
		last := len(both.cols) - 1
		eq, err := expr.Compare("=", x, columnExpr(both.cols, last))
		if err != nil {
			return errAt(pos, err)
		}
		conds = append(conds, eq)
	}
	for _, c := range corr {
		cond, err := b.boolExpr(both, c, "WHERE")
		if err != nil {
			return err
		}
		conds = append(conds, cond)
	}
	j := &joinRel{kind: kind, left: left, right: right, cols: left.columns()}
	if len(conds) > 0 {
		cond, err := expr.And(conds...)
		if err != nil {
			return err
		}
		j.cond = cond
	} else if x == nil {
		j.right = &limitRel{in: right, count: 1}
	}
	*r = j
	return nil
}

// splitCorrelated splits a subquery's WHERE into the conjuncts that bind
// over the subquery's own FROM, which it applies to from as a filter, and
// those that name columns of the outer query (a correlated subquery's),
// which it returns for the caller to join on.
func (b *binder) splitCorrelated(from rel, where ast.Expr) (rel, []ast.Expr, error) {
	inner := &scope{cols: from.columns()}
	var local []expr.Expr
	var corr []ast.Expr
	for _, c := range splitAnd(where) {
		cond, err := b.boolExpr(inner, c, "WHERE")
		if err == nil {
			local = append(local, cond)
			continue
		}
		if code := sqlerr.Code(err); code != sqlerr.UndefinedColumn && code != sqlerr.UndefinedTable {
			return nil, nil, err
		}
		corr = append(corr, c)
	}
	if len(local) == 0 {
		return from, corr, nil
	}
	cond, err := expr.And(local...)
	if err != nil {
		return nil, nil, err
	}
	return &filterRel{in: from, cond: cond}, corr, nil
}

func identity(cols []col) []expr.Expr {
	out := make([]expr.Expr, len(cols))
	for i := range cols {
		out[i] = columnExpr(cols, i)
	}
	return out
}

func selectExprs(sel *ast.Select) []ast.Expr {
	var out []ast.Expr
	for _, it := range sel.Items {
		if it.Expr != nil {
			out = append(out, it.Expr)
		}
	}
	return out
}

// splitAnd splits a condition on AND.
func splitAnd(e ast.Expr) []ast.Expr { return splitOp(e, ast.OpAnd) }

// splitOp flattens a chain of one binary operator (AND or OR) into its
// operands, left to right.
func splitOp(e ast.Expr, op string) []ast.Expr {
	if bx, ok := e.(*ast.Binary); ok && bx.Op == op {
		return append(splitOp(bx.L, op), splitOp(bx.R, op)...)
	}
	return []ast.Expr{e}
}

// closest returns the candidate nearest to name by edit distance, if it is
// near enough to be a likely typo.
func closest(name string, candidates []string) string {
	best, bestD := "", len(name)/2+1
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(name), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// constInt64 folds an expression to an integer constant.
func constInt64(ctx *expr.Context, e expr.Expr) (int64, bool) {
	f, err := expr.Fold(ctx, e)
	if err != nil {
		return 0, false
	}
	v, ok := expr.ConstantValue(f)
	if !ok {
		return 0, false
	}
	switch x := v.(type) {
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case int16:
		return int64(x), true
	}
	return 0, false
}
