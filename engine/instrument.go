package engine

import (
	"context"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// OpenPlan opens p, wrapped so that EXPLAIN ANALYZE sees its rows, batches
// and time when ec.Stats is set. Operators open their children with it.
func OpenPlan(ec *ExecContext, p Plan) (Operator, error) {
	op, err := p.Open(ec)
	if err != nil || ec.Stats == nil {
		return op, err
	}
	return &instrumented{Operator: op, stats: ec.Stats.Node(p)}, nil
}

type instrumented struct {
	Operator
	stats *NodeStats
}

func (o *instrumented) Next(ctx context.Context) (arrow.RecordBatch, error) {
	start := time.Now()
	rec, err := o.Operator.Next(ctx)
	o.stats.Nanos.Add(int64(time.Since(start)))
	if rec != nil {
		o.stats.Rows.Add(rec.NumRows())
		o.stats.Batches.Add(1)
	}
	return rec, err
}

// ExplainAnalyze renders a plan tree with each node's stats.
func ExplainAnalyze(p Plan, s *Stats) string {
	var out []byte
	var walk func(p Plan, depth int)
	walk = func(p Plan, depth int) {
		for range depth {
			out = append(out, "  "...)
		}
		if depth > 0 {
			out = append(out, "-> "...)
		}
		out = append(out, p.Describe()...)
		if st := s.Node(p); st != nil {
			out = append(out, "  "...)
			out = append(out, st.Describe()...)
		}
		out = append(out, '\n')
		for _, c := range p.Children() {
			walk(c, depth+1)
		}
	}
	walk(p, 0)
	return string(out)
}
