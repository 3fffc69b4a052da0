package datafile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
)

// Pages in the delta and byte-stream-split encodings.
//
// The Writer encodes integers DELTA_BINARY_PACKED and byte arrays that
// are not dictionary-encoded DELTA_BYTE_ARRAY, NULLs or not (see
// writer_encodings.go: they spare zstd most of its work); other writers
// use DELTA_LENGTH_BYTE_ARRAY and BYTE_STREAM_SPLIT too. The direct path
// decodes such a page once, when it is read, into the layout of a PLAIN page (fixed-width values one after another;
// byte arrays laid out as layOutByteArrays leaves them, with offsets) and
// marks it PLAIN, so that everything that reads decoded pages (scans,
// point reads, the page cache, key searches) knows one layout for all of
// them.

// Parquet encodings (parquet.thrift Encoding) recoded to PLAIN.
const (
	encDeltaBinaryPacked    = 5
	encDeltaLengthByteArray = 6
	encDeltaByteArray       = 7
	encByteStreamSplit      = 9
)

// fixedWidth returns the bytes of a value of a fixed-width physical
// type, or 0.
func fixedWidth(phys parquet.Type) int {
	switch phys {
	case parquet.Types.Int32, parquet.Types.Float:
		return 4
	case parquet.Types.Int64, parquet.Types.Double:
		return 8
	}
	return 0
}

// recoded says whether a data page in encoding enc is recoded to PLAIN
// when it is decoded.
func recoded(enc int32) bool {
	switch enc {
	case encDeltaBinaryPacked, encDeltaLengthByteArray, encDeltaByteArray, encByteStreamSplit:
		return true
	}
	return false
}

// recodeScratch holds a page's decompressed bytes, and the lengths of its
// byte arrays, while the page is recoded into its own buffer.
type recodeScratch struct {
	raw, lens, prefixes []byte
}

var recodeScratchPool = sync.Pool{New: func() any { return new(recodeScratch) }}

// recode decodes the values of a data page, src being its decompressed
// data (levels, then values in encoding h.encoding), into the PLAIN
// layout appended to dst[:0]: the levels as they are, then the values.
// For byte arrays it returns their offsets (appended to offs[:0]) from
// where the values start, as decodePage does for PLAIN pages.
func recode(ci *chunkInfo, h pageHeader, src, dst []byte, offs []int32, s *recodeScratch) ([]byte, []int32, error) {
	start, err := valuesStart(ci, h, src)
	if err != nil {
		return nil, nil, err
	}
	dst = append(dst[:0], src[:start]...)
	vals, limit := src[start:], int(h.numValues)
	width := fixedWidth(ci.phys)
	switch {
	case h.encoding == encDeltaBinaryPacked && (ci.phys == parquet.Types.Int32 || ci.phys == parquet.Types.Int64):
		dst, _, err = appendDeltaInts(dst, width, vals, limit)
		return dst, nil, err
	case h.encoding == encByteStreamSplit && width > 0:
		dst, err = appendUnsplit(dst, width, vals, limit)
		return dst, nil, err
	case h.encoding == encDeltaLengthByteArray && ci.phys == parquet.Types.ByteArray:
		return appendDeltaLengthBytes(dst, vals, limit, offs, s)
	case h.encoding == encDeltaByteArray && ci.phys == parquet.Types.ByteArray:
		return appendDeltaBytes(dst, vals, limit, offs, s)
	}
	return nil, nil, fmt.Errorf("unsupported encoding %d for %s", h.encoding, ci.phys)
}

var errBadDelta = errors.New("malformed delta encoding")

