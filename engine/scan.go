package engine

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/storage/partition"
	"github.com/dormousedb/dormouse/storage/schema"
	"github.com/dormousedb/dormouse/storage/state"
	"github.com/dormousedb/dormouse/storage/table"
)

// The scan of a table, from plan to rows:
//
//	TableScan       one snapshot of a table; Parts() prunes leaf partitions
//	                by the row-key spans and gives one PartitionScan each
//	  PartitionScan one leaf: prunes its files by min/max key, then each
//	                file's row groups by statistics and pages by the page
//	                index; reads only the columns it needs; drops rows
//	                outside the leaf's region and the spans exactly;
//	                merges files in key order when Ordered, and always,
//	                oldest first, through the table's iterators when it
//	                aggregates (scan_iterate.go)
//
// TableScan's operator runs its parts on ExecContext.Parallelism
// goroutines (scan_gather.go); a PartitionScan runs on its own as well, so
// that a front door can hand each part to another reader. Files are read
// through storage/datafile, which fetches only the selected pages.

// TableScan reads a table at one snapshot (State, the log's state at Seq).
// Build it with NewTableScan, then set the fields the planner derives.
// Use it as a pointer: plans are compared by identity (Stats.Node).
//
// Filters restrict columns to sets of values: rows whose value lies
// outside a filter's spans, or is NULL, are dropped. They are exact in
// this implementation, yet callers must treat them as inexact (re-apply
// the WHERE above the scan) unless they know better. Filters on row keys
// prune partitions, files, row groups and pages; filters on other
// columns prune row groups and pages, except on a table with iterators,
// where they apply to the combined rows (scan_iterate.go).
type TableScan struct {
	Table *table.Table
	State *state.State
	Seq   uint64
	// Columns are the storage column indexes to output, in this order.
	Columns []int
	Filters []ColumnSpans
	// Ordered asks for output in key order (row keys, then sort keys).
	Ordered bool
	// Limit stops the scan after that many rows; -1 (NewTableScan's
	// default) for none, 0 for none at all. Only set it when nothing above
	// the scan filters rows.
	Limit int64
	// Now is the time the table's age_off counts back from (zero: the
	// statement's, ExecContext.Eval.Now). A table with iterators is read
	// through them (scan_iterate.go).
	Now time.Time
}

// NewTableScan returns a scan of the given columns of t at the snapshot
// s (log sequence seq), with no filter, no order and no limit.
func NewTableScan(t *table.Table, s *state.State, seq uint64, columns []int) *TableScan {
	return &TableScan{Table: t, State: s, Seq: seq, Columns: columns, Limit: -1}
}

// Schema is the table's Arrow fields for Columns, nullable as the table's
// columns are.
func (p *TableScan) Schema() *arrow.Schema { return scanSchema(p.Table, p.Columns) }

// Children is empty: a scan is a leaf.
func (p *TableScan) Children() []Plan { return nil }

// WithChildren returns p; a scan has no inputs.
func (p *TableScan) WithChildren(children ...Plan) Plan {
	if len(children) > 0 {
		panic("engine: TableScan has no children")
	}
	return p
}

// Ordering is the key order, over the leading key columns that are in
// Columns, when Ordered.
func (p *TableScan) Ordering() []SortKey { return scanOrdering(p.Table, p.Columns, p.Ordered) }

// Describe renders the scan for EXPLAIN:
//
//	TableScan events columns=[id, ts] key ranges=[["a","c")] partitions=3/512
func (p *TableScan) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "TableScan %s", p.Table.Def.Name)
	scanDescribe(&b, p.Table, p.Columns, p.Filters, p.Ordered, p.Limit)
	fmt.Fprintf(&b, " partitions=%d/%d", len(p.leaves()), len(p.State.Partitions.Leaves()))
	scanDescribeIterators(&b, p.Table, p.Ordered)
	return b.String()
}

// Parts returns one PartitionScan per leaf partition whose region meets
// the row-key filters, in leaf order (Tree.Leaves, an in-order walk).
// Concatenated in that order they are in key order only if KeyOrdered.
func (p *TableScan) Parts() []Plan {
	leaves := p.leaves()
	out := make([]Plan, len(leaves))
	for i, leaf := range leaves {
		out[i] = p.part(leaf)
	}
	return out
}

func (p *TableScan) part(leaf *partition.Partition) *PartitionScan {
	return &PartitionScan{Table: p.Table, State: p.State, Seq: p.Seq, Partition: leaf,
		Columns: p.Columns, Filters: p.Filters, Ordered: p.Ordered, Limit: p.Limit, Now: p.Now}
}

// KeyOrdered reports whether the parts, each in key order, are in key
// order one after another: whether no two kept leaves overlap on the
// first row key, which holds when every split is on dimension 0. When it
// does not hold, an Ordered TableScan merges the overlapping leaves (see
// Open), and a planner that reads Parts() on its own must merge them too
// or not claim an order.
func (p *TableScan) KeyOrdered() bool {
	for _, band := range scanBands(p.leaves()) {
		if len(band) > 1 {
			return false
		}
	}
	return true
}

