package engine

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/table"
)

// scanFileOp reads one data file of a part: the row groups and pages its
// filters can match, the columns it needs, the rows inside the filters.
// Its batches hold the storage columns layout. Nothing is read before the
// first Next.
type scanFileOp struct {
	part    *scanPartOp
	key     string
	filters []scanFilter
	layout  []int
	schema  *arrow.Schema

	r      *datafile.Reader
	pooled bool // r came from ExecContext.Readers
	groups []scanGroup
	gi     int
	rr     datafile.RecordReader
	keep   []bool // scratch for the row checks
	enc    []byte // scratch for encoded values
	err    error
}

// scanGroup is one row group to read: the rows to read and what the rows
// need checking against.
type scanGroup struct {
	sel      datafile.Selection
	columns  []int       // storage columns to read: layout, then checked
	checks   []scanCheck // filters the group's statistics do not settle
	identity bool        // columns is layout: no projection needed
}

// scanCheck is a filter to apply row by row, on columns[pos].
type scanCheck struct {
	filter *scanFilter
	pos    int
}

func (f *scanFileOp) Schema() *arrow.Schema { return f.schema }

func (f *scanFileOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if f.err != nil {
		return nil, f.err
	}
	rec, err := f.next(ctx)
	if err != nil {
		// Done or failed: close the file now. datafile's errors name it.
		if cerr := f.closeReaders(err == io.EOF); cerr != nil && err == io.EOF {
			err = fmt.Errorf("close %s: %w", f.key, cerr)
		}
		f.err = err
	}
	return rec, err
}

func (f *scanFileOp) next(ctx context.Context) (arrow.RecordBatch, error) {
	if f.r == nil {
		if err := f.open(ctx); err != nil {
			return nil, err
		}
	}
	for {
		if f.rr == nil {
			if f.gi >= len(f.groups) {
				return nil, io.EOF
			}
			g := &f.groups[f.gi]
			if scanNarrowable(g, len(f.layout)) {
				if err := f.narrow(ctx, g); err != nil {
					return nil, err
				}
				if len(g.sel.Rows) == 0 {
					f.gi++
					continue
				}
			}
			rr, err := f.r.ReadRows(ctx, g.columns, []datafile.Selection{g.sel})
			if err != nil {
				return nil, err
			}
			f.rr = rr
		}
		rec, err := f.rr.Next()
		if err == io.EOF {
			f.rr.Close()
			f.rr = nil
			f.gi++
			continue
		}
		if err != nil {
			return nil, err
		}
		out, err := f.filter(rec, &f.groups[f.gi])
		if err != nil {
			return nil, err
		}
		if out != nil {
			return out, nil
		}
	}
}

// open opens the file and chooses its row groups, rows and columns.
func (f *scanFileOp) open(ctx context.Context) error {
	p := f.part.plan
	r, pooled, err := scanOpen(ctx, f.part.ec, p.Table, f.key, p.BatchRows)
	if err != nil {
		return err
	}
	f.r, f.pooled = r, pooled
	groups, err := scanPlanGroups(r, f.filters, f.layout, f.part.stats)
	if err != nil {
		return err
	}
	f.groups = groups
	return nil
}

// scanOpen opens data file key of t for a scan, batches of batchRows rows
// (0: the default). With Go's allocator it leaves the choice to the
// reader, which then pools the buffers of fixed-width columns
// (datafile.PooledAllocator), and reuses an open reader of the file from
// ExecContext.Readers (pooled true); with another allocator it opens one
// of its own. scanClose gives it back.
func scanOpen(ctx context.Context, ec *ExecContext, t *table.Table, key string, batchRows int) (r *datafile.Reader, pooled bool, err error) {
	if alloc := scanAlloc(ec); alloc != memory.DefaultAllocator {
		r, err = datafile.Open(ctx, t.Store, key, t.Def.Schema, datafile.WithBatchRows(batchRows), datafile.WithAllocator(alloc))
		return r, false, err
	}
	r, err = ec.Readers.Get(ctx, t.Store, key, t.Def.Schema, batchRows)
	return r, true, err
}

// scanClose gives back a reader scanOpen returned to the pool it came
// from when the read went well (ok), else closes it.
func scanClose(ec *ExecContext, t *table.Table, key string, batchRows int, r *datafile.Reader, pooled, ok bool) error {
	if pooled && ok {
		return ec.Readers.Put(t.Store, key, batchRows, r)
	}
	return r.Close()
}

// scanNarrowMaxRows is the largest page-pruned selection a scan narrows
// before reading the rest of its columns (see narrow).
const scanNarrowMaxRows = 16 << 10

