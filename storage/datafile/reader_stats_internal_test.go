package datafile

import (
	"testing"

	"github.com/apache/arrow-go/v18/parquet"
)

// TestOrderedStats: a byte-array chunk whose max is missing (arrow-go
// wrote the min alone when the max passed 4096 bytes; its reader reports
// an empty max) has no statistics to prune by.
func TestOrderedStats(t *testing.T) {
	for _, c := range []struct {
		phys     parquet.Type
		min, max string
		want     bool
	}{
		{parquet.Types.ByteArray, "b", "", false},
		{parquet.Types.ByteArray, "b", "z", true},
		{parquet.Types.ByteArray, "", "", true},
		{parquet.Types.ByteArray, "b", "b", true},
		{parquet.Types.Int64, "\x02\x00\x00\x00\x00\x00\x00\x00", "\x01\x00\x00\x00\x00\x00\x00\x00", true},
	} {
		if got := ordered(c.phys, []byte(c.min), []byte(c.max)); got != c.want {
			t.Errorf("ordered(%v, %q, %q) = %v, want %v", c.phys, c.min, c.max, got, c.want)
		}
	}
}
