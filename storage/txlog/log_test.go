package txlog_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/objstore/local"
	"github.com/dormousedb/dormouse/storage/txlog"
)

// ledger is a small state machine: a balance that may not go negative and
// the ids of the transactions applied, in order.
type ledger struct {
	Balance int64    `json:"balance"`
	IDs     []string `json:"ids"`
}

type move struct {
	ID     string `json:"id"`
	Amount int64  `json:"amount"`
}

type ledgerMachine struct{}

var errOverdrawn = errors.New("overdrawn")

func (ledgerMachine) New() *ledger { return &ledger{} }
func (ledgerMachine) Clone(s *ledger) *ledger {
	return &ledger{Balance: s.Balance, IDs: slices.Clone(s.IDs)}
}
func (ledgerMachine) Apply(s *ledger, t move, _ txlog.Meta) error {
	if s.Balance+t.Amount < 0 {
		return errOverdrawn
	}
	s.Balance += t.Amount
	s.IDs = append(s.IDs, t.ID)
	return nil
}

func openLog(t *testing.T, store objstore.Store, opts txlog.Options) *txlog.Log[*ledger, move] {
	t.Helper()
	l, err := txlog.Open[*ledger, move](context.Background(), store, "t/", ledgerMachine{}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func newStore(t *testing.T) objstore.Store {
	s, err := local.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCommitAndReload(t *testing.T) {
	ctx := context.Background()
	for _, every := range []int{-1, 3} {
		t.Run(fmt.Sprintf("snapshot_every=%d", every), func(t *testing.T) {
			store := newStore(t)
			l := openLog(t, store, txlog.Options{SnapshotEvery: every})
			for i := 1; i <= 10; i++ {
				seq, err := l.Commit(ctx, move{ID: fmt.Sprint(i), Amount: int64(i)})
				if err != nil {
					t.Fatal(err)
				}
				if seq != uint64(i) {
					t.Fatalf("commit %d got seq %d", i, seq)
				}
			}
			if _, err := l.Commit(ctx, move{ID: "x", Amount: -1000}); !errors.Is(err, errOverdrawn) {
				t.Fatalf("got %v, want the machine's error", err)
			}
			l.WaitSnapshots()
			again := openLog(t, store, txlog.Options{})
			s, seq := again.Cached()
			if seq != 10 || s.Balance != 55 || len(s.IDs) != 10 {
				t.Fatalf("reloaded seq %d balance %d ids %v", seq, s.Balance, s.IDs)
			}
			snaps, err := store.List(ctx, "t/snapshots/")
			if err != nil {
				t.Fatal(err)
			}
			if want := max(0, 10/every); len(snaps) != want {
				t.Fatalf("got %d snapshots, want %d", len(snaps), want)
			}
		})
	}
}

// TestConcurrentCommitters races goroutines within one log (group commit)
// and several logs on one store (as separate processes would): every
// transaction lands exactly once and the log has no gaps.
func TestConcurrentCommitters(t *testing.T) {
	ctx := context.Background()
	store := newStore(t)
	const logs, workers, each = 3, 8, 25
	var wg sync.WaitGroup
	var failed atomic.Int64
	var ls []*txlog.Log[*ledger, move]
	for range logs {
		ls = append(ls, openLog(t, store, txlog.Options{SnapshotEvery: 7}))
	}
	for li, l := range ls {
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					if _, err := l.Commit(ctx, move{ID: fmt.Sprintf("%d-%d-%d", li, w, i), Amount: 1}); err != nil {
						t.Error(err)
						failed.Add(1)
					}
				}
			}()
		}
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.FailNow()
	}
	fresh := openLog(t, store, txlog.Options{})
	s, seq := fresh.Cached()
	total := logs * workers * each
	if s.Balance != int64(total) {
		t.Fatalf("balance %d, want %d", s.Balance, total)
	}
	ids := slices.Clone(s.IDs)
	slices.Sort(ids)
	if len(slices.Compact(ids)) != total {
		t.Fatal("a transaction was applied twice")
	}
	if seq >= uint64(total) {
		t.Logf("no group commit happened: %d entries for %d transactions", seq, total)
	}
	entries, err := store.List(ctx, "t/log/")
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(entries)) != seq {
		t.Fatalf("%d log objects for %d entries: a gap", len(entries), seq)
	}
	t.Logf("%d transactions in %d entries", total, seq)
}

