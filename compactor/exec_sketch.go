package compactor

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/iterator"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/state"
	"github.com/dormousedb/dormouse/storage/table"
)

// An output file's row key sketches (what the splitter finds medians in)
// are, when the output holds exactly its inputs' rows, the merge of the
// inputs' sketches: KLL sketches are mergeable with the same rank-error
// guarantee as one sketch fed every row, so nothing is lost in split
// accuracy, and the writer skips its per-row sketch update, about a fifth
// of the CPU of a write. That holds when the table has no iterators (none
// combines or drops rows) and every input reference is whole (the
// partition scan drops no row outside the leaf). Otherwise — a splitting
// compaction, a table with iterators, an input whose sketch cannot be read
// or does not count its file's rows — the writer sketches each row it
// writes, as an ingest does. The writer checks that given sketches count
// the rows it wrote, and fails the job if not.

// sketchFetchers is how many sketch objects are read at once.
const sketchFetchers = 8

// mergedSketches returns the merge of the job's inputs' sketches, one per
// row key column, or nil when the writer must sketch the rows itself.
func mergedSketches(ctx context.Context, t *table.Table, s *state.State, j *state.Job) ([]*datafile.Sketch, error) {
	spec, err := iterator.FromDef(t.Def)
	if err != nil || !spec.Empty() {
		return nil, nil
	}
	files := make([]*state.File, len(j.Files))
	for i, k := range j.Files {
		ref, ok := s.Ref(j.Partition, k)
		f, fok := s.File(k)
		if !ok || !fok || !ref.Whole || f.SketchKey == "" {
			return nil, nil
		}
		files[i] = f
	}
	got, err := readSketches(ctx, t.Store, files)
	if err != nil || got == nil {
		return nil, err
	}
	out := make([]*datafile.Sketch, len(t.Def.Schema.RowKeys))
	for c := range out {
		out[c] = datafile.NewSketch()
	}
	for i, sk := range got {
		if len(sk) != len(out) {
			return nil, nil
		}
		for c, one := range sk {
			if int64(one.N()) != files[i].Rows {
				return nil, nil
			}
			out[c].Merge(one)
		}
	}
	return out, nil
}

// readSketches reads the sketches of files, several at once. It returns
// nil, and no error, if one is missing or cannot be decoded.
func readSketches(ctx context.Context, store objstore.Store, files []*state.File) ([][]*datafile.Sketch, error) {
	got := make([][]*datafile.Sketch, len(files))
	errs := make([]error, len(files))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(sketchFetchers, len(files)) {
		wg.Go(func() {
			for i := range next {
				got[i], errs[i] = datafile.ReadSketches(ctx, store, files[i].SketchKey)
			}
		})
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, objstore.ErrNotFound) || errors.Is(err, datafile.ErrBadSketch):
			return nil, nil
		default:
			return nil, fmt.Errorf("sketches of input %s: %w", files[i].Key, err)
		}
	}
	return got, nil
}
