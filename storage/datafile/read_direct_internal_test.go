package datafile

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestDecodeHybrid32 checks the word-at-a-time unpacking of bit-packed
// runs against the value-by-value decoder, for every width, with RLE runs
// between and a count that stops mid-group.
func TestDecodeHybrid32(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for width := 1; width <= 32; width++ {
		var enc []byte
		var want []uint32
		mask := uint64(1)<<width - 1
		for range 5 {
			// A bit-packed run of some groups of eight.
			groups := 1 + rng.IntN(4)
			enc = binary.AppendUvarint(enc, uint64(groups<<1|1))
			packed := make([]byte, groups*width)
			for i := range groups * 8 {
				v := rng.Uint64() & mask
				want = append(want, uint32(v))
				for bit := range width {
					if v>>bit&1 == 1 {
						p := i*width + bit
						packed[p/8] |= 1 << (p % 8)
					}
				}
			}
			enc = append(enc, packed...)
			// An RLE run.
			run, v := 1+rng.IntN(20), uint32(rng.Uint64()&mask)
			enc = binary.AppendUvarint(enc, uint64(run<<1))
			for i := range (width + 7) / 8 {
				enc = append(enc, byte(v>>(8*i)))
			}
			for range run {
				want = append(want, v)
			}
		}
		n := len(want) - rng.IntN(8)
		got, err := decodeHybrid32(enc, width, n, nil)
		if err != nil {
			t.Fatalf("width %d: %v", width, err)
		}
		if !slices.Equal(got, want[:n]) {
			t.Fatalf("width %d: got %v\nwant %v", width, got, want[:n])
		}
	}
}
