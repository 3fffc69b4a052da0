package sql

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
)

// Rows is the result of one statement: a stream of record batches for a
// query, or nothing but a command tag for other statements.
//
// Next returns the next batch (the caller releases it) or io.EOF. Close
// stops the statement early and releases what it holds; it must be called.
type Rows interface {
	// Schema is the result's schema, nil for statements that return no rows.
	Schema() *arrow.Schema
	Next(ctx context.Context) (arrow.RecordBatch, error)
	Close() error
	// Tag is PostgreSQL's command tag, valid after io.EOF: "SELECT 3",
	// "INSERT 0 5", "CREATE TABLE", "SET".
	Tag() string
}
