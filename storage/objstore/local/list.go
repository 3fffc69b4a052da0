package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/dormousedb/dormouse/storage/objstore"
)

// List walks only the deepest directory that prefix names: for
// "log/0000" that is root/log, and within it only the entries whose names
// start with "0000". The result is sorted by key.
func (s *Store) List(ctx context.Context, prefix string) ([]objstore.Info, error) {
	dir, name := "", prefix
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dir, name = prefix[:i], prefix[i+1:]
		if checkKey(dir) != nil {
			// No valid key lives under an invalid directory.
			return []objstore.Info{}, nil
		}
	}
	out := []objstore.Info{}
	abs := filepath.Join(s.root, filepath.FromSlash(dir))
	if err := walk(ctx, abs, dir, name, &out); err != nil {
		return nil, fmt.Errorf("list %q: %w", prefix, err)
	}
	slices.SortFunc(out, func(a, b objstore.Info) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// walk appends to out every object below the directory abs (whose key is
// keyDir) with a name that starts with name. Files and directories that
// vanish while we walk are skipped: the walk is not a snapshot.
func walk(ctx context.Context, abs, keyDir, name string, out *[]objstore.Info) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	entries, err := os.ReadDir(abs)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		n := e.Name()
		if !strings.HasPrefix(n, name) || strings.HasPrefix(n, tmpPrefix) {
			continue
		}
		key := n
		if keyDir != "" {
			key = keyDir + "/" + n
		}
		switch {
		case e.IsDir():
			if err := walk(ctx, filepath.Join(abs, n), key, "", out); err != nil {
				return err
			}
		case e.Type().IsRegular():
			fi, err := e.Info()
			if isNotFound(err) {
				continue
			}
			if err != nil {
				return err
			}
			*out = append(*out, objstore.Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()})
		}
	}
	return nil
}

// Delete removes the object's file and then the directories that leaves
// empty, up to the root. Deleting a missing object is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	p, err := s.path(key)
	if err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	err = os.Remove(p)
	if isNotFound(err) || errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST) {
		// Missing, or a directory of other objects: no object by that key.
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	s.prune(filepath.Dir(p))
	return nil
}

// prune removes dir and its parents while they are empty. rmdir(2) fails
// on a directory that is not empty, so this never removes a concurrent
// writer's object or temporary file; a writer whose directory vanishes
// before it creates its temporary file makes the directory again.
func (s *Store) prune(dir string) {
	for dir != s.root && strings.HasPrefix(dir, s.root+string(filepath.Separator)) {
		if os.Remove(dir) != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}
