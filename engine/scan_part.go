package engine

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/storage/iterator"
	"github.com/dormousedb/dormouse/storage/schema"
)

// Open returns the part's operator; its pruning counts go to the part's
// own node stats.
func (p *PartitionScan) Open(ec *ExecContext) (Operator, error) {
	if err := scanValidate(p.Table, p.State, p.Columns, p.Filters); err != nil {
		return nil, err
	}
	if p.Partition == nil || !p.Partition.IsLeaf() {
		return nil, fmt.Errorf("scan %s: a partition scan needs a leaf partition", p.Table.Def.Name)
	}
	return newScanPartOp(ec, p, p.Columns, ec.Stats.Node(p)), nil
}

// scanFilter is a filter in force in one part: the intersection of the
// scan's filters on a column and, for a row key, the part's region.
type scanFilter struct {
	col   int
	typ   schema.Type
	spans SpanSet
	ints  scanIntSpans // the spans as integers, for integer-like columns
}

// scanPartFilters returns the filters in force in part p: rows outside
// them are dropped exactly, so the region's bounds are among them.
func scanPartFilters(p *PartitionScan) []scanFilter {
	merged := scanMergeFilters(p.Filters)
	for d, r := range p.Partition.Region {
		if rs := RangeSpanSet(r); !rs.IsAll() {
			merged = scanMergeFilters(append(merged, ColumnSpans{Column: d, Spans: rs}))
		}
	}
	out := make([]scanFilter, 0, len(merged))
	for _, f := range merged {
		sf := scanFilter{col: f.Column, typ: p.Table.Def.Schema.Column(f.Column).Type, spans: f.Spans}
		sf.ints = newScanIntSpans(sf.typ, f.Spans)
		out = append(out, sf)
	}
	return out
}

// scanPartOp runs one part: it prunes the part's files by their key range
// and reads the rest one after another, or merges them in key order when
// the part is Ordered. Its batches hold the storage columns out.
type scanPartOp struct {
	ec     *ExecContext
	plan   *PartitionScan
	stats  *NodeStats
	out    []int
	schema *arrow.Schema

	started bool
	files   []*scanFileOp
	cur     int
	merged  Operator // when Ordered over several files
	project []int    // positions of out in the merged batches; nil if the same
	emitted int64
	err     error
	closed  bool
}

func newScanPartOp(ec *ExecContext, p *PartitionScan, out []int, stats *NodeStats) *scanPartOp {
	return &scanPartOp{ec: ec, plan: p, stats: stats, out: out, schema: scanSchema(p.Table, out)}
}

func (o *scanPartOp) Schema() *arrow.Schema { return o.schema }

func (o *scanPartOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if o.err != nil {
		return nil, o.err
	}
	rec, err := o.next(ctx)
	if err != nil {
		// Free the files as soon as the part is done.
		if cerr := o.closeInputs(); cerr != nil && err == io.EOF {
			err = cerr
		}
		if err != io.EOF {
			err = fmt.Errorf("scan %s partition %s: %w", o.plan.Table.Def.Name, o.plan.Partition.ID, err)
		}
		o.err = err
	}
	return rec, err
}

func (o *scanPartOp) next(ctx context.Context) (arrow.RecordBatch, error) {
	if o.closed {
		return nil, io.EOF
	}
	if !o.started {
		o.started = true
		if err := o.start(); err != nil {
			return nil, err
		}
	}
	if o.plan.Limit >= 0 && o.emitted >= o.plan.Limit {
		return nil, io.EOF
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var rec arrow.RecordBatch
		var err error
		if o.merged != nil {
			rec, err = o.merged.Next(ctx)
		} else {
			if o.cur >= len(o.files) {
				return nil, io.EOF
			}
			rec, err = o.files[o.cur].Next(ctx)
			if err == io.EOF {
				err = o.files[o.cur].Close()
				o.cur++
				if err != nil {
					return nil, err
				}
				continue
			}
		}
		if err != nil {
			return nil, err
		}
		if o.project != nil {
			rec = scanProject(rec, o.schema, o.project)
		}
		return scanLimit(rec, o.plan.Limit, &o.emitted), nil
	}
}

