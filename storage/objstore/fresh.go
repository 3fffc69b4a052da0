package objstore

import (
	"context"
	"time"
)

// A statement must see every change that finished before it began, and
// nothing more is asked of it: a change that finishes while it runs is
// concurrent with it, and either answer is right. A store that checks for
// changes by asking the kernel (local.Store's Watch) can therefore answer
// a later check of the same statement, or of any statement that began
// before an earlier check did, from that check: its answer covers every
// change that finished before it was asked. WithFreshSince carries the
// statement's start to the store, which saves a system call per table
// read on the point lookup's path.

type freshKey struct{}

// WithFreshSince returns ctx for reads that need every change finished
// before *since, the start of the statement they serve (a time of this
// process's clock: time.Now, with its monotonic reading). A pointer, so
// that a statement's reads box nothing: the statement keeps the time.
func WithFreshSince(ctx context.Context, since *time.Time) context.Context {
	return context.WithValue(ctx, freshKey{}, since)
}

// FreshSince returns the time WithFreshSince put in ctx, or the zero time
// when there is none: the read then needs every change finished before it
// looks.
func FreshSince(ctx context.Context) time.Time {
	if t, ok := ctx.Value(freshKey{}).(*time.Time); ok {
		return *t
	}
	return time.Time{}
}
