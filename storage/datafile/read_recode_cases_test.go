package datafile

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// deltaPack encodes vals DELTA_BINARY_PACKED (blocks of 128 values in 4
// miniblocks), computing deltas in 64 bits, as a writer of INT64 does.
func deltaPack(vals []int64) []byte { return deltaPackAs(vals, false) }

// deltaPackAs is deltaPack with deltas wrapped to 32 bits when wrap32 is
// set, as the spec asks of INT32 (older arrow-go computed them in 64).
func deltaPackAs(vals []int64, wrap32 bool) []byte {
	zz := func(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }
	b := binary.AppendUvarint(nil, 128)
	b = binary.AppendUvarint(b, 4)
	b = binary.AppendUvarint(b, uint64(len(vals)))
	if len(vals) == 0 {
		return binary.AppendUvarint(b, 0)
	}
	b = binary.AppendUvarint(b, zz(vals[0]))
	deltas := make([]int64, 0, len(vals))
	for i := 1; i < len(vals); i++ {
		d := vals[i] - vals[i-1]
		if wrap32 {
			d = int64(int32(d))
		}
		deltas = append(deltas, d)
	}
	for len(deltas) > 0 {
		block := deltas[:min(128, len(deltas))]
		deltas = deltas[len(block):]
		minDelta := int64(math.MaxInt64)
		for _, d := range block {
			minDelta = min(minDelta, d)
		}
		b = binary.AppendUvarint(b, zz(minDelta))
		widthsAt := len(b)
		b = append(b, 0, 0, 0, 0)
		for m := 0; m < 4 && m*32 < len(block); m++ {
			mini := block[m*32 : min(len(block), m*32+32)]
			w := 0
			for _, d := range mini {
				w = max(w, bits.Len64(uint64(d-minDelta)))
			}
			b[widthsAt+m] = byte(w)
			var acc, nacc uint64
			put := func(v uint64, w int) {
				for k := 0; k < w; k++ {
					acc |= (v >> k & 1) << nacc
					if nacc++; nacc == 8 {
						b = append(b, byte(acc))
						acc, nacc = 0, 0
					}
				}
			}
			for j := range 32 {
				var v uint64
				if j < len(mini) {
					v = uint64(mini[j] - minDelta)
				}
				put(v, w)
			}
		}
	}
	return b
}

// TestDeltaIntsNoValues decodes a page of no values (a page of
// NULLs) after 7 bytes of levels into a buffer with one byte to spare:
// nothing, and (under -race) no cast of the spare byte to a *uint64,
// which checkptr kills the process for.
func TestDeltaIntsNoValues(t *testing.T) {
	for _, width := range []int{4, 8} {
		dst := make([]byte, 7, 8)
		out, used, err := appendDeltaInts(dst, width, deltaPack(nil), 64)
		if err != nil || len(out) != 7 || used != len(deltaPack(nil)) {
			t.Errorf("width %d: %d bytes, used %d, %v", width, len(out), used, err)
		}
	}
}

// TestDeltaIntsBlockCounts decodes runs of every length about the
// block size, arithmetic (every block zero-width: the fewest bytes a
// block takes) and not.
func TestDeltaIntsBlockCounts(t *testing.T) {
	for n := 0; n < 600; n++ {
		for _, step := range []int64{0, 3, -1, math.MaxInt64} {
			vals := make([]int64, n)
			for i := range vals {
				vals[i] = int64(i) * step
				if step == math.MaxInt64 && i%3 == 1 {
					vals[i] = math.MinInt64 + int64(i)
				}
			}
			out, used, err := appendDeltaInts(nil, 8, deltaPack(vals), n)
			if err != nil {
				t.Fatalf("%d values of step %d: %v", n, step, err)
			}
			if used != len(deltaPack(vals)) || len(out) != 8*n {
				t.Fatalf("%d values of step %d: used %d of %d bytes, %d out", n, step, used, len(deltaPack(vals)), len(out))
			}
			for i, v := range vals {
				if got := int64(binary.LittleEndian.Uint64(out[8*i:])); got != v {
					t.Fatalf("%d values of step %d: value %d is %d, want %d", n, step, i, got, v)
				}
			}
		}
	}
}

// TestDeltaBytesTooLong decodes a corrupt DELTA_BYTE_ARRAY page of
// 33 KB whose values, each the whole of the one before, would take more
// than 2 GiB: more than int32 offsets reach. An error, not a 2 GiB
// buffer with offsets wrapped negative.
func TestDeltaBytesTooLong(t *testing.T) {
	const n, l = 1 << 16, 1<<15 + 1
	prefixes, lens := make([]int64, n), make([]int64, n)
	lens[0] = l
	for i := 1; i < n; i++ {
		prefixes[i] = l
	}
	page := append(deltaPack(prefixes), deltaPack(lens)...)
	page = append(page, make([]byte, l)...)
	out, offs, err := appendDeltaBytes(nil, page, n, nil, new(recodeScratch))
	if err == nil {
		t.Fatalf("decoded %d bytes, last offset %d", len(out), offs[len(offs)-1])
	}
}

