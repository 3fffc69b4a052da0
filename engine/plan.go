package engine

import (
	"context"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Operator is a running physical operator: a stream of record batches.
//
// Next returns the next batch, which the caller owns and must release, or
// io.EOF after the last. Close releases what the operator holds and closes
// its children; it may be called at any time, more than once.
type Operator interface {
	Schema() *arrow.Schema
	Next(ctx context.Context) (arrow.RecordBatch, error)
	Close() error
}

// Plan is a node of a physical plan. Plans are immutable: WithChildren
// returns a changed copy.
type Plan interface {
	// Schema is the schema of the batches the node produces.
	Schema() *arrow.Schema
	// Children are the node's inputs.
	Children() []Plan
	// WithChildren returns a copy of the node with other inputs.
	WithChildren(children ...Plan) Plan
	// Ordering is the order the output rows are guaranteed to be in
	// (nil for none), so that a sort already satisfied is not planned.
	Ordering() []SortKey
	// Describe is the node's one-line description for EXPLAIN, e.g.
	// "HashAggregate keys=[a] aggregates=[sum(b)]".
	Describe() string
	// Open builds the node's execution state (and its children's).
	Open(ec *ExecContext) (Operator, error)
}

// SortKey orders rows by one output column.
type SortKey struct {
	Column     int
	Desc       bool
	NullsFirst bool // PostgreSQL's default: NULLs last ascending, first descending
}

// Partitioned is implemented by plans whose output is the concatenation of
// independent parts — one per leaf partition read — so that front doors
// can hand each part to a different reader (Flight SQL endpoints, export
// tasks, connector splits).
type Partitioned interface {
	Plan
	// Parts returns one plan per part, each producing the same schema.
	Parts() []Plan
}

// Explain renders a plan tree, one node per line, children indented.
func Explain(p Plan) string {
	var b strings.Builder
	explain(&b, p, 0)
	return b.String()
}

func explain(b *strings.Builder, p Plan, depth int) {
	b.WriteString(strings.Repeat("  ", depth))
	if depth > 0 {
		b.WriteString("-> ")
	}
	b.WriteString(p.Describe())
	b.WriteByte('\n')
	for _, c := range p.Children() {
		explain(b, c, depth+1)
	}
}
