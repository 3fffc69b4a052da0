package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/dormousedb/dormouse/storage/objstore"
)

// Get reads the whole object.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	data, err := s.getRange(ctx, key, 0, -1)
	if err != nil {
		return nil, &keyError{op: "get", key: key, err: err}
	}
	return data, nil
}

// GetRange reads length bytes at offset, cut short at the end of the
// object; length < 0 reads to the end. An offset at or past the end gives
// an empty slice.
func (s *Store) GetRange(ctx context.Context, key string, offset, length int64) ([]byte, error) {
	data, err := s.getRange(ctx, key, offset, length)
	if err != nil {
		return nil, &keyError{op: "get range", key: key, err: err}
	}
	return data, nil
}

func (s *Store) getRange(ctx context.Context, key string, offset, length int64) ([]byte, error) {
	if offset < 0 {
		return nil, fmt.Errorf("negative offset %d", offset)
	}
	f, size, err := s.open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if offset >= size {
		return []byte{}, nil
	}
	n := size - offset
	if length >= 0 && length < n {
		n = length
	}
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, offset); err != nil {
		return nil, err
	}
	return buf, nil
}

// Open returns the open file. Reads go straight to the file system; the
// object stays readable even if it is replaced or deleted meanwhile.
func (s *Store) Open(ctx context.Context, key string) (objstore.Object, error) {
	f, size, err := s.open(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	return &object{File: f, size: size}, nil
}

// Stat returns the object's size and modification time.
func (s *Store) Stat(ctx context.Context, key string) (objstore.Info, error) {
	if err := ctx.Err(); err != nil {
		return objstore.Info{}, fmt.Errorf("stat %s: %w", key, err)
	}
	p, err := s.path(key)
	if err != nil {
		return objstore.Info{}, fmt.Errorf("stat: %w", err)
	}
	fi, err := os.Stat(p)
	if isNotFound(err) || err == nil && !fi.Mode().IsRegular() {
		return objstore.Info{}, fmt.Errorf("stat %s: %w", key, objstore.ErrNotFound)
	}
	if err != nil {
		return objstore.Info{}, fmt.Errorf("stat %s: %w", key, err)
	}
	return objstore.Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// open opens the object's file and returns it with its size. A missing
// file, or a directory, is ErrNotFound.
func (s *Store) open(ctx context.Context, key string) (*os.File, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	p, err := s.path(key)
	if err != nil {
		return nil, 0, err
	}
	f, err := os.Open(p)
	if isNotFound(err) {
		return nil, 0, objstore.ErrNotFound
	}
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = objstore.ErrNotFound
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

// object is an open file with the size it had when opened.
type object struct {
	*os.File
	size int64
}

func (o *object) Size() int64 { return o.size }

// ReadAt reads from the file; it returns io.EOF when p runs past the end.
func (o *object) ReadAt(p []byte, off int64) (int, error) {
	n, err := o.File.ReadAt(p, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return n, fmt.Errorf("read %s: %w", o.Name(), err)
	}
	return n, err
}

// keyError is an error reading a key: what Get and GetRange return, made
// without fmt because every statement meets one (the log's next entry is
// not there, which is how a reader learns it is up to date).
type keyError struct {
	op, key string
	err     error
}

func (e *keyError) Error() string { return e.op + " " + e.key + ": " + e.err.Error() }
func (e *keyError) Unwrap() error { return e.err }
