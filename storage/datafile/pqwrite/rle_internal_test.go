package pqwrite

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"
)

// decodeHybrid decodes n values of width bits of the RLE/bit-packed
// hybrid: the reference the encoder is checked against.
func decodeHybrid(t *testing.T, b []byte, width uint, n int) []uint64 {
	t.Helper()
	var out []uint64
	for len(out) < n {
		h, k := binary.Uvarint(b)
		if k <= 0 {
			t.Fatalf("bad run header after %d values", len(out))
		}
		b = b[k:]
		if h&1 == 0 {
			var v uint64
			nb := int(width+7) / 8
			for i := range nb {
				v |= uint64(b[i]) << (8 * i)
			}
			b = b[nb:]
			for range h >> 1 {
				out = append(out, v)
			}
			continue
		}
		groups := int(h >> 1)
		bitPos := 0
		for range groups * 8 {
			var v uint64
			for j := range int(width) {
				p := bitPos + j
				v |= uint64(b[p/8]>>(p%8)&1) << j
			}
			bitPos += int(width)
			out = append(out, v)
		}
		b = b[groups*int(width):]
	}
	return out[:n]
}

func TestRLEEncoder(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var e rleEncoder
	for trial := range 2000 {
		width := uint(1 + rng.IntN(20))
		if trial%3 == 0 {
			width = 1
		}
		n := rng.IntN(2000)
		var want []uint64
		e.reset(width)
		for len(want) < n {
			v := rng.Uint64() & (1<<width - 1)
			run := 1
			if rng.IntN(3) == 0 {
				run = rng.IntN(100)
			}
			for range run {
				want = append(want, v)
			}
			if rng.IntN(2) == 0 {
				e.putRun(v, run)
			} else {
				for range run {
					e.put(v)
				}
			}
		}
		got := decodeHybrid(t, e.finish(), width, len(want))
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d, width %d: decoded differently", trial, width)
		}
	}
}

func TestValidRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 1000 {
		n := rng.IntN(300)
		off := rng.IntN(16)
		bits := make([]byte, (n+off+7)/8+1)
		var want []bool
		for i := range n {
			v := rng.IntN(4) != 0
			if rng.IntN(2) == 0 && i > 0 {
				v = want[i-1]
			}
			want = append(want, v)
			if v {
				bits[(i+off)/8] |= 1 << ((i + off) % 8)
			}
		}
		lo := rng.IntN(n + 1)
		hi := lo + rng.IntN(n-lo+1)
		r := validRuns{bits: bits, off: off, pos: lo, end: hi}
		pos := lo
		for {
			s, e, v, ok := r.next()
			if !ok {
				break
			}
			if s != pos || e <= s {
				t.Fatalf("run [%d, %d) after %d", s, e, pos)
			}
			for i := s; i < e; i++ {
				if want[i] != v {
					t.Fatalf("row %d in a run of %v", i, v)
				}
			}
			if e < hi && want[e] == v {
				t.Fatalf("run ends at %d before its end", e)
			}
			pos = e
		}
		if pos != hi {
			t.Fatalf("runs end at %d, want %d", pos, hi)
		}
	}
}

// TestPack32 checks pack32 at every width against a bit-by-bit packer,
// after bytes already in dst (kept), with values at their width's
// largest, random, and zero: each of its three paths (narrow, mid,
// general) is met.
func TestPack32(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for width := uint(0); width <= 64; width++ {
		mask := uint64(0)
		if width > 0 {
			mask = ^uint64(0) >> (64 - width)
		}
		for _, kind := range []string{"max", "random", "zero"} {
			vals := make([]uint64, 32)
			for i := range vals {
				switch kind {
				case "max":
					vals[i] = mask
				case "random":
					vals[i] = rng.Uint64() & mask
				}
			}
			want := []byte("head")
			var bitPos uint
			for _, v := range vals {
				for b := range width {
					if bitPos%8 == 0 {
						want = append(want, 0)
					}
					want[len(want)-1] |= byte(v>>b&1) << (bitPos % 8)
					bitPos++
				}
			}
			got := pack32([]byte("head"), vals, width)
			if !bytes.Equal(got, want) {
				t.Fatalf("width %d, %s values: packed %x, want %x", width, kind, got, want)
			}
		}
	}
}