// TestRejectedTransactionInBatch checks that one bad transaction in a group
// fails alone.
func TestRejectedTransactionInBatch(t *testing.T) {
	ctx := context.Background()
	l := openLog(t, newStore(t), txlog.Options{})
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			amount := int64(1)
			if i%5 == 0 {
				amount = -1000
			}
			_, errs[i] = l.Commit(ctx, move{ID: fmt.Sprint(i), Amount: amount})
		}()
	}
	wg.Wait()
	s, _ := l.Cached()
	for i, err := range errs {
		if (i%5 == 0) != errors.Is(err, errOverdrawn) {
			t.Fatalf("commit %d: %v", i, err)
		}
	}
	if s.Balance != 16 {
		t.Fatalf("balance %d, want 16", s.Balance)
	}
}

// flaky wraps a store whose conditional writes fail in the two ambiguous
// ways a real object store can: the write lands but an error comes back, or
// it does not land at all.
type flaky struct {
	objstore.Store
	n atomic.Int64
}

func (f *flaky) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	switch f.n.Add(1) % 3 {
	case 1:
		if err := f.Store.PutIfAbsent(ctx, key, data); err != nil {
			return err
		}
		return errors.New("connection reset after the write landed")
	case 2:
		return errors.New("timeout before the write")
	}
	return f.Store.PutIfAbsent(ctx, key, data)
}

func TestAmbiguousWrites(t *testing.T) {
	ctx := context.Background()
	store := &flaky{Store: newStore(t)}
	l := openLog(t, store, txlog.Options{})
	for i := range 12 {
		if _, err := l.Commit(ctx, move{ID: fmt.Sprint(i), Amount: 1}); err != nil {
			t.Fatal(err)
		}
	}
	fresh := openLog(t, store.Store, txlog.Options{})
	s, seq := fresh.Cached()
	if s.Balance != 12 || seq != 12 {
		t.Fatalf("balance %d at seq %d, want 12 at 12: a commit was lost or doubled", s.Balance, seq)
	}
}

func TestCorruptEntry(t *testing.T) {
	ctx := context.Background()
	store := newStore(t)
	l := openLog(t, store, txlog.Options{})
	if _, err := l.Commit(ctx, move{ID: "a", Amount: 1}); err != nil {
		t.Fatal(err)
	}
	if err := store.Put(ctx, "t/log/00000000000000000002", []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Refresh(ctx); !errors.Is(err, txlog.ErrCorrupt) {
		t.Fatalf("got %v, want ErrCorrupt", err)
	}
	if _, err := txlog.Open[*ledger, move](ctx, store, "t/", ledgerMachine{}, txlog.Options{}); !errors.Is(err, txlog.ErrCorrupt) {
		t.Fatalf("open got %v, want ErrCorrupt", err)
	}
}

func TestCancelledBeforeTurn(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	l := openLog(t, newStore(t), txlog.Options{})
	if _, err := l.Commit(ctx, move{ID: "a", Amount: 1}); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if s, seq := l.Cached(); seq != 0 || s.Balance != 0 {
		t.Fatal("a cancelled transaction was committed")
	}
}

// TestRefreshSeesOtherProcesses commits through one Log and refreshes
// another on a second Store over the same directory, as two processes
// would: every commit that returned before a Refresh began is in what
// that Refresh returns, whether or not the store skips reading because
// nothing changed (local.Store.Watch).
func TestRefreshSeesOtherProcesses(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	open := func() *txlog.Log[*ledger, move] {
		s, err := local.New(root)
		if err != nil {
			t.Fatal(err)
		}
		return openLog(t, s, txlog.Options{SnapshotEvery: 25})
	}
	writer, reader := open(), open()
	for i := range 100 {
		seq, err := writer.Commit(ctx, move{ID: fmt.Sprint(i), Amount: 1})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 { // the second finds nothing new
			st, got, err := reader.Refresh(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got != seq || st.Balance != int64(i+1) {
				t.Fatalf("commit %d at seq %d: reader at seq %d, balance %d", i, seq, got, st.Balance)
			}
		}
	}
	// Concurrently: a reader must never be behind a commit that finished
	// before its Refresh started.
	var committed atomic.Uint64
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		for i := range 300 {
			seq, err := writer.Commit(ctx, move{ID: fmt.Sprint("c", i), Amount: 1})
			if err != nil {
				t.Error(err)
				return
			}
			committed.Store(seq)
		}
	}()
	for r := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				want := committed.Load()
				rctx := ctx
				if r != 0 {
					// A statement that began after the commit finished
					// (objstore.WithFreshSince): it may reuse another
					// statement's look only if that began later still.
					start := time.Now()
					rctx = objstore.WithFreshSince(ctx, &start)
				}
				_, got, err := reader.Refresh(rctx)
				if err != nil {
					t.Error(err)
					return
				}
				if got < want {
					t.Errorf("reader %d: Refresh at seq %d after seq %d was committed", r, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}
