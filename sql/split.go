package sql

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/dormousedb/dormouse/engine"
	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/sql/ast"
	"github.com/dormousedb/dormouse/sql/parser"
	"github.com/dormousedb/dormouse/storage/state"
)

// Splits: one query, many readers.
//
// A front door that lets several readers fetch one result in parallel
// (Flight SQL endpoints, export tasks, connector splits) plans the query
// once with PlanSplits. When the result is the concatenation of
// per-partition results — a scan under filters and projections, or an
// aggregate whose GROUP BY holds the first row key over leaves that do not
// share a first-key value — there is one Split per leaf partition the plan
// reads after key-range pruning; otherwise one Split for the whole result.
//
// A Split is self-contained: the statement text, its parameter values, the
// log sequence number of every table it read, the partition and the
// statement's time. RunSplit, in any process sharing the store, binds and
// plans the statement again against exactly those table states and runs
// only that partition's part of the plan, so every split of one query
// reads one snapshot.

// PinnedTable is a table as a split read it: its name, its id (a table
// dropped and created again under the name is another table) and the log
// sequence number of its state.
type PinnedTable struct {
	Name string
	ID   string
	Seq  uint64
}

// Split is one piece of a query's result (see above). Its fields are
// plain data, for a front door to serialise.
type Split struct {
	// SQL is the statement's text and Params its parameter values, one
	// one-row array per parameter of the statement's types.
	SQL    string
	Params []arrow.Array
	// Tables are the table states the statement reads.
	Tables []PinnedTable
	// Partition is the leaf partition the split reads ("" for the whole
	// result).
	Partition string
	// Now is the statement's time, microseconds since the epoch: what
	// now() returns and what a table's age_off counts back from.
	Now int64
	// KeyOrder asks for a partition's rows in key order even when the
	// query asked for no order (an export writes each file sorted).
	KeyOrder bool
}

// SplitPlan is a query planned for parallel readers.
type SplitPlan struct {
	// Schema is the result's schema; every split's rows have exactly it.
	Schema *arrow.Schema
	// Splits, read in order and concatenated, are the result. A query
	// whose pruning leaves no partition has none.
	Splits []Split
	// Ordered reports that the query asked for an order and that the
	// splits, concatenated in order, are in it.
	Ordered bool
	// ReadableFor is how long the splits are sure to run: the files of a
	// pinned state may be deleted once a compaction has replaced them and
	// the table's gc_delay has passed, so it is the smallest gc_delay of
	// the tables read (0 when none is read).
	ReadableFor time.Duration
}

// Splittable reports whether PlanSplits takes st: a query, EXPLAIN or
// SHOW. Other statements change something and run once, with Execute.
func (st *Statement) Splittable() bool {
	switch st.stmt.(type) {
	case *ast.Query, *ast.Explain, *ast.Show:
		return true
	}
	return false
}

// PlanSplits plans st (from Prepare; Splittable) with parameter values as
// Execute takes them, pins the state of every table it reads, and returns
// its splits. EXPLAIN and SHOW give one split that RunSplit runs as it
// finds the store.
func (s *Session) PlanSplits(ctx context.Context, st *Statement, params []arrow.Array) (*SplitPlan, error) {
	if err := checkParams(st.params, params); err != nil {
		s.StatementFailed()
		return nil, err
	}
	q, ok := st.stmt.(*ast.Query)
	if !ok {
		if !st.Splittable() {
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "%s returns no rows to split", st.Command())
		}
		fields := make([]arrow.Field, len(st.cols))
		for i, c := range st.cols {
			fields[i] = arrow.Field{Name: c.Name, Type: c.Type, Nullable: true}
		}
		sp := Split{SQL: st.text, Params: params}
		return &SplitPlan{Schema: arrow.NewSchema(fields, nil), Splits: []Split{sp}}, nil
	}
	s.setParams(st.params, params)
	defer func() { s.params = nil }()
	snap, err := newSnapshot(ctx, s.e.db)
	if err != nil {
		return nil, err
	}
	ec := s.execContext(ctx, false)
	plan, _, err := s.bindPlanIn(ctx, snap, q, ec)
	if err == nil {
		err = s.splitsSeeWrites(snap)
	}
	if err != nil {
		s.StatementFailed()
		return nil, positioned(st.text, err)
	}
	base := Split{SQL: st.text, Params: params, Tables: s.pinned(snap), Now: ec.Eval.Now}
	readable := readableFor(snap)
	// The order a query asks for is kept by one split, and by the
	// partitions of a scan the planner reads in key order instead of
	// sorting.
	asked := len(q.OrderBy) > 0
	out := &SplitPlan{Schema: plan.Schema(), Ordered: asked, ReadableFor: readable}
	scan := splitScan(plan)
	if scan == nil {
		out.Splits = []Split{base}
		return out, nil
	}
	out.Ordered = asked && scan.Ordered
	for _, part := range orderedParts(scan) {
		sp := base
		sp.Partition = part.Partition.ID
		out.Splits = append(out.Splits, sp)
	}
	return out, nil
}

