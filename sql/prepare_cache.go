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
	mu       sync.Mutex // held while the cached relation is re-pinned and planned
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
	c.plan, c.node = nil, nil
	if len(planned) != 1 || !planned[0].exact {
		return
	}
	if node := chainScan(plan); node != nil {
		c.plan, c.slot, c.node = plan, planned[0], node
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

// replan returns the kept plan with its scan at its table's re-pinned
// state and with the spans of this execution's parameters, or ok false
// when there is no kept plan or these parameters make a filter the scan
// cannot apply exactly (a NULL, say): the caller then plans from scratch.
func (c *boundCache) replan(ec *engine.ExecContext) (engine.Plan, bool) {
	if c.plan == nil {
		return nil, false
	}
	ts := c.slot.sc.ts
	scan := *c.node
	scan.Table, scan.State, scan.Seq = ts.t, ts.state, ts.seq
	if ec.Eval != nil {
		scan.Now = time.UnixMicro(ec.Eval.Now)
	}
	if c.slot.cond != nil {
		folded, err := expr.Fold(ec.Eval, c.slot.cond)
		if err != nil {
			return nil, false // planning again reports it
		}
		spans, exact := pushdownSpans(ts.t.Def.Schema, conjuncts(folded))
		if slices.Contains(exact, false) {
			return nil, false
		}
		scan.Filters = spans
	}
	return replaceScan(c.plan, c.node, &scan), true
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
// plans while holding the returned unlock (nil when nothing is held),
// since planning reads the re-pinned scans.
func (s *Session) bindCached(ctx context.Context, st *Statement, snap *snapshot, q *ast.Query) (r, pushed rel, unlock func(), err error) {
	c := &st.bound
	c.mu.Lock()
	if c.r != nil && c.settings == s.settingsGen && s.repin(ctx, c, snap) {
		return c.r, c.pushed, c.mu.Unlock, nil
	}
	b := &binder{s: s, ctx: ctx, snap: snap}
	r, err = b.bindQuery(q)
	if err != nil {
		c.mu.Unlock()
		return nil, nil, nil, err
	}
	pushed = pushFilters(r)
	c.r, c.pushed, c.scans, c.cols, c.plan, c.node = nil, nil, nil, nil, nil, nil
	if scans, ok := cacheable(r); ok && !snap.boundData {
		defs := make([]*catalog.TableDef, len(scans))
		for i, sc := range scans {
			d, found := snap.def(sc.ts.t.Def.Name)
			if !found {
				c.mu.Unlock()
				return r, pushed, nil, nil
			}
			defs[i] = d
		}
		c.r, c.pushed, c.scans, c.defs, c.settings = r, pushed, scans, defs, s.settingsGen
		return r, pushed, c.mu.Unlock, nil
	}
	c.mu.Unlock()
	return r, pushed, nil, nil
}

// repin points the cached scans at snap's state of their tables, if snap's
// catalog still defines each of them as when they were bound.
func (s *Session) repin(ctx context.Context, c *boundCache, snap *snapshot) bool {
	for i := range c.scans {
		if d, ok := snap.def(c.defs[i].Name); !ok || d != c.defs[i] {
			return false
		}
	}
	for _, sc := range c.scans {
		ts, err := snap.table(ctx, sc.ts.t.Def.Name)
		if err != nil {
			return false // bind again, which reports the error
		}
		sc.ts = ts
	}
	return true
}
