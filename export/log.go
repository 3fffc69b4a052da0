package export

import (
	"context"
	"errors"
	"fmt"

	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/txlog"
)

// LogPrefix is where the exports log lives in the store, beside the
// catalog's.
const LogPrefix = "exports/"

// Log is the store's exports log. It is safe for concurrent use, and any
// number of processes may share it.
type Log struct {
	Store objstore.Store
	log   *txlog.Log[*State, *Txn]
}

// OpenLog opens the exports log of a store.
func OpenLog(ctx context.Context, store objstore.Store) (*Log, error) {
	l, err := txlog.Open[*State, *Txn](ctx, store, LogPrefix, machine{}, txlog.Options{})
	if err != nil {
		return nil, fmt.Errorf("open the exports log: %w", err)
	}
	return &Log{Store: store, log: l}, nil
}

// State follows the log to its head. The state must not be changed.
func (l *Log) State(ctx context.Context) (*State, uint64, error) {
	return l.log.Refresh(ctx)
}

// Get returns an export by id, reading the newest state.
func (l *Log) Get(ctx context.Context, id string) (*Export, error) {
	s, _, err := l.State(ctx)
	if err != nil {
		return nil, err
	}
	e, ok := s.Exports[id]
	if !ok {
		return nil, fmt.Errorf("no export %s", id)
	}
	return e, nil
}

// commit appends one transaction. A refusal wraps errInvalid (Refused).
func (l *Log) commit(ctx context.Context, t *Txn) error {
	_, err := l.log.Commit(ctx, t)
	return err
}

// Refused reports whether err is the log's refusal of a transaction that
// no longer applies (a lost lease, an export that ended), as opposed to a
// store failure.
func Refused(err error) bool { return errors.Is(err, errInvalid) }

// Fail fails a running export (its statement was cancelled). Failing an
// export that ended already is not an error.
func (l *Log) Fail(ctx context.Context, id, why string) error {
	err := l.commit(ctx, &Txn{Fail: &Fail{Export: id, Error: why}})
	if Refused(err) {
		return nil
	}
	return err
}
