package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dormousedb/dormouse/internal/cores"
)

// Gather reads its inputs — typically one scan per partition — in
// parallel, on up to Parallelism goroutines (0: ec.Parallelism, else
// cores.N()), and passes their batches on in order of arrival. Sch is the
// schema when there are no inputs; otherwise it is the first input's.
//
// Each input is opened when a goroutine takes it up and closed when it is
// done, so no more than Parallelism inputs are open at once. The first
// error stops every input and is what Next returns; Close stops them too
// and waits for every goroutine to end.
type Gather struct {
	Inputs      []Plan
	Parallelism int
	Sch         *arrow.Schema
}

func (g *Gather) Schema() *arrow.Schema { return concatSchema(g.Inputs, g.Sch) }
func (g *Gather) Children() []Plan      { return g.Inputs }
func (g *Gather) Parts() []Plan         { return g.Inputs }
func (g *Gather) WithChildren(c ...Plan) Plan {
	n := *g
	n.Inputs = c
	return &n
}
func (g *Gather) Ordering() []SortKey { return nil }
func (g *Gather) Describe() string {
	return fmt.Sprintf("Gather parts=%d parallelism=%d", len(g.Inputs), g.Parallelism)
}

func concatSchema(inputs []Plan, sch *arrow.Schema) *arrow.Schema {
	if len(inputs) == 0 || sch != nil {
		if sch == nil {
			return arrow.NewSchema(nil, nil)
		}
		return sch
	}
	return inputs[0].Schema()
}

func (g *Gather) Open(ec *ExecContext) (Operator, error) {
	par := g.Parallelism
	if par <= 0 {
		par = ec.Parallelism
	}
	if par <= 0 {
		par = cores.N()
	}
	par = max(1, min(par, len(g.Inputs)))
	return &gatherOp{plan: g, ec: ec, sch: g.Schema(), par: par}, nil
}

type gatherOp struct {
	plan *Gather
	ec   *ExecContext
	sch  *arrow.Schema
	par  int

	started bool
	out     chan arrow.RecordBatch
	cancel  context.CancelFunc
	next    atomic.Int64 // next input to take up
	failed  atomic.Bool
	mu      sync.Mutex
	err     error // the first error
	closed  bool
}

func (o *gatherOp) Schema() *arrow.Schema { return o.sch }

// start launches the workers. They run under ec.Ctx when it is set, else
// under the context of the first Next.
func (o *gatherOp) start(ctx context.Context) {
	o.started = true
	base := ctx
	if o.ec.Ctx != nil {
		base = o.ec.Ctx
	}
	wctx, cancel := context.WithCancel(base)
	o.cancel = cancel
	o.out = make(chan arrow.RecordBatch, o.par)
	var wg sync.WaitGroup
	for range o.par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o.work(wctx)
		}()
	}
	go func() {
		wg.Wait()
		close(o.out)
	}()
}

func (o *gatherOp) work(ctx context.Context) {
	for {
		i := int(o.next.Add(1) - 1)
		if i >= len(o.plan.Inputs) || ctx.Err() != nil {
			return
		}
		if err := o.run(ctx, o.plan.Inputs[i]); err != nil {
			o.fail(err)
			return
		}
	}
}

// run reads one input to the end into the output channel.
func (o *gatherOp) run(ctx context.Context, p Plan) (err error) {
	op, err := OpenPlan(o.ec, p)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, op.Close()) }()
	for {
		rec, err := op.Next(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		select {
		case o.out <- withSchema(rec, o.sch):
		case <-ctx.Done():
			rec.Release()
			return ctx.Err()
		}
	}
}

// fail records the first error and stops the other inputs.
func (o *gatherOp) fail(err error) {
	o.mu.Lock()
	if o.err == nil && !o.closed {
		o.err = err
		o.failed.Store(true)
	}
	o.mu.Unlock()
	o.cancel()
}

func (o *gatherOp) firstErr() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

