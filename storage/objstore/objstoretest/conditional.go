package objstoretest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/dormousedb/dormouse/storage/objstore"
)

func testPutIfAbsent(t *testing.T, s objstore.Store) {
	ctx := t.Context()
	if err := s.PutIfAbsent(ctx, "log/00001", []byte("first")); err != nil {
		t.Fatalf("first put if absent: %v", err)
	}
	if err := s.PutIfAbsent(ctx, "log/00001", []byte("second")); !errors.Is(err, objstore.ErrExists) {
		t.Fatalf("second put if absent: err %v, want ErrExists", err)
	}
	wantObject(t, s, "log/00001", []byte("first"))

	put(t, s, "plain", []byte("put"))
	if err := s.PutIfAbsent(ctx, "plain", []byte("x")); !errors.Is(err, objstore.ErrExists) {
		t.Fatalf("put if absent over put: err %v, want ErrExists", err)
	}

	if err := s.PutIfAbsent(ctx, "empty", nil); err != nil {
		t.Fatalf("put if absent empty: %v", err)
	}
	wantObject(t, s, "empty", []byte{})

	if err := s.Delete(ctx, "log/00001"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if err := s.PutIfAbsent(ctx, "log/00001", []byte("after delete")); err != nil {
		t.Fatalf("put if absent after delete: %v", err)
	}
	wantObject(t, s, "log/00001", []byte("after delete"))
}

// testPutIfAbsentRace races 16 writers for each of a few keys: exactly one
// wins each key, every other gets ErrExists, and the key holds the
// winner's bytes.
func testPutIfAbsentRace(t *testing.T, s objstore.Store) {
	const writers, rounds = 16, 4
	for round := range rounds {
		key := fmt.Sprintf("race/%04d", round)
		errs := make([]error, writers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				<-start
				errs[w] = s.PutIfAbsent(t.Context(), key, raceData(w))
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for w, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("%s: writers %d and %d both won", key, winner, w)
			case err == nil:
				winner = w
			case !errors.Is(err, objstore.ErrExists):
				t.Fatalf("%s: writer %d: %v", key, w, err)
			}
		}
		if winner < 0 {
			t.Fatalf("%s: no writer won", key)
		}
		wantObject(t, s, key, raceData(winner))
	}
}

func raceData(w int) []byte { return fmt.Appendf(nil, "writer %d wrote this", w) }
