package expr

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Expr is a compiled scalar expression over the columns of a record batch.
// Expressions are immutable and safe for concurrent use: one compiled
// expression serves every partition scanned in parallel.
//
// Eval returns an array of rec.NumRows() values; the caller releases it.
// Evaluation is vectorised: an Expr works on whole arrays, never row by row
// through an interpreter.
type Expr interface {
	// Type is the Arrow type of the result.
	Type() arrow.DataType
	// Nullable reports whether the result may hold NULLs.
	Nullable() bool
	// Eval evaluates the expression over every row of rec.
	Eval(ctx *Context, rec arrow.RecordBatch) (arrow.Array, error)
	// String renders the expression for EXPLAIN, e.g. "(a + 1) > b".
	String() string
}

// Context carries what evaluation needs besides the rows.
type Context struct {
	Ctx   context.Context
	Alloc memory.Allocator
	// Now is the transaction timestamp (now(), current_timestamp), in
	// microseconds since the Unix epoch, fixed for the whole statement as
	// PostgreSQL fixes it.
	Now int64
	// TimeZone is the session's time zone name (SET TIME ZONE).
	TimeZone string
	// Params are the values of $1, $2, … (nil when there are none).
	Params []arrow.Array
	// Outer are the values a correlated subquery reads from the outer
	// query's current row (OuterRef), one one-row array each.
	Outer []arrow.Array
}

// Column reads input column Index as is.
type Column struct {
	Index int
	Name  string
	Typ   arrow.DataType
	Null  bool
}

func (c *Column) Type() arrow.DataType { return c.Typ }
func (c *Column) Nullable() bool       { return c.Null }
func (c *Column) String() string       { return c.Name }

func (c *Column) Eval(_ *Context, rec arrow.RecordBatch) (arrow.Array, error) {
	if c.Index >= int(rec.NumCols()) {
		return nil, fmt.Errorf("column %s: index %d out of range of %d columns", c.Name, c.Index, rec.NumCols())
	}
	col := rec.Column(c.Index)
	col.Retain()
	return col, nil
}