// appendDeltaInts decodes DELTA_BINARY_PACKED integers from b, at most
// limit of them, appending each to dst as a width-byte little-endian
// value (4 or 8: INT32 values wrap as the writer's 32-bit deltas did). It
// returns how many bytes of b they took.
func appendDeltaInts(dst []byte, width int, b []byte, limit int) ([]byte, int, error) {
	pos := 0
	uvarint := func() uint64 {
		if pos < 0 {
			return 0
		}
		v, k := binary.Uvarint(b[pos:])
		if k <= 0 {
			pos = -1
			return 0
		}
		pos += k
		return v
	}
	blockSize, miniBlocks, total := uvarint(), uvarint(), uvarint()
	prev := zigzag(uvarint())
	if pos < 0 || blockSize == 0 || blockSize%128 != 0 || blockSize > 1<<16 ||
		miniBlocks == 0 || blockSize%miniBlocks != 0 || (blockSize/miniBlocks)%32 != 0 {
		return nil, 0, fmt.Errorf("%w: header", errBadDelta)
	}
	if total > uint64(limit) {
		return nil, 0, fmt.Errorf("%w: %d values in a page of %d", errBadDelta, total, limit)
	}
	perMini, nMini := int(blockSize/miniBlocks), int(miniBlocks)
	// Every block takes at least its minimum delta and its widths: a
	// count that b cannot hold is a corrupt page, not memory to allocate.
	// The blocks hold the deltas of the values after the first (in the
	// header): 129 values take one block of 128.
	if total > 1 {
		if blocks := (total-2)/blockSize + 1; blocks > uint64(len(b)-pos)/uint64(1+nMini) {
			return nil, 0, fmt.Errorf("%w: %d values in %d bytes", errBadDelta, total, len(b))
		}
	}
	if total == 0 {
		// A page of NULLs. (No cast of dst's slack either: the race
		// detector's checkptr rejects a *uint64 to its last few bytes.)
		return dst, pos, nil
	}
	n := len(dst)
	dst = growLen(dst, int(total)*width)
	var out32 []uint32
	var out64 []uint64
	if width == 4 {
		out32 = arrow.Uint32Traits.CastFromBytes(dst[n:])
		out32[0] = uint32(prev)
	} else {
		out64 = arrow.Uint64Traits.CastFromBytes(dst[n:])
		out64[0] = prev
	}
	i := 1
	for i < int(total) {
		minDelta := zigzag(uvarint())
		if pos < 0 || pos+nMini > len(b) {
			return nil, 0, fmt.Errorf("%w: block header", errBadDelta)
		}
		widths := b[pos : pos+nMini]
		pos += nMini
		for m := 0; m < nMini && i < int(total); m++ {
			w := int(widths[m])
			size := perMini * w / 8
			if w > 64 || pos+size > len(b) {
				return nil, 0, fmt.Errorf("%w: miniblock of width %d", errBadDelta, w)
			}
			k := min(perMini, int(total)-i)
			if width == 4 {
				prev = unpackDeltas(b[pos:pos+size], w, minDelta, prev, out32[i:i+k])
			} else {
				prev = unpackDeltas(b[pos:pos+size], w, minDelta, prev, out64[i:i+k])
			}
			pos += size
			i += k
		}
	}
	return dst, pos, nil
}

// unpackDeltas adds bit-packed deltas of width w (each plus minDelta) to
// prev in turn, one per value of out, and puts each sum there. It returns
// the last.
func unpackDeltas[T uint32 | uint64](p []byte, w int, minDelta, prev uint64, out []T) uint64 {
	if w == 0 {
		for j := range out {
			prev += minDelta
			out[j] = T(prev)
		}
		return prev
	}
	mask := ^uint64(0) >> (64 - w)
	bit := 0
	// At widths up to 8 (the lengths of DELTA_BYTE_ARRAY, small
	// integers), each eight values are one load, read in place where the
	// page goes on past the miniblock: only its last one is copied.
	if n8 := len(out) &^ 7; w <= 8 && n8 > 0 && cap(p) >= (n8/8-1)*w+8 {
		prev = unpackNarrow(p[:cap(p)], w, minDelta, prev, out[:n8])
		if n8 == len(out) {
			return prev
		}
		bit, out = n8*w, out[n8:]
	}
	// A miniblock of 32 or 64 values, copied where 16 bytes follow it,
	// takes one 8-byte load a value with no check of its end.
	var padded [64*8 + 16]byte
	if len(p)+16 <= len(padded) {
		q := padded[:len(p)+16]
		copy(q, p)
		for j := range out {
			at, shift := bit>>3, uint(bit&7)
			bit += w
			v := binary.LittleEndian.Uint64(q[at:]) >> shift
			if int(shift)+w > 64 {
				v |= uint64(q[at+8]) << (64 - shift)
			}
			prev += minDelta + v&mask
			out[j] = T(prev)
		}
		return prev
	}
	for j := range out {
		at, shift := bit>>3, uint(bit&7)
		bit += w
		var v uint64
		if at+8 <= len(p) {
			v = binary.LittleEndian.Uint64(p[at:])
		} else {
			var buf [8]byte
			copy(buf[:], p[at:])
			v = binary.LittleEndian.Uint64(buf[:])
		}
		v >>= shift
		if int(shift)+w > 64 {
			v |= uint64(p[at+8]) << (64 - shift)
		}
		prev += minDelta + v&mask
		out[j] = T(prev)
	}
	return prev
}

