package sql

import (
	"cmp"
	"slices"
	"sort"
	"time"

	"github.com/dormousedb/dormouse/engine"
	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/iterator"
)

// planner turns a logical plan into an engine plan, pushing down what the
// scan can do: key ranges and column ranges from WHERE (partitions, files,
// row groups and pages pruned), the columns needed, limits, and sorts the
// key order already satisfies.
type planner struct {
	b  *binder
	ec *engine.ExecContext
	// record asks planScan to note each table scan it plans in planned,
	// for a prepared statement's plan cache (boundCache.keepPlan).
	record  bool
	planned []plannedScan
}

// plannedScan is what planScan noted of a table scan it planned.
type plannedScan struct {
	sc *scanRel
	// cond is the scan's filter over the table's columns, before its
	// parameters were folded in (nil: none).
	cond expr.Expr
	// exact: the scan applies all of cond itself, no Filter above it.
	exact bool
}

// plan returns the engine plan of r; its output columns are r's.
func (p *planner) plan(r rel) (engine.Plan, error) {
	return p.planRel(pushFilters(r))
}

func (p *planner) planRel(r rel) (engine.Plan, error) {
	out, mapping, err := p.planPruned(r, nil)
	if err != nil {
		return nil, err
	}
	if mapping != nil {
		// The caller wants every column: put them back in order.
		return p.restore(out, r.columns(), mapping), nil
	}
	return out, nil
}

// restore projects a pruned plan back to the full column list (a column
// nobody needed is never asked for, so its slot is filled with NULL).
func (p *planner) restore(in engine.Plan, cols []col, mapping map[int]int) engine.Plan {
	exprs := make([]expr.Expr, len(cols))
	names := make([]string, len(cols))
	sch := in.Schema()
	for i, c := range cols {
		names[i] = c.name
		if j, ok := mapping[i]; ok {
			f := sch.Field(j)
			exprs[i] = &expr.Column{Index: j, Name: c.name, Typ: f.Type, Null: f.Nullable}
		} else {
			exprs[i] = expr.Null(c.typ)
		}
	}
	return engine.NewProject(in, exprs, names)
}

// planPruned plans r producing at least the columns in used (all when used
// is nil). It returns the plan and, when the plan's columns are not r's,
// the position of each used column of r in the plan's output.
func (p *planner) planPruned(r rel, used map[int]bool) (engine.Plan, map[int]int, error) {
	switch r := r.(type) {
	case *scanRel:
		return p.planScan(r, nil, used)
	case *filterRel:
		if sc, ok := r.in.(*scanRel); ok {
			// planScan reads the columns of what it filters above the scan.
			return p.planScan(sc, r.cond, copyUsed(used, len(r.columns())))
		}
		in, err := p.planRel(r.in)
		if err != nil {
			return nil, nil, err
		}
		return &engine.Filter{Input: in, Cond: r.cond}, nil, nil
	case *projectRel:
		need := map[int]bool{}
		for _, e := range r.exprs {
			for _, c := range expr.Columns(e) {
				need[c] = true
			}
		}
		in, m, err := p.planPruned(r.in, need)
		if err != nil {
			return nil, nil, err
		}
		pr := engine.NewProjectSchema(in, remapAll(r.exprs, m), names(r.cols), r.schema)
		r.schema = pr.Schema()
		return pr, nil, nil
	case *aggRel:
		return p.planAggregate(r)
	case *sortRel:
		return p.planSort(r, -1, 0)
	case *limitRel:
		if s, ok := r.in.(*sortRel); ok && r.count >= 0 {
			return p.planSort(s, r.count, r.offset)
		}
		if proj, ok := r.in.(*projectRel); ok {
			// A limit commutes with a projection: take it below, where it
			// may meet a sort and make a top-N.
			if _, sorted := proj.in.(*sortRel); sorted {
				c := *proj
				c.in = &limitRel{in: proj.in, offset: r.offset, count: r.count}
				return p.planPruned(&c, used)
			}
		}
		in, err := p.planRel(r.in)
		if err != nil {
			return nil, nil, err
		}
		if r.count >= 0 {
			in = limitScan(in, r.offset+r.count)
		}
		return &engine.Limit{Input: in, Offset: r.offset, Count: r.count}, nil, nil
	case *distinctRel:
		in, err := p.planRel(r.in)
		if err != nil {
			return nil, nil, err
		}
		return &engine.Distinct{Input: in}, nil, nil
	case *valuesRel:
		return &engine.Values{Sch: arrowSchema(r.cols), Rows: r.rows}, nil, nil
	case *joinRel:
		return p.planJoin(r)
	case *setOpRel:
		return p.planSetOp(r)
	case *windowRel:
		return p.planWindow(r)
	case *unnestRel:
		return p.planUnnest(r)
	}
	return nil, nil, sqlerr.New(sqlerr.InternalError, "cannot plan %T", r)
}

