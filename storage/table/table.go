package table

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/partition"
	"github.com/dormousedb/dormouse/storage/state"
	"github.com/dormousedb/dormouse/storage/txlog"
)

// Table is an open table. It is safe for concurrent use.
type Table struct {
	Def   *catalog.TableDef
	Store objstore.Store
	log   *txlog.Log[*state.State, *state.Txn]
}

// Observer hears of every commit of every table in the process, for
// metrics. Its methods must be quick and safe for concurrent use.
type Observer interface {
	// Committed reports a Commit call: its transaction kind, how long it
	// took and whether it failed.
	Committed(table, kind string, took time.Duration, err error)
	// Conflicted reports a commit that lost the race for a log entry to
	// another writer and is retrying.
	Conflicted(table string)
}

var observer atomic.Pointer[Observer]

// SetObserver installs o as the process's commit observer (nil removes it).
// It is process-wide because tables are opened in many places and metrics
// are per process.
func SetObserver(o Observer) {
	if o == nil {
		observer.Store(nil)
		return
	}
	observer.Store(&o)
}

func currentObserver() Observer {
	if p := observer.Load(); p != nil {
		return *p
	}
	return nil
}

// Open opens the table def in store, loading its state.
func Open(ctx context.Context, store objstore.Store, def *catalog.TableDef) (*Table, error) {
	initial, err := InitialTree(def)
	if err != nil {
		return nil, err
	}
	name := def.Name
	opts := txlog.Options{
		SnapshotEvery: int(def.Properties.Int("snapshot_every")),
		OnConflict: func() {
			if o := currentObserver(); o != nil {
				o.Conflicted(name)
			}
		},
	}
	l, err := txlog.Open[*state.State, *state.Txn](ctx, store, def.Prefix(), state.Machine{Initial: initial}, opts)
	if err != nil {
		return nil, fmt.Errorf("open table %s: %w", def.Name, err)
	}
	return &Table{Def: def, Store: store, log: l}, nil
}

// InitialTree is the partition tree a table starts with: balanced over its
// split points, with ids fixed by their position so that every process
// derives the same tree without a transaction.
func InitialTree(def *catalog.TableDef) (*partition.Tree, error) {
	n := 0
	tree, err := partition.FromSplitPoints(len(def.Schema.RowKeys), def.SplitPoints, func() string {
		n++
		return fmt.Sprintf("p%06d", n)
	})
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", def.Name, err)
	}
	return tree, nil
}

// State follows the log to its head and returns the state there with its
// sequence number. The state is never changed afterwards.
func (t *Table) State(ctx context.Context) (*state.State, uint64, error) {
	return t.log.Refresh(ctx)
}

// Cached returns the newest state seen by this process without reading the
// store.
func (t *Table) Cached() (*state.State, uint64) { return t.log.Cached() }

// Commit appends a transaction to the table's log, giving it an id if it has
// none, and returns the log sequence number that holds it.
func (t *Table) Commit(ctx context.Context, txn *state.Txn) (uint64, error) {
	if txn.ID == "" {
		txn.ID = catalog.NewID()
	}
	start := time.Now()
	seq, err := t.log.Commit(ctx, txn)
	if o := currentObserver(); o != nil {
		o.Committed(t.Def.Name, txn.Kind(), time.Since(start), err)
	}
	if err != nil {
		return 0, fmt.Errorf("table %s: commit %s: %w", t.Def.Name, txn.Kind(), err)
	}
	return seq, nil
}

// Snapshot writes a snapshot of the state at the head of the log.
func (t *Table) Snapshot(ctx context.Context) (uint64, error) { return t.log.Snapshot(ctx) }

// Entries reads log entries from..to, inclusive.
func (t *Table) Entries(ctx context.Context, from, to uint64) ([]txlog.Entry[*state.Txn], error) {
	return t.log.Entries(ctx, from, to)
}

// NewFileKey returns a fresh object key for a data file of a partition.
func (t *Table) NewFileKey(partition string) string {
	return fmt.Sprintf("%sdata/%s/%s.parquet", t.Def.Prefix(), partition, catalog.NewID())
}

// DataPrefix is the prefix of every data object of the table.
func (t *Table) DataPrefix() string { return t.Def.Prefix() + "data/" }

// Check verifies the state's invariants at the head of the log, and that
// every file the state knows exists in the store with the size it records.
func (t *Table) Check(ctx context.Context) error {
	s, seq, err := t.State(ctx)
	if err != nil {
		return err
	}
	if err := s.Check(); err != nil {
		return fmt.Errorf("table %s at log %d: %w", t.Def.Name, seq, err)
	}
	var errs []error
	for _, f := range s.SortedFiles() {
		info, err := t.Store.Stat(ctx, f.Key)
		if err != nil {
			errs = append(errs, fmt.Errorf("file %s: %w", f.Key, err))
			continue
		}
		if f.Bytes > 0 && info.Size != f.Bytes {
			errs = append(errs, fmt.Errorf("file %s has %d bytes, state says %d", f.Key, info.Size, f.Bytes))
		}
		if f.SketchKey != "" {
			if _, err := t.Store.Stat(ctx, f.SketchKey); err != nil {
				errs = append(errs, fmt.Errorf("sketch %s: %w", f.SketchKey, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("table %s at log %d: %w", t.Def.Name, seq, err)
	}
	return nil
}

// Orphans lists data objects under the table's prefix that the state does
// not know: left by crashed ingests or compactions, for the garbage
// collector.
//
// It lists the objects before it reads the state: a file written before
// the listing and committed after it is then known to the state, not taken
// for an orphan (reading the state first would miss that commit).
func (t *Table) Orphans(ctx context.Context) ([]objstore.Info, error) {
	all, err := t.Store.List(ctx, t.DataPrefix())
	if err != nil {
		return nil, err
	}
	s, _, err := t.State(ctx)
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, f := range s.SortedFiles() {
		known[f.Key] = true
		if f.SketchKey != "" {
			known[f.SketchKey] = true
		}
	}
	var out []objstore.Info
	for _, o := range all {
		if !known[o.Key] && !strings.HasSuffix(o.Key, "/") {
			out = append(out, o)
		}
	}
	return out, nil
}

// WithDef returns a Table for a newer definition of the same table (after
// its properties changed), sharing the state log.
func (t *Table) WithDef(def *catalog.TableDef) *Table {
	return &Table{Def: def, Store: t.Store, log: t.log}
}