// splitsSeeWrites refuses to split a query that reads a table the
// session's transaction wrote: splits run anywhere, against committed
// states only, and would miss the uncommitted rows.
func (s *Session) splitsSeeWrites(snap *snapshot) error {
	var err error
	snap.mu.Lock()
	defer snap.mu.Unlock()
	snap.eachPinned(func(ts *tableSnapshot) {
		if err == nil && s.txn.writes.lookup(ts.t.Def.ID) != nil {
			err = sqlerr.New(sqlerr.FeatureNotSupported, "a query split into partitions cannot read this transaction's uncommitted writes to \"%s\"", ts.t.Def.Name).
				WithHint("COMMIT first.")
		}
	})
	return err
}

// RunSplit runs one split of a query planned by PlanSplits, here or in
// another process. Its rows have exactly the SplitPlan's Schema. ctx must
// stay alive until the rows are closed.
func (s *Session) RunSplit(ctx context.Context, sp *Split) (Rows, error) {
	stmt, err := parser.ParseOne(sp.SQL)
	if err != nil {
		return nil, parseError(sp.SQL, err)
	}
	types := make([]arrow.DataType, len(sp.Params))
	for i, p := range sp.Params {
		if p == nil || p.Len() != 1 {
			return nil, sqlerr.New("08P01", "parameter $%d has no value", i+1)
		}
		types[i] = p.DataType()
	}
	q, ok := stmt.(*ast.Query)
	if !ok {
		if sp.Partition != "" || len(sp.Tables) > 0 {
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "only a query splits by partition")
		}
		return s.Execute(ctx, &Statement{text: sp.SQL, stmt: stmt, params: types}, sp.Params)
	}
	s.setParams(types, sp.Params)
	defer func() { s.params = nil }()
	snap, err := newSnapshot(ctx, s.e.db)
	if err != nil {
		return nil, err
	}
	if err := s.pin(ctx, snap, sp.Tables); err != nil {
		return nil, err
	}
	ec := s.execContext(ctx, false)
	ec.Eval.Now = sp.Now
	plan, _, err := s.bindPlanIn(ctx, snap, q, ec)
	if err != nil {
		return nil, positioned(sp.SQL, err)
	}
	sch := plan.Schema()
	if scan := pipelineScan(plan); sp.KeyOrder && sp.Partition != "" && scan != nil && scan.KeyOrdered() {
		scan.Ordered = true // planned for this run alone: ours to change
	}
	if sp.Partition != "" {
		if plan, err = restrictToPartition(plan, sp.Partition); err != nil {
			return nil, err
		}
	}
	op, err := engine.OpenPlan(ec, plan)
	if err != nil {
		return nil, err
	}
	return &splitRows{planRows: planRows{op: op}, sch: sch}, nil
}

// checkParams checks parameter values against a statement's types, as
// Execute does.
func checkParams(types []arrow.DataType, params []arrow.Array) error {
	if len(params) != len(types) {
		return sqlerr.New("08P01", "bind message supplies %d parameters, but prepared statement requires %d", len(params), len(types))
	}
	for i, p := range params {
		if p == nil || p.Len() != 1 {
			return sqlerr.New("08P01", "parameter $%d has no value", i+1)
		}
		if !arrow.TypeEqual(p.DataType(), types[i]) {
			return sqlerr.New(sqlerr.DatatypeMismatch, "parameter $%d is %s, the statement takes %s", i+1, expr.TypeName(p.DataType()), expr.TypeName(types[i]))
		}
	}
	return nil
}