// unpackNarrow is unpackDeltas for widths 1 to 8 and a multiple of 8
// values, from p, which holds 8 bytes from the start of each eight's
// w bytes.
func unpackNarrow[T uint32 | uint64](p []byte, w int, minDelta, prev uint64, out []T) uint64 {
	mask := ^uint64(0) >> (64 - w)
	s := uint(w) & 63 // masked: no check for shifts of 64
	for j := 0; j+8 <= len(out); j += 8 {
		x := binary.LittleEndian.Uint64(p[j/8*w:])
		o := (*[8]T)(out[j:])
		prev += minDelta + x&mask
		o[0] = T(prev)
		x >>= s
		prev += minDelta + x&mask
		o[1] = T(prev)
		x >>= s
		prev += minDelta + x&mask
		o[2] = T(prev)
		x >>= s
		prev += minDelta + x&mask
		o[3] = T(prev)
		x >>= s
		prev += minDelta + x&mask
		o[4] = T(prev)
		x >>= s
		prev += minDelta + x&mask
		o[5] = T(prev)
		x >>= s
		prev += minDelta + x&mask
		o[6] = T(prev)
		x >>= s
		prev += minDelta + x&mask
		o[7] = T(prev)
	}
	return prev
}

func zigzag(u uint64) uint64 { return u>>1 ^ -(u & 1) }

// growLen extends b by n bytes, reallocating when it has no room.
func growLen(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := noZeroBytes(len(b) + n)
		copy(nb, b)
		return nb
	}
	return b[:len(b)+n]
}

// appendUnsplit decodes BYTE_STREAM_SPLIT values of width bytes (byte k
// of every value, then byte k+1 ...) from b, appending them to dst in
// order.
func appendUnsplit(dst []byte, width int, b []byte, limit int) ([]byte, error) {
	n := len(b) / width
	if len(b)%width != 0 || n > limit {
		return nil, fmt.Errorf("%w: %d bytes of byte stream split %d-byte values", errBadDelta, len(b), width)
	}
	at := len(dst)
	dst = growLen(dst, len(b))
	out := dst[at:]
	for k := range width {
		stream := b[k*n : (k+1)*n]
		for i, c := range stream {
			out[i*width+k] = c
		}
	}
	return dst, nil
}

// deltaLengths decodes the DELTA_BINARY_PACKED lengths that start b (at
// most limit) into buf, and returns them, with the bytes they took.
func deltaLengths(buf, b []byte, limit int) ([]int32, []byte, int, error) {
	buf, used, err := appendDeltaInts(buf[:0], 4, b, limit)
	if err != nil {
		return nil, buf, 0, err
	}
	return arrow.Int32Traits.CastFromBytes(buf), buf, used, nil
}

// appendDeltaLengthBytes decodes DELTA_LENGTH_BYTE_ARRAY values (their
// lengths, then their bytes one after another) from b, appending their
// bytes to dst and their offsets, from where they start in dst, to offs.
func appendDeltaLengthBytes(dst, b []byte, limit int, offs []int32, s *recodeScratch) ([]byte, []int32, error) {
	lens, buf, used, err := deltaLengths(s.lens, b, limit)
	s.lens = buf
	if err != nil {
		return nil, nil, fmt.Errorf("lengths: %w", err)
	}
	start := len(dst)
	offs = append(offs[:0], 0)
	total := 0
	for _, l := range lens {
		if l < 0 || int(l) > len(b)-used-total {
			return nil, nil, fmt.Errorf("%w: byte array past the page", errBadDelta)
		}
		total += int(l)
		offs = append(offs, int32(total))
	}
	dst = growLen(dst, total)
	copy(dst[start:], b[used:used+total])
	return dst, offs, nil
}