// TestDeltaInt32Wraps decodes INT32 extremes, alternating, with
// deltas wrapped to 32 bits and with deltas of up to 33 bits.
func TestDeltaInt32Wraps(t *testing.T) {
	vals := make([]int64, 300)
	for i := range vals {
		vals[i] = []int64{math.MinInt32, math.MaxInt32, 0, -1, math.MaxInt32 - 1, math.MinInt32 + 1}[(i*i+i/7)%6]
	}
	for _, wrap := range []bool{false, true} {
		out, _, err := appendDeltaInts(nil, 4, deltaPackAs(vals, wrap), len(vals))
		if err != nil {
			t.Fatalf("wrap32 %v: %v", wrap, err)
		}
		for i, v := range vals {
			if got := int32(binary.LittleEndian.Uint32(out[4*i:])); int64(got) != v {
				t.Fatalf("wrap32 %v: value %d is %d, want %d", wrap, i, got, v)
			}
		}
	}
}

// TestDeltaBytesNullPage decodes a DELTA_BYTE_ARRAY page of no
// values as arrow-go writes one after a page of values: the prefix
// lengths' header (no values), then stale bytes instead of the suffixes'
// header.
func TestDeltaBytesNullPage(t *testing.T) {
	page := append(deltaPack(nil), make([]byte, 45)...)
	page = append(page, 0x80, 0x01, 0x04, 0x00, 0x20)
	out, offs, err := appendDeltaBytes([]byte{1, 2}, page, 3, nil, new(recodeScratch))
	if err != nil || len(out) != 2 || len(offs) != 1 || offs[0] != 0 {
		t.Fatalf("%d bytes, offsets %v, %v", len(out), offs, err)
	}
}

// TestUnpackDeltas checks unpackDeltas at every width, for miniblocks of
// 32 and 64 values and shorter tails (the one-load-per-eight path for
// widths up to 8, and the value-at-a-time one), alone and with the page
// going on after them, against the sums of the deltas packed bit by bit.
func TestUnpackDeltas(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for w := 0; w <= 64; w++ {
		for _, n := range []int{1, 7, 8, 9, 31, 32, 64} {
			deltas := make([]uint64, n)
			var packed []byte
			var bit int
			for i := range deltas {
				if w > 0 {
					deltas[i] = rng.Uint64() >> (64 - w)
				}
				for b := range w {
					if bit%8 == 0 {
						packed = append(packed, 0)
					}
					packed[len(packed)-1] |= byte(deltas[i]>>b&1) << (bit % 8)
					bit++
				}
			}
			const minDelta, start = 3, 1000
			// The miniblock alone, and followed by more of the page (read
			// in place, not copied, at widths up to 8).
			exact := packed[:len(packed):len(packed)]
			more := append(append([]byte(nil), packed...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)[:len(packed)]
			for name, p := range map[string][]byte{"alone": exact, "in a page": more} {
				got := make([]uint64, n)
				last := unpackDeltas(p, w, minDelta, start, got)
				prev := uint64(start)
				for i, d := range deltas {
					prev += minDelta + d
					if got[i] != prev {
						t.Fatalf("width %d, %d values %s: value %d is %d, want %d", w, n, name, i, got[i], prev)
					}
				}
				if last != prev {
					t.Fatalf("width %d, %d values %s: returned %d, want %d", w, n, name, last, prev)
				}
				got32 := make([]uint32, n)
				unpackDeltas(p, w, minDelta, start, got32)
				for i := range got {
					if got32[i] != uint32(got[i]) {
						t.Fatalf("width %d, %d values %s, uint32: value %d is %d, want %d", w, n, name, i, got32[i], uint32(got[i]))
					}
				}
			}
		}
	}
}

// TestDeltaBytesLengths decodes DELTA_BYTE_ARRAY pages whose values
// take every prefix length from 0 to 18 after values of every length
// from 0 to 18, with suffixes of 0 to 18 bytes (the register path for
// values of up to 16 bytes, the copying one past it, and the change
// from one to the other), each page ending with the shortest suffixes
// so that the last values have fewer than 16 bytes of page after them.
func TestDeltaBytesLengths(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	var vals [][]byte
	for range 4000 {
		var v []byte
		if len(vals) > 0 {
			prev := vals[len(vals)-1]
			v = append(v, prev[:rng.IntN(min(len(prev), 18)+1)]...)
		}
		for range rng.IntN(19) {
			v = append(v, byte(rng.IntN(256)))
		}
		vals = append(vals, v)
	}
	vals = append(vals, []byte("abc"), []byte("abd"), []byte("ab"), []byte("ab"))
	prefixes, lens := make([]int64, len(vals)), make([]int64, len(vals))
	var suffixes []byte
	for i, v := range vals {
		p := 0
		if i > 0 {
			for p < len(v) && p < len(vals[i-1]) && v[p] == vals[i-1][p] {
				p++
			}
		}
		prefixes[i], lens[i] = int64(p), int64(len(v)-p)
		suffixes = append(suffixes, v[p:]...)
	}
	page := append(append(deltaPack(prefixes), deltaPack(lens)...), suffixes...)
	out, offs, err := appendDeltaBytes([]byte("kept"), page[:len(page):len(page)], len(vals), nil, new(recodeScratch))
	if err != nil {
		t.Fatal(err)
	}
	if string(out[:4]) != "kept" || len(offs) != len(vals)+1 {
		t.Fatalf("%d offsets for %d values, output starts %q", len(offs), len(vals), out[:4])
	}
	out = out[4:]
	for i, v := range vals {
		if got := out[offs[i]:offs[i+1]]; !bytes.Equal(got, v) {
			t.Fatalf("value %d is %x, want %x (the one before %x)", i, got, v, vals[max(i-1, 0)])
		}
	}
}
