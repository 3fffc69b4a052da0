package engine

import (
	"context"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
)

// Limit skips Offset rows of Input and passes on at most Count (-1: all)
// of the rest. Once it has them it closes its input early and stops
// pulling from it.
type Limit struct {
	Input  Plan
	Offset int64
	Count  int64
}

func (l *Limit) Schema() *arrow.Schema { return l.Input.Schema() }
func (l *Limit) Children() []Plan      { return []Plan{l.Input} }
func (l *Limit) WithChildren(c ...Plan) Plan {
	n := *l
	n.Input = c[0]
	return &n
}
func (l *Limit) Ordering() []SortKey { return l.Input.Ordering() }
func (l *Limit) Describe() string {
	s := "Limit"
	if l.Count >= 0 {
		s += fmt.Sprintf(" %d", l.Count)
	}
	if l.Offset > 0 {
		s += fmt.Sprintf(" offset=%d", l.Offset)
	}
	return s
}

func (l *Limit) Open(ec *ExecContext) (Operator, error) {
	in, err := OpenPlan(ec, l.Input)
	if err != nil {
		return nil, err
	}
	return &limitOp{input: in, skip: max(l.Offset, 0), left: l.Count}, nil
}

type limitOp struct {
	input  Operator
	skip   int64
	left   int64 // -1: no limit
	closed bool
}

func (o *limitOp) Schema() *arrow.Schema { return o.input.Schema() }

func (o *limitOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for {
		if o.left == 0 {
			return nil, o.finish()
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rec, err := o.input.Next(ctx)
		if err != nil {
			return nil, err
		}
		n := rec.NumRows()
		if o.skip >= n {
			o.skip -= n
			rec.Release()
			continue
		}
		hi := n
		if o.left >= 0 {
			hi = min(n, o.skip+o.left)
			o.left -= hi - o.skip
		}
		out := sliceBatch(rec, o.skip, hi)
		o.skip = 0
		rec.Release()
		return out, nil
	}
}

// finish closes the input early and reports the end.
func (o *limitOp) finish() error {
	if err := o.Close(); err != nil {
		return err
	}
	return io.EOF
}

func (o *limitOp) Close() error {
	if o.closed {
		return nil
	}
	o.closed = true
	return o.input.Close()
}
