package splitter

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/state"
)

// maxCachedSketches bounds the sketch objects one Run keeps: enough for the
// files of the leaves it is splitting (the children of a split reference
// the same files), not every file of a large table.
const maxCachedSketches = 4096

// sketchCache holds the sketches of data files, read once per Run. Files
// never change, so neither do their sketches. A nil entry is a file whose
// sketch is missing or unreadable.
type sketchCache struct {
	store    objstore.Store
	parallel int
	byFile   map[string][]*datafile.Sketch
}

func newSketchCache(store objstore.Store, parallel int) *sketchCache {
	return &sketchCache{store: store, parallel: parallel, byFile: map[string][]*datafile.Sketch{}}
}

// load reads the sketches of the files not cached yet, several at once.
// A missing or damaged sketch is logged and remembered as nil: the split
// goes on without that file's distribution. Other errors are returned.
func (c *sketchCache) load(ctx context.Context, files []*state.File, log *slog.Logger) error {
	todo := c.missing(files)
	if len(todo) == 0 {
		return nil
	}
	if len(c.byFile)+len(todo) > maxCachedSketches {
		c.byFile = map[string][]*datafile.Sketch{}
		todo = c.missing(files)
	}
	got := make([][]*datafile.Sketch, len(todo))
	errs := make([]error, len(todo))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(c.parallel, len(todo)) {
		wg.Go(func() {
			for i := range next {
				if todo[i].SketchKey != "" {
					got[i], errs[i] = datafile.ReadSketches(ctx, c.store, todo[i].SketchKey)
				}
			}
		})
	}
	for i := range todo {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, f := range todo {
		switch err := errs[i]; {
		case err == nil:
		case errors.Is(err, objstore.ErrNotFound) || errors.Is(err, datafile.ErrBadSketch):
			log.Warn("split ignores the key distribution of a file whose sketch cannot be read", "file", f.Key, "err", err)
		default:
			return err
		}
		c.byFile[f.Key] = got[i]
	}
	return nil
}

// missing returns the files whose sketches are not cached, each once.
func (c *sketchCache) missing(files []*state.File) []*state.File {
	var todo []*state.File
	seen := map[string]bool{}
	for _, f := range files {
		if _, ok := c.byFile[f.Key]; !ok && !seen[f.Key] {
			seen[f.Key] = true
			todo = append(todo, f)
		}
	}
	return todo
}

// of returns the cached sketches of files by file key.
func (c *sketchCache) of(files []*state.File) map[string][]*datafile.Sketch {
	out := make(map[string][]*datafile.Sketch, len(files))
	for _, f := range files {
		out[f.Key] = c.byFile[f.Key]
	}
	return out
}