// start prunes the part's files by the first row key's filter against
// their min and max keys and prepares one reader for each file kept, in
// age order (scanPartRefs); a table with iterators is read through them
// (scan_iterate.go).
func (o *scanPartOp) start() error {
	p := o.plan
	spec, err := iterator.FromDef(p.Table.Def)
	if err != nil {
		return err
	}
	filters, late := scanSplitFilters(p, spec, scanPartFilters(p))
	var dim0 *scanFilter
	for i := range filters {
		if filters[i].col == 0 {
			dim0 = &filters[i]
		}
	}
	refs, err := scanPartRefs(p)
	if err != nil {
		return err
	}
	var kept []*scanFileOp
	for _, ref := range refs {
		f, ok := p.State.File(ref.File)
		if !ok {
			return fmt.Errorf("partition references unknown file %s", ref.File)
		}
		if f.Rows == 0 {
			continue
		}
		// MinKey and MaxKey are the first and last rows' keys: on
		// dimension 0 they bound every row of the file.
		if dim0 != nil && len(f.MinKey) > 0 && !dim0.spans.Overlaps(f.MinKey[0], f.MaxKey[0]) {
			continue
		}
		kept = append(kept, &scanFileOp{part: o, key: f.Key, filters: filters})
	}
	o.stats.Count("files", int64(len(kept)), int64(len(refs)))
	if !spec.Empty() {
		o.startIterating(kept, spec, late)
		return nil
	}

	layout := o.out
	if p.Ordered && len(kept) > 1 {
		// The merge needs every key column; output only o.out.
		layout = append([]int(nil), o.out...)
		for k := 0; k < p.Table.Def.Schema.NumKeys(); k++ {
			if scanIndexOf(layout, k) < 0 {
				layout = append(layout, k)
			}
		}
		if len(layout) > len(o.out) {
			o.project = make([]int, len(o.out))
			for i := range o.project {
				o.project[i] = i
			}
		}
	}
	layoutSchema := scanSchema(p.Table, layout)
	for _, f := range kept {
		f.layout, f.schema = layout, layoutSchema
	}
	o.files = kept
	if p.Ordered && len(kept) > 1 {
		inputs := make([]Operator, len(kept))
		for i, f := range kept {
			inputs[i] = f
		}
		o.merged = MergeSorted(inputs, scanKeyFunc(p.Table.Def.Schema, layout),
			MergeOptions{Alloc: scanAlloc(o.ec), Schema: layoutSchema, BatchRows: p.BatchRows,
				KeyColumn: mergeKeyColumn(p.Table.Def.Schema, layout)})
	}
	return nil
}

// scanLimit cuts rec to the rows a limit (< 0: none) leaves after the
// emitted ones, releasing rec if it cuts, and counts them into emitted.
func scanLimit(rec arrow.RecordBatch, limit int64, emitted *int64) arrow.RecordBatch {
	if limit >= 0 && *emitted+rec.NumRows() > limit {
		cut := rec.NewSlice(0, limit-*emitted)
		rec.Release()
		rec = cut
	}
	*emitted += rec.NumRows()
	return rec
}

// scanKeyFunc returns the table's composite row key over batches whose
// columns are the storage columns layout.
func scanKeyFunc(sch *schema.Schema, layout []int) MergeKey {
	pos := make([]int, sch.NumKeys())
	for k := range pos {
		pos[k] = scanIndexOf(layout, k)
	}
	return func(dst []byte, rec arrow.RecordBatch, row int) []byte {
		for _, p := range pos {
			dst = schema.AppendComposite(dst, rec.Column(p), row)
		}
		return dst
	}
}

// scanProject returns the columns at positions pos of rec under sch and
// releases rec.
func scanProject(rec arrow.RecordBatch, sch *arrow.Schema, pos []int) arrow.RecordBatch {
	cols := make([]arrow.Array, len(pos))
	for i, p := range pos {
		cols[i] = rec.Column(p)
	}
	out := array.NewRecordBatch(sch, cols, rec.NumRows())
	rec.Release()
	return out
}

func scanAlloc(ec *ExecContext) memory.Allocator {
	if ec.Alloc == nil {
		return memory.DefaultAllocator
	}
	return ec.Alloc
}

// closeInputs closes the files (through the merge, if any).
func (o *scanPartOp) closeInputs() error {
	var errs []error
	if o.merged != nil {
		errs = append(errs, o.merged.Close())
		o.merged = nil
	}
	for _, f := range o.files {
		errs = append(errs, f.Close())
	}
	o.files = nil
	return errors.Join(errs...)
}

func (o *scanPartOp) Close() error {
	if o.closed {
		return nil
	}
	o.closed = true
	return o.closeInputs()
}