func (s *Session) setParams(types []arrow.DataType, values []arrow.Array) {
	if len(types) > 0 {
		s.params = &paramState{types: types, values: values}
	}
}

// pinned lists the tables the snapshot pinned, by name, and keeps their
// states for RunSplit.
func (s *Session) pinned(snap *snapshot) []PinnedTable {
	snap.mu.Lock()
	defer snap.mu.Unlock()
	out := make([]PinnedTable, 0, 1+len(snap.tables))
	snap.eachPinned(func(ts *tableSnapshot) {
		out = append(out, PinnedTable{Name: ts.t.Def.Name, ID: ts.t.Def.ID, Seq: ts.seq})
		s.e.states.put(ts.t.Def.ID, ts.seq, ts.state)
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// readableFor is the smallest gc_delay of the tables a snapshot pinned.
func readableFor(snap *snapshot) time.Duration {
	snap.mu.Lock()
	defer snap.mu.Unlock()
	var out time.Duration
	snap.eachPinned(func(ts *tableSnapshot) {
		if d := ts.t.Def.Properties.Duration("gc_delay"); out == 0 || d < out {
			out = d
		}
	})
	return out
}

// pin sets the snapshot's state of each table to the one a split names.
func (s *Session) pin(ctx context.Context, snap *snapshot, pins []PinnedTable) error {
	for _, p := range pins {
		def, ok := snap.def(p.Name)
		if !ok || def.ID != p.ID {
			return sqlerr.New(sqlerr.UndefinedTable, "relation \"%s\" was dropped after the query was planned", p.Name)
		}
		t, err := s.e.db.TableOf(ctx, def)
		if err != nil {
			return err
		}
		st := s.e.states.get(p.ID, p.Seq)
		if st == nil {
			if st, err = t.StateAt(ctx, p.Seq); err != nil {
				return err
			}
			s.e.states.put(p.ID, p.Seq, st)
		}
		snap.mu.Lock()
		snap.pin(strings.ToLower(p.Name), tableSnapshot{t: t, state: st, seq: p.Seq})
		snap.mu.Unlock()
	}
	return nil
}

// splitScan returns the table scan whose parts a plan's result is the
// concatenation of, or nil when it is not one:
//
//	split := Project(split) | Filter(split) | scan | aggregate(pipeline)
//	pipeline := Project(pipeline) | Filter(pipeline) | scan
//
// where the aggregate groups by the table's first row key and no two
// leaves the scan reads share a first-key value, so that every group
// lies in one partition; and an ordered scan is read leaf after leaf.
func splitScan(p engine.Plan) *engine.TableScan {
	switch n := p.(type) {
	case *engine.Project:
		return splitScan(n.Input)
	case *engine.Filter:
		return splitScan(n.Input)
	case *engine.TableScan:
		if n.Ordered && !n.KeyOrdered() {
			return nil // the scan merges overlapping leaves
		}
		return n
	case *engine.PartitionedAggregate:
		return groupedScan(n.Agg)
	case *engine.HashAggregate:
		return groupedScan(n)
	}
	return nil
}

// groupedScan returns the scan under an aggregate that groups by the first
// row key, when every group lies in one partition.
func groupedScan(a *engine.HashAggregate) *engine.TableScan {
	scan := pipelineScan(a.Input)
	if scan == nil || !scan.KeyOrdered() {
		return nil
	}
	for _, g := range a.GroupBy {
		c, ok := g.(*expr.Column)
		if ok && storageColumn(a.Input, c.Index) == 0 {
			return scan
		}
	}
	return nil
}

// pipelineScan finds the scan at the bottom of filters and projections.
func pipelineScan(p engine.Plan) *engine.TableScan {
	for {
		switch n := p.(type) {
		case *engine.TableScan:
			return n
		case *engine.Filter:
			p = n.Input
		case *engine.Project:
			p = n.Input
		default:
			return nil
		}
	}
}

// storageColumn follows output column i of a pipeline down to the scan and
// returns the storage column it is, or -1 when it is computed.
func storageColumn(p engine.Plan, i int) int {
	for {
		switch n := p.(type) {
		case *engine.TableScan:
			if i < 0 || i >= len(n.Columns) {
				return -1
			}
			return n.Columns[i]
		case *engine.Filter:
			p = n.Input
		case *engine.Project:
			c, ok := n.Exprs[i].(*expr.Column)
			if !ok {
				return -1
			}
			p, i = n.Input, c.Index
		default:
			return -1
		}
	}
}

// orderedParts returns the scan's parts in key order of their first row
// key (the leaves do not overlap on it when splitScan accepted the scan).
func orderedParts(scan *engine.TableScan) []*engine.PartitionScan {
	parts := scan.Parts()
	out := make([]*engine.PartitionScan, len(parts))
	for i, p := range parts {
		out[i] = p.(*engine.PartitionScan)
	}
	sort.SliceStable(out, func(i, j int) bool {
		return bytes.Compare(out[i].Partition.Region[0].Min, out[j].Partition.Region[0].Min) < 0
	})
	return out
}

// restrictToPartition rewrites a plan that splitScan accepts to read only
// the part of its scan for one leaf partition.
func restrictToPartition(p engine.Plan, leaf string) (engine.Plan, error) {
	scan := splitScan(p)
	if scan == nil {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "this query does not split by partition")
	}
	for _, part := range orderedParts(scan) {
		if part.Partition.ID == leaf {
			return replaceScan(p, scan, part), nil
		}
	}
	return nil, sqlerr.New(sqlerr.InvalidParameterValue, "partition %s is not read by this query at log %d of table %s", leaf, scan.Seq, scan.Table.Def.Name)
}

// replaceScan copies the chain from p down to scan with part in its place;
// a partitioned aggregate becomes a plain one over the one part.
func replaceScan(p engine.Plan, scan *engine.TableScan, part engine.Plan) engine.Plan {
	switch n := p.(type) {
	case *engine.TableScan:
		if n == scan {
			return part
		}
	case *engine.PartitionedAggregate:
		a := *n.Agg
		a.Input = replaceScan(a.Input, scan, part)
		return &a
	}
	ch := p.Children()
	if len(ch) != 1 {
		return p
	}
	return p.WithChildren(replaceScan(ch[0], scan, part))
}

// splitRows are a split's rows, in the schema of the whole result (a part
// may declare a column nullable differently; the values are the same).
type splitRows struct {
	planRows
	sch *arrow.Schema
}

// Schema is the whole result's schema.
func (r *splitRows) Schema() *arrow.Schema { return r.sch }

// Next returns the part's next batch under the whole result's schema.
func (r *splitRows) Next(ctx context.Context) (arrow.RecordBatch, error) {
	rec, err := r.planRows.Next(ctx)
	if err != nil {
		return nil, err
	}
	if rec.Schema().Equal(r.sch) {
		return rec, nil
	}
	if int(rec.NumCols()) != r.sch.NumFields() {
		rec.Release()
		return nil, fmt.Errorf("split: part has %d columns, the result %d", rec.NumCols(), r.sch.NumFields())
	}
	out := array.NewRecordBatch(r.sch, rec.Columns(), rec.NumRows())
	rec.Release()
	return out, nil
}

// stateCache keeps the table states splits pinned, so that the process
// that planned a query answers its splits without replaying the log. It
// holds the most recent few; states share their unchanged parts.
type stateCache struct {
	mu    sync.Mutex
	m     map[stateKey]*state.State
	order []stateKey // oldest first
}

type stateKey struct {
	id  string
	seq uint64
}

const stateCacheSize = 64

func (c *stateCache) get(id string, seq uint64) *state.State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[stateKey{id, seq}]
}

func (c *stateCache) put(id string, seq uint64, s *state.State) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := stateKey{id, seq}
	if c.m == nil {
		c.m = map[stateKey]*state.State{}
	}
	if _, ok := c.m[k]; ok {
		return
	}
	c.m[k] = s
	c.order = append(c.order, k)
	if len(c.order) > stateCacheSize {
		delete(c.m, c.order[0])
		c.order = c.order[1:]
	}
}
