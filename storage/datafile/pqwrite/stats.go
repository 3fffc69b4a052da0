package pqwrite

import (
	"bytes"
	"encoding/binary"
	"math"

	"github.com/dormousedb/dormouse/storage/schema"
)

// Statistics.
//
// Each encoder keeps the least and greatest value of the page it is
// filling, as it meets the values, and hands them over plain-encoded
// (little-endian numbers, a byte for a boolean, a byte array's bytes)
// when the page is cut; the chunk keeps them for the column index and
// folds them into the column chunk's statistics. The order is Parquet's
// for each physical type (signed integers, IEEE floats with NaN left out
// and zeros signed as arrow-go and parquet-mr sign them, unsigned bytes),
// which is also datafile's key order.

// maxStatBytes is the longest min or max a byte array column keeps, as
// arrow-go's default MaxStatsSize: a chunk whose min or max is longer has
// neither, and a chunk with a page whose min or max is longer has no
// column index, which needs every page's.
const maxStatBytes = 4096

// minMax is a page's least and greatest value, plain-encoded.
type minMax struct {
	min, max []byte
	ok       bool // the page has values to order (not all NULL or NaN)
	// tooLong says that min or max is longer than maxStatBytes: the
	// chunk's column index cannot hold them. They still count towards
	// the chunk's min and max, which are left out only if they are too
	// long themselves (as arrow-go does).
	tooLong bool
}

type number interface{ int32 | int64 | float64 }

// numStats keeps the least and greatest of numbers, NaNs left out.
type numStats[T number] struct {
	min, max T
	ok       bool
}

func (s *numStats[T]) add(vals []T) {
	i := 0
	if !s.ok {
		for i < len(vals) && vals[i] != vals[i] { // NaN
			i++
		}
		if i == len(vals) {
			return
		}
		s.min, s.max, s.ok = vals[i], vals[i], true
	}
	lo, hi := s.min, s.max
	for _, v := range vals[i:] {
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	s.min, s.max = lo, hi
}

// take appends the plain encodings of the min and max to buf and resets
// the statistics.
func (s *numStats[T]) take(buf []byte) ([]byte, minMax) {
	if !s.ok {
		return buf, minMax{}
	}
	lo, hi := s.min, s.max
	s.ok = false
	if f, ok := any(lo).(float64); ok {
		// parquet-mr and arrow-go write a zero min as -0 and a zero
		// max as +0, so that either zero is within the bounds.
		if f == 0 {
			lo = T(math.Copysign(0, -1))
		}
		if g := any(hi).(float64); g == 0 {
			hi = 0
		}
	}
	start := len(buf)
	buf = appendNumber(buf, lo)
	mid := len(buf)
	buf = appendNumber(buf, hi)
	return buf, minMax{min: buf[start:mid:mid], max: buf[mid:], ok: true}
}

func appendNumber[T number](b []byte, v T) []byte {
	switch x := any(v).(type) {
	case int32:
		return binary.LittleEndian.AppendUint32(b, uint32(x))
	case int64:
		return binary.LittleEndian.AppendUint64(b, uint64(x))
	case float64:
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	panic("unreachable")
}

// bytesStats keeps the least and greatest byte arrays met. The values
// are views into the caller's arrays until keep copies them.
type bytesStats struct {
	min, max []byte
	// minKey and maxKey are the first eight bytes of min and max (schema.Prefix8):
	// most values order against them without a comparison of bytes.
	minKey, maxKey uint64
	ok             bool
	prevMin        bool // the value added last is the min
	prevMax        bool // and the max
	minBuf, maxBuf []byte
}

// add takes v, which orders as cmp (-1, 0, 1) against the value added
// before it on the page (any cmp for the page's first value). Values
// mostly come in order, sorted keys always: then v is the new max
// without a comparison.
func (s *bytesStats) add(v []byte, cmp int) {
	if !s.ok {
		k := schema.Prefix8(v)
		s.min, s.max, s.minKey, s.maxKey, s.ok, s.prevMin, s.prevMax = v, v, k, k, true, true, true
		return
	}
	switch {
	case cmp > 0:
		s.prevMin = false
		if !s.prevMax {
			k := schema.Prefix8(v)
			s.prevMax = k > s.maxKey || k == s.maxKey && bytes.Compare(v, s.max) >= 0
			if s.prevMax {
				s.max, s.maxKey = v, k
			}
			return
		}
		s.max = v
		s.maxKey = schema.Prefix8(v)
	case cmp < 0:
		s.prevMax = false
		if !s.prevMin {
			k := schema.Prefix8(v)
			s.prevMin = k < s.minKey || k == s.minKey && bytes.Compare(v, s.min) <= 0
			if s.prevMin {
				s.min, s.minKey = v, k
			}
			return
		}
		s.min = v
		s.minKey = schema.Prefix8(v)
	}
}

// keep copies min and max out of the caller's arrays.
func (s *bytesStats) keep() {
	if s.ok {
		s.minBuf = append(s.minBuf[:0], s.min...)
		s.maxBuf = append(s.maxBuf[:0], s.max...)
		s.min, s.max = s.minBuf, s.maxBuf
	}
}

// take appends min and max to buf and resets the statistics.
func (s *bytesStats) take(buf []byte) ([]byte, minMax) {
	if !s.ok {
		return buf, minMax{}
	}
	s.ok = false
	start := len(buf)
	buf = append(buf, s.min...)
	mid := len(buf)
	buf = append(buf, s.max...)
	return buf, minMax{min: buf[start:mid:mid], max: buf[mid:], ok: true,
		tooLong: len(s.min) > maxStatBytes || len(s.max) > maxStatBytes}
}

// boolStats records which of false and true were met.
type boolStats struct{ f, t bool }

func (s *boolStats) take(buf []byte) ([]byte, minMax) {
	if !s.f && !s.t {
		return buf, minMax{}
	}
	lo, hi := byte(0), byte(1)
	if !s.f {
		lo = 1
	}
	if !s.t {
		hi = 0
	}
	*s = boolStats{}
	start := len(buf)
	buf = append(buf, lo, hi)
	return buf, minMax{min: buf[start : start+1 : start+1], max: buf[start+1 : start+2], ok: true}
}

// statLess orders two plain-encoded statistics of physical type phys.
func statLess(phys int32, a, b []byte) bool {
	switch phys {
	case physInt32:
		return int32(binary.LittleEndian.Uint32(a)) < int32(binary.LittleEndian.Uint32(b))
	case physInt64:
		return int64(binary.LittleEndian.Uint64(a)) < int64(binary.LittleEndian.Uint64(b))
	case physDouble:
		return math.Float64frombits(binary.LittleEndian.Uint64(a)) < math.Float64frombits(binary.LittleEndian.Uint64(b))
	case physBoolean:
		return a[0] < b[0]
	}
	return bytes.Compare(a, b) < 0
}
