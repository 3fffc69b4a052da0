package export

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/storage/objstore"
)

// A task's output: files named part-<partition>-<n>.<ext>, n counting from
// 0, each holding at most MaxFileRows rows. The names depend only on the
// task and the rows, so a retried task writes the same names.

// FileName is the name of a task's n-th file. A task of the whole result
// (no partition) writes part-all-<n>.
func FileName(partition string, n int, ext string) string {
	if partition == "" {
		partition = "all"
	}
	return fmt.Sprintf("part-%s-%05d.%s", partition, n, ext)
}

// fileWriter writes one output file. Exactly one of Close or Abort is
// called; nothing is visible under the file's name before Close returns.
type fileWriter interface {
	// Write appends a batch; the caller keeps it.
	Write(rec arrow.RecordBatch) error
	// Close finishes the file and returns its size in bytes.
	Close() (int64, error)
	Abort() error
}

// writerConfig is what every file of an export shares.
type writerConfig struct {
	opts     Options
	schema   *arrow.Schema
	sortedBy []int
	alloc    memory.Allocator
}

func (c *writerConfig) open(ctx context.Context, store objstore.Store, name string) (fileWriter, error) {
	obj, err := store.Create(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	sink := &countingWriter{obj: obj, w: bufio.NewWriterSize(obj, 1<<20)}
	var fw fileWriter
	if c.opts.Format == FormatCSV {
		fw = newCSVWriter(c, sink)
	} else {
		fw, err = newParquetWriter(c, sink)
	}
	if err != nil {
		// The result's schema does not go into the format (a type Parquet
		// cannot hold): every attempt would fail alike.
		return nil, Permanent(errors.Join(fmt.Errorf("create %s: %w", name, err), obj.Abort()))
	}
	return fw, nil
}

// countingWriter buffers writes to an object and counts the bytes.
type countingWriter struct {
	obj objstore.Writer
	w   *bufio.Writer
	n   int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// finish flushes the buffer and closes the object, which becomes visible,
// and returns its size; after a failed flush it aborts the object.
func (c *countingWriter) finish() (int64, error) {
	if err := c.w.Flush(); err != nil {
		return 0, errors.Join(err, c.obj.Abort())
	}
	if err := c.obj.Close(); err != nil {
		return 0, err
	}
	return c.n, nil
}

// abort discards the object.
func (c *countingWriter) abort() error { return c.obj.Abort() }

var _ io.Writer = (*countingWriter)(nil)

// partWriter writes a task's rows as files rolled at MaxFileRows.
type partWriter struct {
	ctx       context.Context
	store     objstore.Store
	cfg       *writerConfig
	partition string
	// always makes the writer leave a file even with no rows (the first
	// task of an export, so that an empty result still has its schema
	// in a file).
	always bool
	// progress, when set, hears of every batch written.
	progress func(rows int64)

	cur     fileWriter
	curRows int64
	files   []File
	rows    int64
}

// Write appends rec, starting new files at the row limit.
func (w *partWriter) Write(rec arrow.RecordBatch) error {
	n := rec.NumRows()
	for off := int64(0); off < n; {
		if w.cur == nil {
			if err := w.next(); err != nil {
				return err
			}
		}
		take := n - off
		if max := w.cfg.opts.MaxFileRows; max > 0 && w.curRows+take > max {
			take = max - w.curRows
		}
		part := rec
		if off > 0 || take < n {
			part = rec.NewSlice(off, off+take)
		}
		err := w.cur.Write(part)
		if part != rec {
			part.Release()
		}
		if err != nil {
			return err
		}
		w.curRows += take
		w.rows += take
		off += take
		if max := w.cfg.opts.MaxFileRows; max > 0 && w.curRows >= max {
			if err := w.finishFile(); err != nil {
				return err
			}
		}
	}
	if w.progress != nil {
		w.progress(n)
	}
	return nil
}

func (w *partWriter) next() error {
	name := FileName(w.partition, len(w.files), w.cfg.opts.Ext())
	fw, err := w.cfg.open(w.ctx, w.store, name)
	if err != nil {
		return err
	}
	w.cur, w.curRows = fw, 0
	return nil
}

func (w *partWriter) finishFile() error {
	fw := w.cur
	w.cur = nil
	size, err := fw.Close()
	if err != nil {
		return fmt.Errorf("write %s: %w", FileName(w.partition, len(w.files), w.cfg.opts.Ext()), err)
	}
	w.files = append(w.files, File{Name: FileName(w.partition, len(w.files), w.cfg.opts.Ext()),
		Partition: w.partition, Rows: w.curRows, Bytes: size})
	return nil
}

// Close finishes the last file and returns every file written.
func (w *partWriter) Close() ([]File, error) {
	if w.cur == nil && len(w.files) == 0 && w.always {
		if err := w.next(); err != nil {
			return nil, err
		}
	}
	if w.cur != nil {
		if err := w.finishFile(); err != nil {
			return nil, err
		}
	}
	return w.files, nil
}

// Abort drops the file being written and deletes the ones finished.
func (w *partWriter) Abort() error {
	var errs []error
	if w.cur != nil {
		errs = append(errs, w.cur.Abort())
		w.cur = nil
	}
	ctx := context.WithoutCancel(w.ctx)
	for _, f := range w.files {
		errs = append(errs, w.store.Delete(ctx, f.Name))
	}
	w.files = nil
	return errors.Join(errs...)
}
