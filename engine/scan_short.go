package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/iterator"
	"github.com/dormousedb/dormouse/storage/partition"
)

// The short read: a point lookup's path.
//
// A TableScan whose only filter is a few bounded ranges of an integer row
// key (k = $1, k IN (…), k BETWEEN 5 AND 9) on a table without iterators
// reads each kept file with two calls to its Reader: SortedIntKeyRows
// finds the rows by binary search, among the key's pages and then in
// them, and ReadSmall decodes just those rows of the output columns. The
// general scan gets there too, but through a part operator, a file
// operator, row group plans, a record reader and its batches, each made
// for every lookup: at tens of thousands of lookups a second that
// machinery, not the read, was most of the CPU. A file the short read cannot read (a key column stored other
// than as PLAIN integers, a type the direct path does not decode, too
// many rows) is read by the general file operator instead, so answers
// never depend on the path.

// shortReadMaxWidth is the most key values the ranges of a short read
// span together.
const shortReadMaxWidth = 1024

// shortKeys returns the key ranges of a scan the short read can serve.
func (p *TableScan) shortKeys() (SpanSet, bool) {
	sch := p.Table.Def.Schema
	if len(sch.RowKeys) != 1 || p.Ordered || len(p.Filters) == 0 {
		return nil, false
	}
	for i, c := range p.Columns {
		if scanIndexOf(p.Columns[:i], c) >= 0 {
			return nil, false // ReadSmall reads distinct columns
		}
	}
	merged := scanMergeFilters(p.Filters)
	if len(merged) != 1 || merged[0].Column != 0 {
		return nil, false
	}
	spans := merged[0].Spans
	var buf [4]datafile.IntSpan // enough for most lookups: no allocation
	ints := appendScanIntSpans(buf[:0], sch.RowKeys[0].Type, spans)
	if len(ints) == 0 {
		return nil, false
	}
	var width uint64
	for _, s := range ints {
		if s.Open || s.Lo == math.MinInt64 {
			return nil, false
		}
		if width += uint64(s.Hi - s.Lo); width > shortReadMaxWidth {
			return nil, false
		}
	}
	if !scanPlainTable(p.Table.Def) {
		return nil, false
	}
	return spans, true
}

// scanPlainTable reports whether a table has no iterators (its
// iterator.Spec is empty and valid). Lookups ask on every scan, and
// reading the definition's properties costs a tenth of a lookup's own
// engine time, so the answer is kept per definition (which ALTER
// replaces, never changes).
func scanPlainTable(def *catalog.TableDef) bool {
	scanPlain.mu.Lock()
	plain, ok := scanPlain.m[def]
	scanPlain.mu.Unlock()
	if ok {
		return plain
	}
	spec, err := iterator.FromDef(def)
	plain = err == nil && spec.Empty()
	scanPlain.mu.Lock()
	if len(scanPlain.m) >= 4096 {
		clear(scanPlain.m) // bounded: a process sees few definitions
	}
	scanPlain.m[def] = plain
	scanPlain.mu.Unlock()
	return plain
}

var scanPlain = struct {
	mu sync.Mutex
	m  map[*catalog.TableDef]bool
}{m: map[*catalog.TableDef]bool{}}

// scanShortOp is the short read of a TableScan (see shortKeys).
type scanShortOp struct {
	ec     *ExecContext
	plan   *TableScan
	stats  *NodeStats
	schema *arrow.Schema
	spans  SpanSet

	started bool
	leaves  []*partition.Partition
	li      int
	filter  scanFilter // the current leaf's key filter
	files   []string   // the current leaf's files to read, from files[fi] on
	fi      int
	// pending are records read and not yet returned, from pending[pi] on.
	pending []arrow.RecordBatch
	pi      int
	general *scanPartOp // reads a file the short read cannot
	// generalStats counts what general read, for EXPLAIN ANALYZE.
	generalStats *NodeStats
	emitted      int64
	err          error

	// Room for a lookup's few leaves, files, records and key ranges, so
	// that one allocates the operator and nothing else of its own.
	leafBuf    [2]*partition.Partition
	fileBuf    [4]string
	pendingBuf [2]arrow.RecordBatch
	intBuf     [2]datafile.IntSpan
}

