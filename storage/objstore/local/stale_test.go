package local_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/dormousedb/dormouse/storage/objstore"
)

// TestRemoveStaleTemp leaves temporary files as a killed writer would and
// checks that only those under the prefix and last written before the
// cut-off go, that objects stay, and that a writer whose file went cannot
// publish it.
func TestRemoveStaleTemp(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	for _, k := range []string{"t/a/data/1", "t/a/log/1", "t/b/data/1"} {
		if err := s.Put(ctx, k, []byte("object")); err != nil {
			t.Fatal(err)
		}
	}
	// Writers that never finish: two old ones under t/a, one old under t/b,
	// a fresh one under t/a, and one old in a directory of its own.
	var writers []objstore.Writer
	defer func() {
		for _, w := range writers {
			w.Abort() // after Close, or for a writer whose file went: nothing to undo
		}
	}()
	open := func(key string, age time.Duration) string {
		pattern := filepath.Join(s.Root(), filepath.FromSlash(filepath.Dir(key)), ".dormouse-tmp-*")
		before, _ := filepath.Glob(pattern)
		w, err := s.Create(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("partial")); err != nil {
			t.Fatal(err)
		}
		writers = append(writers, w)
		after, _ := filepath.Glob(pattern)
		tmp := ""
		for _, p := range after {
			if !slices.Contains(before, p) {
				tmp = p
			}
		}
		when := time.Now().Add(-age)
		if err := os.Chtimes(tmp, when, when); err != nil {
			t.Fatal(err)
		}
		return tmp
	}
	oldData := open("t/a/data/2", 2*time.Hour)
	oldLog := open("t/a/log/2", 3*time.Hour)
	otherTable := open("t/b/data/2", 2*time.Hour)
	fresh := open("t/a/data/3", 0)
	lonely := open("t/a/lonely/x", 2*time.Hour)

	files, bytes, err := s.RemoveStaleTemp(ctx, "t/a/", time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if files != 3 || bytes != 3*int64(len("partial")) {
		t.Errorf("removed %d files, %d bytes; want 3, %d", files, bytes, 3*len("partial"))
	}
	for path, want := range map[string]bool{oldData: false, oldLog: false, lonely: false, otherTable: true, fresh: true} {
		if _, err := os.Stat(path); (err == nil) != want {
			t.Errorf("%s exists: %v, want %v", path, err == nil, want)
		}
	}
	if _, err := os.Stat(filepath.Join(s.Root(), "t", "a", "lonely")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("directory left empty was kept: %v", err)
	}
	for _, k := range []string{"t/a/data/1", "t/a/log/1", "t/b/data/1"} {
		if _, err := s.Get(ctx, k); err != nil {
			t.Errorf("object %s: %v", k, err)
		}
	}
	// The writer of a removed file fails to publish; the fresh one succeeds.
	if err := writers[0].Close(); err == nil {
		t.Error("a writer whose temporary file was removed published it")
	}
	if _, err := s.Get(ctx, "t/a/data/2"); err == nil {
		t.Error("t/a/data/2 published")
	}
	if err := writers[3].Close(); err != nil {
		t.Errorf("fresh writer: %v", err)
	}
	// A second pass finds nothing.
	if files, _, err := s.RemoveStaleTemp(ctx, "t/a/", time.Now().Add(-time.Hour)); err != nil || files != 0 {
		t.Errorf("second pass removed %d (%v), want 0", files, err)
	}
}
