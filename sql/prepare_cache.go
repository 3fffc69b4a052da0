package sql

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/dormousedb/dormouse/engine"
	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/sql/ast"
	"github.com/dormousedb/dormouse/storage/catalog"
)

// boundCache keeps what binding a prepared query produced, so that the
// executions after the first skip the binder (name resolution, type
// checking, rewrites: a third of a point lookup's planning) and only plan
// again, with the parameters' values and each table's newest state.
//
// A bound query depends on the catalog (the definitions of its tables)
// and on the session's settings, never on table contents or parameter
// values (those are folded in by the planner), so it stays valid while
// both are unchanged: the cache compares the definitions by identity
// (a catalog change makes new ones) and the session's settings
// generation. Only plain queries over tables are kept: virtual tables
// and subqueries read data while they bind (a correlated one is planned
// into the binding, an uncorrelated scalar one runs there, its value a
// constant).
type boundCache struct {
	mu       sync.Mutex // held while the cached relation is re-pinned and planned, and spare changes hands
	r        rel
	pushed   rel      // pushFilters(r), planned each time: it shares r's scans
	cols     []Column // describeRel(r), once asked for
	scans    []*scanRel
	defs     []*catalog.TableDef // the definition each of scans was bound to
	settings uint64
	// plan is pushed's plan when a later execution can take it with only
	// its one table scan refreshed (replan); nil: plan each time.
	plan engine.Plan
	slot plannedScan
	node *engine.TableScan // the scan in plan that slot describes
	// spans makes the scan's filters from the parameters when slot's
	// condition has a shape it knows (nil: refold the condition).
	spans *spanTemplate
	// spare is the run of plan's last execution, once its rows closed,
	// for the next (keptRun).
	spare *keptRun
}

// keepPlan keeps plan, the plan of c.pushed planned from scratch, for the
// executions after this one, when its only parameter-dependent part is a
// table scan that applies its whole filter itself (planned): then an
// execution needs only that scan's spans computed from its own
// parameters, and the table's newest state, not a new plan. A filter the
// scan does not hold exactly is folded with the parameters into a Filter
// above it, which would have to be planned again, so such plans are not
// kept. Every other node of a cached binding (projections, sorts,
// limits) takes its parameters from the execution context when it runs.
func (c *boundCache) keepPlan(plan engine.Plan, planned []plannedScan) {
	c.plan, c.node, c.spans, c.spare = nil, nil, nil, nil
	if len(planned) != 1 || !planned[0].exact {
		return
	}
	if node := chainScan(plan); node != nil {
		c.plan, c.slot, c.node = plan, planned[0], node
		c.spans = newSpanTemplate(planned[0].sc.ts.t.Def.Schema, planned[0].cond)
	}
}

// chainScan returns the table scan at the bottom of a chain of nodes of
// one input each, or nil when p is not such a chain.
func chainScan(p engine.Plan) *engine.TableScan {
	for {
		if ts, ok := p.(*engine.TableScan); ok {
			return ts
		}
		ch := p.Children()
		if len(ch) != 1 {
			return nil
		}
		p = ch[0]
	}
}

// keptRun is what one execution of a kept plan has of its own: the
// snapshot it pins the table in, the scan at that state with the spans of
// its parameters, the chain of nodes above the scan leading to it, the
// execution context, and the bytes the spans hold. An execution takes
// the statement's spare run and gives it back when its rows close
// (planRows.Close), so that executions one after another allocate none of
// it; one that finds no spare (the rows of another are still open, or the
// last one failed) makes its own.
type keptRun struct {
	of   engine.Plan // the kept plan (boundCache.plan) the run serves
	top  engine.Plan // of with scan in place of its table scan
	scan engine.TableScan
	snap snapshot
	ec   engine.ExecContext
	eval expr.Context
	mem  engine.MemoryPool
	room engine.Room // the scan's operator, from the last execution
	// The scan's filters as spanTemplate writes them.
	filters []engine.ColumnSpans
	spans   []engine.Span
	enc     []byte
}

// newRun makes a run of the kept plan. Its chain leaves out projections
// that pass their input as it is (engine.Project.PassesInput): their
// batches and schema are their input's.
func (c *boundCache) newRun() *keptRun {
	r := &keptRun{of: c.plan, scan: *c.node}
	r.top = withoutPassing(replaceScan(c.plan, c.node, &r.scan))
	return r
}

// withoutPassing returns the chain p without its projections that pass
// their input as it is.
func withoutPassing(p engine.Plan) engine.Plan {
	if pr, ok := p.(*engine.Project); ok && pr.PassesInput() {
		return withoutPassing(pr.Input)
	}
	ch := p.Children()
	if len(ch) != 1 {
		return p
	}
	if in := withoutPassing(ch[0]); in != ch[0] {
		return p.WithChildren(in)
	}
	return p
}

// giveBack keeps run, whose rows closed, for the next execution, unless
// the statement keeps another plan now or a spare already.
func (c *boundCache) giveBack(run *keptRun) {
	// Hold on to neither the caller's context nor its parameters.
	run.ec.Ctx, run.eval.Ctx, run.eval.Params, run.snap.fresh = nil, nil, nil, nil
	c.mu.Lock()
	if c.plan == run.of && c.spare == nil {
		c.spare = run
	}
	c.mu.Unlock()
}

