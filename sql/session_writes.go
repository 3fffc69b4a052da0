package sql

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/ingest"
	"github.com/dormousedb/dormouse/storage/state"
	"github.com/dormousedb/dormouse/storage/table"
	"github.com/dormousedb/dormouse/storage/txlog"
)

// Writes inside a transaction.
//
// Outside a transaction a write (INSERT, COPY FROM STDIN) commits as it
// ends: its rows are written as data files, one per leaf partition, and
// published with one AddFiles transaction on the table's log. Inside a
// transaction block — and inside the implicit transaction of a simple
// Query's statements or of the extended-protocol messages up to a Sync —
// the files are still written when the statement runs, but not committed:
// the session keeps them, per table, as the transaction's pending files.
//
//   - Reads of the session see them: every statement's snapshot takes each
//     table's committed state and applies the pending AddFiles to a copy
//     (snapshot.table), so the session reads its own writes, as PostgreSQL
//     does. Other sessions, and other processes, cannot see them: nothing
//     references them.
//   - COMMIT (or the end of an implicit transaction that did not fail)
//     publishes each table's pending files with one AddFiles transaction.
//     If the leaf a file was routed to has been split since, AddFiles
//     pushes the reference down to the new leaves.
//   - ROLLBACK, COMMIT of a failed block, a failed implicit transaction and
//     Close (a connection that goes away) delete them. A process that dies
//     leaves them as orphans: the garbage collector deletes objects under a
//     table's data prefix that no state references once they are older
//     than the table's gc_delay (storage/gc).
//
// That last rule bounds a transaction's life: files older than gc_delay
// may be collected, so a transaction whose first write is nearly that old
// can no longer commit; it fails with transaction_timeout (25P04).
//
// Atomicity across tables: every table has its own log, so one
// transaction's writes to several tables are committed one table after
// another (in name order), each all or nothing. Before the first commit
// COMMIT checks that every table's commit applies (the table still exists
// as the one written, its files are young enough, AddFiles applies to its
// current state), so a table dropped meanwhile fails the COMMIT with
// nothing committed. Only a failure of the store between two tables'
// commits leaves the first committed and the rest not; COMMIT then fails
// with statement_completion_unknown (40003) naming the tables that did
// commit.

// pendingWrites are the uncommitted writes of the session's transaction.
type pendingWrites struct {
	tables []*pendingTable // in the order they were first written
}

// pendingTable is one table's uncommitted files.
type pendingTable struct {
	t     *table.Table // the table as the first write opened it
	files []state.NewFile
	// first is when the first write began: its files are no older.
	first time.Time
	// over caches the committed state with the files applied, for the
	// statements that read the table between two writes; a statement may
	// pin tables from several goroutines.
	mu   sync.Mutex
	over struct {
		base  *state.State
		files int
		st    *state.State
	}
}

// lookup returns the pending files of the table with id, or nil.
func (p *pendingWrites) lookup(id string) *pendingTable {
	if p == nil {
		return nil
	}
	for _, pt := range p.tables {
		if pt.t.Def.ID == id {
			return pt
		}
	}
	return nil
}

func (p *pendingWrites) empty() bool { return p == nil || len(p.tables) == 0 }

// add keeps what one statement wrote to t, which began at start.
func (p *pendingWrites) add(t *table.Table, w ingest.Written, start time.Time) {
	if len(w.Files) == 0 {
		return
	}
	pt := p.lookup(t.Def.ID)
	if pt == nil {
		pt = &pendingTable{t: t, first: start}
		p.tables = append(p.tables, pt)
	}
	pt.files = append(pt.files, w.Files...)
}

// pendingTxnID names the AddFiles that overlays a session's pending files
// on a state it reads; it is never committed.
const pendingTxnID = "uncommitted"

// apply returns base with the pending files added, as the commit would
// add them. base is not changed.
func (pt *pendingTable) apply(base *state.State, seq uint64) (*state.State, error) {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	if pt.over.base == base && pt.over.files == len(pt.files) {
		return pt.over.st, nil
	}
	m := state.Machine{}
	st := m.Clone(base)
	txn := &state.Txn{ID: pendingTxnID, AddFiles: &state.AddFiles{Files: pt.files}}
	if err := m.Apply(st, txn, txlog.Meta{Seq: seq + 1, Time: time.Now().UTC()}); err != nil {
		return nil, fmt.Errorf("table %s: read this transaction's writes: %w", pt.t.Def.Name, err)
	}
	pt.over.base, pt.over.files, pt.over.st = base, len(pt.files), st
	return st, nil
}

// deadline is when the table's pending files stop being safe from the
// garbage collector: gc_delay after the first write began, less a margin
// for the commit itself.
func (pt *pendingTable) deadline() time.Time {
	delay := pt.t.Def.Properties.Duration("gc_delay")
	return pt.first.Add(delay - min(delay/4, time.Minute))
}

// collecting reports whether writes are kept for a commit at the end of a
// transaction rather than committed as they end.
func (s *Session) collecting() bool { return s.txn.open || s.txn.implicit }

// ingestOptions are the options of the session's writes.
func (s *Session) ingestOptions() ingest.Options {
	return ingest.Options{MemoryBytes: s.workMem(), TempDir: s.e.cfg.TempDir, Allocator: s.e.cfg.Allocator}
}

