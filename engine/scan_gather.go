package engine

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/internal/cores"
	"github.com/dormousedb/dormouse/storage/partition"
)

// Open returns the scan's operator. It reads the parts on
// ec.Parallelism goroutines (cores.N() when unset):
//
//   - not Ordered: workers take parts in turn and send their batches to
//     one channel, so batches arrive in no particular order;
//   - Ordered: the leaves are grouped into bands (scanBands), each a leaf
//     or, where splits on later dimensions make leaves overlap on the
//     first row key, the leaves' parts merged in key order. Bands are
//     emitted one after another; up to Parallelism bands are read ahead,
//     each into its own channel (one at a time when Limit is set, so that
//     a LIMIT reads no more than it needs).
//
// Each part holds at most a couple of batches in its channel besides the
// one it is reading, so memory stays bounded. Pruning counts go to the
// scan's node stats. Nothing runs before the first Next; Close stops the
// workers and waits for them, so every file is closed when it returns.
func (p *TableScan) Open(ec *ExecContext) (Operator, error) {
	if err := scanValidate(p.Table, p.State, p.Columns, p.Filters); err != nil {
		return nil, err
	}
	if spans, ok := p.shortKeys(); ok {
		return newScanShortOp(ec, p, spans, ec.Stats.Node(p), p.Schema()), nil
	}
	return &scanTableOp{ec: ec, plan: p, stats: ec.Stats.Node(p), schema: p.Schema()}, nil
}

// scanItem is a batch or an error from a worker.
type scanItem struct {
	rec arrow.RecordBatch
	err error
}

// scanUnitQueue is how many batches a unit may have waiting.
const scanUnitQueue = 2

type scanTableOp struct {
	ec     *ExecContext
	plan   *TableScan
	stats  *NodeStats
	schema *arrow.Schema

	started bool
	units   []func() Operator
	cancel  context.CancelFunc
	workers sync.WaitGroup
	helper  chan struct{} // closed when the launcher or closer goroutine ends

	inline  Operator        // the one unit, read on the caller's goroutine
	shared  chan scanItem   // not Ordered: every unit's batches
	perUnit []chan scanItem // Ordered: one channel per unit
	slots   chan struct{}   // Ordered: units read ahead
	cur     int

	emitted int64
	err     error
	closed  bool
}

func (o *scanTableOp) Schema() *arrow.Schema { return o.schema }

func (o *scanTableOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if o.err != nil {
		return nil, o.err
	}
	rec, err := o.next(ctx)
	if err != nil {
		o.err = err
		if o.cancel != nil {
			o.cancel() // stop the workers now; Close waits for them
		}
	}
	return rec, err
}

