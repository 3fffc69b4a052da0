package local

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// RemoveStaleTemp removes the temporary files under prefix (chosen as List
// chooses objects) last written before olderThan: those of writers killed
// before they switched the file into place or removed it. List never shows
// them, so nothing else would. A writer that is still busy rewrites its
// file's modification time with every write, so only a writer idle for
// longer than the caller's margin can lose its file (and then its switch
// into place fails; nothing half-written is ever published).
//
// It returns how many files it removed and their bytes, and removes the
// directories that leaves empty, as Delete does.
func (s *Store) RemoveStaleTemp(ctx context.Context, prefix string, olderThan time.Time) (files int, bytes int64, err error) {
	dir, name := "", prefix
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dir, name = prefix[:i], prefix[i+1:]
		if checkKey(dir) != nil {
			return 0, 0, nil
		}
	}
	st := staleWalk{store: s, olderThan: olderThan}
	if err := st.walk(ctx, filepath.Join(s.root, filepath.FromSlash(dir)), name); err != nil {
		return st.files, st.bytes, fmt.Errorf("remove stale temporary files under %q: %w", prefix, err)
	}
	return st.files, st.bytes, nil
}

type staleWalk struct {
	store     *Store
	olderThan time.Time
	files     int
	bytes     int64
}

// walk removes stale temporary files below abs whose names (at this level
// only) start with name. Entries that vanish meanwhile are skipped.
func (w *staleWalk) walk(ctx context.Context, abs, name string) error {
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
	removed := false
	for _, e := range entries {
		n := e.Name()
		switch {
		case e.IsDir() && strings.HasPrefix(n, name) && !strings.HasPrefix(n, tmpPrefix):
			if err := w.walk(ctx, filepath.Join(abs, n), ""); err != nil {
				return err
			}
		case e.Type().IsRegular() && strings.HasPrefix(n, tmpPrefix) && strings.HasPrefix(n, name):
			fi, err := e.Info()
			if isNotFound(err) || (err == nil && !fi.ModTime().Before(w.olderThan)) {
				continue
			}
			if err != nil {
				return err
			}
			err = os.Remove(filepath.Join(abs, n))
			if isNotFound(err) {
				continue // its writer finished or another collector got it
			}
			if err != nil {
				return err
			}
			w.files++
			w.bytes += fi.Size()
			removed = true
		}
	}
	if removed {
		w.store.prune(abs)
	}
	return nil
}