// replan points run's scan at its table's re-pinned state, with the
// spans of this execution's parameters (run.eval), or returns false when
// these parameters make a filter the scan cannot apply exactly (a NULL,
// say): the caller then plans from scratch.
func (c *boundCache) replan(run *keptRun) bool {
	ts := c.slot.sc.ts
	scan := &run.scan
	scan.Table, scan.State, scan.Seq = ts.t, ts.state, ts.seq
	scan.Now = time.UnixMicro(run.eval.Now)
	if c.slot.cond == nil {
		return true
	}
	if filters, ok := c.spans.fill(run, run.eval.Params); ok {
		scan.Filters = filters
		return true
	}
	folded, err := expr.Fold(&run.eval, c.slot.cond)
	if err != nil {
		return false // planning again reports it
	}
	spans, exact := pushdownSpans(ts.t.Def.Schema, conjuncts(folded))
	if slices.Contains(exact, false) {
		return false
	}
	scan.Filters = spans
	return true
}

// queryKept runs an execution of st through its kept plan: the plan's
// table pinned in a new snapshot and its scan's spans made from this
// execution's parameters, in a run reused from an earlier execution. ok is
// false when st keeps no plan, the catalog or the session's settings
// changed, or the parameters make the filter one the scan cannot apply
// exactly: the caller then binds and plans as usual (bindPlanCached).
func (s *Session) queryKept(ctx context.Context, st *Statement) (rows Rows, ok bool, err error) {
	c := &st.bound
	c.mu.Lock()
	if c.plan == nil || c.r == nil || c.settings != s.settingsGen {
		c.mu.Unlock()
		return nil, false, nil
	}
	run := c.spare
	c.spare = nil
	if run == nil {
		run = c.newRun()
	}
	snap := &run.snap
	if err := snap.start(ctx, s.e.db); err != nil {
		c.mu.Unlock()
		return nil, true, err
	}
	snap.pending = s.txn.writes
	// Under snap.fresh, which says since when the logs must be fresh, the
	// table's log is read without a context made for it.
	if !s.repin(snap.fresh, c, snap) {
		c.mu.Unlock()
		return nil, false, nil
	}
	s.fillExecContext(ctx, &run.ec, &run.eval, &run.mem)
	// Safe: no operator of the last execution is touched after its rows
	// closed (planRows.Next ends there), and the run's chain opens its
	// one scan once.
	run.ec.Room = &run.room
	if !c.replan(run) {
		// Nothing holds the run: the next execution may take it.
		c.spare = run
		c.mu.Unlock()
		return nil, false, nil
	}
	cols := c.cols
	c.mu.Unlock()
	op, err := engine.OpenPlan(&run.ec, run.top)
	if err != nil {
		return nil, true, err
	}
	return &planRows{op: op, cols: cols, kept: c, run: run}, true, nil
}

// cacheable returns the table scans of r when the whole of r can be
// reused by a later execution, or ok false.
func cacheable(r rel) (scans []*scanRel, ok bool) {
	ok = true
	exprsOK := func(xs ...expr.Expr) {
		for _, x := range xs {
			if x == nil {
				continue
			}
			expr.Walk(x, func(n expr.Expr) bool {
				if _, sub := n.(*applySubquery); sub {
					ok = false
				}
				return ok
			})
		}
	}
	var walk func(r rel)
	walk = func(r rel) {
		if !ok {
			return
		}
		switch n := r.(type) {
		case *scanRel:
			if n.ts == nil || n.vt != nil {
				ok = false
				return
			}
			scans = append(scans, n)
		case *filterRel:
			exprsOK(n.cond)
			walk(n.in)
		case *projectRel:
			exprsOK(n.exprs...)
			walk(n.in)
		case *sortRel:
			walk(n.in)
		case *limitRel:
			walk(n.in)
		default:
			ok = false
		}
	}
	walk(r)
	return scans, ok && len(scans) > 0
}

// bindCached returns q bound against snap, and the same with its filters
// pushed down (pushFilters), which is what the planner plans: st's cached
// relations with their tables re-pinned in snap when they are still
// valid, else a fresh binding, which it caches when it can. The caller
// plans while holding st.bound.mu when locked is true, and then unlocks
// it, since planning reads the re-pinned scans.
func (s *Session) bindCached(ctx context.Context, st *Statement, snap *snapshot, q *ast.Query) (r, pushed rel, locked bool, err error) {
	c := &st.bound
	c.mu.Lock()
	if c.r != nil && c.settings == s.settingsGen && s.repin(ctx, c, snap) {
		return c.r, c.pushed, true, nil
	}
	b := &binder{s: s, ctx: ctx, snap: snap}
	r, err = b.bindQuery(q)
	if err != nil {
		c.mu.Unlock()
		return nil, nil, false, err
	}
	pushed = pushFilters(r)
	c.r, c.pushed, c.scans, c.cols, c.plan, c.node, c.spans, c.spare = nil, nil, nil, nil, nil, nil, nil, nil
	if scans, ok := cacheable(r); ok && !snap.boundData {
		defs := make([]*catalog.TableDef, len(scans))
		for i, sc := range scans {
			d, found := snap.def(sc.ts.t.Def.Name)
			if !found {
				c.mu.Unlock()
				return r, pushed, false, nil
			}
			defs[i] = d
		}
		c.r, c.pushed, c.scans, c.defs, c.settings = r, pushed, scans, defs, s.settingsGen
		return r, pushed, true, nil
	}
	c.mu.Unlock()
	return r, pushed, false, nil
}

// repin points the cached scans at snap's state of their tables, if snap's
// catalog still defines each of them as when they were bound.
func (s *Session) repin(ctx context.Context, c *boundCache, snap *snapshot) bool {
	for i := range c.scans {
		if d, ok := snap.def(c.defs[i].Name); !ok || d != c.defs[i] {
			return false
		}
	}
	// By the names of defs: sc.ts may be in a run's snapshot that snap
	// started again (queryKept).
	for i, sc := range c.scans {
		ts, err := snap.table(ctx, c.defs[i].Name)
		if err != nil {
			return false // bind again, which reports the error
		}
		sc.ts = ts
	}
	return true
}