// leaves returns the leaves whose region meets the filters on every
// row-key dimension.
func (p *TableScan) leaves() []*partition.Partition { return p.appendLeaves(nil) }

// appendLeaves appends to dst the leaves whose region meets the filters
// on every row-key dimension, in key order (Tree.Leaves). It walks the
// tree itself rather than through Tree.LeavesWhere so that a point
// lookup, which reuses dst, allocates neither the result nor a closure.
func (p *TableScan) appendLeaves(dst []*partition.Partition) []*partition.Partition {
	return scanAppendLeaves(dst, p.State.Partitions, p.State.Partitions.Root(), scanMergeFilters(p.Filters))
}

// scanAppendLeaves appends the leaves at or below part that meet the
// filters. A parent's region encloses its children's: below a parent the
// filters miss, no leaf meets them.
func scanAppendLeaves(dst []*partition.Partition, t *partition.Tree, part *partition.Partition, filters []ColumnSpans) []*partition.Partition {
	if len(filters) > 0 && !scanLeafMeets(part, filters) {
		return dst
	}
	if part.IsLeaf() {
		return append(dst, part)
	}
	for _, id := range part.Children {
		if child, ok := t.Get(id); ok {
			dst = scanAppendLeaves(dst, t, child, filters)
		}
	}
	return dst
}

// scanLeafMeets reports whether a leaf's region meets the filters on its
// row-key columns (storage columns 0..dims-1).
func scanLeafMeets(leaf *partition.Partition, filters []ColumnSpans) bool {
	for _, f := range filters {
		if f.Column >= len(leaf.Region) {
			continue // not a row key
		}
		if r := leaf.Region[f.Column]; !f.Spans.Meets(Span{Lo: r.Min, Hi: r.Max}) {
			return false
		}
	}
	return true
}

// scanBands groups leaves into bands: runs of leaves, in order of their
// lower bound on dimension 0, whose ranges on dimension 0 overlap. Bands
// follow one another in key order; the leaves inside a band must be merged.
func scanBands(leaves []*partition.Partition) [][]*partition.Partition {
	sorted := append([]*partition.Partition(nil), leaves...)
	sort.SliceStable(sorted, func(i, j int) bool {
		return bytes.Compare(sorted[i].Region[0].Min, sorted[j].Region[0].Min) < 0
	})
	var bands [][]*partition.Partition
	var end []byte // the band's upper bound on dimension 0; empty is +inf
	for _, leaf := range sorted {
		r := leaf.Region[0]
		if n := len(bands); n > 0 && (len(end) == 0 || bytes.Compare(r.Min, end) < 0) {
			bands[n-1] = append(bands[n-1], leaf)
			if hiLess(end, r.Max) {
				end = r.Max
			}
			continue
		}
		bands = append(bands, []*partition.Partition{leaf})
		end = r.Max
	}
	return bands
}

// PartitionScan reads one leaf partition of a table snapshot: the rows of
// the files its references name that lie inside its region, restricted by
// Filters (exactly, as in TableScan). It is self-contained: any process
// that shares the store can run it. Use it as a pointer.
type PartitionScan struct {
	Table     *table.Table
	State     *state.State
	Seq       uint64
	Partition *partition.Partition // a leaf of State.Partitions
	Columns   []int
	Filters   []ColumnSpans
	// Ordered asks for output in key order: the partition's files are
	// merged.
	Ordered bool
	// Limit stops the part after that many rows (-1: none).
	Limit int64
	// Now is as in TableScan.
	Now time.Time
	// Files, when not nil, restricts the part to these files of the
	// partition (a compaction job's inputs); each must be referenced by it.
	Files []string
	// BatchRows is the most rows per batch read from a file and merged
	// (0: the defaults), which bounds the memory of a merge of many files.
	BatchRows int
}

// Schema is the table's Arrow fields for Columns.
func (p *PartitionScan) Schema() *arrow.Schema { return scanSchema(p.Table, p.Columns) }

// Children is empty: a scan is a leaf.
func (p *PartitionScan) Children() []Plan { return nil }

// WithChildren returns p; a scan has no inputs.
func (p *PartitionScan) WithChildren(children ...Plan) Plan {
	if len(children) > 0 {
		panic("engine: PartitionScan has no children")
	}
	return p
}

// Ordering is the key order when Ordered.
func (p *PartitionScan) Ordering() []SortKey { return scanOrdering(p.Table, p.Columns, p.Ordered) }

// Describe renders the part for EXPLAIN, e.g.
//
//	PartitionScan events partition=p000003 region=[a, m) columns=[id] files=2
func (p *PartitionScan) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "PartitionScan %s partition=%s region=%s", p.Table.Def.Name, p.Partition.ID,
		partition.Describe(scanKeyTypes(p.Table), p.Partition.Region))
	scanDescribe(&b, p.Table, p.Columns, p.Filters, p.Ordered, p.Limit)
	fmt.Fprintf(&b, " files=%d", p.State.NumRefs(p.Partition.ID))
	scanDescribeIterators(&b, p.Table, p.Ordered)
	return b.String()
}

