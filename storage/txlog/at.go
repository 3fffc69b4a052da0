package txlog

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/dormousedb/dormouse/storage/objstore"
)

// ErrFuture is returned by At for a sequence number past the head of the
// log.
var ErrFuture = errors.New("log sequence number is past the head of the log")

// At returns the state after entry seq (0: the state before the first
// entry), so that a reader handed a sequence number by another process —
// a Flight SQL ticket, a split — reads exactly the snapshot it was given.
//
// The cached state answers when it is at seq, and a refresh when seq is
// ahead of the cache. An older state is rebuilt from the newest snapshot
// object at or before seq and the entries after it; the log keeps every
// entry, so any seq up to the head can be rebuilt. The returned state must
// not be changed.
func (l *Log[S, T]) At(ctx context.Context, seq uint64) (S, error) {
	var zero S
	s, cur := l.Cached()
	if seq == cur {
		return s, nil
	}
	if seq > cur {
		var err error
		if s, cur, err = l.Refresh(ctx); err != nil {
			return zero, err
		}
		if seq == cur {
			return s, nil
		}
		if seq > cur {
			return zero, fmt.Errorf("%w: %d > %d", ErrFuture, seq, cur)
		}
	}
	return l.rebuild(ctx, seq)
}

// rebuild replays the log from the newest snapshot at or before seq.
func (l *Log[S, T]) rebuild(ctx context.Context, seq uint64) (S, error) {
	var zero S
	base, from, err := l.snapshotBefore(ctx, seq)
	if err != nil {
		return zero, err
	}
	for n := from + 1; n <= seq; n++ {
		data, err := l.store.Get(ctx, l.entryKey(n))
		if err != nil {
			return zero, fmt.Errorf("read log entry %d: %w", n, err)
		}
		e, err := decodeEntry[T](data)
		if err != nil {
			return zero, fmt.Errorf("log entry %d: %w", n, err)
		}
		for i, t := range e.Txns {
			if err := l.m.Apply(base, t, Meta{Seq: n, Time: e.Time}); err != nil {
				return zero, fmt.Errorf("%w: replay entry %d transaction %d: %v", ErrCorrupt, n, i, err)
			}
		}
	}
	return base, nil
}

// snapshotBefore loads the newest readable snapshot at or before seq, or
// the initial state when there is none.
func (l *Log[S, T]) snapshotBefore(ctx context.Context, seq uint64) (S, uint64, error) {
	infos, err := l.store.List(ctx, l.prefix+"snapshots/")
	if err != nil {
		return l.m.New(), 0, fmt.Errorf("list snapshots: %w", err)
	}
	for i := len(infos) - 1; i >= 0; i-- {
		n, err := strconv.ParseUint(strings.TrimPrefix(infos[i].Key, l.prefix+"snapshots/"), 10, 64)
		if err != nil || n > seq {
			continue
		}
		data, err := l.store.Get(ctx, infos[i].Key)
		if errors.Is(err, objstore.ErrNotFound) {
			continue
		}
		if err != nil {
			return l.m.New(), 0, fmt.Errorf("read snapshot %d: %w", n, err)
		}
		s, err := DecodeSnapshot(l.m, data)
		if err != nil || s.Seq != n {
			continue // an older snapshot and a longer replay will do
		}
		return s.State, n, nil
	}
	return l.m.New(), 0, nil
}
