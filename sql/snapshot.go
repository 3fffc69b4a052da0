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
	// pending are the uncommitted writes of the session's transaction,
	// which its statements see on top of each table's committed state.
	pending *pendingWrites
	// boundData is set when binding read data (an uncorrelated scalar
	// subquery runs once, and its value stands in it as a constant): that
	// binding holds this snapshot's data and must not be reused.
	boundData bool

	mu     sync.Mutex
	tables map[string]*tableSnapshot // by lower-case name
}

// tableSnapshot is a table at one log sequence number.
type tableSnapshot struct {
	t     *table.Table
	state *state.State
	seq   uint64
}

func newSnapshot(ctx context.Context, db *storage.DB) (*snapshot, error) {
	s := &snapshot{db: db, since: time.Now(), tables: map[string]*tableSnapshot{}}
	defs, err := db.Tables(objstore.WithFreshSince(ctx, &s.since))
	if err != nil {
		return nil, err
	}
	s.defs = defs
	return s, nil
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
	ts, ok := s.tables[key]
	s.mu.Unlock()
	if ok {
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
	st, seq, err := t.State(objstore.WithFreshSince(ctx, &s.since))
	if err != nil {
		return nil, err
	}
	if pt := s.pending.lookup(t.Def.ID); pt != nil {
		if st, err = pt.apply(st, seq); err != nil {
			return nil, err
		}
	}
	ts = &tableSnapshot{t: t, state: st, seq: seq}
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.tables[key]; ok {
		return prev, nil
	}
	s.tables[key] = ts
	return ts, nil
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
