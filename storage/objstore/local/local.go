package local

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/dormousedb/dormouse/storage/objstore"
)

// tmpPrefix starts the name of every temporary file. List skips such names
// and keys may not contain a component that starts with it.
const tmpPrefix = ".dormouse-tmp-"

// Store is an objstore.Store on a directory tree. It holds no state besides
// the root, so any number of Stores and processes may share one root.
type Store struct {
	root string // absolute, cleaned
	url  string // "file://" + root, made once: readers key caches by it

	watchOnce sync.Once
	watch     *watcher // nil: the store cannot watch (see Watch)
}

var _ objstore.Store = (*Store)(nil)

// New returns a Store rooted at root, creating the directory if needed.
func New(root string) (*Store, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("local store %s: %w", root, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("local store: %w", err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("local store: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("local store %s: not a directory", abs)
	}
	return &Store{root: abs, url: "file://" + filepath.ToSlash(abs)}, nil
}

// Root returns the absolute directory the store keeps its objects in.
func (s *Store) Root() string { return s.root }

// URL returns "file://" followed by the absolute root.
func (s *Store) URL() string { return s.url }

// path checks key and returns the file that holds it.
func (s *Store) path(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	if filepath.Separator == '/' && s.root != "/" {
		// checkKey leaves no empty, "." or ".." component: the joined
		// path is clean already (Join would clean it again, on every
		// read of the log's next entry).
		return s.root + "/" + key, nil
	}
	return filepath.Join(s.root, filepath.FromSlash(key)), nil
}

// checkKey rejects keys that could escape the root or collide with our
// temporary files.
func checkKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	}
	if strings.IndexByte(key, 0) >= 0 {
		return fmt.Errorf("%w %q: contains NUL", ErrInvalidKey, key)
	}
	for c := range strings.SplitSeq(key, "/") {
		switch {
		case c == "":
			return fmt.Errorf("%w %q: empty path component", ErrInvalidKey, key)
		case c == "." || c == "..":
			return fmt.Errorf("%w %q: %q path component", ErrInvalidKey, key, c)
		case strings.HasPrefix(c, tmpPrefix):
			return fmt.Errorf("%w %q: reserved temporary-file name", ErrInvalidKey, key)
		}
	}
	return nil
}

// isNotFound reports whether err from the file system means "no such
// object": the file is missing or a parent is not a directory.
func isNotFound(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// syncDir fsyncs a directory so that entries created, renamed or linked in
// it survive a crash.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}