func newScanShortOp(ec *ExecContext, p *TableScan, spans SpanSet, stats *NodeStats, sch *arrow.Schema) *scanShortOp {
	var o *scanShortOp
	if ec.Room != nil {
		o, ec.Room.short = ec.Room.short, nil
	}
	if o == nil {
		o = &scanShortOp{}
		o.leaves, o.files, o.pending = o.leafBuf[:0], o.fileBuf[:0], o.pendingBuf[:0]
	}
	// A new operator but for its room, which a kept one brings.
	*o = scanShortOp{ec: ec, plan: p, stats: stats, schema: sch, spans: spans,
		leaves: o.leaves[:0], files: o.files[:0], pending: o.pending[:0]}
	return o
}

func (o *scanShortOp) Schema() *arrow.Schema { return o.schema }

func (o *scanShortOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if o.err != nil {
		return nil, o.err
	}
	rec, err := o.next(ctx)
	if err != nil {
		o.err = err
		if cerr := o.Close(); cerr != nil && err == io.EOF {
			o.err = cerr
			return nil, cerr
		}
	}
	return rec, err
}

func (o *scanShortOp) next(ctx context.Context) (arrow.RecordBatch, error) {
	p := o.plan
	if !o.started {
		o.started = true
		o.leaves = p.appendLeaves(o.leaves[:0])
		if o.stats != nil {
			o.stats.Count("partitions", int64(len(o.leaves)), int64(len(p.State.Partitions.Leaves())))
		}
		o.li = -1
	}
	for {
		if p.Limit >= 0 && o.emitted >= p.Limit {
			return nil, io.EOF
		}
		var rec arrow.RecordBatch
		switch {
		case o.pi < len(o.pending):
			rec = o.pending[o.pi]
			o.pending[o.pi] = nil
			if o.pi++; o.pi == len(o.pending) {
				o.pending, o.pi = o.pending[:0], 0
			}
		case o.general != nil:
			var err error
			if rec, err = o.general.Next(ctx); err == io.EOF {
				err = o.general.Close()
				o.general = nil
				if st := o.generalStats; st != nil {
					for name, c := range st.Counter {
						if name != "files" { // the leaf's were counted
							o.stats.Count(name, c[0], c[1])
						}
					}
				}
				if err != nil {
					return nil, err
				}
				continue
			} else if err != nil {
				return nil, err
			}
		case o.fi < len(o.files):
			key := o.files[o.fi]
			o.fi++
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			ok, err := o.readFile(ctx, key)
			if err != nil {
				return nil, fmt.Errorf("scan %s partition %s: %w", p.Table.Def.Name, o.leaves[o.li].ID, err)
			}
			if !ok {
				part := p.part(o.leaves[o.li])
				part.Files = []string{key}
				var st *NodeStats
				if o.stats != nil {
					st = &NodeStats{} // its row groups and pages are added at the end
				}
				o.general, o.generalStats = newScanPartOp(o.ec, part, p.Columns, st), st
			}
			continue
		default:
			if o.li++; o.li >= len(o.leaves) {
				return nil, io.EOF
			}
			if err := o.startLeaf(o.leaves[o.li]); err != nil {
				return nil, fmt.Errorf("scan %s partition %s: %w", p.Table.Def.Name, o.leaves[o.li].ID, err)
			}
			continue
		}
		return scanLimit(rec, p.Limit, &o.emitted), nil
	}
}

// startLeaf makes the leaf's key filter (the ranges within its region)
// and lists its files that can hold keys in it, oldest first.
func (o *scanShortOp) startLeaf(leaf *partition.Partition) error {
	p := o.plan
	spans := o.spans
	if r := leaf.Region[0]; !o.spans.within(r.Min, r.Max) {
		spans = spans.Intersect(RangeSpanSet(r))
	}
	typ := p.Table.Def.Schema.RowKeys[0].Type
	o.filter = scanFilter{col: 0, typ: typ, spans: spans, ints: appendScanIntSpans(o.intBuf[:0], typ, spans)}
	refs, err := scanPartRefs(p.part(leaf))
	if err != nil {
		return err
	}
	o.files, o.fi = o.files[:0], 0
	for _, ref := range refs {
		f, ok := p.State.File(ref.File)
		if !ok {
			return fmt.Errorf("partition references unknown file %s", ref.File)
		}
		if f.Rows == 0 || (len(f.MinKey) > 0 && !spans.Overlaps(f.MinKey[0], f.MaxKey[0])) {
			continue
		}
		o.files = append(o.files, f.Key)
	}
	o.stats.Count("files", int64(len(o.files)), int64(len(refs)))
	return nil
}

