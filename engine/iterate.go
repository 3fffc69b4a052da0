package engine

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/engine/internal/vec"
	"github.com/dormousedb/dormouse/storage/iterator"
	"github.com/dormousedb/dormouse/storage/schema"
)

// Iterate returns an operator that applies a table's iterators (see
// storage/iterator) to in, a stream sorted by the table's row keys, then
// sort keys:
//
//   - age-off drops each row whose age-off column is older than now less
//     the age (a NULL stays);
//   - then, when the table aggregates, each run of rows with equal row and
//     sort keys becomes one row, each value column combined by its
//     function. Runs may span batches: the last run of a batch is held
//     back until the next batch shows whether it goes on.
//
// in's columns are table columns matched by name (sch); they may be any
// subset in any order, as long as every key column is there when the
// table aggregates, and the age-off column when it ages off. Value columns
// that are absent are simply not computed: each combines independently.
//
// The work is per batch: runs are found column by column, each column's
// values are combined in one typed loop, and output is built from reused
// buffers, so nothing is allocated per row. Batches pass through untouched
// when the spec is empty or, with age-off only, when every row is kept.
// The operator owns in. alloc (nil: Go's) allocates what it builds. An
// integer sum that overflows fails with SQLSTATE 22003.
func Iterate(in Operator, spec *iterator.Spec, sch *schema.Schema, now time.Time, alloc memory.Allocator) Operator {
	if alloc == nil {
		alloc = memory.DefaultAllocator
	}
	o := &iterateOp{in: in, spec: spec, sch: sch, alloc: alloc, ageCol: -1}
	if spec != nil && spec.AgeOff != nil {
		o.cutoff = spec.AgeOff.CutoffMicros(now)
	}
	return o
}

type iterateOp struct {
	in     Operator
	spec   *iterator.Spec
	sch    *schema.Schema
	alloc  memory.Allocator
	cutoff int64 // age-off: the oldest instant kept, in µs

	started bool
	ageCol  int  // input position of the age-off column, -1 for none
	ageDate bool // the age-off column is a DATE
	cols    []iterCol
	keys    []int // input positions of the key columns

	pending bool // cols hold the carried last run of the input so far
	done    bool
	keep    []bool
	diff    []bool
	starts  []int32
	err     error
	closed  bool
}

func (o *iterateOp) Schema() *arrow.Schema { return o.in.Schema() }

func (o *iterateOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if o.err != nil {
		return nil, o.err
	}
	rec, err := o.next(ctx)
	if err != nil {
		o.err = err
	}
	return rec, err
}