func copyUsed(used map[int]bool, n int) map[int]bool {
	out := map[int]bool{}
	if used == nil {
		for i := 0; i < n; i++ {
			out[i] = true
		}
		return out
	}
	for k, v := range used {
		out[k] = v
	}
	return out
}

func names(cols []col) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.name
	}
	return out
}

func remapAll(exprs []expr.Expr, m map[int]int) []expr.Expr {
	if m == nil {
		return exprs
	}
	out := make([]expr.Expr, len(exprs))
	for i, e := range exprs {
		out[i] = expr.Remap(e, m)
	}
	return out
}

// sortedKeys returns the keys of a set in order.
func sortedKeys(m map[int]bool) []int {
	out := make([]int, 0, len(m))
	for k, v := range m {
		if v {
			out = append(out, k)
		}
	}
	sort.Ints(out)
	return out
}

// planScan plans a table (or virtual table) scan with an optional filter,
// reading only the used columns.
func (p *planner) planScan(sc *scanRel, cond expr.Expr, used map[int]bool) (engine.Plan, map[int]int, error) {
	if sc.vt != nil {
		rec, err := sc.vt.batch(p.ec.Ctx, p.b.snap, p.ec.Alloc)
		if err != nil {
			return nil, nil, err
		}
		var out engine.Plan = engine.NewValues(rec.Schema(), rec)
		if cond != nil {
			out = &engine.Filter{Input: out, Cond: cond}
		}
		return out, nil, nil
	}
	ts := sc.ts
	toStorage := make(map[int]int, len(sc.storage))
	for p, st := range sc.storage {
		toStorage[p] = st
	}
	// The filter: its spans restrict the scan; what they do not hold
	// exactly is applied above it, and its columns read.
	var spans []engine.ColumnSpans
	var residual expr.Expr
	if cond != nil {
		folded, err := expr.Fold(p.ec.Eval, cond)
		if err != nil {
			return nil, nil, err
		}
		if spans, residual, err = scanFilters(ts.t.Def, folded, toStorage); err != nil {
			return nil, nil, err
		}
		if residual != nil {
			for _, c := range expr.Columns(residual) {
				used[c] = true
			}
		}
	}
	// Read the used columns in storage order; map scan positions (declared
	// order) to their place in the scan's output.
	pos := sortedKeys(copyUsed(used, len(sc.cols)))
	if len(pos) == 0 {
		pos = []int{indexOf(sc.storage, 0)} // count(*) still needs rows: read the first key
	}
	slices.SortFunc(pos, func(a, b int) int { return cmp.Compare(sc.storage[a], sc.storage[b]) })
	storageCols := make([]int, len(pos))
	mapping := make(map[int]int, len(pos))
	for i, p := range pos {
		storageCols[i] = sc.storage[p]
		mapping[p] = i
	}
	scan := &engine.TableScan{Table: ts.t, State: ts.state, Seq: ts.seq, Columns: storageCols, Limit: -1, Filters: spans}
	if p.ec.Eval != nil {
		// A table's age_off counts back from the statement's time, in
		// every part of the scan wherever it runs.
		scan.Now = time.UnixMicro(p.ec.Eval.Now)
	}
	if p.record {
		ps := plannedScan{sc: sc, exact: residual == nil}
		if cond != nil {
			ps.cond = expr.Remap(cond, toStorage)
		}
		p.planned = append(p.planned, ps)
	}
	var out engine.Plan = scan
	if residual != nil {
		out = &engine.Filter{Input: scan, Cond: expr.Remap(residual, mapping)}
	}
	return out, mapping, nil
}

