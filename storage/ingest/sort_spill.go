package ingest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// A spilled run is an Arrow IPC stream of sorted batches in storage order
// with the sort key as an extra last column, so that merging never calls
// the KeyFunc again.

const spillKeyColumn = "__dormouse_sort_key"

func spillSchema(sch *arrow.Schema) *arrow.Schema {
	fields := append(sch.Fields(), arrow.Field{Name: spillKeyColumn, Type: arrow.BinaryTypes.Binary})
	return arrow.NewSchema(fields, nil)
}

// runFile is a spilled run on disk.
type runFile struct {
	path string
	size int64
}

func (r *runFile) remove() error {
	if r.path == "" {
		return nil
	}
	err := os.Remove(r.path)
	r.path = ""
	if errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	return err
}

type runWriter struct {
	w *ipc.Writer
}

func (w *runWriter) write(rec arrow.RecordBatch) error { return w.w.Write(rec) }

// writeRun creates the run file dir/run-<seq>.arrows and lets fill write
// its batches; on error the file is removed.
func writeRun(dir string, seq int, compression string, sch *arrow.Schema, alloc memory.Allocator, fill func(*runWriter) error) (*runFile, error) {
	path := filepath.Join(dir, fmt.Sprintf("run-%06d.arrows", seq))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sort: create run: %w", err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	opts := []ipc.Option{ipc.WithSchema(spillSchema(sch)), ipc.WithAllocator(alloc)}
	switch compression {
	case SpillUncompressed:
	case SpillLZ4:
		opts = append(opts, ipc.WithLZ4())
	case SpillZstd:
		opts = append(opts, ipc.WithZstd())
	default:
		return nil, errors.Join(fmt.Errorf("sort: unknown spill compression %q", compression), f.Close(), os.Remove(path))
	}
	w := ipc.NewWriter(bw, opts...)
	err = fill(&runWriter{w: w})
	err = errors.Join(err, w.Close())
	err = errors.Join(err, bw.Flush())
	var size int64
	if err == nil {
		size, err = f.Seek(0, io.SeekCurrent)
	}
	err = errors.Join(err, f.Close())
	if err != nil {
		return nil, errors.Join(fmt.Errorf("sort: write run: %w", err), os.Remove(path))
	}
	return &runFile{path: path, size: size}, nil
}

// runReader reads a run's batches back.
type runReader struct {
	f  *os.File
	rd *ipc.Reader
}

func openRun(r *runFile, alloc memory.Allocator) (*runReader, error) {
	f, err := os.Open(r.path)
	if err != nil {
		return nil, fmt.Errorf("sort: open run: %w", err)
	}
	rd, err := ipc.NewReader(bufio.NewReaderSize(f, 256<<10), ipc.WithAllocator(alloc))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("sort: read run %s: %w", r.path, err), f.Close())
	}
	return &runReader{f: f, rd: rd}, nil
}

// next returns the next batch, owned by the caller, or io.EOF.
func (r *runReader) next() (arrow.RecordBatch, error) {
	if !r.rd.Next() {
		if err := r.rd.Err(); err != nil {
			return nil, fmt.Errorf("sort: read run %s: %w", r.f.Name(), err)
		}
		return nil, io.EOF
	}
	rec := r.rd.RecordBatch()
	rec.Retain()
	return rec, nil
}

func (r *runReader) close() error {
	r.rd.Release()
	return r.f.Close()
}