// scanNarrowable says whether the group is worth narrowing: a small
// page-pruned selection with row checks and columns to read besides the
// checked ones.
func scanNarrowable(g *scanGroup, layout int) bool {
	if g.sel.Rows == nil || len(g.checks) == 0 {
		return false
	}
	var n int64
	for _, r := range g.sel.Rows {
		n += r.End - r.Start
	}
	if n > scanNarrowMaxRows {
		return false
	}
	for _, c := range g.columns[:layout] {
		checked := false
		for _, ch := range g.checks {
			checked = checked || g.columns[ch.pos] == c
		}
		if !checked {
			return true
		}
	}
	return false
}

// narrow reads only the checked columns of a small selection, keeps the
// rows that pass every check, and makes them the group's selection, with
// nothing left to check. A point lookup then decodes the key column's
// page, finds its row, and reads just that row of the other columns,
// instead of decoding a whole page of every column and filtering after.
func (f *scanFileOp) narrow(ctx context.Context, g *scanGroup) error {
	if len(g.checks) == 1 && g.checks[0].filter.col == 0 && g.checks[0].filter.ints != nil {
		// The file's sort column against integers: search its pages
		// where they lie, without reading them into a batch.
		rows, ok, err := f.r.SortedIntRows(g.sel, 0, g.checks[0].filter.ints)
		if err != nil {
			return err
		}
		if ok {
			f.narrowed(g, rows)
			return nil
		}
	}
	var cols []int
	pos := make([]int, len(g.checks))
	for i, ch := range g.checks {
		c := g.columns[ch.pos]
		pos[i] = scanIndexOf(cols, c)
		if pos[i] < 0 {
			pos[i] = len(cols)
			cols = append(cols, c)
		}
	}
	rr, err := f.r.ReadRows(ctx, cols, []datafile.Selection{g.sel})
	if err != nil {
		return err
	}
	defer rr.Close()
	var kept []datafile.RowRange
	ri, off := 0, int64(0) // batches are consecutive rows of one range
	for {
		rec, err := rr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		n := int(rec.NumRows())
		var runs []mergeRun
		sorted := false
		if len(g.checks) == 1 {
			runs, sorted = g.checks[0].filter.sortedRuns(rec.Column(pos[0]))
		}
		if !sorted {
			if cap(f.keep) < n {
				f.keep = make([]bool, n)
			}
			keep := f.keep[:n]
			for i := range keep {
				keep[i] = true
			}
			for i, ch := range g.checks {
				ch.filter.match(rec.Column(pos[i]), keep, &f.enc)
			}
			runs = scanKeptRuns(keep)
		}
		rec.Release()
		if ri >= len(g.sel.Rows) {
			return fmt.Errorf("narrow %s: more rows than selected", f.key)
		}
		base := g.sel.Rows[ri].Start + off
		for _, run := range runs {
			r := datafile.RowRange{Start: base + int64(run.start), End: base + int64(run.end)}
			if k := len(kept); k > 0 && kept[k-1].End == r.Start {
				kept[k-1].End = r.End
			} else {
				kept = append(kept, r)
			}
		}
		if off += int64(n); g.sel.Rows[ri].Start+off >= g.sel.Rows[ri].End {
			ri, off = ri+1, 0
		}
	}
	f.narrowed(g, kept)
	return nil
}

// narrowed makes rows, which pass every check, the group's selection.
func (f *scanFileOp) narrowed(g *scanGroup, rows []datafile.RowRange) {
	g.sel.Rows = rows
	g.columns = g.columns[:len(f.layout)]
	g.checks = nil
	g.identity = true
}

// filter drops the rows of rec that fail the group's checks, projects it
// to the layout and releases rec. It returns nil when no row is left.
func (f *scanFileOp) filter(rec arrow.RecordBatch, g *scanGroup) (arrow.RecordBatch, error) {
	n := int(rec.NumRows())
	if len(g.checks) > 0 {
		if cap(f.keep) < n {
			f.keep = make([]bool, n)
		}
		keep := f.keep[:n]
		for i := range keep {
			keep[i] = true
		}
		for _, c := range g.checks {
			c.filter.match(rec.Column(c.pos), keep, &f.enc)
		}
		runs := scanKeptRuns(keep)
		switch {
		case len(runs) == 0:
			rec.Release()
			return nil, nil
		case len(runs) == 1 && runs[0].start == 0 && runs[0].end == n:
		case len(runs) == 1:
			cut := rec.NewSlice(int64(runs[0].start), int64(runs[0].end))
			rec.Release()
			rec = cut
		default:
			projected := f.project(rec, g)
			out, err := mergeGather(scanAlloc(f.part.ec), f.schema, []arrow.RecordBatch{projected}, runs, scanRunRows(runs))
			projected.Release()
			if err != nil {
				return nil, fmt.Errorf("filter rows of %s: %w", f.key, err)
			}
			return out, nil
		}
	}
	return f.project(rec, g), nil
}

