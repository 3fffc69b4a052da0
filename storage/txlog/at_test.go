package txlog_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/dormousedb/dormouse/storage/txlog"
)

// TestAt rebuilds the state at every sequence number of a log, from a
// fresh process and from the one that wrote it, with and without
// snapshots between, and refuses a number past the head.
func TestAt(t *testing.T) {
	ctx := context.Background()
	for _, every := range []int{-1, 3} {
		t.Run(fmt.Sprintf("snapshot_every=%d", every), func(t *testing.T) {
			store := newStore(t)
			w := openLog(t, store, txlog.Options{SnapshotEvery: every})
			const n = 10
			for i := 1; i <= n; i++ {
				if _, err := w.Commit(ctx, move{ID: fmt.Sprint(i), Amount: int64(i)}); err != nil {
					t.Fatal(err)
				}
			}
			w.WaitSnapshots()
			fresh := openLog(t, store, txlog.Options{})
			for _, l := range []*txlog.Log[*ledger, move]{w, fresh} {
				for seq := uint64(0); seq <= n; seq++ {
					s, err := l.At(ctx, seq)
					if err != nil {
						t.Fatalf("At(%d): %v", seq, err)
					}
					want := int64(seq * (seq + 1) / 2)
					if s.Balance != want || len(s.IDs) != int(seq) {
						t.Fatalf("At(%d): balance %d after %d moves, want %d after %d", seq, s.Balance, len(s.IDs), want, seq)
					}
				}
				if _, err := l.At(ctx, n+1); !errors.Is(err, txlog.ErrFuture) {
					t.Fatalf("At(head+1): %v, want ErrFuture", err)
				}
			}
			// The cache still holds the head.
			if s, seq := w.Cached(); seq != n || s.Balance != n*(n+1)/2 {
				t.Fatalf("cache moved to %d (balance %d)", seq, s.Balance)
			}
		})
	}
}
