// Package background runs the long-running work that keeps tables healthy
// — compaction, partition splitting and garbage collection — as loops over
// every table of a store. Each piece is safe to run in any number of
// processes on any number of machines at once (the table's log arbitrates),
// so the same loops serve `dormouse compactor|split|gc` as separate
// processes and `dormouse serve` in-process.
package background

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dormousedb/dormouse/splitter"
	"github.com/dormousedb/dormouse/storage"
	"github.com/dormousedb/dormouse/storage/gc"
	"github.com/dormousedb/dormouse/storage/table"
)

// Tables lists the tables to work on; it is called every round so that
// tables created or dropped meanwhile are seen.
type Tables func(ctx context.Context) ([]*table.Table, error)

// Split runs the splitter once over every table, until no leaf is over its
// table's split_threshold, and returns how many splits it committed. A
// table that fails is logged and the others go on; the first error is
// returned.
func Split(ctx context.Context, tables Tables, opts splitter.Options, log *slog.Logger) (int, error) {
	return eachTable(ctx, tables, log, "split", func(t *table.Table) (int, error) {
		splits, err := splitter.Run(ctx, t, opts) // it logs each split
		return len(splits), err
	})
}

// Collect runs the garbage collector once over every table and returns
// how many files, orphans and temporary files it deleted.
func Collect(ctx context.Context, tables Tables, opts gc.Options, log *slog.Logger) (int, error) {
	return eachTable(ctx, tables, log, "gc", func(t *table.Table) (int, error) {
		res, err := gc.Run(ctx, t, opts) // it logs what it deleted
		return res.Files + res.Orphans + res.TempFiles, err
	})
}

// CollectDropped deletes the objects of tables dropped longer than their
// gc_delay ago and returns how many objects it deleted.
func CollectDropped(ctx context.Context, db *storage.DB, opts gc.Options) (int, error) {
	res, err := gc.Dropped(ctx, db.Catalog, db.Store, opts) // it logs each table
	return res.Orphans, err
}

func eachTable(ctx context.Context, tables Tables, log *slog.Logger, what string, fn func(*table.Table) (int, error)) (int, error) {
	ts, err := tables(ctx)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	total := 0
	var first error
	for _, t := range ts {
		if ctx.Err() != nil {
			return total, ctx.Err()
		}
		n, err := fn(t)
		total += n
		if err != nil {
			log.Error(what+" failed", "table", t.Def.Name, "err", err)
			if first == nil {
				first = fmt.Errorf("%s table %s: %w", what, t.Def.Name, err)
			}
		}
	}
	return total, first
}

// Every calls round at once and then every interval until ctx ends,
// logging a round's error rather than stopping: the next round retries.
// A round that found work (n > 0) is followed at once by another, so that
// a backlog drains without waiting out the interval.
func Every(ctx context.Context, interval time.Duration, log *slog.Logger, what string, round func(ctx context.Context) (int, error)) error {
	for {
		n, err := round(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			log.Error(what+" round failed", "err", err)
		}
		if n > 0 && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(interval):
		}
	}
}