// write writes inputs into t and returns how many rows it wrote: committed
// at once outside a transaction, kept as pending files inside one.
func (s *Session) write(ctx context.Context, t *table.Table, inputs []ingest.RecordReader) (int64, error) {
	if !s.collecting() {
		res, err := ingest.Ingest(ctx, t, inputs, s.ingestOptions())
		return res.Rows, err
	}
	start := s.e.now()
	w, err := ingest.Write(ctx, t, inputs, s.ingestOptions())
	if err != nil {
		return 0, err
	}
	if s.txn.writes == nil {
		s.txn.writes = &pendingWrites{}
	}
	s.txn.writes.add(t, w, start)
	return w.Rows, nil
}

// checkWritesAge fails a statement of a transaction whose pending files
// have grown too old to commit (see deadline): it could not commit them.
func (s *Session) checkWritesAge() error {
	if s.txn.writes.empty() {
		return nil
	}
	now := s.e.now()
	for _, pt := range s.txn.writes.tables {
		if now.After(pt.deadline()) {
			return tooOld(pt)
		}
	}
	return nil
}

func tooOld(pt *pendingTable) error {
	return sqlerr.New("25P04", "transaction is too old to commit: its writes to \"%s\" began more than the table's gc_delay (%s) ago, and the garbage collector may remove uncommitted files past it", pt.t.Def.Name, pt.t.Def.Properties.Duration("gc_delay")).
		WithHint("Keep transactions that write shorter than gc_delay, or raise the table's gc_delay (ALTER TABLE … SET (gc_delay = …)).")
}

// commitWrites publishes the transaction's pending files, one AddFiles
// transaction per table (see the atomicity notes above). Whatever it does
// not commit it deletes. The session has no pending writes afterwards.
func (s *Session) commitWrites(ctx context.Context) error {
	w := s.txn.writes
	s.txn.writes = nil
	if w.empty() {
		return nil
	}
	tables := append([]*pendingTable(nil), w.tables...)
	sort.Slice(tables, func(i, j int) bool { return tables[i].t.Def.Name < tables[j].t.Def.Name })
	current := make([]*table.Table, len(tables))
	for i, pt := range tables {
		t, err := s.checkCommit(ctx, pt)
		if err != nil {
			s.discard(ctx, tables)
			return err
		}
		current[i] = t
	}
	var committed []string
	for i, pt := range tables {
		txn := &state.Txn{AddFiles: &state.AddFiles{Files: pt.files}}
		// A duplicate is a commit that landed although the store reported
		// a failure: the log found the files already added by it.
		if _, err := current[i].Commit(ctx, txn); err != nil && !errors.Is(err, state.ErrDuplicate) {
			s.discard(ctx, tables[i:])
			if len(committed) == 0 {
				return err
			}
			return &sqlerr.Error{Code: "40003", // statement_completion_unknown
				Message: fmt.Sprintf("COMMIT committed the writes to %s but not those to the other tables: %v", quoteNames(committed), err),
				Detail:  "A transaction's writes to several tables are committed one table after another.", Err: err}
		}
		committed = append(committed, pt.t.Def.Name)
	}
	return nil
}

// checkCommit checks that a table's pending files can be committed now,
// and returns the table as it is now.
func (s *Session) checkCommit(ctx context.Context, pt *pendingTable) (*table.Table, error) {
	if s.e.now().After(pt.deadline()) {
		return nil, tooOld(pt)
	}
	t, err := s.e.db.Table(ctx, pt.t.Def.Name)
	if errors.Is(err, catalog.ErrNoTable) || err == nil && t.Def.ID != pt.t.Def.ID {
		return nil, sqlerr.New("40001", // serialization_failure
			"could not commit: table \"%s\" was dropped during the transaction", pt.t.Def.Name)
	}
	if err != nil {
		return nil, err
	}
	cur, seq, err := t.State(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := pt.apply(cur, seq); err != nil {
		return nil, sqlerr.New("40001", "could not commit: %v", err)
	}
	return t, nil
}

// rollbackWrites deletes the transaction's pending files.
func (s *Session) rollbackWrites(ctx context.Context) {
	w := s.txn.writes
	s.txn.writes = nil
	if !w.empty() {
		s.discard(ctx, w.tables)
	}
}

// discard deletes pending files, best effort: what it cannot delete is
// left for the garbage collector, as a crash would leave it.
func (s *Session) discard(ctx context.Context, tables []*pendingTable) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	for _, pt := range tables {
		_ = ingest.Discard(ctx, pt.t, pt.files)
	}
}

// Close ends the session: a transaction still open is rolled back, so its
// writes are deleted, as PostgreSQL rolls back the transaction of a
// connection that goes away. The session must not be used afterwards.
func (s *Session) Close() error {
	s.rollbackWrites(context.Background())
	s.txn = txnState{}
	return nil
}

// HasPendingWrites reports whether the session's transaction holds
// uncommitted writes.
func (s *Session) HasPendingWrites() bool { return !s.txn.writes.empty() }

func quoteNames(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = `"` + n + `"`
	}
	return strings.Join(q, ", ")
}
