package ingest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/partition"
	"github.com/dormousedb/dormouse/storage/schema"
	"github.com/dormousedb/dormouse/storage/state"
	"github.com/dormousedb/dormouse/storage/table"
)

// DefaultMemory is the memory bound of an ingest when Options leaves it
// unset.
const DefaultMemory = 1 << 30

// Options configures an ingest.
type Options struct {
	// MemoryBytes bounds the memory the ingest holds, whatever the input
	// size: input beyond it is sorted in runs spilled to TempDir and merged.
	MemoryBytes int64
	// TempDir holds spilled runs; "" means os.TempDir().
	TempDir string
	// Allocator allocates Arrow buffers; nil means memory.DefaultAllocator.
	Allocator memory.Allocator
	// Progress, if set, is called as rows are read and files written.
	Progress func(Progress)
	// Once, when set, makes the commit happen at most once for this key
	// (state.AddFiles.Once): a bulk import job passes its id, and an
	// ingest whose key was committed before fails with state.ErrDuplicate,
	// deleting what it wrote.
	Once string
}

// Progress reports how far an ingest has come.
type Progress struct {
	Stage     string // "read", "write" or "commit"
	RowsRead  int64
	RowsWrote int64
	Files     int
}

// Result describes a committed ingest.
type Result struct {
	Rows  int64        // rows ingested
	Files []state.File // the data files written, one per leaf partition touched
	Seq   uint64       // the log entry that committed them (0 if no rows)
}

// Ingest reads every batch of every input, groups the rows by the leaf
// partition they belong to, sorts them by key, writes one data file per
// leaf, and commits all the files in one transaction: the table shows all
// of the input or none of it. Inputs are read in order and not closed.
//
// On any failure before the commit the files written so far are deleted
// (best effort: a crash leaves orphans for the garbage collector) and the
// table is unchanged.
func Ingest(ctx context.Context, t *table.Table, inputs []RecordReader, opts Options) (Result, error) {
	if opts.MemoryBytes <= 0 {
		opts.MemoryBytes = DefaultMemory
	}
	if opts.Allocator == nil {
		opts.Allocator = memory.DefaultAllocator
	}
	s, _, err := t.State(ctx)
	if err != nil {
		return Result{}, err
	}
	sch := t.Def.Schema
	router := partition.NewRouter(s.Partitions)
	nkeys := sch.NumKeys()
	key := func(dst []byte, rec arrow.RecordBatch, row int) []byte {
		dst = binary.BigEndian.AppendUint32(dst, uint32(router.Leaf(rec, row)))
		return schema.AppendRowKey(dst, rec, nkeys, row)
	}
	sorter := NewSorter(sch, SortOptions{
		// The rest of the bound is for the data file writer's row group.
		MemoryBytes: opts.MemoryBytes * 3 / 4,
		TempDir:     opts.TempDir,
		Allocator:   opts.Allocator,
	}, key)
	defer sorter.Close()

	var p Progress
	report := func(stage string) {
		p.Stage = stage
		if opts.Progress != nil {
			opts.Progress(p)
		}
	}
	for _, in := range inputs {
		for {
			if err := ctx.Err(); err != nil {
				return Result{}, err
			}
			rec, err := in.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return Result{}, err
			}
			p.RowsRead += rec.NumRows()
			err = sorter.Add(rec)
			rec.Release()
			if err != nil {
				return Result{}, fmt.Errorf("sort input: %w", err)
			}
			report("read")
		}
	}
	if p.RowsRead == 0 {
		return Result{}, nil
	}
	sorted, err := sorter.Finish()
	if err != nil {
		return Result{}, fmt.Errorf("sort input: %w", err)
	}
	defer sorted.Close()

	w := &leafWriter{ctx: ctx, t: t, leaves: router.Leaves(), parallel: runtime.GOMAXPROCS(0), opts: datafile.WriterOptions{
		RowGroupRows:  t.Def.Properties.Int("row_group_rows"),
		PageSizeBytes: t.Def.Properties.Int("page_size_bytes"),
		Allocator:     opts.Allocator,
	}}
	files, err := w.writeAll(sorted, func(rows int64) {
		p.RowsWrote, p.Files = rows, len(w.jobs)
		report("write")
	})
	if err != nil {
		return Result{}, errors.Join(err, w.cleanup())
	}
	report("commit")
	txn := &state.Txn{AddFiles: &state.AddFiles{Files: files, Once: opts.Once}}
	seq, err := t.Commit(ctx, txn)
	if err != nil {
		return Result{}, errors.Join(err, w.cleanup())
	}
	res := Result{Rows: p.RowsWrote, Seq: seq}
	for _, f := range files {
		res.Files = append(res.Files, f.File)
	}
	return res, nil
}

// leafWriter writes a sorted stream whose keys start with a leaf index into
// one data file per leaf. Encoding Parquet (zstd above all) costs more than
// producing the sorted stream, so each leaf's file is written by its own
// goroutine while this one routes the next batches: with one leaf, sorting
// and writing overlap; with many, several files are written at once. At
// most `parallel` files are open and each holds at most a few batches in
// its queue, so memory stays bounded.
type leafWriter struct {
	ctx      context.Context
	t        *table.Table
	leaves   []*partition.Partition
	opts     datafile.WriterOptions
	parallel int

	cur   *fileJob
	slots chan struct{} // one token per file being written
	jobs  []*fileJob
	rows  int64
}

