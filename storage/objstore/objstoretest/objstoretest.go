package objstoretest

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/dormousedb/dormouse/storage/objstore"
)

// suite lists every conformance test.
var suite = []struct {
	name string
	fn   func(t *testing.T, s objstore.Store)
}{
	{"PutGet", testPutGet},
	{"Overwrite", testOverwrite},
	{"Missing", testMissing},
	{"GetRange", testGetRange},
	{"OpenReadAt", testOpenReadAt},
	{"Stat", testStat},
	{"List", testList},
	{"ListMany", testListMany},
	{"NestedKeys", testNestedKeys},
	{"Delete", testDelete},
	{"PutIfAbsent", testPutIfAbsent},
	{"PutIfAbsentRace", testPutIfAbsentRace},
	{"CreateSmall", testCreateSmall},
	{"CreateEmpty", testCreateEmpty},
	{"CreateLarge", testCreateLarge},
	{"CreateReplaces", testCreateReplaces},
	{"CreateAbort", testCreateAbort},
}

// Run runs the conformance suite. newStore must return a new, empty store
// each time it is called; it may register cleanups on the t it is given.
func Run(t *testing.T, newStore func(t *testing.T) objstore.Store) {
	for _, tc := range suite {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			tc.fn(t, s)
			if !t.Failed() {
				checkInvariants(t, s)
			}
		})
	}
}

// checkInvariants checks that List("") is strictly sorted and that the
// first listed objects Stat with the listed size.
func checkInvariants(t *testing.T, s objstore.Store) {
	t.Helper()
	infos, err := s.List(t.Context(), "")
	if err != nil {
		t.Fatalf("invariants: list: %v", err)
	}
	for i := 1; i < len(infos); i++ {
		if infos[i-1].Key >= infos[i].Key {
			t.Fatalf("invariants: list not strictly sorted: %q before %q", infos[i-1].Key, infos[i].Key)
		}
	}
	for _, in := range infos[:min(len(infos), 64)] {
		st, err := s.Stat(t.Context(), in.Key)
		if err != nil {
			t.Fatalf("invariants: stat listed %q: %v", in.Key, err)
		}
		if st.Size != in.Size {
			t.Fatalf("invariants: %q lists size %d, stats size %d", in.Key, in.Size, st.Size)
		}
	}
}

// randBytes returns n deterministic pseudo-random bytes.
func randBytes(seed uint64, n int) []byte {
	var key [32]byte
	key[0] = byte(seed)
	key[1] = byte(seed >> 8)
	b := make([]byte, n)
	rand.NewChaCha8(key).Read(b)
	return b
}

func put(t *testing.T, s objstore.Store, key string, data []byte) {
	t.Helper()
	if err := s.Put(t.Context(), key, data); err != nil {
		t.Fatalf("put %q: %v", key, err)
	}
}

// wantObject checks that key reads back as want, by Get and by Stat.
func wantObject(t *testing.T, s objstore.Store, key string, want []byte) {
	t.Helper()
	got, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("get %q: %v", key, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("get %q: got %s, want %s", key, show(got), show(want))
	}
	info, err := s.Stat(t.Context(), key)
	if err != nil {
		t.Fatalf("stat %q: %v", key, err)
	}
	if info.Size != int64(len(want)) {
		t.Fatalf("stat %q: size %d, want %d", key, info.Size, len(want))
	}
}

// wantMissing checks that key is not an object, by Get, Stat and Open.
func wantMissing(t *testing.T, s objstore.Store, key string) {
	t.Helper()
	if _, err := s.Get(t.Context(), key); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("get %q: err %v, want ErrNotFound", key, err)
	}
	if _, err := s.Stat(t.Context(), key); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("stat %q: err %v, want ErrNotFound", key, err)
	}
	if o, err := s.Open(t.Context(), key); !errors.Is(err, objstore.ErrNotFound) {
		if err == nil {
			o.Close()
		}
		t.Fatalf("open %q: err %v, want ErrNotFound", key, err)
	}
}

// wantKeys checks that List(prefix) returns exactly keys, in that order.
func wantKeys(t *testing.T, s objstore.Store, prefix string, keys ...string) {
	t.Helper()
	infos, err := s.List(t.Context(), prefix)
	if err != nil {
		t.Fatalf("list %q: %v", prefix, err)
	}
	got := []string{}
	for _, in := range infos {
		got = append(got, in.Key)
	}
	if keys == nil {
		keys = []string{}
	}
	if !slices.Equal(got, keys) {
		t.Fatalf("list %q:\n got %q\nwant %q", prefix, got, keys)
	}
}

// show abbreviates data for failure messages.
func show(b []byte) string {
	if len(b) <= 32 {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%d bytes %q...", len(b), b[:16])
}

// parallel runs fn(i) for i in [0, n) on workers goroutines and returns
// the errors in index order.
func parallel(n, workers int, fn func(i int) error) []error {
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				errs[i] = fn(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return errs
}

// firstErr returns the first non-nil error.
func firstErr(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// seq returns fmt.Sprintf(format, i) for i in [from, to).
func seq(format string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf(format, i))
	}
	return out
}