// scanFilters splits a scan's filter (folded, over the scan's columns;
// toStorage maps them to the table's) into the spans the scan restricts
// each storage column to (pushdownSpans) and the residual the scan does
// not apply exactly, for a Filter above it (nil: none). The scan applies
// its spans exactly, so a conjunct whose spans hold exactly the rows it
// keeps (pushdownSpans, exactType) needs no filter above; on a table with
// iterators, whose filters on values apply to combined rows, every
// conjunct stays.
func scanFilters(def *catalog.TableDef, cond expr.Expr, toStorage map[int]int) ([]engine.ColumnSpans, expr.Expr, error) {
	spec, err := iterator.FromDef(def)
	if err != nil {
		return nil, nil, err
	}
	// The conjuncts over the table's columns match those over the scan's
	// one for one: Remap keeps the shape.
	stored, scanned := conjuncts(expr.Remap(cond, toStorage)), conjuncts(cond)
	spans, exact := pushdownSpans(def.Schema, stored)
	var residual expr.Expr
	aligned := len(stored) == len(scanned)
	for i, c := range scanned {
		if aligned && exact[i] && spec.Empty() {
			continue
		}
		if residual == nil {
			residual = c
		} else if residual, err = expr.And(residual, c); err != nil {
			return nil, nil, err
		}
	}
	return spans, residual, nil
}

func indexOf(xs []int, v int) int {
	for i, x := range xs {
		if x == v {
			return i
		}
	}
	return -1
}

// limitScan tells a table scan that only n rows will be read from it, when
// nothing between the limit and the scan drops rows: the scan then stops
// reading partitions early.
func limitScan(in engine.Plan, n int64) engine.Plan {
	switch x := in.(type) {
	case *engine.Project:
		return x.WithChildren(limitScan(x.Input, n))
	case *engine.TableScan:
		c := *x
		c.Limit = n
		return &c
	}
	return in
}

// planSort plans a sort, as a top-N when a limit follows (count >= 0),
// and drops it when the input is already in that order.
func (p *planner) planSort(s *sortRel, count, offset int64) (engine.Plan, map[int]int, error) {
	in, err := p.planRel(s.in)
	if err != nil {
		return nil, nil, err
	}
	if ordered, ok := p.orderedInput(in, s.keys); ok {
		if count >= 0 {
			return &engine.Limit{Input: limitScan(ordered, offset+count), Offset: offset, Count: count}, nil, nil
		}
		return ordered, nil, nil
	}
	if count >= 0 {
		return &engine.TopN{Input: in, Keys: s.keys, N: count, Offset: offset}, nil, nil
	}
	return &engine.Sort{Input: in, Keys: s.keys}, nil, nil
}

