package export

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/ingest"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/state"
)

// An import's inputs: the files of the source that its pattern (or its
// one file name) selects and whose names fit the format, each opened from
// the source store — a Parquet file by ranges, a CSV file as a stream.

// ListInputs lists the input files of an import source, sorted by name,
// with their sizes. It returns ErrNoInput when none matches.
func ListInputs(ctx context.Context, src Target, opts Options) ([]Input, error) {
	store, err := src.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInput, err)
	}
	if src.File != "" {
		info, err := store.Stat(ctx, src.File)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInput, src.URL, err)
		}
		return []Input{{Name: src.File, Bytes: info.Size}}, nil
	}
	infos, err := store.List(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("%w: list %s: %w", ErrInput, src.URL, err)
	}
	var out []Input
	for _, in := range infos {
		name := in.Key
		if strings.Contains(name, "/") || strings.HasPrefix(path.Base(name), "_") || strings.HasPrefix(path.Base(name), ".") {
			continue // subdirectories, manifests and hidden files
		}
		if src.Pattern != "" {
			if ok, _ := path.Match(src.Pattern, name); !ok {
				continue
			}
		} else if !fitsFormat(name, opts.Format) {
			continue
		}
		out = append(out, Input{Name: name, Bytes: in.Size})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s holds no %s file", ErrNoInput, src.URL, opts.Format)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func fitsFormat(name, format string) bool {
	lower := strings.ToLower(name)
	if format == FormatCSV {
		return strings.HasSuffix(lower, ".csv") || strings.HasSuffix(lower, ".csv.gz") ||
			strings.HasSuffix(lower, ".tsv") || strings.HasSuffix(lower, ".tsv.gz")
	}
	return strings.HasSuffix(lower, ".parquet")
}

// GroupInputs deals the inputs, in order, into tasks of about jobBytes
// each; a file larger than that is a task of its own.
func GroupInputs(inputs []Input, jobBytes int64) []Task {
	if jobBytes <= 0 {
		jobBytes = DefaultJobBytes
	}
	var tasks []Task
	var cur []Input
	var size int64
	for _, in := range inputs {
		if len(cur) > 0 && size+in.Bytes > jobBytes {
			tasks = append(tasks, Task{Inputs: cur})
			cur, size = nil, 0
		}
		cur = append(cur, in)
		size += in.Bytes
	}
	if len(cur) > 0 {
		tasks = append(tasks, Task{Inputs: cur})
	}
	return tasks
}

// source opens an import's input files as table rows.
type source struct {
	store   objstore.Store
	def     *catalog.TableDef
	opts    Options
	alloc   memory.Allocator
	columns []string // CSV field names when the files have no header
}

func newSource(ctx context.Context, e *Export, def *catalog.TableDef, alloc memory.Allocator) (*source, error) {
	store, err := e.Target.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInput, err)
	}
	src := &source{store: store, def: def, opts: e.Options, alloc: alloc, columns: e.Options.Columns}
	if e.Options.Format == FormatCSV && !e.Options.Header && len(src.columns) == 0 {
		cols := def.Schema.Columns()
		for _, i := range def.DeclaredColumns() {
			src.columns = append(src.columns, cols[i].Name)
		}
	}
	return src, nil
}

// open opens one input as a reader of the table's rows. Errors about the
// file as a whole (missing, not Parquet, a wrong header or schema) wrap
// ErrInput and name the file.
func (s *source) open(ctx context.Context, in Input) (ingest.RecordReader, error) {
	obj, err := s.store.Open(ctx, in.Name)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInput, in.Name, err)
	}
	sec := io.NewSectionReader(obj, 0, obj.Size())
	var rr ingest.RecordReader
	if s.opts.Format == FormatParquet {
		rr, err = ingest.NewParquetReader(ctx, sec, in.Name, s.def.Schema, ingest.ParquetOptions{Allocator: s.alloc})
	} else {
		rr, err = s.openCSV(sec, in.Name)
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("%w: %w", ErrInput, err), obj.Close())
	}
	return &objReader{RecordReader: rr, obj: obj}, nil
}

func (s *source) openCSV(r io.Reader, name string) (ingest.RecordReader, error) {
	r = bufio.NewReaderSize(r, 4<<20)
	var zr *gzip.Reader
	lower := strings.ToLower(name)
	if strings.HasSuffix(lower, ".gz") {
		var err error
		if zr, err = gzip.NewReader(r); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		r = zr
	}
	delim := rune(s.opts.Delimiter)
	if len(s.columns) > 0 {
		// No header: give the reader one naming the fields in order.
		head := make([]string, len(s.columns))
		for i, c := range s.columns {
			head[i] = `"` + strings.ReplaceAll(c, `"`, `""`) + `"`
		}
		r = io.MultiReader(strings.NewReader(strings.Join(head, string(delim))+"\n"), r)
	}
	cr, err := ingest.NewCSVReader(r, name, s.def.Schema, ingest.CSVOptions{Delimiter: delim, Null: s.opts.Null, Allocator: s.alloc})
	if err != nil {
		return nil, err
	}
	return cr, nil
}