// fileJob is one data file being written by its own goroutine.
type fileJob struct {
	leaf   int
	in     chan arrow.RecordBatch
	failed chan struct{} // closed when the writer fails; err says why
	done   chan struct{} // closed when the goroutine ends
	w      *datafile.Writer
	info   datafile.Info
	err    error
	wrote  bool // Close succeeded: the object exists
}

func (w *leafWriter) writeAll(sorted *Sorted, progress func(rows int64)) ([]state.NewFile, error) {
	w.slots = make(chan struct{}, w.parallel)
	for {
		b, err := sorted.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("sort input: %w", err)
		}
		err = w.writeBatch(b)
		b.Rec.Release()
		if err != nil {
			return nil, err
		}
		progress(w.rows)
	}
	w.finishFile()
	files := make([]state.NewFile, 0, len(w.jobs))
	for _, j := range w.jobs {
		<-j.done
		if j.err != nil {
			return nil, j.err
		}
		leaf := w.leaves[j.leaf]
		info := j.info
		files = append(files, state.NewFile{
			File: state.File{Key: info.Key, SketchKey: info.SketchKey, Rows: info.Rows, Bytes: info.Bytes, MinKey: info.MinKey, MaxKey: info.MaxKey},
			Refs: []state.PartRows{{Partition: leaf.ID, Rows: info.Rows}},
		})
	}
	return files, nil
}

// writeBatch hands each run of rows of one leaf to that leaf's writer.
func (w *leafWriter) writeBatch(b Batch) error {
	n := int(b.Rec.NumRows())
	for i := 0; i < n; {
		leaf := int(binary.BigEndian.Uint32(b.Keys[i]))
		j := i + 1
		for j < n && int(binary.BigEndian.Uint32(b.Keys[j])) == leaf {
			j++
		}
		if w.cur == nil || leaf != w.cur.leaf {
			w.finishFile()
			if err := w.startFile(leaf); err != nil {
				return err
			}
		}
		select {
		case w.cur.in <- b.Rec.NewSlice(int64(i), int64(j)):
		case <-w.cur.failed:
			return w.cur.err
		case <-w.ctx.Done():
			return w.ctx.Err()
		}
		w.rows += int64(j - i)
		i = j
	}
	return nil
}

func (w *leafWriter) startFile(leaf int) error {
	select {
	case w.slots <- struct{}{}:
	case <-w.ctx.Done():
		return w.ctx.Err()
	}
	fw, err := datafile.NewWriter(w.ctx, w.t.Store, w.t.NewFileKey(w.leaves[leaf].ID), w.t.Def.Schema, w.opts)
	if err != nil {
		<-w.slots
		return err
	}
	j := &fileJob{leaf: leaf, in: make(chan arrow.RecordBatch, 2), failed: make(chan struct{}), done: make(chan struct{}), w: fw}
	w.cur = j
	w.jobs = append(w.jobs, j)
	go func() {
		defer func() { <-w.slots }()
		defer close(j.done)
		for rec := range j.in {
			if j.err == nil {
				if j.err = fw.Write(rec); j.err != nil {
					fw.Abort()
					close(j.failed)
				}
			}
			// After a failure, keep reading until the producer stops, so
			// that every batch sent is released.
			rec.Release()
		}
		if j.err == nil {
			j.info, j.err = fw.Close()
			j.wrote = j.err == nil
		}
	}()
	return nil
}

// finishFile tells the current file's writer that no more rows come.
func (w *leafWriter) finishFile() {
	if w.cur != nil {
		close(w.cur.in)
		w.cur = nil
	}
}

// cleanup stops every writer and deletes the files already written.
func (w *leafWriter) cleanup() error {
	w.finishFile()
	var errs []error
	ctx := context.WithoutCancel(w.ctx)
	for _, j := range w.jobs {
		<-j.done
		if !j.wrote {
			continue
		}
		errs = append(errs, w.t.Store.Delete(ctx, j.info.Key))
		if j.info.SketchKey != "" {
			errs = append(errs, w.t.Store.Delete(ctx, j.info.SketchKey))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("clean up after failed ingest (orphans remain for the garbage collector): %w", err)
	}
	return nil
}

// IngestFiles ingests local files (CSV or Parquet by their names, see Open)
// in one transaction. Each file is opened when its turn comes.
func IngestFiles(ctx context.Context, t *table.Table, paths []string, open OpenOptions, opts Options) (Result, error) {
	inputs := make([]RecordReader, len(paths))
	for i, p := range paths {
		inputs[i] = &lazyReader{open: func() (RecordReader, error) { return Open(ctx, p, t.Def.Schema, open) }}
	}
	defer func() {
		for _, in := range inputs {
			in.Close()
		}
	}()
	return Ingest(ctx, t, inputs, opts)
}

// lazyReader opens its input on the first Next.
type lazyReader struct {
	open func() (RecordReader, error)
	r    RecordReader
}

func (l *lazyReader) Next() (arrow.RecordBatch, error) {
	if l.r == nil {
		r, err := l.open()
		if err != nil {
			return nil, err
		}
		l.r = r
	}
	rec, err := l.r.Next()
	if err == io.EOF {
		// Done with this file: let it go before the next one opens.
		l.r.Close()
	}
	return rec, err
}

func (l *lazyReader) Close() error {
	if l.r == nil {
		return nil
	}
	return l.r.Close()
}