func (o *iterateOp) next(ctx context.Context) (arrow.RecordBatch, error) {
	if o.closed {
		return nil, io.EOF
	}
	if !o.started {
		o.started = true
		if err := o.setup(); err != nil {
			return nil, err
		}
	}
	for {
		if o.done {
			if o.pending {
				o.pending = false
				for _, c := range o.cols {
					c.flush()
				}
				return o.build(1), nil
			}
			return nil, io.EOF
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rec, err := o.in.Next(ctx)
		if err == io.EOF {
			o.done = true
			continue
		}
		if err != nil {
			return nil, err
		}
		if rec.NumRows() == 0 {
			rec.Release()
			continue
		}
		if o.ageCol >= 0 {
			if rec, err = o.ageOff(rec); err != nil || rec == nil {
				if err != nil {
					return nil, err
				}
				continue
			}
		}
		if o.cols == nil {
			return rec, nil
		}
		out, err := o.combine(rec)
		rec.Release()
		if err != nil || out != nil {
			return out, err
		}
	}
}

// setup matches the input's columns to the table's and prepares a
// combiner per column.
func (o *iterateOp) setup() error {
	if o.spec.Empty() {
		return nil
	}
	fields := o.in.Schema().Fields()
	storage := make([]int, len(fields))
	for i, f := range fields {
		if storage[i] = o.sch.Index(f.Name); storage[i] < 0 {
			return fmt.Errorf("iterate: input column %q is not a table column", f.Name)
		}
	}
	if a := o.spec.AgeOff; a != nil {
		if o.ageCol = scanIndexOf(storage, a.Column); o.ageCol < 0 {
			return fmt.Errorf("iterate: input lacks the age-off column %s", a.Name)
		}
		o.ageDate = a.Type == schema.Date
	}
	if !o.spec.Aggregates() {
		return nil
	}
	cols := o.sch.Columns()
	for k := 0; k < o.sch.NumKeys(); k++ {
		pos := scanIndexOf(storage, k)
		if pos < 0 {
			return fmt.Errorf("iterate: input lacks key column %s", cols[k].Name)
		}
		o.keys = append(o.keys, pos)
	}
	o.cols = make([]iterCol, len(fields))
	for i, f := range fields {
		fn := iterator.Last // a key: every row of a run holds the same value
		if sc := storage[i]; sc >= o.sch.NumKeys() {
			a, ok := o.spec.Agg(sc)
			if !ok {
				return fmt.Errorf("iterate: column %s has no aggregation", cols[sc].Name)
			}
			fn = a.Func
		}
		c, err := newIterCol(fn, f, o.alloc)
		if err != nil {
			return err
		}
		o.cols[i] = c
	}
	return nil
}

// ageOff returns the rows of rec not aged off (rec itself when all are,
// nil when none is) and releases rec otherwise.
func (o *iterateOp) ageOff(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	n := int(rec.NumRows())
	if cap(o.keep) < n {
		o.keep = make([]bool, n)
	}
	keep := o.keep[:n]
	col := rec.Column(o.ageCol)
	valid := vec.Validity(col)
	kept := 0
	if o.ageDate {
		// A DATE is its midnight: kept when on or after the cutoff.
		const day = int64(24 * time.Hour / time.Microsecond)
		first := o.cutoff / day
		if o.cutoff%day > 0 {
			first++
		}
		for i, v := range vec.Values[int32](col) {
			keep[i] = int64(v) >= first || !valid.Valid(i)
		}
	} else {
		for i, v := range vec.Values[int64](col) {
			keep[i] = v >= o.cutoff || !valid.Valid(i)
		}
	}
	for _, k := range keep {
		if k {
			kept++
		}
	}
	switch kept {
	case n:
		return rec, nil
	case 0:
		rec.Release()
		return nil, nil
	}
	runs := scanKeptRuns(keep)
	out, err := mergeGather(o.alloc, rec.Schema(), []arrow.RecordBatch{rec}, runs, kept)
	rec.Release()
	if err != nil {
		return nil, fmt.Errorf("age off: %w", err)
	}
	return out, nil
}

// combine folds rec's runs of equal keys: every run complete by the end
// of rec becomes an output row; the last is carried. It returns nil when
// no run was completed.
func (o *iterateOp) combine(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	n := int(rec.NumRows())
	if cap(o.diff) < n {
		o.diff = make([]bool, n)
	}
	diff := o.diff[:n]
	clear(diff)
	for _, k := range o.keys {
		o.cols[k].diff(rec.Column(k), diff)
	}
	starts := append(o.starts[:0], 0)
	for i := 1; i < n; i++ {
		if diff[i] {
			starts = append(starts, int32(i))
		}
	}
	o.starts = starts
	cont := o.pending
	for _, k := range o.keys {
		if !cont {
			break
		}
		cont = o.cols[k].carryEquals(rec.Column(k))
	}
	emitCarry := o.pending && !cont
	for i, c := range o.cols {
		if err := c.run(rec.Column(i), starts, emitCarry, cont); err != nil {
			return nil, err
		}
	}
	o.pending = true
	rows := len(starts) - 1
	if emitCarry {
		rows++
	}
	if rows == 0 {
		return nil, nil
	}
	return o.build(rows), nil
}

// build makes a batch of what the columns have output since the last.
func (o *iterateOp) build(rows int) arrow.RecordBatch {
	arrs := make([]arrow.Array, len(o.cols))
	for i, c := range o.cols {
		arrs[i] = c.finish()
	}
	return newBatch(o.in.Schema(), arrs, rows)
}

func (o *iterateOp) Close() error {
	if o.closed {
		return nil
	}
	o.closed = true
	return o.in.Close()
}
