package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/dormousedb/dormouse/storage/objstore"
)

// filePerm is the mode of published objects; temporary files start 0600.
const filePerm = 0o644

// createAttempts bounds the retries when a concurrent Delete removes the
// directory between our mkdir and our create.
const createAttempts = 10

// Put writes the object through a temporary file renamed over the key.
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	p, err := s.path(key)
	if err != nil {
		return fmt.Errorf("put: %w", err)
	}
	tmp, err := s.writeTemp(filepath.Dir(p), data)
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("put %s: %w", key, err)
	}
	if err := syncDir(filepath.Dir(p)); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// PutIfAbsent writes a complete temporary file and hard-links it to the
// key. link(2) refuses an existing name, so exactly one of any number of
// racing writers, in any number of processes, succeeds.
func (s *Store) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put if absent %s: %w", key, err)
	}
	p, err := s.path(key)
	if err != nil {
		return fmt.Errorf("put if absent: %w", err)
	}
	tmp, err := s.writeTemp(filepath.Dir(p), data)
	if err != nil {
		return fmt.Errorf("put if absent %s: %w", key, err)
	}
	linkErr := os.Link(tmp, p)
	rmErr := os.Remove(tmp)
	if errors.Is(linkErr, fs.ErrExist) {
		return fmt.Errorf("put if absent %s: %w", key, objstore.ErrExists)
	}
	if linkErr != nil {
		return fmt.Errorf("put if absent %s: %w", key, linkErr)
	}
	// The object is in place; a leftover temporary file is only litter.
	_ = rmErr
	if err := syncDir(filepath.Dir(p)); err != nil {
		return fmt.Errorf("put if absent %s: %w", key, err)
	}
	return nil
}

// writeTemp writes data to a new, fsynced temporary file in dir and returns
// its name. The caller switches it into place or removes it.
func (s *Store) writeTemp(dir string, data []byte) (string, error) {
	f, err := s.createTemp(dir)
	if err != nil {
		return "", err
	}
	if err := finishTemp(f, data); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// finishTemp writes data, fsyncs, makes the file readable and closes it.
func finishTemp(f *os.File, data []byte) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = f.Chmod(filePerm)
	}
	return errors.Join(err, f.Close())
}

// createTemp creates a temporary file in dir, creating dir if needed.
func (s *Store) createTemp(dir string) (*os.File, error) {
	var err error
	for range createAttempts {
		if err = s.mkdirs(dir); err != nil {
			if isNotFound(err) {
				continue
			}
			return nil, err
		}
		var f *os.File
		f, err = os.CreateTemp(dir, tmpPrefix+"*")
		if err == nil {
			return f, nil
		}
		if !isNotFound(err) {
			return nil, err
		}
		// A concurrent Delete pruned dir after we made it: again.
	}
	return nil, err
}

// mkdirs is os.MkdirAll that also fsyncs the parent of every directory it
// creates, so that a published object's path survives a crash.
func (s *Store) mkdirs(dir string) error {
	if dir == s.root || len(dir) < len(s.root) {
		return nil
	}
	err := os.Mkdir(dir, 0o755)
	if isNotFound(err) {
		if err := s.mkdirs(filepath.Dir(dir)); err != nil {
			return err
		}
		err = os.Mkdir(dir, 0o755)
	}
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return syncDir(filepath.Dir(dir))
}

// Create starts a streamed write into a temporary file in the key's
// directory; Close renames it into place.
func (s *Store) Create(ctx context.Context, key string) (objstore.Writer, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("create %s: %w", key, err)
	}
	p, err := s.path(key)
	if err != nil {
		return nil, fmt.Errorf("create: %w", err)
	}
	f, err := s.createTemp(filepath.Dir(p))
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", key, err)
	}
	return &writer{key: key, path: p, f: f}, nil
}

// writer is a streamed upload into a temporary file. It is not safe for
// concurrent use.
type writer struct {
	key  string
	path string
	f    *os.File
	done bool // Close or Abort was called
}

var errFinished = errors.New("writer already closed or aborted")

func (w *writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, fmt.Errorf("write %s: %w", w.key, errFinished)
	}
	return w.f.Write(p)
}

// Close fsyncs the temporary file and renames it over the key. On error
// nothing is published and the temporary file is removed.
func (w *writer) Close() error {
	if w.done {
		return fmt.Errorf("close %s: %w", w.key, errFinished)
	}
	w.done = true
	tmp := w.f.Name()
	if err := finishTemp(w.f, nil); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("close %s: %w", w.key, err)
	}
	if err := os.Rename(tmp, w.path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("close %s: %w", w.key, err)
	}
	if err := syncDir(filepath.Dir(w.path)); err != nil {
		return fmt.Errorf("close %s: %w", w.key, err)
	}
	return nil
}

// Abort discards the temporary file. After Close or Abort it does nothing,
// so "defer w.Abort()" is a safe pattern.
func (w *writer) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	tmp := w.f.Name()
	if err := errors.Join(w.f.Close(), os.Remove(tmp)); err != nil {
		return fmt.Errorf("abort %s: %w", w.key, err)
	}
	return nil
}