func (o *scanTableOp) next(ctx context.Context) (arrow.RecordBatch, error) {
	if o.closed || (o.plan.Limit >= 0 && o.emitted >= o.plan.Limit) {
		return nil, io.EOF
	}
	if !o.started {
		o.started = true
		o.start(ctx)
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err // before a batch that may be waiting
		}
		var it scanItem
		var ok bool
		if o.inline != nil {
			it.rec, it.err = o.inline.Next(ctx)
			if it.err == io.EOF {
				err := o.inline.Close()
				o.inline = nil
				if err != nil {
					return nil, err
				}
				return nil, io.EOF
			}
		} else if o.shared != nil {
			select {
			case it, ok = <-o.shared:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if !ok {
				return nil, io.EOF
			}
		} else {
			if o.cur >= len(o.perUnit) {
				return nil, io.EOF
			}
			select {
			case it, ok = <-o.perUnit[o.cur]:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if !ok {
				<-o.slots // the unit is done: let the next one start
				o.cur++
				continue
			}
		}
		if it.err != nil {
			return nil, it.err
		}
		rec := scanLimit(it.rec, o.plan.Limit, &o.emitted)
		if o.plan.Limit >= 0 && o.emitted >= o.plan.Limit {
			o.cancel() // enough: stop reading
		}
		return rec, nil
	}
}

// start counts the partitions, makes the units and starts the workers.
func (o *scanTableOp) start(ctx context.Context) {
	p := o.plan
	leaves := p.leaves()
	if o.stats != nil { // EXPLAIN ANALYZE: counting every leaf costs a walk of the tree
		o.stats.Count("partitions", int64(len(leaves)), int64(len(p.State.Partitions.Leaves())))
	}
	if p.Ordered {
		for _, band := range scanBands(leaves) {
			o.units = append(o.units, o.bandUnit(band))
		}
	} else {
		for _, leaf := range leaves {
			part := p.part(leaf)
			o.units = append(o.units, func() Operator { return newScanPartOp(o.ec, part, p.Columns, o.stats) })
		}
	}
	if len(o.units) == 1 && scanKeyed(p) {
		// One part of a key-restricted scan (a point or narrow range
		// read): goroutines and channels would cost more than the read,
		// and with no worker to stop there is nothing to cancel.
		o.inline = o.units[0]()
		o.cancel = func() {}
		o.helper = closedHelper
		return
	}
	wctx, cancel := context.WithCancel(ctx)
	o.cancel = cancel
	workers := o.ec.Parallelism
	if workers <= 0 {
		workers = cores.N()
	}
	workers = max(1, min(workers, len(o.units)))
	o.helper = make(chan struct{})
	if p.Ordered {
		o.startOrdered(wctx, workers)
	} else {
		o.startUnordered(wctx, workers)
	}
}

// closedHelper is the helper channel of a scan that starts no goroutine.
var closedHelper = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// scanKeyed says whether the scan filters its first row key.
func scanKeyed(p *TableScan) bool {
	for _, f := range p.Filters {
		if f.Column == 0 {
			return true
		}
	}
	return false
}

// bandUnit reads one band: a part, or the parts of overlapping leaves
// merged in key order.
func (o *scanTableOp) bandUnit(band []*partition.Partition) func() Operator {
	p := o.plan
	if len(band) == 1 {
		part := p.part(band[0])
		return func() Operator { return newScanPartOp(o.ec, part, p.Columns, o.stats) }
	}
	layout := append([]int(nil), p.Columns...)
	for k := 0; k < p.Table.Def.Schema.NumKeys(); k++ {
		if scanIndexOf(layout, k) < 0 {
			layout = append(layout, k)
		}
	}
	return func() Operator {
		inputs := make([]Operator, len(band))
		for i, leaf := range band {
			inputs[i] = newScanPartOp(o.ec, p.part(leaf), layout, o.stats)
		}
		layoutSchema := scanSchema(p.Table, layout)
		merged := MergeSorted(inputs, scanKeyFunc(p.Table.Def.Schema, layout), MergeOptions{Alloc: scanAlloc(o.ec), Schema: layoutSchema})
		if len(layout) == len(p.Columns) {
			return merged
		}
		return &scanProjectOp{in: merged, schema: o.schema, n: len(p.Columns)}
	}
}

func (o *scanTableOp) startUnordered(ctx context.Context, workers int) {
	jobs := make(chan int, len(o.units))
	for i := range o.units {
		jobs <- i
	}
	close(jobs)
	o.shared = make(chan scanItem, workers)
	for range workers {
		o.workers.Add(1)
		go func() {
			defer o.workers.Done()
			for i := range jobs {
				if !scanRunUnit(ctx, o.units[i], o.shared) {
					return
				}
			}
		}()
	}
	go func() {
		defer close(o.helper)
		o.workers.Wait()
		close(o.shared)
	}()
}

func (o *scanTableOp) startOrdered(ctx context.Context, window int) {
	if o.plan.Limit >= 0 {
		window = 1
	}
	o.perUnit = make([]chan scanItem, len(o.units))
	for i := range o.perUnit {
		o.perUnit[i] = make(chan scanItem, scanUnitQueue)
	}
	o.slots = make(chan struct{}, window)
	go func() {
		defer close(o.helper)
		for i, unit := range o.units {
			select {
			case o.slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			o.workers.Add(1)
			go func() {
				defer o.workers.Done()
				defer close(o.perUnit[i])
				scanRunUnit(ctx, unit, o.perUnit[i])
			}()
		}
	}()
}

// scanRunUnit reads a unit into out until it ends, fails or ctx ends,
// and closes it. It reports whether the worker should go on.
func scanRunUnit(ctx context.Context, unit func() Operator, out chan<- scanItem) bool {
	op := unit()
	send := func(it scanItem) bool {
		select {
		case out <- it:
			return true
		case <-ctx.Done():
			if it.rec != nil {
				it.rec.Release()
			}
			return false
		}
	}
	for {
		rec, err := op.Next(ctx)
		if err == io.EOF {
			if err := op.Close(); err != nil {
				send(scanItem{err: err})
				return false
			}
			return true
		}
		if err != nil {
			op.Close()
			if ctx.Err() != nil {
				return false // stopped, not failed
			}
			send(scanItem{err: err})
			return false
		}
		if !send(scanItem{rec: rec}) {
			op.Close()
			return false
		}
	}
}

// Close stops the workers, waits for them (they close their parts'
// files) and releases the batches they left.
func (o *scanTableOp) Close() error {
	if o.closed {
		return nil
	}
	o.closed = true
	if !o.started {
		return nil
	}
	o.cancel()
	<-o.helper
	o.workers.Wait()
	var errs []error
	if o.inline != nil {
		errs = append(errs, o.inline.Close())
		o.inline = nil
	}
	drain := func(ch chan scanItem) {
		for {
			select {
			case it, ok := <-ch:
				if !ok {
					return
				}
				if it.rec != nil {
					it.rec.Release()
				}
				if it.err != nil && !errors.Is(it.err, context.Canceled) {
					errs = append(errs, it.err)
				}
			default:
				return
			}
		}
	}
	if o.shared != nil {
		drain(o.shared)
	}
	for _, ch := range o.perUnit {
		drain(ch)
	}
	if o.err != nil && o.err != io.EOF {
		return nil // the error was reported by Next already
	}
	return errors.Join(errs...)
}

// scanProjectOp keeps the first n columns of its input's batches.
type scanProjectOp struct {
	in     Operator
	schema *arrow.Schema
	n      int
}

func (o *scanProjectOp) Schema() *arrow.Schema { return o.schema }

func (o *scanProjectOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	rec, err := o.in.Next(ctx)
	if err != nil {
		return nil, err
	}
	pos := make([]int, o.n)
	for i := range pos {
		pos[i] = i
	}
	return scanProject(rec, o.schema, pos), nil
}

func (o *scanProjectOp) Close() error { return o.in.Close() }
