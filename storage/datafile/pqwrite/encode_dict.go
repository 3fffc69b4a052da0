package pqwrite

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// dictEncoder is the encoder of a Dictionary column: data pages of
// indexes (RLE_DICTIONARY) into the column chunk's dictionary, which is
// written PLAIN in the chunk's dictionary page.
type dictEncoder interface {
	encoder
	// dictBytes is the PLAIN size of the dictionary.
	dictBytes() int
	// pays says whether the dictionary and the page's indexes take less
	// than the page's values PLAIN, or half of that when half is set.
	pays(half bool) bool
	// replay puts the values of the page into enc, in order, then drops
	// the page and the dictionary.
	replay(enc encoder)
	// fitNew returns how many of the n rows from lo (NULL or not) add
	// at most budget bytes to the dictionary should every value be new.
	fitNew(v *values, lo, n, budget int) int
	// entries is the number of values in the dictionary.
	entries() int
	// appendDict appends the dictionary, PLAIN.
	appendDict(dst []byte) []byte
	// resetChunk drops the dictionary, for the next column chunk.
	resetChunk()
}

func newDictEncoder(phys int32) dictEncoder {
	switch phys {
	case physInt32:
		return newDictFixed[int32]()
	case physInt64:
		return newDictFixed[int64]()
	case physDouble:
		return newDictFixed[float64]()
	case physByteArray:
		return &dictBytes{index: map[string]int32{}, epoch: 1}
	}
	return nil
}

// dictIndexes holds a page's dictionary indexes and encodes them: a byte
// of bit width, then the RLE/bit-packed hybrid.
type dictIndexes struct {
	idx []uint32
	max uint32
	rle rleEncoder
}

func (d *dictIndexes) width() uint { return max(1, uint(bits.Len32(d.max))) }

func (d *dictIndexes) size() int { return len(d.idx)*int(d.width())/8 + 2 }

func (d *dictIndexes) flush(dst []byte) []byte {
	w := d.width()
	dst = append(dst, byte(w))
	d.rle.reset(w)
	d.rle.buf = dst
	for _, i := range d.idx {
		d.rle.put(uint64(i))
	}
	dst = d.rle.finish()
	d.rle.buf = nil
	d.idx, d.max = d.idx[:0], 0
	return dst
}

func (d *dictIndexes) pays(dictBytes, rawBytes int, entries int, half bool) bool {
	idxBytes := len(d.idx) * bits.Len(uint(entries)) / 8
	if half {
		rawBytes /= 2
	}
	return dictBytes+idxBytes < rawBytes
}

// dictFixed is the dictionary encoder of numbers, keyed by their bits
// (so that NaNs and the two zeros keep their own entries).
type dictFixed[T number] struct {
	index   map[uint64]int32
	vals    []T
	page    dictIndexes
	raw     int // PLAIN bytes of the page's values
	st      numStats[T]
	last    uint64 // the key met last, and its index: runs skip the map
	lastID  int32
	scratch values
}

func newDictFixed[T number]() *dictFixed[T] {
	return &dictFixed[T]{index: map[uint64]int32{}, lastID: -1}
}

// keyOf is x's bits.
func keyOf[T number](x T) uint64 {
	if unsafe.Sizeof(x) == 4 {
		return uint64(*(*uint32)(unsafe.Pointer(&x)))
	}
	return *(*uint64)(unsafe.Pointer(&x))
}

func (e *dictFixed[T]) encoding() int32 { return encRLEDictionary }

func (e *dictFixed[T]) put(v *values, lo, hi int) {
	vals := fixedOf[T](v)[lo:hi]
	e.st.add(vals)
	var z T
	e.raw += len(vals) * int(unsafe.Sizeof(z))
	for _, x := range vals {
		k := keyOf(x)
		id := e.lastID
		if k != e.last || id < 0 {
			var ok bool
			if id, ok = e.index[k]; !ok {
				id = int32(len(e.vals))
				e.index[k] = id
				e.vals = append(e.vals, x)
			}
			e.last, e.lastID = k, id
		}
		e.page.idx = append(e.page.idx, uint32(id))
		e.page.max = max(e.page.max, uint32(id))
	}
}

func (e *dictFixed[T]) fit(_ *values, _, n, budget int) int { return min(n, budget/4) }
func (e *dictFixed[T]) size() int                           { return e.page.size() }
func (e *dictFixed[T]) stats(buf []byte) ([]byte, minMax)   { return e.st.take(buf) }
func (e *dictFixed[T]) keep()                               {}
func (e *dictFixed[T]) entries() int                        { return len(e.vals) }

func (e *dictFixed[T]) fitNew(_ *values, _, n, budget int) int {
	var z T
	return min(n, budget/int(unsafe.Sizeof(z)))
}

func (e *dictFixed[T]) dictBytes() int {
	var z T
	return len(e.vals) * int(unsafe.Sizeof(z))
}

func (e *dictFixed[T]) flush(dst []byte) []byte {
	e.raw = 0
	return e.page.flush(dst)
}