// scanValidate checks what a scan needs before it opens.
func scanValidate(t *table.Table, s *state.State, columns []int, filters []ColumnSpans) error {
	if t == nil || s == nil {
		return fmt.Errorf("scan needs a table and a state snapshot")
	}
	n := t.Def.Schema.NumColumns()
	for _, c := range columns {
		if c < 0 || c >= n {
			return fmt.Errorf("scan %s: column %d out of range [0, %d)", t.Def.Name, c, n)
		}
	}
	for _, f := range filters {
		if f.Column < 0 || f.Column >= n {
			return fmt.Errorf("scan %s: filter on column %d out of range [0, %d)", t.Def.Name, f.Column, n)
		}
	}
	return nil
}

// scanSchema returns the Arrow schema of the given storage columns of t.
// Plans ask for it several times per query and arrow.NewSchema indexes
// its fields in a map, so schemas are kept per table definition (which
// ALTER replaces, never changes) and column list.
func scanSchema(t *table.Table, columns []int) *arrow.Schema {
	k := scanSchemaKey{sch: t.Def.Schema, n: len(columns)}
	if len(columns) <= len(k.few) {
		for i, c := range columns {
			k.few[i] = int32(c)
		}
	} else {
		var key strings.Builder
		key.Grow(4 * len(columns))
		for _, c := range columns {
			key.WriteString(strconv.Itoa(c))
			key.WriteByte(',')
		}
		k.many = key.String()
	}
	scanSchemas.mu.Lock()
	defer scanSchemas.mu.Unlock()
	if s, ok := scanSchemas.m[k]; ok {
		return s
	}
	cols := t.Def.Schema.Columns()
	fields := make([]arrow.Field, len(columns))
	for i, c := range columns {
		fields[i] = arrow.Field{Name: cols[c].Name, Type: cols[c].Type.Arrow(), Nullable: cols[c].Nullable}
	}
	s := arrow.NewSchema(fields, nil)
	if len(scanSchemas.m) >= 4096 {
		clear(scanSchemas.m) // bounded: a process sees few definitions
	}
	scanSchemas.m[k] = s
	return s
}

// scanSchemaKey names a schema by its table definition's schema and its
// columns: up to len(few) of them in few (a key every scan can make
// without allocating), more as a list in many.
type scanSchemaKey struct {
	sch  *schema.Schema
	n    int
	few  [8]int32
	many string
}

var scanSchemas = struct {
	mu sync.Mutex
	m  map[scanSchemaKey]*arrow.Schema
}{m: map[scanSchemaKey]*arrow.Schema{}}

// scanOrdering is the key order over the leading key columns present in
// columns (none if the first key column is not output).
func scanOrdering(t *table.Table, columns []int, ordered bool) []SortKey {
	if !ordered {
		return nil
	}
	var out []SortKey
	for k := 0; k < t.Def.Schema.NumKeys(); k++ {
		pos := scanIndexOf(columns, k)
		if pos < 0 {
			break
		}
		out = append(out, SortKey{Column: pos})
	}
	return out
}

func scanIndexOf(columns []int, c int) int {
	for i, x := range columns {
		if x == c {
			return i
		}
	}
	return -1
}

func scanKeyTypes(t *table.Table) []schema.Type {
	types := make([]schema.Type, len(t.Def.Schema.RowKeys))
	for i, c := range t.Def.Schema.RowKeys {
		types[i] = c.Type
	}
	return types
}

// scanDescribe appends " columns=[…]", the filters, "ordered" and
// "limit=n" as they apply.
func scanDescribe(b *strings.Builder, t *table.Table, columns []int, filters []ColumnSpans, ordered bool, limit int64) {
	cols := t.Def.Schema.Columns()
	b.WriteString(" columns=[")
	for i, c := range columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(cols[c].Name)
	}
	b.WriteByte(']')
	for _, f := range scanMergeFilters(filters) {
		if f.Column == 0 {
			fmt.Fprintf(b, " key ranges=%s", f.Spans.Format(cols[0].Type))
		} else {
			fmt.Fprintf(b, " %s ranges=%s", cols[f.Column].Name, f.Spans.Format(cols[f.Column].Type))
		}
	}
	if ordered {
		b.WriteString(" ordered")
	}
	if limit >= 0 {
		fmt.Fprintf(b, " limit=%d", limit)
	}
}

// scanMergeFilters intersects the filters on each column and returns one
// per column, sorted by column.
func scanMergeFilters(filters []ColumnSpans) []ColumnSpans {
	if len(filters) == 1 {
		// Nothing to merge (a point lookup's scan, every time): the
		// filter as it is, its capacity cut so that appending copies.
		return filters[:1:1]
	}
	var out []ColumnSpans
	for _, f := range filters {
		i := sort.Search(len(out), func(i int) bool { return out[i].Column >= f.Column })
		if i < len(out) && out[i].Column == f.Column {
			out[i].Spans = out[i].Spans.Intersect(f.Spans)
			continue
		}
		out = append(out, ColumnSpans{})
		copy(out[i+1:], out[i:])
		out[i] = f
	}
	return out
}
