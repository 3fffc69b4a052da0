package txlog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/google/uuid"
)

// Machine is the state machine a log drives. S is a pointer-like state type;
// T is a transaction. Both must round-trip through encoding/json, and Apply
// must be deterministic: every reader replays the same entries to the same
// state.
type Machine[S any, T any] interface {
	// New returns the state before the first entry.
	New() S
	// Clone returns a copy of s that Apply may change without changing s.
	// States handed out by a Log are never changed afterwards, so readers
	// may keep them as consistent snapshots.
	Clone(s S) S
	// Apply checks that t applies to s and applies it. On error s may be
	// left partly changed: the log discards it, drops t and tells its
	// committer why.
	Apply(s S, t T, at Meta) error
}

// Meta is where in the log a transaction is applied.
type Meta struct {
	Seq  uint64    // the entry's sequence number, from 1
	Time time.Time // when the committer wrote the entry (UTC)
}

// Options tune a log. The zero value is usable.
type Options struct {
	// SnapshotEvery writes a snapshot after every n-th entry (default 100;
	// negative disables automatic snapshots).
	SnapshotEvery int
	// MaxAttempts bounds how many times one batch is retried after losing a
	// race or hitting a store error (default 1000).
	MaxAttempts int
	// OnConflict, when set, is called each time a batch loses the race for
	// an entry to another writer (for metrics). It must not block.
	OnConflict func()
}

// entry is one log object: a batch of transactions committed together.
type entry[T any] struct {
	ID   string    `json:"id"`
	Time time.Time `json:"time"`
	Txns []T       `json:"txns"`
}

type snapshot[S any] struct {
	Seq   uint64 `json:"seq"`
	State S      `json:"state"`
}

type request[T any] struct {
	ctx  context.Context
	txn  T
	done chan error
	seq  uint64
}

// Log is a transaction log rooted at a prefix of an object store, with an
// in-process cache of the state at the newest entry it has seen. It is safe
// for concurrent use; any number of Logs in any number of processes may
// share one prefix.
type Log[S any, T any] struct {
	store  objstore.Store
	prefix string
	m      Machine[S, T]
	opts   Options

	mu    sync.Mutex // guards state, seq and fresh
	state S
	seq   uint64
	// watch, when the store can watch the log's entries (local stores on
	// Linux), reports their generation; fresh is the newest generation
	// after which the log was read to its head. While the generation
	// stays fresh, nothing was added and Refresh reads nothing.
	watch func(since time.Time) uint64
	fresh uint64

	qmu     sync.Mutex // guards queue and leading
	queue   []*request[T]
	leading bool

	snapshots sync.WaitGroup // snapshot writes in flight
}

// Open loads the log under prefix (e.g. "tables/<id>/"): the newest
// snapshot, then every entry after it.
func Open[S any, T any](ctx context.Context, store objstore.Store, prefix string, m Machine[S, T], opts Options) (*Log[S, T], error) {
	if opts.SnapshotEvery == 0 {
		opts.SnapshotEvery = 100
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 1000
	}
	l := &Log[S, T]{store: store, prefix: prefix, m: m, opts: opts, state: m.New()}
	if w, ok := store.(watcher); ok {
		if gen, ok := w.Watch(prefix + "log/"); ok {
			l.watch = gen
		}
	}
	if err := l.loadSnapshot(ctx); err != nil {
		return nil, err
	}
	if _, _, err := l.Refresh(ctx); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *Log[S, T]) entryKey(seq uint64) string {
	// Every statement asks for the next entry (Refresh): no fmt here.
	var num [20]byte
	d := strconv.AppendUint(num[:0], seq, 10)
	var b [128]byte
	out := append(b[:0], l.prefix...)
	out = append(out, "log/"...)
	for range len(num) - len(d) {
		out = append(out, '0')
	}
	return string(append(out, d...))
}

func (l *Log[S, T]) snapshotKey(seq uint64) string {
	return fmt.Sprintf("%ssnapshots/%020d", l.prefix, seq)
}