// orderedInput returns in rewritten to deliver rows in the order of keys
// without sorting, if it can: a table scan (under projections and filters
// that keep the key columns) read in key order.
func (p *planner) orderedInput(in engine.Plan, keys []engine.SortKey) (engine.Plan, bool) {
	if satisfies(in.Ordering(), keys) {
		return in, true
	}
	switch n := in.(type) {
	case *engine.Project:
		// Map the keys through plain column references.
		inner := make([]engine.SortKey, len(keys))
		for i, k := range keys {
			c, ok := n.Exprs[k.Column].(*expr.Column)
			if !ok {
				return nil, false
			}
			inner[i] = engine.SortKey{Column: c.Index, Desc: k.Desc, NullsFirst: k.NullsFirst}
		}
		child, ok := p.orderedInput(n.Input, inner)
		if !ok {
			return nil, false
		}
		return n.WithChildren(child), true
	case *engine.Filter:
		child, ok := p.orderedInput(n.Input, keys)
		if !ok {
			return nil, false
		}
		return n.WithChildren(child), true
	case *engine.TableScan:
		if !n.KeyOrdered() {
			return nil, false
		}
		// The sort keys must be the table's leading key columns, in
		// order, ascending.
		sch := n.Table.Def.Schema
		for i, k := range keys {
			if k.Desc || k.Column >= len(n.Columns) || n.Columns[k.Column] != i || i >= sch.NumKeys() {
				return nil, false
			}
		}
		c := *n
		c.Ordered = true
		return &c, true
	}
	return nil, false
}

// satisfies reports whether rows in order have the order keys asks for.
func satisfies(order, keys []engine.SortKey) bool {
	if len(keys) > len(order) {
		return false
	}
	for i, k := range keys {
		o := order[i]
		if o.Column != k.Column || o.Desc != k.Desc || (o.NullsFirst != k.NullsFirst) {
			return false
		}
	}
	return true
}

// planAggregate plans a hash aggregation.
func (p *planner) planAggregate(a *aggRel) (engine.Plan, map[int]int, error) {
	need := map[int]bool{}
	add := func(e expr.Expr) {
		if e != nil {
			for _, c := range expr.Columns(e) {
				need[c] = true
			}
		}
	}
	for _, g := range a.groups {
		add(g)
	}
	for _, c := range a.aggs {
		for _, x := range c.args {
			add(x)
		}
		add(c.filter)
	}
	in, m, err := p.planPruned(a.in, need)
	if err != nil {
		return nil, nil, err
	}
	calls := make([]engine.AggCall, len(a.aggs))
	for i, c := range a.aggs {
		calls[i] = engine.AggCall{Func: c.fn.Name, Args: remapAll(c.args, m), Distinct: c.distinct, Name: a.cols[len(a.groups)+i].name}
		if c.filter != nil {
			calls[i].Filter = remapAll([]expr.Expr{c.filter}, m)[0]
		}
	}
	agg := &engine.HashAggregate{Input: in, GroupBy: remapAll(a.groups, m), Aggs: calls, Names: names(a.cols)}
	if split := engine.SplitOverScan(agg); split != nil {
		return split, nil, nil
	}
	return agg, nil, nil
}

func (p *planner) planJoin(j *joinRel) (engine.Plan, map[int]int, error) {
	l, err := p.planRel(j.left)
	if err != nil {
		return nil, nil, err
	}
	r, err := p.planRel(j.right)
	if err != nil {
		return nil, nil, err
	}
	nl := len(j.left.columns())
	kind := map[joinKind]engine.JoinKind{
		joinInner: engine.JoinInner, joinLeft: engine.JoinLeft, joinRight: engine.JoinRight, joinFull: engine.JoinFull,
		joinSemi: engine.JoinSemi, joinAnti: engine.JoinAnti, joinAntiNullAware: engine.JoinNullAwareAnti, joinCross: engine.JoinInner,
	}[j.kind]
	var lk, rk []expr.Expr
	var residual []expr.Expr
	if j.cond != nil {
		for _, c := range conjuncts(j.cond) {
			if l1, r1, ok := equiKey(c, nl); ok {
				lk, rk = append(lk, l1), append(rk, r1)
				continue
			}
			residual = append(residual, c)
		}
	}
	var res expr.Expr
	if len(residual) > 0 {
		var err error
		if res, err = expr.And(residual...); err != nil {
			return nil, nil, err
		}
	}
	if len(lk) == 0 {
		return &engine.NestedLoopJoin{Left: l, Right: r, Kind: kind, Cond: res}, nil, nil
	}
	return &engine.HashJoin{Left: l, Right: r, Kind: kind, LeftKeys: lk, RightKeys: rk, Residual: res}, nil, nil
}

