package sql

import (
	"context"
	"strings"
	"sync"

	"github.com/dormousedb/dormouse/storage"
	"github.com/dormousedb/dormouse/storage/catalog"
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
	defs, err := db.Tables(ctx)
	if err != nil {
		return nil, err
	}
	return &snapshot{db: db, defs: defs, tables: map[string]*tableSnapshot{}}, nil
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
	t, err := s.db.Table(ctx, name)
	if err != nil {
		return nil, err
	}
	st, seq, err := t.State(ctx)
	if err != nil {
		return nil, err
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
