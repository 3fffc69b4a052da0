package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/storage/iterator"
	"github.com/dormousedb/dormouse/storage/state"
	"github.com/dormousedb/dormouse/storage/table"
)

// A table with iterators (aggregations, age_off) is read, partition by
// partition, through them. When rows combine, the partition's files are
// merged in key order, oldest file first (last() takes the newest row):
//
//	files (key filters only) → MergeSorted → Iterate → value filters → columns
//
// Rows combine per key, so filters on key columns keep or drop whole runs
// and may prune files, row groups and pages before the merge. A filter on
// a value column may not: it would drop rows before they combine (a row
// with n = 1 fails n > 5, yet its run may sum to 9). Such filters are
// applied to the combined rows, exactly, as TableScan's contract says.
// Age-off alone drops rows one at a time: every filter prunes, and files
// are merged only when the scan is Ordered.
//
// The compactor reads a job's files through the same path, so a query sees
// the same rows before and after compaction.

// scanSplitFilters separates the filters in force in a part into those on
// key columns, which may prune files and rows before the iterators, and
// those on value columns, which must wait for rows to combine. When rows
// do not combine (no iterators, or age-off alone, which drops rows one by
// one) every filter prunes.
func scanSplitFilters(p *PartitionScan, spec *iterator.Spec, filters []scanFilter) (early, late []scanFilter) {
	if !spec.Aggregates() {
		return filters, nil
	}
	keys := p.Table.Def.Schema.NumKeys()
	for _, f := range filters {
		if f.col < keys {
			early = append(early, f)
		} else {
			late = append(late, f)
		}
	}
	return early, late
}

// scanPartRefs returns the partition's references to read, restricted to
// p.Files when set, oldest file first: by Seq, then key. Equal keys then
// come out of a merge oldest first, which last() relies on.
func scanPartRefs(p *PartitionScan) ([]*state.FileRef, error) {
	refs := p.State.PartitionRefs(p.Partition.ID)
	if p.Files != nil {
		byKey := make(map[string]*state.FileRef, len(refs))
		for _, r := range refs {
			byKey[r.File] = r
		}
		refs = make([]*state.FileRef, 0, len(p.Files))
		for _, k := range p.Files {
			r, ok := byKey[k]
			if !ok {
				return nil, fmt.Errorf("partition does not reference file %s", k)
			}
			refs = append(refs, r)
		}
	}
	seq := func(r *state.FileRef) uint64 {
		if f, ok := p.State.File(r.File); ok {
			return f.Seq
		}
		return 0
	}
	slices.SortStableFunc(refs, func(a, b *state.FileRef) int {
		return cmp.Or(cmp.Compare(seq(a), seq(b)), strings.Compare(a.File, b.File))
	})
	return refs, nil
}

// startIterating prepares the part's pipeline over the kept files for a
// table with iterators: every file is read with the key columns, the
// age-off column and the late filters' columns besides o.out, merged (when
// there are several), iterated and filtered.
func (o *scanPartOp) startIterating(kept []*scanFileOp, spec *iterator.Spec, late []scanFilter) {
	p := o.plan
	sch := p.Table.Def.Schema
	layout := append([]int(nil), o.out...)
	need := spec.Columns()
	for k := 0; k < sch.NumKeys(); k++ {
		need = append(need, k)
	}
	for _, f := range late {
		need = append(need, f.col)
	}
	for _, c := range need {
		if scanIndexOf(layout, c) < 0 {
			layout = append(layout, c)
		}
	}
	if len(layout) > len(o.out) {
		o.project = make([]int, len(o.out))
		for i := range o.project {
			o.project[i] = i
		}
	}
	layoutSchema := scanSchema(p.Table, layout)
	inputs := make([]Operator, len(kept))
	for i, f := range kept {
		f.layout, f.schema = layout, layoutSchema
		inputs[i] = f
	}
	o.files = kept
	var in Operator
	switch {
	case len(inputs) == 1:
		in = inputs[0]
	case !scanMerges(spec, p.Ordered):
		in = &scanConcatOp{inputs: inputs, schema: layoutSchema}
	default:
		in = MergeSorted(inputs, scanKeyFunc(sch, layout),
			MergeOptions{Alloc: scanAlloc(o.ec), Schema: layoutSchema, BatchRows: p.BatchRows,
				KeyColumn: mergeKeyColumn(sch, layout)})
	}
	count := &scanIterCount{stats: o.stats}
	in = Iterate(&scanCountOp{Operator: in, rows: &count.in}, spec, sch, scanNow(o.ec, p.Now), scanAlloc(o.ec))
	in = &scanCountOp{Operator: in, rows: &count.out, done: count.report}
	if len(late) > 0 {
		f := &scanLateFilterOp{in: in, ec: o.ec, filters: late}
		for _, lf := range late {
			f.pos = append(f.pos, scanIndexOf(layout, lf.col))
		}
		in = f
	}
	o.merged = in
}

