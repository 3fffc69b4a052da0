package pqwrite

import (
	"encoding/binary"
	"slices"
)

// rleEncoder writes Parquet's RLE/bit-packed hybrid encoding of values
// of width bits (definition levels, dictionary indexes). It follows
// Arrow C++'s RleEncoder: values are gathered in groups of eight; a value
// repeated eight times or more becomes a repeated run, anything else is
// bit-packed in literal runs of up to 63 groups.
type rleEncoder struct {
	buf    []byte
	width  uint
	vals   [8]uint64 // the group being gathered
	nvals  int
	cur    uint64 // the value of the current repetition
	repeat int    // how many times cur has repeated
	// literals counts the values of the open literal run, whose
	// indicator byte is buf[indicator] (-1: no open run).
	literals  int
	indicator int
}

// reset starts a new sequence of values of the given width, appended to
// buf[:0].
func (e *rleEncoder) reset(width uint) {
	e.buf = e.buf[:0]
	e.width = width
	e.nvals, e.cur, e.repeat, e.literals, e.indicator = 0, 0, 0, 0, -1
}

// put appends one value.
func (e *rleEncoder) put(v uint64) {
	if v == e.cur {
		e.repeat++
		if e.repeat > 8 {
			return // a repeated run goes on: nothing to gather
		}
	} else {
		if e.repeat >= 8 {
			e.flushRepeated()
		}
		e.repeat = 1
		e.cur = v
	}
	e.vals[e.nvals] = v
	e.nvals++
	if e.nvals == 8 {
		e.flushGroup()
	}
}

// putRun appends n copies of v: value by value until they make a
// repeated run, which then just counts the rest.
func (e *rleEncoder) putRun(v uint64, n int) {
	for n > 0 && (v != e.cur || e.repeat < 8) {
		e.put(v)
		n--
	}
	e.repeat += n
}

// flushGroup writes a full group: dropped when it is part of a repeated
// run (that run then ends any open literal run), else bit-packed.
func (e *rleEncoder) flushGroup() {
	if e.repeat >= 8 {
		e.nvals = 0
		if e.literals != 0 {
			e.flushLiterals(true)
		}
		return
	}
	e.literals += e.nvals
	// The indicator byte holds at most 63 groups.
	e.flushLiterals(e.literals/8+1 >= 1<<6)
	e.repeat = 0
}

// flushLiterals bit-packs the gathered values into the open literal run
// and, when closing, writes its indicator byte.
func (e *rleEncoder) flushLiterals(closing bool) {
	if e.indicator < 0 {
		e.indicator = len(e.buf)
		e.buf = append(e.buf, 0)
	}
	if e.nvals > 0 { // 8, or none when a repeated run closes the literal one
		e.buf = pack8(e.buf, &e.vals, e.width)
		e.nvals = 0
	}
	if closing {
		e.buf[e.indicator] = byte(e.literals/8<<1 | 1)
		e.indicator = -1
		e.literals = 0
	}
}

func (e *rleEncoder) flushRepeated() {
	e.buf = binary.AppendUvarint(e.buf, uint64(e.repeat)<<1)
	v := e.cur
	for range (e.width + 7) / 8 {
		e.buf = append(e.buf, byte(v))
		v >>= 8
	}
	e.nvals = 0
	e.repeat = 0
}

// finish writes what is pending and returns the encoded values; the
// encoder must be reset before it is used again.
func (e *rleEncoder) finish() []byte {
	if e.literals > 0 || e.repeat > 0 || e.nvals > 0 {
		allRepeat := e.literals == 0 && (e.repeat == e.nvals || e.nvals == 0)
		if e.repeat > 0 && allRepeat {
			e.flushRepeated()
		} else {
			// Pad the last group with zeros: readers stop at the
			// count of values the page header gives.
			for e.nvals != 0 && e.nvals < 8 {
				e.vals[e.nvals] = 0
				e.nvals++
			}
			e.literals += e.nvals
			e.flushLiterals(true)
			e.repeat = 0
		}
	}
	return e.buf
}

// pack8 appends eight values of width bits, least significant bit first:
// width bytes.
func pack8(dst []byte, vals *[8]uint64, width uint) []byte {
	if width == 1 {
		var b byte
		for i, v := range vals {
			b |= byte(v&1) << i
		}
		return append(dst, b)
	}
	return packBits(dst, vals[:], width)
}

// pack32 appends 32 values of width bits (0 to 64), least significant
// bit first: 4*width bytes. Delta-encoded lengths and small integers
// pack at a few bits, a large part of what writing DELTA_BYTE_ARRAY
// costs: widths up to 8 pack eight values into a word with no branch,
// widths up to 56 a value at a time with no branch (an 8-byte store,
// then the whole bytes it completed dropped), wider ones by the general
// loop.
func pack32(dst []byte, vals []uint64, width uint) []byte {
	switch {
	case width == 0:
		return dst
	case width <= 8:
		return pack32Narrow(dst, (*[32]uint64)(vals), width)
	case width <= 56:
		return pack32Mid(dst, (*[32]uint64)(vals), width)
	}
	return packBits(dst, vals[:32], width)
}

// packBits appends vals, of width bits each, least significant bit first,
// a word at a time: the general form of pack8 and pack32, whose values
// always end on a byte.
func packBits(dst []byte, vals []uint64, width uint) []byte {
	var acc uint64
	var n uint
	for _, v := range vals {
		acc |= v << n
		if n+width >= 64 {
			dst = binary.LittleEndian.AppendUint64(dst, acc)
			acc = v >> (64 - n) // Go: a shift by 64 gives 0
			n = n + width - 64
		} else {
			n += width
		}
	}
	for ; n > 0; n -= 8 {
		dst = append(dst, byte(acc))
		acc >>= 8
	}
	return dst
}

// pack32Narrow is pack32 for widths 1 to 8: each eight values make one
// word, of which width bytes are kept.
func pack32Narrow(dst []byte, v *[32]uint64, w uint) []byte {
	// The shifts are below 64: masked so, they compile without Go's
	// check for larger ones.
	s1, s2, s3, s4, s5, s6, s7 := w&63, 2*w&63, 3*w&63, 4*w&63, 5*w&63, 6*w&63, 7*w&63
	for g := 0; g < 32; g += 8 {
		x := v[g] | v[g+1]<<s1 | v[g+2]<<s2 | v[g+3]<<s3 |
			v[g+4]<<s4 | v[g+5]<<s5 | v[g+6]<<s6 | v[g+7]<<s7
		dst = binary.LittleEndian.AppendUint64(dst, x)
		dst = dst[:len(dst)-8+int(w)]
	}
	return dst
}

// pack32Mid is pack32 for widths 9 to 56: the word being filled is
// stored whole after each value, then the bytes completed leave it, so
// that fewer than 8 bits stay and the next value fits.
func pack32Mid(dst []byte, v *[32]uint64, w uint) []byte {
	start, size := len(dst), 4*int(w)
	dst = slices.Grow(dst, size+8)[:start+size+8]
	out := dst[start:]
	var acc uint64
	var n uint // bits in acc, below 8 between values
	pos := 0
	for _, x := range v {
		acc |= x << (n & 63) // n is below 8 (masked: no check for 64)
		n += w
		binary.LittleEndian.PutUint64(out[pos:], acc)
		k := n >> 3
		pos += int(k)
		acc >>= 8 * k & 63
		n &= 7
	}
	return dst[:start+size]
}
