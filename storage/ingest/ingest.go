package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/internal/cores"
	"github.com/dormousedb/dormouse/storage/datafile"
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
	Files []state.File // the data files written: one per leaf partition touched (see Write)
	Seq   uint64       // the log entry that committed them (0 if no rows)
}

// Ingest reads every batch of every input, groups the rows by the leaf
// partition they belong to, puts them in key order, writes them as data
// files (see Write), and commits all the files in one transaction: the
// table shows all of the input or none of it. Inputs are not closed.
//
// On any failure before the commit the files written so far are deleted
// (best effort: a crash leaves orphans for the garbage collector) and the
// table is unchanged.
func Ingest(ctx context.Context, t *table.Table, inputs []RecordReader, opts Options) (Result, error) {
	w, err := Write(ctx, t, inputs, opts)
	if err != nil || len(w.Files) == 0 {
		return Result{}, err
	}
	if opts.Progress != nil {
		opts.Progress(Progress{Stage: "commit", RowsRead: w.Rows, RowsWrote: w.Rows, Files: len(w.Files)})
	}
	txn := &state.Txn{AddFiles: &state.AddFiles{Files: w.Files, Once: opts.Once}}
	seq, err := t.Commit(ctx, txn)
	if err != nil {
		return Result{}, errors.Join(err, Discard(context.WithoutCancel(ctx), t, w.Files))
	}
	res := Result{Rows: w.Rows, Seq: seq}
	for _, f := range w.Files {
		res.Files = append(res.Files, f.File)
	}
	return res, nil
}

// Written is what Write wrote: data files, one per leaf partition the
// rows fell in (two for a leaf whose rows came partly from a merge of
// sorted input and partly from a sort, see write_inputs.go), that the
// table's state does not reference yet. Committing
// them with one AddFiles transaction publishes the rows (Ingest does
// that); Discard deletes them. Until either happens they are orphans, which
// the garbage collector deletes once they are older than the table's
// gc_delay: whoever holds them must commit them well before that.
type Written struct {
	Rows  int64
	Files []state.NewFile
}

// Write is Ingest without the commit: it reads, sorts and writes the
// inputs as data files and returns them. Inputs already in key order are
// merged as they are read, each input's Next called from a goroutine of
// its own (one at a time); others are read in turn and sorted. Write
// returns only after its last call of any input's Next. Each file references the leaf its
// rows were routed to; if that leaf is split before the files are
// committed, AddFiles pushes the reference down to the new leaves. On
// failure nothing is left behind but what a crash leaves (orphans). No
// rows give no files.
func Write(ctx context.Context, t *table.Table, inputs []RecordReader, opts Options) (Written, error) {
	if opts.MemoryBytes <= 0 {
		opts.MemoryBytes = DefaultMemory
	}
	if opts.Allocator == nil {
		opts.Allocator = memory.DefaultAllocator
	}
	s, _, err := t.State(ctx)
	if err != nil {
		return Written{}, err
	}
	sch := t.Def.Schema
	lw := newLeafWriter(ctx, t, s.Partitions.Leaves(), cores.N(), opts.MemoryBytes/8, datafile.WriterOptions{
		RowGroupRows:       t.Def.Properties.Int("row_group_rows"),
		PageSizeBytes:      t.Def.Properties.Int("page_size_bytes"),
		Codec:              t.Def.Properties.Get("compression_codec"),
		CompressionLevel:   datafile.FastZstdLevel,
		CompressionLevelUp: datafile.FastZstdLevelUp,
		Allocator:          opts.Allocator,
	})
	iw := &inputWriter{ctx: ctx, sch: sch, tree: s.Partitions, opts: opts, limits: lengthLimits(sch), lw: lw}
	if err := iw.write(inputs); err != nil {
		return Written{}, errors.Join(err, lw.cleanup())
	}
	files, err := lw.finish()
	if err != nil {
		return Written{}, errors.Join(err, lw.cleanup())
	}
	return Written{Rows: lw.rows, Files: files}, nil
}

// lengthLimit is a VARCHAR column with a length limit.
type lengthLimit struct {
	col  int
	name string
	n    int
}

func lengthLimits(sch *schema.Schema) []lengthLimit {
	var out []lengthLimit
	for i, c := range sch.Columns() {
		if c.Length > 0 {
			out = append(out, lengthLimit{col: i, name: c.Name, n: c.Length})
		}
	}
	return out
}

// checkLengths refuses a batch with a value longer than its column's
// limit. The CSV reader fits values as it parses them (with the line in
// its errors, cutting spaces past the limit as PostgreSQL does); this
// catches every other input. before is the number of
// rows read before the batch.
func checkLengths(rec arrow.RecordBatch, limits []lengthLimit, before int64) error {
	for _, l := range limits {
		a, ok := rec.Column(l.col).(*array.String)
		if !ok {
			continue
		}
		for r := 0; r < a.Len(); r++ {
			if v := a.Value(r); len(v) > l.n && a.IsValid(r) {
				// Trailing spaces past the limit are refused too: cutting
				// them would mean rebuilding the batch.
				if n, err := schema.FitLength(v, l.n); err != nil || n != len(v) {
					return &ValueError{Row: before + int64(r) + 1, Column: l.name,
						Msg: fmt.Sprintf("value too long for type character varying(%d): %q", l.n, v)}
				}
			}
		}
	}
	return nil
}

// Discard deletes the objects of files that Write wrote and that were
// never committed (a rolled-back transaction). A failure leaves orphans
// for the garbage collector.
func Discard(ctx context.Context, t *table.Table, files []state.NewFile) error {
	var errs []error
	for _, f := range files {
		for _, key := range []string{f.File.Key, f.File.SketchKey} {
			if key == "" {
				continue
			}
			if err := t.Store.Delete(ctx, key); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("delete uncommitted files (orphans remain for the garbage collector): %w", err)
	}
	return nil
}

// IngestFiles ingests local files (CSV or Parquet by their names, see Open)
// in one transaction. Each file is opened when its turn comes.
func IngestFiles(ctx context.Context, t *table.Table, paths []string, open OpenOptions, opts Options) (Result, error) {
	inputs := make([]RecordReader, len(paths))
	for i, p := range paths {
		inputs[i] = &lazyReader{bounded: isParquet(p, open.Format), open: func() (RecordReader, error) { return Open(ctx, p, t.Def.Schema, open) }}
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
	open    func() (RecordReader, error)
	r       RecordReader
	bounded bool // the input may tell a KeyBound (a Parquet file)
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