// project keeps the layout's columns (the first ones read) and releases
// rec.
func (f *scanFileOp) project(rec arrow.RecordBatch, g *scanGroup) arrow.RecordBatch {
	if g.identity {
		return rec
	}
	pos := make([]int, len(f.layout))
	for i := range pos {
		pos[i] = i
	}
	return scanProject(rec, f.schema, pos)
}

// scanKeptRuns returns the runs of kept rows, without batches.
func scanKeptRuns(keep []bool) []mergeRun {
	var runs []mergeRun
	for i := 0; i < len(keep); {
		if !keep[i] {
			i++
			continue
		}
		j := i + 1
		for j < len(keep) && keep[j] {
			j++
		}
		runs = append(runs, mergeRun{start: i, end: j})
		i = j
	}
	return runs
}

func scanRunRows(runs []mergeRun) int {
	n := 0
	for _, r := range runs {
		n += r.end - r.start
	}
	return n
}

// closeReaders closes the record reader and gives the file's reader back
// to the pool it came from, if the scan went well (ok), else closes it.
func (f *scanFileOp) closeReaders(ok bool) error {
	if f.rr != nil {
		f.rr.Close()
		f.rr = nil
	}
	if f.r != nil {
		r := f.r
		f.r = nil
		p := f.part.plan
		return scanClose(f.part.ec, p.Table, f.key, p.BatchRows, r, f.pooled, ok)
	}
	return nil
}

func (f *scanFileOp) Close() error {
	err := f.closeReaders(f.err == nil || f.err == io.EOF)
	if f.err == nil {
		f.err = io.EOF
	}
	if err != nil {
		return fmt.Errorf("close %s: %w", f.key, err)
	}
	return nil
}

// scanPlanGroups prunes the row groups of r whose statistics miss a
// filter, then the pages of the rest by the page index, and returns what
// to read of each group kept. It counts row groups and pages in stats.
func scanPlanGroups(r *datafile.Reader, filters []scanFilter, layout []int, stats *NodeStats) ([]scanGroup, error) {
	var groups []scanGroup
	var pagesKept, pagesTotal int64
	consulted := false
	for rg := range r.NumRowGroups() {
		st, err := r.RowGroupStats(rg)
		if err != nil {
			return nil, err
		}
		if st.Rows == 0 {
			continue
		}
		var unsettled []*scanFilter
		skip := false
		for i := range filters {
			switch filters[i].settle(st.Columns[filters[i].col], st.Rows) {
			case scanNone:
				skip = true
			case scanSome:
				unsettled = append(unsettled, &filters[i])
			}
		}
		if skip {
			continue
		}
		g := scanGroup{sel: datafile.Selection{RowGroup: rg}}
		if len(unsettled) > 0 {
			rows, pruned := scanPageRows(r, rg, st.Rows, unsettled)
			if rows != nil && len(rows) == 0 {
				continue // no page of some filtered column can match
			}
			if pruned {
				g.sel.Rows = rows
			}
		}
		g.columns = append(make([]int, 0, len(layout)+len(unsettled)), layout...) // never nil: nil reads all
		g.identity = true
		for _, f := range unsettled {
			pos := scanIndexOf(g.columns, f.col)
			if pos < 0 {
				pos = len(g.columns)
				g.columns = append(g.columns, f.col)
				g.identity = false
			}
			g.checks = append(g.checks, scanCheck{filter: f, pos: pos})
		}
		if stats != nil && len(unsettled) > 0 && len(g.columns) > 0 { // only EXPLAIN ANALYZE shows the counts
			kept, total, err := r.PagesSelected(rg, g.columns, g.rowsOrAll(st.Rows))
			if err == nil {
				pagesKept, pagesTotal, consulted = pagesKept+kept, pagesTotal+total, true
			} else if !errors.Is(err, datafile.ErrNoPageIndex) {
				return nil, err
			}
		}
		groups = append(groups, g)
	}
	stats.Count("row groups", int64(len(groups)), int64(r.NumRowGroups()))
	if consulted {
		stats.Count("pages", pagesKept, pagesTotal)
	}
	return groups, nil
}

func (g *scanGroup) rowsOrAll(rows int64) []datafile.RowRange {
	if g.sel.Rows != nil {
		return g.sel.Rows
	}
	return []datafile.RowRange{{Start: 0, End: rows}}
}