// appendDeltaBytes decodes DELTA_BYTE_ARRAY values (the lengths of the
// prefixes they share with the value before, then their suffixes as
// DELTA_LENGTH_BYTE_ARRAY) from b, appending their bytes to dst and their
// offsets, from where they start in dst, to offs.
func appendDeltaBytes(dst, b []byte, limit int, offs []int32, s *recodeScratch) ([]byte, []int32, error) {
	prefixes, buf, used, err := deltaLengths(s.prefixes, b, limit)
	s.prefixes = buf
	if err != nil {
		return nil, nil, fmt.Errorf("prefix lengths: %w", err)
	}
	if len(prefixes) == 0 {
		// A page of NULLs. arrow-go writes one that follows a page of
		// values with stale bytes after the prefix lengths, not the
		// suffixes' header: there are no values to read from them.
		return dst, append(offs[:0], 0), nil
	}
	b = b[used:]
	lens, buf, used, err := deltaLengths(s.lens, b, limit)
	s.lens = buf
	if err != nil {
		return nil, nil, fmt.Errorf("suffix lengths: %w", err)
	}
	if len(lens) != len(prefixes) {
		return nil, nil, fmt.Errorf("%w: %d suffixes for %d prefixes", errBadDelta, len(lens), len(prefixes))
	}
	suffixes := b[used:]
	// Size the output once: every value is its prefix and its suffix.
	total, sufTotal, prevLen := 0, 0, 0
	for i, p := range prefixes {
		l := lens[i]
		if p < 0 || int(p) > prevLen || l < 0 || int(l) > len(suffixes)-sufTotal {
			return nil, nil, fmt.Errorf("%w: value %d's prefix or suffix out of range", errBadDelta, i)
		}
		prevLen = int(p) + int(l)
		total += prevLen
		sufTotal += int(l)
		if total > math.MaxInt32 {
			// Prefixes repeat bytes: a corrupt page of a few KB can
			// ask for terabytes. Offsets are int32.
			return nil, nil, fmt.Errorf("%w: values of more than 2 GiB", errBadDelta)
		}
	}
	// 16 bytes of slack past the end let short prefixes and suffixes move
	// as one 16-byte word each (keys and codes are short), the bytes past
	// their end overwritten by the next move.
	start := len(dst)
	dst = growLen(dst, total+16)
	out := dst[start:]
	offs = slices.Grow(offs[:0], len(prefixes)+1)[:len(prefixes)+1]
	offs[0] = 0
	w, prev := 0, 0 // where the value being written and the one before start in out
	// Short values (keys, codes) are assembled in registers: lo and hi
	// hold the first 16 bytes of the value before when short is set, and
	// a value of at most 16 bytes is their first p bytes and then its
	// suffix, stored once. Loading the value before back from out would
	// wait for the two stores that just wrote it (a load spanning two
	// stores is not forwarded from them): a fifth of the decode.
	var lo, hi uint64
	short := false
	for i, pl := range prefixes {
		p, l := int(pl), int(lens[i])
		if p+l <= 16 && len(suffixes) >= 16 && (short || p == 0) {
			s0 := binary.LittleEndian.Uint64(suffixes)
			s1 := binary.LittleEndian.Uint64(suffixes[8:])
			// The suffix shifted p bytes up, over the 16 bytes (shifts
			// of 64 and more give 0), and masks of the prefix's bytes.
			k := uint(8 * p)
			var r0, r1, m0, m1 uint64
			if k < 64 {
				r0, r1, m0 = s0<<k, s1<<k|s0>>(64-k), 1<<k-1
			} else {
				r1, m0, m1 = s0<<(k-64), ^uint64(0), 1<<(k-64)-1
			}
			lo, hi = lo&m0|r0&^m0, hi&m1|r1&^m1
			o := out[w : w+16 : w+16]
			binary.LittleEndian.PutUint64(o, lo)
			binary.LittleEndian.PutUint64(o[8:], hi)
			suffixes = suffixes[l:]
			short = true // lo and hi hold this value (p == 0 starts a run of them)
			prev = w
			w += p + l
			offs[i+1] = int32(w)
			continue
		}
		if p <= 16 {
			v := *(*[16]byte)(out[prev:]) // loaded first: the two may overlap
			*(*[16]byte)(out[w:]) = v
		} else {
			copy(out[w:w+p], out[prev:prev+p])
		}
		if l <= 16 && len(suffixes) >= 16 {
			*(*[16]byte)(out[w+p:]) = *(*[16]byte)(suffixes)
		} else {
			copy(out[w+p:], suffixes[:l])
		}
		suffixes = suffixes[l:]
		if short = p+l <= 16; short {
			lo = binary.LittleEndian.Uint64(out[w:])
			hi = binary.LittleEndian.Uint64(out[w+8:])
		}
		prev = w
		w += p + l
		offs[i+1] = int32(w)
	}
	return dst[:start+total], offs, nil
}