func (e *dictFixed[T]) pays(half bool) bool {
	return e.page.pays(e.dictBytes(), e.raw, len(e.vals), half)
}

func (e *dictFixed[T]) replay(enc encoder) {
	vals := make([]T, 0, len(e.page.idx))
	for _, i := range e.page.idx {
		vals = append(vals, e.vals[i])
	}
	switch s := any(vals).(type) {
	case []int32:
		e.scratch.i32 = s
	case []int64:
		e.scratch.i64 = s
	case []float64:
		e.scratch.f64 = s
	}
	enc.put(&e.scratch, 0, len(vals))
	enc.keep()
	e.scratch = values{}
	e.st = numStats[T]{}
	e.page.idx, e.page.max, e.raw = e.page.idx[:0], 0, 0
	e.resetChunk()
}

func (e *dictFixed[T]) appendDict(dst []byte) []byte {
	return append(dst, asBytes(e.vals)...)
}

func (e *dictFixed[T]) resetChunk() {
	clear(e.index)
	e.vals = e.vals[:0]
	e.last, e.lastID = 0, -1
}

// dictBytes is the dictionary encoder of byte arrays. Its page
// statistics come from the distinct entries the page met, compared once
// each at the page's end.
type dictBytes struct {
	index   map[string]int32
	vals    []string // the dictionary, in index order
	size_   int      // its PLAIN size
	page    dictIndexes
	raw     int
	seen    []uint32 // per entry: the page (epoch) that last met it
	epoch   uint32
	met     []int32 // the entries the page met
	scratch values
	sbuf    []byte
}

func (e *dictBytes) encoding() int32 { return encRLEDictionary }

func (e *dictBytes) put(v *values, lo, hi int) {
	for i := lo; i < hi; i++ {
		b := v.data[v.offs[i]:v.offs[i+1]]
		id, ok := e.index[string(b)] // no copy: a lookup
		if !ok {
			s := string(b)
			id = int32(len(e.vals))
			e.index[s] = id
			e.vals = append(e.vals, s)
			e.seen = append(e.seen, 0)
			e.size_ += 4 + len(b)
		}
		if e.seen[id] != e.epoch {
			e.seen[id] = e.epoch
			e.met = append(e.met, id)
		}
		e.page.idx = append(e.page.idx, uint32(id))
		e.page.max = max(e.page.max, uint32(id))
		e.raw += 4 + len(b)
	}
}

func (e *dictBytes) fit(_ *values, _, n, budget int) int { return min(n, budget/4) }
func (e *dictBytes) size() int                           { return e.page.size() }
func (e *dictBytes) keep()                               {}
func (e *dictBytes) entries() int                        { return len(e.vals) }
func (e *dictBytes) dictBytes() int                      { return e.size_ }

func (e *dictBytes) fitNew(v *values, lo, n, budget int) int {
	if v.offs == nil { // only NULLs, without buffers
		return n
	}
	return fitBytes(v, lo, n, budget, 4)
}

func (e *dictBytes) stats(buf []byte) ([]byte, minMax) {
	if len(e.met) == 0 {
		return buf, minMax{}
	}
	lo, hi := e.vals[e.met[0]], e.vals[e.met[0]]
	for _, id := range e.met[1:] {
		s := e.vals[id]
		if s < lo {
			lo = s
		} else if s > hi {
			hi = s
		}
	}
	e.met = e.met[:0]
	e.epoch++
	start := len(buf)
	buf = append(buf, lo...)
	mid := len(buf)
	buf = append(buf, hi...)
	return buf, minMax{min: buf[start:mid:mid], max: buf[mid:], ok: true,
		tooLong: len(lo) > maxStatBytes || len(hi) > maxStatBytes}
}

func (e *dictBytes) flush(dst []byte) []byte {
	e.raw = 0
	return e.page.flush(dst)
}

func (e *dictBytes) pays(half bool) bool {
	return e.page.pays(e.size_, e.raw, len(e.vals), half)
}

func (e *dictBytes) replay(enc encoder) {
	e.sbuf = e.sbuf[:0]
	offs := make([]int32, 1, len(e.page.idx)+1)
	for _, i := range e.page.idx {
		e.sbuf = append(e.sbuf, e.vals[i]...)
		offs = append(offs, int32(len(e.sbuf)))
	}
	e.scratch.offs, e.scratch.data = offs, e.sbuf
	enc.put(&e.scratch, 0, len(e.page.idx))
	enc.keep()
	e.scratch = values{}
	e.met = e.met[:0]
	e.epoch++
	e.page.idx, e.page.max, e.raw = e.page.idx[:0], 0, 0
	e.resetChunk()
}

func (e *dictBytes) appendDict(dst []byte) []byte {
	for _, s := range e.vals {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(s)))
		dst = append(dst, s...)
	}
	return dst
}

func (e *dictBytes) resetChunk() {
	clear(e.index)
	clear(e.vals) // let the strings go
	e.vals = e.vals[:0]
	e.seen = e.seen[:0]
	e.size_ = 0
}
