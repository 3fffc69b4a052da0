package txlog

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dormousedb/dormouse/storage/objstore/local"
)

// TestEntryKeyFormat pins the names of log entries, which stores on disk
// already hold: entryKey builds them without fmt.
func TestEntryKeyFormat(t *testing.T) {
	l := &Log[int, int]{prefix: "tables/abc/"}
	for _, seq := range []uint64{0, 1, 42, 12345678901234567890, 99999999999999999} {
		if got, want := l.entryKey(seq), fmt.Sprintf("%slog/%020d", l.prefix, seq); got != want {
			t.Errorf("%d: %s, want %s", seq, got, want)
		}
	}
}

// TestRefreshSkipsReading checks that a Log on a watched local store
// reads nothing while nothing changes: its generation stays fresh.
func TestRefreshSkipsReading(t *testing.T) {
	ctx := context.Background()
	s, err := local.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	l, err := Open[*counter, int](ctx, s, "t/", counterMachine{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Commit(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if l.watch == nil {
		t.Skip("this file system is not watched")
	}
	if _, _, err := l.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if g := l.watch(time.Time{}); g == 0 || g != l.fresh {
		t.Fatalf("after a Refresh the generation is %d, the log read to %d", g, l.fresh)
	}
}

type counter struct{ N int }

type counterMachine struct{}

func (counterMachine) New() *counter                         { return &counter{} }
func (counterMachine) Clone(c *counter) *counter             { return &counter{N: c.N} }
func (counterMachine) Apply(c *counter, d int, _ Meta) error { c.N += d; return nil }
