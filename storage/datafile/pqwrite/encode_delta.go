package pqwrite

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// DELTA_BINARY_PACKED: a header (block size, miniblocks per block, value
// count, first value), then blocks of 128 differences between
// consecutive values, each block the least difference and four miniblocks
// of 32 differences less it, bit-packed at the width the miniblock needs.
// INT32 differences wrap at 32 bits, as Arrow C++ computes them and the
// readers undo them.
const (
	deltaBlock      = 128
	deltaMiniBlocks = 4
	deltaMini       = deltaBlock / deltaMiniBlocks
)

type deltaInts[T int32 | int64] struct {
	blocks      []byte // the page's finished blocks
	first, prev T
	n           int // values in the page
	deltas      [deltaBlock]int64
	npend       int // differences in deltas
	packed      [deltaBlock]uint64
	st          numStats[T]
}

func (e *deltaInts[T]) encoding() int32 { return encDeltaBinaryPacked }

func (e *deltaInts[T]) put(v *values, lo, hi int) {
	vals := fixedOf[T](v)[lo:hi]
	e.st.add(vals)
	e.addAll(vals)
}

// addAll appends values (no statistics).
func (e *deltaInts[T]) addAll(vals []T) {
	if len(vals) == 0 {
		return
	}
	if e.n == 0 {
		e.first, e.prev, e.n = vals[0], vals[0], 1
		vals = vals[1:]
	}
	e.n += len(vals)
	prev, k := e.prev, e.npend
	for len(vals) > 0 {
		// Up to the end of the block, with no check of it a value.
		n := min(len(vals), deltaBlock-k)
		d := e.deltas[k : k+n]
		for i, x := range vals[:n] {
			d[i] = int64(x - prev)
			prev = x
		}
		vals, k = vals[n:], k+n
		if k == deltaBlock {
			e.npend = k
			e.flushBlock()
			k = 0
		}
	}
	e.prev, e.npend = prev, k
}

// flushBlock writes the pending differences as a block; a last block
// that is not full has its last miniblock padded with zeros and the
// miniblocks after it left out (their widths written as 0).
func (e *deltaInts[T]) flushBlock() {
	d := e.deltas[:e.npend]
	lo := d[0]
	for _, x := range d[1:] {
		lo = min(lo, x)
	}
	e.blocks = binary.AppendVarint(e.blocks, lo)
	widths := len(e.blocks)
	e.blocks = append(e.blocks, 0, 0, 0, 0)
	for m := range deltaMiniBlocks {
		start := m * deltaMini
		if start >= len(d) {
			break
		}
		end := min(start+deltaMini, len(d))
		var or uint64
		for j := start; j < end; j++ {
			// INT32 differences are within 2^32 of lo: no wrap.
			u := uint64(d[j] - lo)
			e.packed[j] = u
			or |= u
		}
		for j := end; j < start+deltaMini; j++ {
			e.packed[j] = 0
		}
		w := uint(bits.Len64(or))
		e.blocks[widths+m] = byte(w)
		e.blocks = pack32(e.blocks, e.packed[start:start+deltaMini], w)
	}
	e.npend = 0
}

func (e *deltaInts[T]) fit(_ *values, _, n, budget int) int {
	var z T
	return min(n, budget/(int(unsafe.Sizeof(z))+1))
}

func (e *deltaInts[T]) size() int {
	var z T
	return len(e.blocks) + e.npend*int(unsafe.Sizeof(z)) + 16
}

func (e *deltaInts[T]) stats(buf []byte) ([]byte, minMax) { return e.st.take(buf) }
func (e *deltaInts[T]) keep()                             {}

func (e *deltaInts[T]) flush(dst []byte) []byte {
	if e.npend > 0 {
		e.flushBlock()
	}
	dst = binary.AppendUvarint(dst, deltaBlock)
	dst = binary.AppendUvarint(dst, deltaMiniBlocks)
	dst = binary.AppendUvarint(dst, uint64(e.n))
	dst = binary.AppendVarint(dst, int64(e.first))
	dst = append(dst, e.blocks...)
	e.blocks = e.blocks[:0]
	e.n, e.first, e.prev = 0, 0, 0
	return dst
}

// deltaBytes writes DELTA_BYTE_ARRAY: the length of the prefix each
// value shares with the one before it (DELTA_BINARY_PACKED), the lengths
// of the rest (likewise), then the rests one after another. Each page
// starts afresh, its first value sharing nothing.
type deltaBytes struct {
	prefixes, lengths deltaInts[int32]
	suffixes          []byte
	prev              []byte
	own               []byte // prev's copy once the caller's array is gone
	st                bytesStats
	pre, suf          [deltaBytesRun]int32 // scratch: a run's lengths
}

// deltaBytesRun is how many values put takes at a time: their prefix and
// suffix lengths are gathered, then delta-encoded in one loop each.
const deltaBytesRun = 512

func (e *deltaBytes) encoding() int32 { return encDeltaByteArray }

func (e *deltaBytes) put(v *values, lo, hi int) {
	for lo < hi {
		n := min(hi-lo, deltaBytesRun)
		e.putRun(v.offs[lo:lo+n+1], v.data)
		lo += n
	}
}

// putRun puts the byte arrays data[offs[i]:offs[i+1]].
func (e *deltaBytes) putRun(offs []int32, data []byte) {
	n := len(offs) - 1
	pre, suf := e.pre[:n], e.suf[:n]
	prev, suffixes, st := e.prev, e.suffixes, &e.st
	start := offs[0]
	for i, end := range offs[1:] {
		b := data[start:end]
		p := commonPrefix(prev, b)
		pre[i] = int32(p)
		suf[i] = int32(len(b) - p)
		suffixes = append(suffixes, b[p:]...)
		st.add(b, orderAfter(prev, b, p))
		prev, start = b, end
	}
	e.prev, e.suffixes = prev, suffixes
	e.prefixes.addAll(pre)
	e.lengths.addAll(suf)
}

// commonPrefix returns the length of the prefix a and b share, comparing
// eight bytes at a time.
func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	for ; i+8 <= n; i += 8 {
		x := binary.LittleEndian.Uint64(a[i:]) ^ binary.LittleEndian.Uint64(b[i:])
		if x != 0 {
			return i + bits.TrailingZeros64(x)/8
		}
	}
	for ; i < n && a[i] == b[i]; i++ {
	}
	return i
}

// orderAfter orders b against a, whose common prefix is p bytes long.
func orderAfter(a, b []byte, p int) int {
	switch {
	case p < len(a) && p < len(b):
		if b[p] > a[p] {
			return 1
		}
		return -1
	case len(b) > len(a):
		return 1
	case len(b) < len(a):
		return -1
	}
	return 0
}

func (e *deltaBytes) fit(v *values, lo, n, budget int) int { return fitBytes(v, lo, n, budget, 2) }

func (e *deltaBytes) size() int {
	return e.prefixes.size() + e.lengths.size() + len(e.suffixes)
}

func (e *deltaBytes) stats(buf []byte) ([]byte, minMax) { return e.st.take(buf) }

func (e *deltaBytes) keep() {
	e.own = append(e.own[:0], e.prev...)
	e.prev = e.own
	e.st.keep()
}

func (e *deltaBytes) flush(dst []byte) []byte {
	dst = e.prefixes.flush(dst)
	dst = e.lengths.flush(dst)
	dst = append(dst, e.suffixes...)
	e.suffixes = e.suffixes[:0]
	e.prev = nil
	return dst
}
