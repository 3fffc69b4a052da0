package export

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dormousedb/dormouse/storage"
	"github.com/dormousedb/dormouse/storage/catalog"
)

// Start records a new export or import in the log, with its tasks
// pending, and returns it as committed. For an export it first makes way
// at the target: a manifest already there is refused (ErrManifestExists)
// unless Options.Overwrite, which deletes it and its files; nothing is
// written or committed when Start fails.
func Start(ctx context.Context, l *Log, spec *Export) (*Export, error) {
	e := *spec
	if e.ID == "" {
		e.ID = catalog.NewID()
	}
	if e.Kind == KindExport {
		store, err := e.Target.Create(ctx)
		if err != nil {
			return nil, err
		}
		if err := clearTarget(ctx, store, e.Options.Overwrite); err != nil {
			return nil, err
		}
	}
	if err := l.commit(ctx, &Txn{Create: &e}); err != nil {
		return nil, fmt.Errorf("record the %s: %w", e.Kind, err)
	}
	return l.Get(ctx, e.ID)
}

// Execute works on one export until it ends, as a statement does: its
// worker (w, restricted to the export) claims and runs its tasks beside
// whatever other workers share the store, takes over tasks whose workers
// died, and finishes the export. It returns the ended export; a failed one
// with an error wrapping ErrFailed, after its files are cleaned up. If
// ctx ends first, the export is failed and cleaned up.
func Execute(ctx context.Context, w *Worker, id string) (*Export, error) {
	c, err := w.config()
	if err != nil {
		return nil, err
	}
	c.Only = id
	poll := 50 * time.Millisecond
	for {
		if _, err := c.round(ctx); err != nil && ctx.Err() == nil {
			c.Logger.Debug("export round", "export", id, "error", err)
		}
		e, err := w.Log.Get(context.WithoutCancel(ctx), id)
		if err != nil {
			return nil, err
		}
		if c.Watch != nil {
			c.Watch(e)
		}
		if e.Ended() {
			return ended(ctx, c, e)
		}
		select {
		case <-ctx.Done():
			return nil, cancelExport(c, id, context.Cause(ctx))
		case <-time.After(poll):
		}
		// Tasks other workers hold finish in their time; a dead worker's
		// come back after its lease. Poll less often as the wait goes on.
		poll = min(poll*2, time.Second)
	}
}

func ended(ctx context.Context, w *Worker, e *Export) (*Export, error) {
	if e.Status == StatusDone {
		return e, nil
	}
	if !e.Cleaned {
		if err := w.clean(context.WithoutCancel(ctx), e); err != nil {
			return e, fmt.Errorf("%w: %s (and cleaning up failed: %v)", ErrFailed, e.Error, err)
		}
	}
	return e, fmt.Errorf("%w: %s", ErrFailed, e.Error)
}

// cancelExport fails an export whose statement ended and deletes what it
// wrote.
func cancelExport(w *Worker, id string, cause error) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := w.Log.Fail(ctx, id, "cancelled: "+cause.Error()); err != nil {
		return errors.Join(cause, err)
	}
	e, err := w.Log.Get(ctx, id)
	if err != nil {
		return errors.Join(cause, err)
	}
	if e.Status == StatusFailed && !e.Cleaned {
		return errors.Join(cause, w.clean(ctx, e))
	}
	return cause
}

// PlanImport prepares the import of src into table def: it lists the
// inputs, checks that every one reads as the table's rows, and groups
// them into tasks. Nothing is committed.
func PlanImport(ctx context.Context, db *storage.DB, def *catalog.TableDef, src Target, opts Options) (*Export, error) {
	inputs, err := ListInputs(ctx, src, opts)
	if err != nil {
		return nil, err
	}
	e := &Export{Kind: KindImport, Target: src, Options: opts, Table: def.Name, TableID: def.ID}
	s, err := newSource(ctx, e, def, nil)
	if err != nil {
		return nil, err
	}
	if err := s.check(ctx, inputs); err != nil {
		return nil, err
	}
	e.Tasks = GroupInputs(inputs, opts.JobBytes)
	return e, nil
}