// equiKey splits "left expr = right expr" into the two sides, the right
// side renumbered to the right input's columns.
func equiKey(c expr.Expr, nl int) (expr.Expr, expr.Expr, bool) {
	l, r, ok := asEquality(c)
	if !ok {
		return nil, nil, false
	}
	sl, sr := sideOf(l, nl), sideOf(r, nl)
	if sl == 1 && sr == 0 {
		l, r, sl, sr = r, l, sr, sl
	}
	if sl != 0 || sr != 1 {
		return nil, nil, false
	}
	shift := map[int]int{}
	for _, c := range expr.Columns(r) {
		shift[c] = c - nl
	}
	return l, expr.Remap(r, shift), true
}

// conjuncts splits a condition on AND.
func conjuncts(e expr.Expr) []expr.Expr {
	if parts, ok := asAnd(e); ok {
		var out []expr.Expr
		for _, p := range parts {
			out = append(out, conjuncts(p)...)
		}
		return out
	}
	return []expr.Expr{e}
}

func (p *planner) planSetOp(s *setOpRel) (engine.Plan, map[int]int, error) {
	l, err := p.planRel(s.left)
	if err != nil {
		return nil, nil, err
	}
	r, err := p.planRel(s.right)
	if err != nil {
		return nil, nil, err
	}
	sch := arrowSchema(s.cols)
	switch s.op {
	case "UNION":
		var out engine.Plan = &engine.Union{Inputs: []engine.Plan{l, r}, Sch: sch}
		if !s.all {
			out = &engine.Distinct{Input: out}
		}
		return out, nil, nil
	case "INTERSECT":
		return &engine.SetOp{Kind: engine.Intersect, All: s.all, Left: l, Right: r}, nil, nil
	}
	return &engine.SetOp{Kind: engine.Except, All: s.all, Left: l, Right: r}, nil, nil
}

func (p *planner) planWindow(w *windowRel) (engine.Plan, map[int]int, error) {
	in, err := p.planRel(w.in)
	if err != nil {
		return nil, nil, err
	}
	// Window ORDER BY keys are input columns: compute expressions that are
	// not plain columns as extra columns first, and drop them after.
	base := w.in.columns()
	inSch := in.Schema()
	exprs := make([]expr.Expr, len(base))
	nm := names(base)
	for i := range base {
		f := inSch.Field(i)
		exprs[i] = &expr.Column{Index: i, Name: f.Name, Typ: f.Type, Null: f.Nullable}
	}
	calls := make([]engine.WindowCall, len(w.funcs))
	for i, f := range w.funcs {
		keys := make([]engine.SortKey, len(f.orderBy))
		for j, k := range f.orderBy {
			if c, ok := f.orderExprs[j].(*expr.Column); ok {
				k.Column = c.Index
			} else {
				k.Column = len(exprs)
				exprs = append(exprs, f.orderExprs[j])
				nm = append(nm, "?order?")
			}
			keys[j] = k
		}
		calls[i] = engine.WindowCall{Func: f.name, Args: f.args, PartitionBy: f.partitionBy, OrderBy: keys, Name: w.cols[len(base)+i].name}
	}
	extra := len(exprs) - len(base)
	if extra > 0 {
		in = engine.NewProject(in, exprs, nm)
	}
	var out engine.Plan = &engine.Window{Input: in, Funcs: calls}
	if extra > 0 {
		sch := out.Schema()
		keep := make([]expr.Expr, 0, len(w.cols))
		for i := 0; i < sch.NumFields(); i++ {
			if i >= len(base) && i < len(base)+extra {
				continue
			}
			f := sch.Field(i)
			keep = append(keep, &expr.Column{Index: i, Name: f.Name, Typ: f.Type, Null: f.Nullable})
		}
		out = engine.NewProject(out, keep, names(w.cols))
	}
	return out, nil, nil
}