// Cached returns the newest state this process has seen and its sequence
// number, without reading the store. The state must not be changed.
func (l *Log[S, T]) Cached() (S, uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state, l.seq
}

// Refresh follows the log to its head and returns the state there. The
// returned state is never changed afterwards.
func (l *Log[S, T]) Refresh(ctx context.Context) (S, uint64, error) {
	// The generation comes first: whatever is added after it moves it.
	var gen uint64
	if l.watch != nil {
		gen = l.watch(objstore.FreshSince(ctx))
	}
	l.mu.Lock()
	base, seq := l.state, l.seq
	if gen != 0 && gen == l.fresh {
		l.mu.Unlock()
		return base, seq, nil
	}
	l.mu.Unlock()
	var next S
	cloned := false
	for {
		data, err := l.store.Get(ctx, l.entryKey(seq+1))
		if errors.Is(err, objstore.ErrNotFound) {
			break
		}
		if err != nil {
			return base, seq, fmt.Errorf("read log entry %d: %w", seq+1, err)
		}
		e, err := decodeEntry[T](data)
		if err != nil {
			return base, seq, fmt.Errorf("log entry %d: %w", seq+1, err)
		}
		if !cloned {
			next, cloned = l.m.Clone(base), true
		}
		for i, t := range e.Txns {
			if err := l.m.Apply(next, t, Meta{Seq: seq + 1, Time: e.Time}); err != nil {
				return base, seq, fmt.Errorf("%w: replay entry %d transaction %d: %v", ErrCorrupt, seq+1, i, err)
			}
		}
		seq++
	}
	if !cloned {
		l.readTo(gen)
		return base, seq, nil
	}
	st := l.advance(next, seq)
	l.readTo(gen)
	return st, seq, nil
}

// readTo records that the log was read to its head after its entries'
// generation was gen (0: unknown), once the state read is installed.
func (l *Log[S, T]) readTo(gen uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if gen > l.fresh {
		l.fresh = gen
	}
}

// watcher is a store that can tell that nothing was added under a prefix
// without reading it (local.Store on Linux).
type watcher interface {
	Watch(prefix string) (gen func(since time.Time) uint64, ok bool)
}

// advance installs state s at seq unless the cache is already newer, and
// returns the cached state at seq or later.
func (l *Log[S, T]) advance(s S, seq uint64) S {
	l.mu.Lock()
	defer l.mu.Unlock()
	if seq > l.seq {
		l.state, l.seq = s, seq
	}
	return l.state
}

// Commit appends t to the log and returns the sequence number of the entry
// that holds it. Transactions committed concurrently in one process are
// written together as one entry.
//
// If t does not apply to the state at the head of the log, Commit returns
// Apply's error and nothing is written. If ctx ends while t is waiting its
// turn, t is dropped; if it ends while t is being written, Commit waits for
// the outcome so that it never reports failure for a commit that happened.
func (l *Log[S, T]) Commit(ctx context.Context, t T) (uint64, error) {
	r := &request[T]{ctx: ctx, txn: t, done: make(chan error, 1)}
	l.qmu.Lock()
	l.queue = append(l.queue, r)
	lead := !l.leading
	l.leading = true
	l.qmu.Unlock()
	if lead {
		// The leader runs on its own goroutine so that no caller is held
		// back writing other callers' batches after its own is done.
		go l.lead()
	}
	err := <-r.done
	return r.seq, err
}

// lead writes batches until the queue is empty. Exactly one goroutine per
// Log leads at a time; the others wait for their results.
func (l *Log[S, T]) lead() {
	for {
		l.qmu.Lock()
		batch := l.queue
		l.queue = nil
		if len(batch) == 0 {
			l.leading = false
			l.qmu.Unlock()
			return
		}
		l.qmu.Unlock()
		l.commitBatch(batch)
	}
}

