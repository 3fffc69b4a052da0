package ingest

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/pierrec/lz4/v4"
)

// A spilled run is a file of encoded rows (sort_rows.go) in key order, each
// with its length, optionally in an LZ4 frame.

// runFile is a spilled run on disk.
type runFile struct {
	path string
	size int64
	rows int64
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

// runWriter writes the rows of a run.
type runWriter struct {
	w    *bufio.Writer
	rows int64
	lenb [binary.MaxVarintLen64]byte
}

// write writes a row given without its length.
func (w *runWriter) write(row []byte) error {
	w.rows++
	n := binary.PutUvarint(w.lenb[:], uint64(len(row)))
	w.w.Write(w.lenb[:n])
	_, err := w.w.Write(row)
	return err
}

// writeRun creates the run file dir/run-<seq> and lets fill write its rows;
// on error the file is removed.
func writeRun(dir string, seq int, compression string, fill func(*runWriter) error) (*runFile, error) {
	path := filepath.Join(dir, fmt.Sprintf("run-%06d", seq))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sort: create run: %w", err)
	}
	var out io.Writer = f
	var zw *lz4.Writer
	if compression == SpillLZ4 {
		zw = lz4.NewWriter(f)
		out = zw
	}
	rw := &runWriter{w: bufio.NewWriterSize(out, 1<<20)}
	err = fill(rw)
	err = errors.Join(err, rw.w.Flush())
	if zw != nil {
		err = errors.Join(err, zw.Close())
	}
	var size int64
	if err == nil {
		size, err = f.Seek(0, io.SeekCurrent)
	}
	err = errors.Join(err, f.Close())
	if err != nil {
		return nil, errors.Join(fmt.Errorf("sort: write run: %w", err), os.Remove(path))
	}
	return &runFile{path: path, size: size, rows: rw.rows}, nil
}

// block is a piece of a run read back: whole rows, in an allocated buffer.
type block struct {
	buf  *memory.Buffer
	data []byte
}

func (b *block) release() {
	if b.buf != nil {
		b.buf.Release()
		b.buf, b.data = nil, nil
	}
}

// runReader reads a run back in blocks of whole rows.
type runReader struct {
	f         *os.File
	r         io.Reader
	alloc     memory.Allocator
	blockSize int
	carry     []byte // the start of a row that did not fit the last block
	eof       bool
}

func openRun(rf *runFile, compression string, blockSize int, alloc memory.Allocator) (*runReader, error) {
	f, err := os.Open(rf.path)
	if err != nil {
		return nil, fmt.Errorf("sort: open run: %w", err)
	}
	rr := &runReader{f: f, r: f, alloc: alloc, blockSize: blockSize}
	if compression == SpillLZ4 {
		rr.r = lz4.NewReader(f)
	}
	return rr, nil
}

// next returns the next block of rows, owned by the caller, or io.EOF.
func (r *runReader) next() (*block, error) {
	if r.eof && len(r.carry) == 0 {
		return nil, io.EOF
	}
	size := max(r.blockSize, 2*len(r.carry))
	b := &block{buf: memory.NewResizableBuffer(r.alloc)}
	for {
		b.buf.Resize(size)
		data := b.buf.Bytes()
		n := copy(data, r.carry)
		if !r.eof {
			m, err := io.ReadFull(r.r, data[n:])
			n += m
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				r.eof = true
			} else if err != nil {
				b.release()
				return nil, fmt.Errorf("sort: read run: %w", err)
			}
		}
		end := wholeRows(data[:n])
		if end > 0 {
			r.carry = append(r.carry[:0], data[end:n]...)
			b.data = data[:end]
			return b, nil
		}
		if r.eof {
			b.release()
			return nil, fmt.Errorf("sort: read run %s: truncated row", r.f.Name())
		}
		// A row longer than the block: keep what was read, read more.
		r.carry = append(r.carry[:0], data[:n]...)
		size *= 2
	}
}

// wholeRows returns the length of the longest prefix of data that is whole
// rows.
func wholeRows(data []byte) int {
	end := 0
	for end < len(data) {
		n, w := binary.Uvarint(data[end:])
		if w <= 0 || end+w+int(n) > len(data) {
			break
		}
		end += w + int(n)
	}
	return end
}

func (r *runReader) close() error { return r.f.Close() }
