package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
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
	ints := newScanIntSpans(sch.RowKeys[0].Type, spans)
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
	if spec, err := iterator.FromDef(p.Table.Def); err != nil || !spec.Empty() {
		return nil, false
	}
	return spans, true
}

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
	files   []string   // the current leaf's files left to read
	pending []arrow.RecordBatch
	general *scanPartOp // reads a file the short read cannot
	// generalStats counts what general read, for EXPLAIN ANALYZE.
	generalStats *NodeStats
	emitted      int64
	err          error
}

func newScanShortOp(ec *ExecContext, p *TableScan, spans SpanSet, stats *NodeStats, sch *arrow.Schema) *scanShortOp {
	return &scanShortOp{ec: ec, plan: p, stats: stats, schema: sch, spans: spans}
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
		o.leaves = p.leaves()
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
		case len(o.pending) > 0:
			rec = o.pending[0]
			o.pending[0] = nil
			o.pending = o.pending[1:]
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
		case len(o.files) > 0:
			key := o.files[0]
			o.files = o.files[1:]
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
	o.filter = scanFilter{col: 0, typ: typ, spans: spans, ints: newScanIntSpans(typ, spans)}
	refs, err := scanPartRefs(p.part(leaf))
	if err != nil {
		return err
	}
	o.files = o.files[:0]
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
	var recs []arrow.RecordBatch
	defer func() {
		if err != nil || !ok {
			for _, rec := range recs {
				rec.Release()
			}
			recs = nil
		}
		if cerr := scanClose(o.ec, p.Table, key, 0, r, pooled, err == nil); err == nil {
			err = cerr
		}
		o.pending = append(o.pending, recs...)
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
		recs = append(recs, array.NewRecordBatch(o.schema, cols, n))
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
	for _, rec := range o.pending {
		rec.Release()
	}
	o.pending, o.files, o.leaves = nil, nil, nil
	if o.general != nil {
		err := o.general.Close()
		o.general = nil
		return err
	}
	return nil
}