func (o *gatherOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if o.closed {
		return nil, io.EOF
	}
	if len(o.plan.Inputs) == 0 {
		return nil, io.EOF
	}
	if !o.started {
		o.start(ctx)
	}
	if o.failed.Load() {
		return nil, o.firstErr()
	}
	select {
	case rec, ok := <-o.out:
		if o.failed.Load() {
			if ok {
				rec.Release()
			}
			return nil, o.firstErr()
		}
		if !ok {
			return nil, io.EOF
		}
		return rec, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close stops the workers, releases the batches they had queued and waits
// for them to end.
func (o *gatherOp) Close() error {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return nil
	}
	o.closed = true
	o.mu.Unlock()
	if !o.started {
		return nil
	}
	o.cancel()
	for rec := range o.out {
		rec.Release()
	}
	return nil
}

// OrderedConcat reads its inputs one after another, in order, so that
// inputs each in key order and covering ascending key ranges (partitions)
// yield rows in key order: its ordering is what its inputs have in common.
type OrderedConcat struct {
	Inputs []Plan
	Sch    *arrow.Schema // the schema when there are no inputs
}

func (c *OrderedConcat) Schema() *arrow.Schema { return concatSchema(c.Inputs, c.Sch) }
func (c *OrderedConcat) Children() []Plan      { return c.Inputs }
func (c *OrderedConcat) Parts() []Plan         { return c.Inputs }
func (c *OrderedConcat) WithChildren(ch ...Plan) Plan {
	n := *c
	n.Inputs = ch
	return &n
}
func (c *OrderedConcat) Describe() string {
	return fmt.Sprintf("OrderedConcat parts=%d", len(c.Inputs))
}

// Ordering is the longest ordering every input declares.
func (c *OrderedConcat) Ordering() []SortKey {
	if len(c.Inputs) == 0 {
		return nil
	}
	common := c.Inputs[0].Ordering()
	for _, in := range c.Inputs[1:] {
		o := in.Ordering()
		n := 0
		for n < len(common) && n < len(o) && common[n] == o[n] {
			n++
		}
		common = common[:n]
	}
	return common
}

func (c *OrderedConcat) Open(ec *ExecContext) (Operator, error) {
	return &concatOp{ec: ec, inputs: c.Inputs, sch: c.Schema()}, nil
}

// Union is UNION ALL: the rows of every input, one input after another.
// The planner has coerced the inputs to one schema; the output carries the
// first input's field names.
type Union struct {
	Inputs []Plan
	Sch    *arrow.Schema // the schema when there are no inputs
}

func (u *Union) Schema() *arrow.Schema { return concatSchema(u.Inputs, u.Sch) }
func (u *Union) Children() []Plan      { return u.Inputs }
func (u *Union) WithChildren(ch ...Plan) Plan {
	n := *u
	n.Inputs = ch
	return &n
}
func (u *Union) Ordering() []SortKey { return nil }
func (u *Union) Describe() string    { return fmt.Sprintf("Union all inputs=%d", len(u.Inputs)) }

func (u *Union) Open(ec *ExecContext) (Operator, error) {
	return &concatOp{ec: ec, inputs: u.Inputs, sch: u.Schema()}, nil
}

// concatOp reads inputs one after another, opening each when it is reached
// and closing it at its end.
type concatOp struct {
	ec     *ExecContext
	inputs []Plan
	sch    *arrow.Schema
	i      int
	cur    Operator
}

func (o *concatOp) Schema() *arrow.Schema { return o.sch }

func (o *concatOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if o.cur == nil {
			if o.i >= len(o.inputs) {
				return nil, io.EOF
			}
			op, err := OpenPlan(o.ec, o.inputs[o.i])
			if err != nil {
				return nil, err
			}
			o.cur = op
			o.i++
		}
		rec, err := o.cur.Next(ctx)
		if err == io.EOF {
			err = o.cur.Close()
			o.cur = nil
			if err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		return withSchema(rec, o.sch), nil
	}
}

func (o *concatOp) Close() error {
	o.i = len(o.inputs)
	if o.cur == nil {
		return nil
	}
	err := o.cur.Close()
	o.cur = nil
	return err
}