// objReader closes the object after the reader.
type objReader struct {
	ingest.RecordReader
	obj    objstore.Object
	closed bool
}

// KeyBound asks the file's reader.
func (o *objReader) KeyBound() ([]byte, bool, error) {
	if kb, ok := o.RecordReader.(ingest.KeyBounder); ok {
		return kb.KeyBound()
	}
	return nil, false, nil
}

func (o *objReader) Close() error {
	if o.closed {
		return nil
	}
	o.closed = true
	return errors.Join(o.RecordReader.Close(), o.obj.Close())
}

// Check opens every input (8 at a time) to check that it reads as the
// table's rows — a Parquet footer with the columns, a CSV header that
// matches — so that an import of files that cannot work is refused before
// anything is committed.
func (s *source) check(ctx context.Context, inputs []Input) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		next atomic.Int64
	)
	for range min(8, len(inputs)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(inputs) || ctx.Err() != nil {
					return
				}
				rr, err := s.open(ctx, inputs[i])
				if err == nil {
					err = rr.Close()
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if len(errs) > 3 {
		errs = append(errs[:3], fmt.Errorf("and %d more", len(errs)-3))
	}
	return errors.Join(errs...)
}

// runImport ingests one import task's files in one commit, keyed by the
// task so that the commit happens once however many workers run it.
func (w *Worker) runImport(ctx context.Context, e *Export, i int) (*Finish, error) {
	t, err := w.DB.Table(ctx, e.Table)
	if err != nil {
		return nil, Permanent(fmt.Errorf("table %s: %w", e.Table, err))
	}
	if t.Def.ID != e.TableID {
		return nil, Permanent(fmt.Errorf("table %s was dropped and created again since the import started", e.Table))
	}
	src, err := newSource(ctx, e, t.Def, w.Alloc)
	if err != nil {
		return nil, err
	}
	var rows atomic.Int64
	inputs := make([]ingest.RecordReader, len(e.Tasks[i].Inputs))
	for j, in := range e.Tasks[i].Inputs {
		inputs[j] = &countingReader{rows: &rows, progress: w.Progress, bounded: e.Options.Format == FormatParquet,
			open: func() (ingest.RecordReader, error) { return src.open(ctx, in) }}
	}
	defer func() {
		for _, in := range inputs {
			in.Close()
		}
	}()
	var bytes int64
	for _, in := range e.Tasks[i].Inputs {
		bytes += in.Bytes
	}
	res, err := ingest.Ingest(ctx, t, inputs, ingest.Options{Once: onceKey(e.ID, i), MemoryBytes: w.Memory, TempDir: w.TempDir, Allocator: w.Alloc})
	switch {
	case errors.Is(err, state.ErrDuplicate):
		// An earlier attempt committed these rows; this one wrote nothing
		// that stays.
		return &Finish{Rows: rows.Load(), Bytes: bytes}, nil
	case err != nil:
		var ve *ingest.ValueError
		if errors.As(err, &ve) {
			return nil, Permanent(err)
		}
		return nil, err
	}
	return &Finish{Rows: res.Rows, Bytes: bytes}, nil
}

// onceKey is the AddFiles.Once of an import task.
func onceKey(export string, task int) string { return "import/" + export + "/" + strconv.Itoa(task) }

// countingReader opens its input on first use and counts the rows read.
type countingReader struct {
	open     func() (ingest.RecordReader, error)
	r        ingest.RecordReader
	rows     *atomic.Int64
	progress func(int64)
	bounded  bool // a Parquet file, which may tell a KeyBound
}

// KeyBound asks the file's reader (ingest.KeyBounder), opening the file for
// it if it is not open yet and closing it again: the ingest asks every
// input before it reads any, and keeps open only those it reads.
func (c *countingReader) KeyBound() ([]byte, bool, error) {
	if !c.bounded {
		return nil, false, nil
	}
	r := c.r
	if r == nil {
		var err error
		if r, err = c.open(); err != nil {
			return nil, false, err
		}
		defer r.Close()
	}
	if kb, ok := r.(ingest.KeyBounder); ok {
		return kb.KeyBound()
	}
	return nil, false, nil
}

func (c *countingReader) Next() (arrow.RecordBatch, error) {
	if c.r == nil {
		r, err := c.open()
		if err != nil {
			return nil, err
		}
		c.r = r
	}
	rec, err := c.r.Next()
	if err == io.EOF {
		c.r.Close() // done with this file: let it go before the next opens
		return nil, err
	}
	if err == nil {
		c.rows.Add(rec.NumRows())
		if c.progress != nil {
			c.progress(rec.NumRows())
		}
	}
	return rec, err
}

func (c *countingReader) Close() error {
	if c.r == nil {
		return nil
	}
	return c.r.Close()
}