func (l *Log[S, T]) commitBatch(batch []*request[T]) {
	// The store calls are not bound to any one caller's context: the batch
	// belongs to all of them, and an abandoned write would be ambiguous.
	ctx := context.Background()
	var lastErr error
	for attempt := 0; attempt < l.opts.MaxAttempts; attempt++ {
		base, seq := l.Cached()
		next := l.m.Clone(base)
		now := time.Now().UTC()
		live := batch[:0:0]
		at := Meta{Seq: seq + 1, Time: now}
		for _, r := range batch {
			if err := r.ctx.Err(); err != nil && attempt == 0 {
				r.done <- err
				continue
			}
			if err := l.m.Apply(next, r.txn, at); err != nil {
				r.done <- err
				// next may be half changed: rebuild it from the transactions
				// that applied, which apply again in the same way.
				next = l.m.Clone(base)
				for _, ok := range live {
					if err := l.m.Apply(next, ok.txn, at); err != nil {
						panic(fmt.Sprintf("txlog: transaction applied once but not twice: %v", err))
					}
				}
				continue
			}
			live = append(live, r)
		}
		batch = live
		if len(batch) == 0 {
			return
		}
		e := entry[T]{ID: uuid.NewString(), Time: now, Txns: make([]T, len(batch))}
		for i, r := range batch {
			e.Txns[i] = r.txn
		}
		data, err := json.Marshal(e)
		if err != nil {
			failAll(batch, fmt.Errorf("encode log entry: %w", err))
			return
		}
		won, err := l.write(ctx, seq+1, e.ID, data)
		if won {
			l.advance(next, seq+1)
			for _, r := range batch {
				r.seq = seq + 1
				r.done <- nil
			}
			l.maybeSnapshot(ctx, next, seq+1)
			return
		}
		if err != nil {
			lastErr = err
		} else if l.opts.OnConflict != nil {
			l.opts.OnConflict()
		}
		// Lost the race (or the store failed): follow the log and retry.
		backoff(attempt)
		if _, _, err := l.Refresh(ctx); err != nil {
			lastErr = err
		}
	}
	if lastErr != nil {
		failAll(batch, fmt.Errorf("%w: %v", ErrConflict, lastErr))
		return
	}
	failAll(batch, ErrConflict)
}

// write tries to create entry seq and reports whether it is ours. After any
// failure it reads the entry back: an object store may apply a write and
// still report an error, and then the entry holds our id.
func (l *Log[S, T]) write(ctx context.Context, seq uint64, id string, data []byte) (bool, error) {
	key := l.entryKey(seq)
	err := l.store.PutIfAbsent(ctx, key, data)
	if err == nil {
		return true, nil
	}
	got, gerr := l.store.Get(ctx, key)
	switch {
	case gerr == nil:
		var e struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(got, &e) == nil && e.ID == id {
			return true, nil
		}
		return false, nil // another writer's entry: a plain conflict
	case errors.Is(gerr, objstore.ErrNotFound):
		return false, fmt.Errorf("write log entry %d: %w", seq, err)
	default:
		return false, fmt.Errorf("write log entry %d: %w (read back: %v)", seq, err, gerr)
	}
}

func failAll[T any](batch []*request[T], err error) {
	for _, r := range batch {
		r.done <- err
	}
}

// backoff waits a little, more after each lost race, with jitter so that
// racing processes spread out.
func backoff(attempt int) {
	max := time.Millisecond << min(attempt, 7) // up to 128ms
	time.Sleep(time.Duration(rand.Int64N(int64(max))) + 100*time.Microsecond)
}

// maybeSnapshot writes a snapshot after every SnapshotEvery-th entry, in
// the background so that commits do not wait for it. A missed snapshot only
// makes the next load replay more entries.
func (l *Log[S, T]) maybeSnapshot(ctx context.Context, s S, seq uint64) {
	if l.opts.SnapshotEvery > 0 && seq%uint64(l.opts.SnapshotEvery) == 0 {
		l.snapshots.Add(1)
		go func() {
			defer l.snapshots.Done()
			_ = l.writeSnapshot(ctx, s, seq)
		}()
	}
}

// WaitSnapshots waits for background snapshot writes to finish.
func (l *Log[S, T]) WaitSnapshots() { l.snapshots.Wait() }

