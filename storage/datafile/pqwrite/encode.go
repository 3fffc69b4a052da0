package pqwrite

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"
	"unsafe"
)

// encoder encodes the values of one column into data pages, a page at a
// time. The chunk hands it runs of rows that are all valid (NULLs are
// only definition levels); when the page is cut it takes the page's
// statistics, then its encoded values, and the encoder starts the next
// page.
type encoder interface {
	// encoding is the Parquet encoding of the pages.
	encoding() int32
	// put encodes rows [lo, hi) of v, none of them NULL.
	put(v *values, lo, hi int)
	// fit returns how many of the n rows from lo (NULL or not) surely
	// encode in budget bytes, at the rate of the worst case (a row's
	// PLAIN size, or more for the delta encodings).
	fit(v *values, lo, n, budget int) int
	// size is the bytes the page's values take encoded, about.
	size() int
	// stats appends the page's min and max to buf and resets them.
	stats(buf []byte) ([]byte, minMax)
	// flush appends the page's encoded values to dst and starts a new
	// page.
	flush(dst []byte) []byte
	// keep copies out of the caller's arrays what the encoder holds of
	// them (the last value, a min or max), before they go.
	keep()
}

// newEncoder returns the encoder of enc for physical type phys (not
// Dictionary: see newDictEncoder).
func newEncoder(phys int32, enc Encoding) (encoder, error) {
	switch {
	case enc == Plain:
		switch phys {
		case physBoolean:
			return &plainBool{}, nil
		case physInt32:
			return &plainFixed[int32]{}, nil
		case physInt64:
			return &plainFixed[int64]{}, nil
		case physDouble:
			return &plainFixed[float64]{}, nil
		case physByteArray:
			return &plainBytes{}, nil
		}
	case enc == DeltaBinaryPacked && phys == physInt32:
		return &deltaInts[int32]{}, nil
	case enc == DeltaBinaryPacked && phys == physInt64:
		return &deltaInts[int64]{}, nil
	case enc == DeltaByteArray && phys == physByteArray:
		return &deltaBytes{}, nil
	}
	return nil, fmt.Errorf("no %s encoding for physical type %d", enc, phys)
}

// fixedOf returns v's values of type T.
func fixedOf[T number](v *values) []T {
	var z T
	switch any(z).(type) {
	case int32:
		return any(v.i32).([]T)
	case int64:
		return any(v.i64).([]T)
	default:
		return any(v.f64).([]T)
	}
}

// fitBytes returns how many of the n byte arrays from lo take at most
// budget bytes at perValue bytes each beside their own.
func fitBytes(v *values, lo, n, budget, perValue int) int {
	base := int(v.offs[lo])
	return sort.Search(n, func(k int) bool {
		return int(v.offs[lo+k+1])-base+(k+1)*perValue > budget
	})
}

// plainFixed writes numbers PLAIN: their bytes, one after another.
type plainFixed[T number] struct {
	buf []byte
	st  numStats[T]
}

func (e *plainFixed[T]) encoding() int32 { return encPlain }

func (e *plainFixed[T]) put(v *values, lo, hi int) {
	vals := fixedOf[T](v)[lo:hi]
	e.buf = append(e.buf, asBytes(vals)...)
	e.st.add(vals)
}

func (e *plainFixed[T]) fit(_ *values, _, n, budget int) int {
	var z T
	return min(n, budget/int(unsafe.Sizeof(z)))
}

func (e *plainFixed[T]) size() int                         { return len(e.buf) }
func (e *plainFixed[T]) stats(buf []byte) ([]byte, minMax) { return e.st.take(buf) }
func (e *plainFixed[T]) keep()                             {}
func (e *plainFixed[T]) flush(dst []byte) []byte {
	dst = append(dst, e.buf...)
	e.buf = e.buf[:0]
	return dst
}

// plainBool writes booleans PLAIN: a bit each, least significant first.
type plainBool struct {
	buf   []byte
	nbits int
	st    boolStats
}

func (e *plainBool) encoding() int32 { return encPlain }

func (e *plainBool) put(v *values, lo, hi int) {
	for i := lo; i < hi; i++ {
		j := v.off + i
		bit := v.bools[j>>3] >> (j & 7) & 1
		if e.nbits&7 == 0 {
			e.buf = append(e.buf, 0)
		}
		e.buf[len(e.buf)-1] |= bit << (e.nbits & 7)
		e.nbits++
		if bit == 1 {
			e.st.t = true
		} else {
			e.st.f = true
		}
	}
}

func (e *plainBool) fit(_ *values, _, n, budget int) int { return min(n, budget*8) }
func (e *plainBool) size() int                           { return len(e.buf) }
func (e *plainBool) stats(buf []byte) ([]byte, minMax)   { return e.st.take(buf) }
func (e *plainBool) keep()                               {}
func (e *plainBool) flush(dst []byte) []byte {
	dst = append(dst, e.buf...)
	e.buf, e.nbits = e.buf[:0], 0
	return dst
}

// plainBytes writes byte arrays PLAIN: each as a 4-byte length and its
// bytes.
type plainBytes struct {
	buf  []byte
	prev []byte // the value put last, for the statistics
	st   bytesStats
	own  []byte // prev's copy once the caller's array is gone
}

func (e *plainBytes) encoding() int32 { return encPlain }

func (e *plainBytes) put(v *values, lo, hi int) {
	for i := lo; i < hi; i++ {
		b := v.data[v.offs[i]:v.offs[i+1]]
		e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(len(b)))
		e.buf = append(e.buf, b...)
		e.st.add(b, bytes.Compare(b, e.prev))
		e.prev = b
	}
}

func (e *plainBytes) fit(v *values, lo, n, budget int) int { return fitBytes(v, lo, n, budget, 4) }
func (e *plainBytes) size() int                            { return len(e.buf) }
func (e *plainBytes) stats(buf []byte) ([]byte, minMax)    { return e.st.take(buf) }

func (e *plainBytes) keep() {
	e.own = append(e.own[:0], e.prev...)
	e.prev = e.own
	e.st.keep()
}

func (e *plainBytes) flush(dst []byte) []byte {
	dst = append(dst, e.buf...)
	e.buf = e.buf[:0]
	return dst
}
