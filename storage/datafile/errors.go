package datafile

import "errors"

var (
	// ErrUnsorted is returned by Write when a row sorts before the row
	// written just before it. The file is unusable; call Abort.
	ErrUnsorted = errors.New("rows are not in key order")
	// ErrNullKey is returned by Write when a key column holds a NULL.
	ErrNullKey = errors.New("key column holds NULL")
	// ErrSchemaMismatch is returned when a record batch or a file does not
	// have the columns of the table's schema.
	ErrSchemaMismatch = errors.New("columns do not match the table schema")
	// ErrClosed is returned when a Writer is used after Close or Abort.
	ErrClosed = errors.New("data file writer is closed")
	// ErrEmptySketch is returned by Quantile on a sketch of no values.
	ErrEmptySketch = errors.New("sketch is empty")
	// ErrBadSketch is returned when a sketch object cannot be decoded.
	ErrBadSketch = errors.New("malformed sketch")
	// ErrNoPageIndex is returned by PageStats for a row group written
	// without a page index (Writers always write one).
	ErrNoPageIndex = errors.New("no page index")
)