// Snapshot writes a snapshot of the state at the head of the log, so that
// readers start there, and returns its sequence number.
func (l *Log[S, T]) Snapshot(ctx context.Context) (uint64, error) {
	s, seq, err := l.Refresh(ctx)
	if err != nil {
		return 0, err
	}
	if seq == 0 {
		return 0, nil
	}
	return seq, l.writeSnapshot(ctx, s, seq)
}

func (l *Log[S, T]) writeSnapshot(ctx context.Context, s S, seq uint64) error {
	data, err := json.Marshal(snapshot[S]{Seq: seq, State: s})
	if err != nil {
		return fmt.Errorf("encode snapshot %d: %w", seq, err)
	}
	// The state at seq is the same for every writer, so a plain Put that
	// replaces another process's identical snapshot is harmless.
	if err := l.store.Put(ctx, l.snapshotKey(seq), data); err != nil {
		return fmt.Errorf("write snapshot %d: %w", seq, err)
	}
	return nil
}

// loadSnapshot starts the cache from the newest readable snapshot.
func (l *Log[S, T]) loadSnapshot(ctx context.Context) error {
	infos, err := l.store.List(ctx, l.prefix+"snapshots/")
	if err != nil {
		return fmt.Errorf("list snapshots: %w", err)
	}
	for i := len(infos) - 1; i >= 0; i-- {
		name := strings.TrimPrefix(infos[i].Key, l.prefix+"snapshots/")
		seq, err := strconv.ParseUint(name, 10, 64)
		if err != nil {
			continue
		}
		data, err := l.store.Get(ctx, infos[i].Key)
		if err != nil {
			return fmt.Errorf("read snapshot %d: %w", seq, err)
		}
		s, err := DecodeSnapshot(l.m, data)
		if err != nil || s.Seq != seq {
			continue // fall back to an older snapshot and a longer replay
		}
		l.state, l.seq = s.State, s.Seq
		return nil
	}
	return nil
}

// SnapshotData is a decoded snapshot.
type SnapshotData[S any] struct {
	Seq   uint64
	State S
}

// DecodeSnapshot decodes a snapshot object for machine m.
func DecodeSnapshot[S any, T any](m Machine[S, T], data []byte) (SnapshotData[S], error) {
	s := snapshot[S]{State: m.New()}
	if err := json.Unmarshal(data, &s); err != nil {
		return SnapshotData[S]{}, fmt.Errorf("%w: snapshot: %v", ErrCorrupt, err)
	}
	return SnapshotData[S]{Seq: s.Seq, State: s.State}, nil
}

// DecodeEntry decodes a log entry into its transactions.
func DecodeEntry[T any](data []byte) ([]T, time.Time, error) {
	e, err := decodeEntry[T](data)
	if err != nil {
		return nil, time.Time{}, err
	}
	return e.Txns, e.Time, nil
}

func decodeEntry[T any](data []byte) (entry[T], error) {
	var e entry[T]
	if err := json.Unmarshal(data, &e); err != nil {
		return e, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if e.ID == "" {
		return e, fmt.Errorf("%w: entry has no id", ErrCorrupt)
	}
	return e, nil
}

// Entry is a decoded log entry, for reports.
type Entry[T any] struct {
	Seq  uint64
	ID   string
	Time time.Time
	Txns []T
}

// Entries reads entries from..to (inclusive) for reports and debugging.
func (l *Log[S, T]) Entries(ctx context.Context, from, to uint64) ([]Entry[T], error) {
	var out []Entry[T]
	for seq := from; seq <= to; seq++ {
		data, err := l.store.Get(ctx, l.entryKey(seq))
		if err != nil {
			return out, fmt.Errorf("read log entry %d: %w", seq, err)
		}
		e, err := decodeEntry[T](data)
		if err != nil {
			return out, err
		}
		out = append(out, Entry[T]{Seq: seq, ID: e.ID, Time: e.Time, Txns: e.Txns})
	}
	return out, nil
}
