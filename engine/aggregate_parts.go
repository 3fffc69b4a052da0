package engine

import (
	"github.com/apache/arrow-go/v18/arrow"
)

// PartitionedAggregate computes Agg over a table scan (under filters and
// projections), partition by partition in parallel: a partial aggregate in
// each partition's worker, merged by a final aggregate. A plain aggregate
// would take every row through one goroutine.
//
// EXPLAIN shows the pipeline below once; with ANALYZE its nodes count the
// rows, time and pruning of every partition together.
type PartitionedAggregate struct {
	Agg *HashAggregate // Agg.Input is the pipeline over the scan
}

// SplitOverScan returns a plan computing a partition by partition, if a's
// input is a table scan under filters and projections only and every
// aggregate splits; else nil.
func SplitOverScan(a *HashAggregate) *PartitionedAggregate {
	if !a.Splittable() || pipelineScan(a.Input) == nil {
		return nil
	}
	return &PartitionedAggregate{Agg: a}
}

// pipelineScan finds the table scan at the bottom of a chain of filters
// and projections.
func pipelineScan(p Plan) *TableScan {
	for {
		switch n := p.(type) {
		case *TableScan:
			return n
		case *Filter:
			p = n.Input
		case *Project:
			p = n.Input
		default:
			return nil
		}
	}
}

func (p *PartitionedAggregate) Schema() *arrow.Schema { return p.Agg.Schema() }
func (p *PartitionedAggregate) Children() []Plan      { return []Plan{p.Agg.Input} }
func (p *PartitionedAggregate) WithChildren(c ...Plan) Plan {
	a := *p.Agg
	a.Input = c[0]
	return &PartitionedAggregate{Agg: &a}
}
func (p *PartitionedAggregate) Ordering() []SortKey { return nil }
func (p *PartitionedAggregate) Describe() string {
	return p.Agg.Describe() + " (partial per partition)"
}

// Open builds one copy of the pipeline per partition the scan reads, each
// under a partial aggregate, and merges them with a final one.
func (p *PartitionedAggregate) Open(ec *ExecContext) (Operator, error) {
	scan := pipelineScan(p.Agg.Input)
	parts := scan.Parts()
	if ec.Stats != nil {
		ec.Stats.Node(scan).Count("partitions", int64(len(parts)), int64(len(scan.State.Partitions.Leaves())))
	}
	if len(parts) == 0 {
		return p.Agg.Open(ec) // no partition: the aggregate of no rows
	}
	inputs := make([]Plan, len(parts))
	for i, part := range parts {
		inputs[i] = rebuildPipeline(ec, p.Agg.Input, scan, part)
	}
	plan, err := p.Agg.Split(inputs, ec.Parallelism)
	if err != nil {
		return nil, err
	}
	return plan.Open(ec)
}

// rebuildPipeline copies the chain from n down to scan with part in the
// scan's place; each copy reports its statistics as the node it copies.
func rebuildPipeline(ec *ExecContext, n Plan, scan *TableScan, part Plan) Plan {
	if n == Plan(scan) {
		ec.Stats.Alias(part, scan)
		return part
	}
	c := n.WithChildren(rebuildPipeline(ec, n.Children()[0], scan, part))
	ec.Stats.Alias(c, n)
	return c
}
