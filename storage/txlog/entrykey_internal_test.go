package txlog

import (
	"fmt"
	"testing"
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
