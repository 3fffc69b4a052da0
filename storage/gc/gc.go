package gc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/state"
	"github.com/dormousedb/dormouse/storage/table"
)

// Options configures Run. The zero value collects with the table's
// gc_delay, now.
type Options struct {
	// Now is the time the delay counts back from; zero means time.Now().
	Now time.Time
	// Delay is how long a file is kept after it lost its last reference,
	// and how old an orphan or temporary file must be; 0 means the table's
	// gc_delay property.
	Delay time.Duration
	// BatchSize is the most files one DeleteFiles transaction forgets; 0
	// means 1000.
	BatchSize int
	// Parallel is how many objects are deleted at once; 0 means 16.
	Parallel int
	// Logger receives a line per kind of garbage collected; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Result counts what one Run deleted.
type Result struct {
	Files     int   // unreferenced files whose objects went and that the state forgot
	Orphans   int   // objects the state did not know
	TempFiles int   // stale temporary files, or aborted multipart uploads on S3
	Bytes     int64 // bytes of all of them (data files as the state records them)
}

// tempRemover is a store that can remove what its killed writers left:
// the local store's temporary files, S3's incomplete multipart uploads.
type tempRemover interface {
	RemoveStaleTemp(ctx context.Context, prefix string, olderThan time.Time) (files int, bytes int64, err error)
}

// Run collects the garbage of table t that is older than the delay:
// unreferenced files, orphans and stale temporary files (see the package
// documentation). It returns what it deleted, also on error.
func Run(ctx context.Context, t *table.Table, opts Options) (Result, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.Delay <= 0 {
		opts.Delay = t.Def.Properties.Duration("gc_delay")
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 1000
	}
	if opts.Parallel <= 0 {
		opts.Parallel = 16
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	c := &collector{t: t, opts: opts, cutoff: opts.Now.Add(-opts.Delay), log: opts.Logger.With("table", t.Def.Name)}
	for _, step := range []func(context.Context) error{c.files, c.orphans, c.temp} {
		if err := step(ctx); err != nil {
			return c.res, fmt.Errorf("gc table %s: %w", t.Def.Name, err)
		}
	}
	return c.res, nil
}

// collector is the state of one Run.
type collector struct {
	t      *table.Table
	opts   Options
	cutoff time.Time // garbage must date from before this
	log    *slog.Logger
	res    Result
}

// files deletes the files unreferenced since before the cut-off: their
// objects first, then a DeleteFiles transaction per batch.
func (c *collector) files(ctx context.Context) error {
	s, _, err := c.t.State(ctx)
	if err != nil {
		return err
	}
	var due []*state.File
	for _, f := range s.SortedFiles() {
		if f.Refs == 0 && f.UnreferencedSince != nil && !f.UnreferencedSince.After(c.cutoff) {
			due = append(due, f)
		}
	}
	before := c.res
	for len(due) > 0 {
		batch := due[:min(len(due), c.opts.BatchSize)]
		due = due[len(batch):]
		var keys []string
		for _, f := range batch {
			keys = append(keys, f.Key)
			if f.SketchKey != "" {
				keys = append(keys, f.SketchKey)
			}
		}
		if err := c.delete(ctx, keys); err != nil {
			return err
		}
		if err := c.forget(ctx, batch); err != nil {
			return err
		}
	}
	if n := c.res.Files - before.Files; n > 0 {
		c.log.Info("deleted unreferenced files", "files", n, "bytes", c.res.Bytes-before.Bytes)
	}
	return nil
}

// forget commits the deletion of files whose objects are gone. When
// another collector forgot some of them first the commit is refused; the
// rest are committed again.
func (c *collector) forget(ctx context.Context, files []*state.File) error {
	for len(files) > 0 {
		keys := make([]string, len(files))
		for i, f := range files {
			keys[i] = f.Key
		}
		_, err := c.t.Commit(ctx, &state.Txn{DeleteFiles: &state.DeleteFiles{Files: keys}})
		if err == nil {
			for _, f := range files {
				c.res.Files++
				c.res.Bytes += f.Bytes
			}
			return nil
		}
		if !errors.Is(err, state.ErrInvalid) {
			return err
		}
		s, _, rerr := c.t.State(ctx)
		if rerr != nil {
			return errors.Join(err, rerr)
		}
		left := files[:0:0]
		for _, f := range files {
			if _, ok := s.File(f.Key); ok {
				left = append(left, f)
			}
		}
		if len(left) == len(files) {
			return err // refused for another reason: do not loop
		}
		files = left
	}
	return nil
}

// orphans deletes the objects under the data prefix the state does not
// know that were last written before the cut-off.
func (c *collector) orphans(ctx context.Context) error {
	all, err := c.t.Orphans(ctx)
	if err != nil {
		return err
	}
	var keys []string
	var bytes int64
	for _, o := range all {
		if !o.ModTime.After(c.cutoff) {
			keys = append(keys, o.Key)
			bytes += o.Size
		}
	}
	if err := c.delete(ctx, keys); err != nil {
		return err
	}
	c.res.Orphans += len(keys)
	c.res.Bytes += bytes
	if len(keys) > 0 {
		c.log.Info("deleted orphans", "objects", len(keys), "bytes", bytes)
	}
	return nil
}

// temp removes what killed writers left under the table's prefix, if the
// store knows how.
func (c *collector) temp(ctx context.Context) error {
	tr, ok := c.t.Store.(tempRemover)
	if !ok {
		return nil
	}
	n, bytes, err := tr.RemoveStaleTemp(ctx, c.t.Def.Prefix(), c.cutoff)
	c.res.TempFiles += n
	c.res.Bytes += bytes
	if n > 0 {
		c.log.Info("removed stale temporary files", "files", n, "bytes", bytes)
	}
	return err
}

// delete deletes objects, Parallel at a time. A missing object is not an
// error: a collector that died after deleting left it so.
func (c *collector) delete(ctx context.Context, keys []string) error {
	return deleteAll(ctx, c.t.Store, keys, c.opts.Parallel)
}

// deleteAll deletes keys from store, parallel at a time.
func deleteAll(ctx context.Context, store objstore.Store, keys []string, parallel int) error {
	next := make(chan string)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for range min(max(parallel, 1), len(keys)) {
		wg.Go(func() {
			for k := range next {
				if err := store.Delete(ctx, k); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		})
	}
	for _, k := range keys {
		next <- k
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// Dropped deletes every object of the tables dropped longer ago than their
// gc_delay (or opts.Delay), then forgets them in the catalog. Objects a
// process still writes into a dropped table's prefix after that (an ingest
// that started before the drop) are not seen again: the delay must outlast
// the longest ingest, as for orphans.
func Dropped(ctx context.Context, cat *catalog.Catalog, store objstore.Store, opts Options) (Result, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.Parallel <= 0 {
		opts.Parallel = 16
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	var res Result
	dropped, err := cat.DroppedTables(ctx)
	if err != nil {
		return res, err
	}
	for _, d := range dropped {
		delay := opts.Delay
		if delay <= 0 {
			delay = d.Def.Properties.Duration("gc_delay")
		}
		if d.At.After(opts.Now.Add(-delay)) {
			continue
		}
		objs, err := store.List(ctx, d.Def.Prefix())
		if err != nil {
			return res, fmt.Errorf("gc dropped table %s: %w", d.Def.Name, err)
		}
		keys := make([]string, len(objs))
		var bytes int64
		for i, o := range objs {
			keys[i] = o.Key
			bytes += o.Size
		}
		if err := deleteAll(ctx, store, keys, opts.Parallel); err != nil {
			return res, fmt.Errorf("gc dropped table %s: %w", d.Def.Name, err)
		}
		if rm, ok := store.(tempRemover); ok {
			if _, _, err := rm.RemoveStaleTemp(ctx, d.Def.Prefix(), opts.Now); err != nil {
				return res, fmt.Errorf("gc dropped table %s: %w", d.Def.Name, err)
			}
		}
		if err := cat.Purge(ctx, d.Def.ID); err != nil {
			return res, err
		}
		res.Orphans += len(keys)
		res.Bytes += bytes
		opts.Logger.Info("deleted dropped table", "table", d.Def.Name, "id", d.Def.ID, "objects", len(keys), "bytes", bytes)
	}
	return res, nil
}