// scanMerges reports whether a part with iterators merges its files:
// always when rows combine; age-off alone drops rows one by one, so its
// files are merged only when the scan is Ordered.
func scanMerges(spec *iterator.Spec, ordered bool) bool { return spec.Aggregates() || ordered }

// scanNow is the time age-off counts back from: the scan's, else the
// statement's (the one now() returns), else the clock's.
func scanNow(ec *ExecContext, now time.Time) time.Time {
	switch {
	case !now.IsZero():
		return now
	case ec != nil && ec.Eval != nil && ec.Eval.Now != 0:
		return time.UnixMicro(ec.Eval.Now)
	}
	return time.Now()
}

// scanDescribeIterators appends the iterators of a table that has any,
// for EXPLAIN: " merged with iterators [sum(n), age_off(ts 30d)]", or
// " with iterators [age_off(ts 30d)]" when the files are not merged.
func scanDescribeIterators(b *strings.Builder, t *table.Table, ordered bool) {
	spec, err := iterator.FromDef(t.Def)
	switch {
	case err != nil:
		fmt.Fprintf(b, " iterators invalid: %v", err)
	case spec.Empty():
	case scanMerges(spec, ordered):
		fmt.Fprintf(b, " merged with iterators [%s]", spec)
	default:
		fmt.Fprintf(b, " with iterators [%s]", spec)
	}
}

// scanLateFilterOp applies value-column filters to combined rows.
type scanLateFilterOp struct {
	in      Operator
	ec      *ExecContext
	filters []scanFilter
	pos     []int // each filter's column in the batches
	keep    []bool
	enc     []byte
}

func (o *scanLateFilterOp) Schema() *arrow.Schema { return o.in.Schema() }

func (o *scanLateFilterOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	return nextKept(ctx, o.in, o.filter)
}

// filter returns the rows of rec inside every filter (nil for none); the
// caller releases rec.
func (o *scanLateFilterOp) filter(_ context.Context, rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	n := int(rec.NumRows())
	if cap(o.keep) < n {
		o.keep = make([]bool, n)
	}
	keep := o.keep[:n]
	for i := range keep {
		keep[i] = true
	}
	for i := range o.filters {
		o.filters[i].match(rec.Column(o.pos[i]), keep, &o.enc)
	}
	runs := scanKeptRuns(keep)
	switch rows := scanRunRows(runs); {
	case rows == 0:
		return nil, nil
	case rows == n:
		rec.Retain()
		return rec, nil
	default:
		return mergeGather(scanAlloc(o.ec), rec.Schema(), []arrow.RecordBatch{rec}, runs, rows)
	}
}

func (o *scanLateFilterOp) Close() error { return o.in.Close() }

// scanConcatOp reads its inputs one after another (none: no rows),
// closing each at its end; Close closes them all.
type scanConcatOp struct {
	inputs []Operator
	schema *arrow.Schema
	cur    int
}

func (o *scanConcatOp) Schema() *arrow.Schema { return o.schema }

func (o *scanConcatOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for o.cur < len(o.inputs) {
		rec, err := o.inputs[o.cur].Next(ctx)
		if err != io.EOF {
			return rec, err
		}
		if err := o.inputs[o.cur].Close(); err != nil {
			return nil, err
		}
		o.cur++
	}
	return nil, io.EOF
}

func (o *scanConcatOp) Close() error {
	var errs []error
	for _, in := range o.inputs {
		errs = append(errs, in.Close())
	}
	return errors.Join(errs...)
}

// IteratorRowsCounter names the NodeStats counter of a scan's rows through
// its table's iterators: kept is the rows they output, total the rows they
// read (the compactor reports both).
const IteratorRowsCounter = "iterator rows"

// scanIterCount counts the rows into and out of a part's iterators and
// reports them when the part ends.
type scanIterCount struct {
	stats   *NodeStats
	in, out int64
}

func (c *scanIterCount) report() { c.stats.Count(IteratorRowsCounter, c.out, c.in) }

// scanCountOp counts the rows passing through it and calls done, if set,
// at the end of its input.
type scanCountOp struct {
	Operator
	rows *int64
	done func()
}

func (o *scanCountOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	rec, err := o.Operator.Next(ctx)
	if rec != nil {
		*o.rows += rec.NumRows()
	}
	if err == io.EOF && o.done != nil {
		o.done()
		o.done = nil
	}
	return rec, err
}