// within says whether every span lies in [lo, hi) (an empty hi: no bound).
func (ss SpanSet) within(lo, hi []byte) bool {
	if len(ss) == 0 {
		return true
	}
	first, last := ss[0], ss[len(ss)-1]
	return bytes.Compare(first.Lo, lo) >= 0 && (len(hi) == 0 || (len(last.Hi) > 0 && bytes.Compare(last.Hi, hi) <= 0))
}

// readFile reads the rows of the leaf's key filter in one file, a record
// for each row group holding some, into o.pending. ok is false, with
// nothing read, when the short read cannot read the file.
func (o *scanShortOp) readFile(ctx context.Context, key string) (ok bool, err error) {
	f := &o.filter
	if f.ints == nil {
		// The leaf's region clips the ranges at a bound that is no
		// integer's encoding: only the general scan compares bytes.
		return false, nil
	}
	p := o.plan
	r, pooled, err := scanOpen(ctx, o.ec, p.Table, key, 0)
	if err != nil {
		return false, err
	}
	// The records go to o.pending; a read that fails or falls back
	// takes back those it added.
	start := len(o.pending)
	defer func() {
		if err != nil || !ok {
			for i, rec := range o.pending[start:] {
				rec.Release()
				o.pending[start+i] = nil
			}
			o.pending = o.pending[:start]
		}
		if cerr := scanClose(o.ec, p.Table, key, 0, r, pooled, err == nil); err == nil {
			err = cerr
		}
	}()
	var groups, pagesKept, pagesTotal int64
	for rg := range r.NumRowGroups() {
		st, err := r.RowGroupStats(rg)
		if err != nil {
			return false, err
		}
		if st.Rows == 0 || f.settle(st.Columns[0], st.Rows) == scanNone {
			continue
		}
		groups++
		rows, ok, err := r.SortedIntKeyRows(rg, f.ints)
		if err != nil || !ok {
			return false, err
		}
		if o.stats != nil { // EXPLAIN ANALYZE: the pages holding the rows found
			kept, total, err := shortPages(r, rg, p.Columns, rows)
			if err != nil {
				return false, err
			}
			pagesKept, pagesTotal = pagesKept+kept, pagesTotal+total
		}
		if len(rows) == 0 {
			continue
		}
		var n int64
		for _, rr := range rows {
			n += rr.End - rr.Start
		}
		var cols []arrow.Array
		if len(p.Columns) > 0 {
			if cols, ok, err = r.ReadSmall(datafile.Selection{RowGroup: rg, Rows: rows}, p.Columns); err != nil || !ok {
				return false, err
			}
		}
		o.pending = append(o.pending, array.NewRecordBatch(o.schema, cols, n))
		for _, c := range cols {
			c.Release()
		}
	}
	o.stats.Count("row groups", groups, int64(r.NumRowGroups()))
	if pagesTotal > 0 {
		o.stats.Count("pages", pagesKept, pagesTotal)
	}
	return true, nil
}

// shortPages counts the pages a short read of a row group reads (those
// of the key and of the columns holding the rows found) and all the pages
// of those columns.
func shortPages(r *datafile.Reader, rg int, columns []int, found []datafile.RowRange) (kept, total int64, err error) {
	if scanIndexOf(columns, 0) < 0 {
		columns = append([]int{0}, columns...)
	}
	kept, total, err = r.PagesSelected(rg, columns, found)
	if errors.Is(err, datafile.ErrNoPageIndex) {
		return 0, 0, nil
	}
	return kept, total, err
}

func (o *scanShortOp) Close() error {
	for _, rec := range o.pending[o.pi:] {
		rec.Release()
	}
	clear(o.pending)
	o.pending, o.pi, o.files, o.fi, o.leaves = o.pending[:0], 0, o.files[:0], 0, o.leaves[:0]
	var err error
	if o.general != nil {
		err = o.general.Close()
		o.general = nil
	}
	if o.ec.Room != nil {
		o.ec.Room.short = o // Close again (as Next's end and the parent's do) keeps it there
	}
	return err
}
