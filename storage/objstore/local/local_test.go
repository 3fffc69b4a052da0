package local_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/objstore/local"
	"github.com/dormousedb/dormouse/storage/objstore/objstoretest"
)

func newStore(t *testing.T) *local.Store {
	t.Helper()
	s, err := local.New(t.TempDir())
	if err != nil {
		t.Fatalf("new: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	objstoretest.Run(t, func(t *testing.T) objstore.Store { return newStore(t) })
}

func TestURL(t *testing.T) {
	dir := t.TempDir()
	s, err := local.New(filepath.Join(dir, "new", "root"))
	if err != nil {
		t.Fatalf("new: %v", err)
	}
	if want := "file://" + filepath.Join(dir, "new", "root"); s.URL() != want {
		t.Fatalf("url %q, want %q", s.URL(), want)
	}
}

func TestNewOnFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := local.New(f); err == nil {
		t.Fatalf("new on a file: no error")
	}
}

func TestInvalidKeys(t *testing.T) {
	s := newStore(t)
	for _, key := range []string{
		"", "/abs", "a//b", "a/", "./a", "a/../../etc/passwd", "..", "a/.dormouse-tmp-123", "nul\x00",
	} {
		t.Run(fmt.Sprintf("%q", key), func(t *testing.T) {
			if err := s.Put(t.Context(), key, nil); !errors.Is(err, local.ErrInvalidKey) {
				t.Fatalf("put: err %v, want ErrInvalidKey", err)
			}
			if _, err := s.Get(t.Context(), key); !errors.Is(err, local.ErrInvalidKey) {
				t.Fatalf("get: err %v, want ErrInvalidKey", err)
			}
		})
	}
	t.Run("list outside the root", func(t *testing.T) {
		infos, err := s.List(t.Context(), "../")
		if err != nil || len(infos) != 0 {
			t.Fatalf("list ../ = %v, %v; want nothing", infos, err)
		}
	})
}

// TestTempFilesHidden checks that an upload in progress, and a temporary
// file left by a crash, are neither listed nor readable.
func TestTempFilesHidden(t *testing.T) {
	s := newStore(t)
	w, err := s.Create(t.Context(), "dir/obj")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if _, err := w.Write([]byte("pending")); err != nil {
		t.Fatal(err)
	}
	tmps, _ := filepath.Glob(filepath.Join(s.Root(), "dir", ".dormouse-tmp-*"))
	if len(tmps) != 1 {
		t.Fatalf("temporary files %q, want one", tmps)
	}
	for _, prefix := range []string{"", "dir/", "dir/.dormouse"} {
		infos, err := s.List(t.Context(), prefix)
		if err != nil || len(infos) != 0 {
			t.Fatalf("list %q = %v, %v; want nothing", prefix, infos, err)
		}
	}
}

func TestDeletePrunesEmptyDirs(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	for _, k := range []string{"a/b/c/1", "a/x"} {
		if err := s.Put(ctx, k, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(ctx, "a/b/c/1"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.Root(), "a", "b")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a/b still there after its last object went: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.Root(), "a", "x")); err != nil {
		t.Fatalf("sibling object gone: %v", err)
	}
	if _, err := os.Stat(s.Root()); err != nil {
		t.Fatalf("root gone: %v", err)
	}
}

// TestConcurrentPutDelete races writers with Deletes that prune the
// directories the writers need: no call may fail.
func TestConcurrentPutDelete(t *testing.T) {
	s := newStore(t)
	const workers, rounds = 8, 50
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				key := fmt.Sprintf("x/y/z/%d", w)
				var err error
				switch r % 3 {
				case 0:
					err = s.Put(t.Context(), key, []byte("put"))
				case 1:
					err = s.PutIfAbsent(t.Context(), key, []byte("put if absent"))
				case 2:
					var cw objstore.Writer
					if cw, err = s.Create(t.Context(), key); err == nil {
						err = cw.Close()
					}
				}
				if err == nil {
					err = s.Delete(t.Context(), key)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	entries, err := os.ReadDir(s.Root())
	if err != nil || len(entries) != 0 {
		t.Fatalf("root after all deletes: %v, %v; want empty", entries, err)
	}
}

// childEnv, when set in a re-executed test binary, makes
// TestCrossProcessPutIfAbsent act as one racing process: "root,id".
const childEnv = "DORMOUSE_LOCAL_PUTIFABSENT_CHILD"

const raceKeys = 200

// TestCrossProcessPutIfAbsent runs four processes that each PutIfAbsent
// the same keys in the same order: every key must have exactly one winner
// and hold that winner's bytes.
func TestCrossProcessPutIfAbsent(t *testing.T) {
	if v := os.Getenv(childEnv); v != "" {
		raceChild(t, v)
		return
	}
	const procs = 4
	s := newStore(t)
	cmds := make([]*exec.Cmd, procs)
	outs := make([]*bytes.Buffer, procs)
	for i := range procs {
		cmds[i] = exec.Command(os.Args[0], "-test.run=^TestCrossProcessPutIfAbsent$", "-test.count=1")
		cmds[i].Env = append(os.Environ(), fmt.Sprintf("%s=%s,%d", childEnv, s.Root(), i))
		outs[i] = new(bytes.Buffer)
		cmds[i].Stdout, cmds[i].Stderr = outs[i], outs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatalf("start child %d: %v", i, err)
		}
	}
	winners := map[string]int{}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("child %d: %v\n%s", i, err, outs[i])
		}
		sc := bufio.NewScanner(outs[i])
		for sc.Scan() {
			key, ok := strings.CutPrefix(sc.Text(), "WON ")
			if !ok {
				continue
			}
			if w, dup := winners[key]; dup {
				t.Fatalf("%s: processes %d and %d both won", key, w, i)
			}
			winners[key] = i
		}
	}
	wins := make([]int, procs)
	for _, w := range winners {
		wins[w]++
	}
	t.Logf("keys won per process: %v", wins)
	if len(winners) != raceKeys {
		t.Fatalf("%d keys have a winner, want %d", len(winners), raceKeys)
	}
	for key, w := range winners {
		got, err := s.Get(t.Context(), key)
		if err != nil || string(got) != childData(w) {
			t.Fatalf("%s = %q, %v; want winner %d's bytes", key, got, err, w)
		}
	}
}

// raceChild is one racing process: it prints "WON key" for every key it
// created.
func raceChild(t *testing.T, arg string) {
	root, id, _ := strings.Cut(arg, ",")
	var n int
	fmt.Sscan(id, &n)
	s, err := local.New(root)
	if err != nil {
		t.Fatal(err)
	}
	for k := range raceKeys {
		key := fmt.Sprintf("log/%05d", k)
		err := s.PutIfAbsent(t.Context(), key, []byte(childData(n)))
		switch {
		case err == nil:
			fmt.Printf("WON %s\n", key)
		case !errors.Is(err, objstore.ErrExists):
			t.Fatalf("put if absent %s: %v", key, err)
		}
	}
}

func childData(id int) string { return fmt.Sprintf("process %d", id) }
