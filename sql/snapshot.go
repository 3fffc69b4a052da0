package sql

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/dormousedb/dormouse/storage"
	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/state"
	"github.com/dormousedb/dormouse/storage/table"
)

// snapshot pins what one statement sees: the catalog as it was when the
// statement started, and for each table it reads, one state (a log
// sequence number). Every reference to a table in the statement — and
// every partition scanned in parallel — reads that same state, so a query
// never sees half a compaction.
type snapshot struct {
	db   *storage.DB
	defs []*catalog.TableDef
	// since is when the statement started: it must see every commit that
	// finished before, and the store may answer its reads of the logs
	// from a look for changes begun since (objstore.WithFreshSince).
	since time.Time
	// fresh is the context start read the catalog in, which carries
	// since (objstore.WithFreshSince): a table read under it needs no
	// context of its own.
	fresh context.Context
	// pending are the uncommitted writes of the session's transaction,
	// which its statements see on top of each table's committed state.
	pending *pendingWrites
	// boundData is set when binding read data (an uncorrelated scalar
	// subquery runs once, and its value stands in it as a constant): that
	// binding holds this snapshot's data and must not be reused.
	boundData bool

	mu sync.Mutex
	// The pinned tables by lower-case name: the first in first (most
	// statements read one table, which then costs no allocation), the
	// others in tables (nil until needed).
	first    tableSnapshot
	firstKey string
	tables   map[string]*tableSnapshot
}

// tableSnapshot is a table at one log sequence number.
type tableSnapshot struct {
	t     *table.Table
	state *state.State
	seq   uint64
}

func newSnapshot(ctx context.Context, db *storage.DB) (*snapshot, error) {
	s := &snapshot{}
	if err := s.start(ctx, db); err != nil {
		return nil, err
	}
	return s, nil
}

// start makes s a new snapshot of db, forgetting what it pinned before
// (a prepared statement's kept plan starts one snapshot again for each
// execution rather than allocating one; nothing may use the old one).
func (s *snapshot) start(ctx context.Context, db *storage.DB) error {
	s.db, s.defs, s.since, s.pending, s.boundData = db, nil, time.Now(), nil, false
	s.first, s.firstKey = tableSnapshot{}, ""
	clear(s.tables)
	s.fresh = objstore.WithFreshSince(ctx, &s.since)
	defs, err := db.Tables(s.fresh)
	if err != nil {
		return err
	}
	s.defs = defs
	return nil
}

// snapshot starts the snapshot of one of the session's statements: the
// newest committed state of each table it reads, with the transaction's
// own writes.
func (s *Session) snapshot(ctx context.Context) (*snapshot, error) {
	snap, err := newSnapshot(ctx, s.e.db)
	if err != nil {
		return nil, err
	}
	snap.pending = s.txn.writes
	return snap, nil
}

// def returns the definition of a table as the snapshot saw it.
func (s *snapshot) def(name string) (*catalog.TableDef, bool) {
	for _, d := range s.defs {
		if strings.EqualFold(d.Name, name) {
			return d, true
		}
	}
	return nil, false
}

// table pins a table's state on first use and returns the same state on
// every later use.
func (s *snapshot) table(ctx context.Context, name string) (*tableSnapshot, error) {
	key := strings.ToLower(name)
	s.mu.Lock()
	ts := s.pinned(key)
	s.mu.Unlock()
	if ts != nil {
		return ts, nil
	}
	// The table as the snapshot's catalog defines it: no second read of
	// the catalog, which could differ.
	def, ok := s.def(name)
	if !ok {
		return nil, fmt.Errorf("%w: %s", catalog.ErrNoTable, name)
	}
	t, err := s.db.TableOf(ctx, def)
	if err != nil {
		return nil, err
	}
	if !objstore.FreshSince(ctx).Equal(s.since) {
		ctx = objstore.WithFreshSince(ctx, &s.since)
	}
	st, seq, err := t.State(ctx)
	if err != nil {
		return nil, err
	}
	if pt := s.pending.lookup(t.Def.ID); pt != nil {
		if st, err = pt.apply(st, seq); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev := s.pinned(key); prev != nil {
		return prev, nil
	}
	return s.pin(key, tableSnapshot{t: t, state: st, seq: seq}), nil
}

// pinned returns the table pinned under key, or nil. s.mu must be held.
func (s *snapshot) pinned(key string) *tableSnapshot {
	if s.firstKey != "" && key == s.firstKey {
		return &s.first
	}
	return s.tables[key] // nil when none
}

// pin pins ts under key, replacing what was pinned there, and returns
// where it keeps it. s.mu must be held.
func (s *snapshot) pin(key string, ts tableSnapshot) *tableSnapshot {
	if s.firstKey == "" || s.firstKey == key {
		s.first, s.firstKey = ts, key
		return &s.first
	}
	if s.tables == nil {
		s.tables = map[string]*tableSnapshot{}
	}
	p := new(tableSnapshot) // not &ts: the first would escape too
	*p = ts
	s.tables[key] = p
	return p
}

// eachPinned calls fn for every table pinned. s.mu must be held.
func (s *snapshot) eachPinned(fn func(*tableSnapshot)) {
	if s.firstKey != "" {
		fn(&s.first)
	}
	for _, ts := range s.tables {
		fn(ts)
	}
}

// all pins every table of the catalog, in name order.
func (s *snapshot) all(ctx context.Context) ([]*tableSnapshot, error) {
	out := make([]*tableSnapshot, 0, len(s.defs))
	for _, d := range s.defs {
		ts, err := s.table(ctx, d.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, ts)
	}
	return out, nil
}
