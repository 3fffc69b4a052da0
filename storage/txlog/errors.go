package txlog

import "errors"

// ErrConflict is returned when a commit kept losing races for the next log
// sequence number until its retry budget ran out.
var ErrConflict = errors.New("transaction log: too many concurrent commits, gave up")

// ErrCorrupt wraps errors decoding a log entry or snapshot.
var ErrCorrupt = errors.New("transaction log: corrupt entry")
