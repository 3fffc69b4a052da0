package engine

import (
	"bytes"
	"hash/maphash"
	"math"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/engine/internal/vec"
)

// The keyColumn implementations: one generic one for fixed-width values
// (floats normalised first so that -0 = 0 and NaN = NaN, as PostgreSQL
// groups them), and one each for BOOLEAN, variable-width binary and the
// NULL type.

type fixedKey interface {
	vec.Fixed
	comparable
}

type fixedColumn[T fixedKey] struct {
	dt      arrow.DataType
	vals    []T
	valid   []bool
	load    func(arr arrow.Array, scratch *[]T) []T
	scratch []T
	in      []T
	inValid vec.Bitmap
}

func newFixedColumn[T fixedKey](dt arrow.DataType) *fixedColumn[T] {
	return &fixedColumn[T]{dt: dt, load: func(arr arrow.Array, _ *[]T) []T { return vec.Values[T](arr) }}
}

// newFloatColumn keys floats by the bits of their normalised value.
func newFloatColumn[F float32 | float64, U uint32 | uint64](dt arrow.DataType) *fixedColumn[U] {
	return &fixedColumn[U]{dt: dt, load: func(arr arrow.Array, scratch *[]U) []U {
		in := vec.Values[F](arr)
		if cap(*scratch) < len(in) {
			*scratch = make([]U, len(in))
		}
		out := (*scratch)[:len(in)]
		for i, f := range in {
			out[i] = floatKeyBits[F, U](f)
		}
		return out
	}}
}

func floatKeyBits[F float32 | float64, U uint32 | uint64](f F) U {
	switch {
	case f == 0:
		return 0
	case f != f:
		if unsafe.Sizeof(f) == 4 {
			return U(0x7FC00000)
		}
		return U(math.Float64bits(math.NaN()))
	}
	return *(*U)(unsafe.Pointer(&f))
}

func (c *fixedColumn[T]) hash(arr arrow.Array, h []uint64) {
	vals := c.load(arr, &c.scratch)
	hashFixed(vals, vec.Validity(arr), h)
}

// words gives the values as integers, as insertDirect reads them: keys are
// equal exactly when these are (floats are normalised first).
func (c *fixedColumn[T]) words(arr arrow.Array) (unsafe.Pointer, uintptr, bool) {
	vals := c.load(arr, &c.scratch)
	var zero T
	switch n := unsafe.Sizeof(zero); n {
	case 1, 2, 4, 8:
		return unsafe.Pointer(unsafe.SliceData(vals)), n, true
	}
	return nil, 0, false
}

func (c *fixedColumn[T]) bind(arr arrow.Array) {
	c.in, c.inValid = c.load(arr, &c.scratch), vec.Validity(arr)
}

func (c *fixedColumn[T]) appendRow(i int) {
	var v T
	ok := c.inValid.Valid(i)
	if ok {
		v = c.in[i]
	}
	c.vals = append(c.vals, v)
	c.valid = append(c.valid, ok)
}

func (c *fixedColumn[T]) equal(id uint32, i int) bool {
	if !c.inValid.Valid(i) {
		return !c.valid[id]
	}
	return c.valid[id] && c.vals[id] == c.in[i]
}

func (c *fixedColumn[T]) verify(ids []uint32, ok []bool) {
	if c.inValid.Bits == nil {
		for i, id := range ids[:len(ok)] {
			if id != noID && (c.vals[id] != c.in[i] || !c.valid[id]) {
				ok[i] = false
			}
		}
		return
	}
	for i, id := range ids[:len(ok)] {
		if id != noID && !c.equal(id, i) {
			ok[i] = false
		}
	}
}

func (c *fixedColumn[T]) build(alloc memory.Allocator, lo, hi int) arrow.Array {
	return vec.NewFixed(alloc, c.dt, c.vals[lo:hi], c.valid[lo:hi])
}

func (c *fixedColumn[T]) size() int64 {
	var zero T
	return int64(cap(c.vals))*int64(unsafe.Sizeof(zero)) + int64(cap(c.valid)) + int64(cap(c.scratch))*int64(unsafe.Sizeof(zero))
}

// hashFixed mixes the bits of vals (or hashNull for NULLs) into h.
func hashFixed[T vec.Fixed](vals []T, valid vec.Bitmap, h []uint64) {
	var zero T
	p := unsafe.Pointer(unsafe.SliceData(vals))
	n := len(vals)
	switch unsafe.Sizeof(zero) {
	case 1:
		hashWords(unsafe.Slice((*uint8)(p), n), valid, h)
	case 2:
		hashWords(unsafe.Slice((*uint16)(p), n), valid, h)
	case 4:
		hashWords(unsafe.Slice((*uint32)(p), n), valid, h)
	case 8:
		hashWords(unsafe.Slice((*uint64)(p), n), valid, h)
	case 16:
		w := unsafe.Slice((*uint64)(p), 2*n)
		for i := range n {
			x := uint64(hashNull)
			if valid.Valid(i) {
				x = mix(w[2*i], w[2*i+1])
			}
			h[i] = mix(h[i], x)
		}
	}
}

func hashWords[U uint8 | uint16 | uint32 | uint64](vals []U, valid vec.Bitmap, h []uint64) {
	if valid.Bits == nil {
		for i, v := range vals {
			h[i] = mix(h[i], uint64(v))
		}
		return
	}
	for i, v := range vals {
		x := uint64(v)
		if !valid.Valid(i) {
			x = hashNull
		}
		h[i] = mix(h[i], x)
	}
}

type boolColumn struct {
	vals, valid []bool
	in, inValid vec.Bitmap
}

func (c *boolColumn) hash(arr arrow.Array, h []uint64) {
	vals, valid := vec.Bools(arr), vec.Validity(arr)
	for i := range h {
		x := uint64(hashNull)
		if valid.Valid(i) {
			x = 0
			if vals.Get(i) {
				x = 1
			}
		}
		h[i] = mix(h[i], x)
	}
}

func (c *boolColumn) bind(arr arrow.Array) { c.in, c.inValid = vec.Bools(arr), vec.Validity(arr) }

func (c *boolColumn) appendRow(i int) {
	ok := c.inValid.Valid(i)
	c.vals = append(c.vals, ok && c.in.Get(i))
	c.valid = append(c.valid, ok)
}

func (c *boolColumn) equal(id uint32, i int) bool {
	if !c.inValid.Valid(i) {
		return !c.valid[id]
	}
	return c.valid[id] && c.vals[id] == c.in.Get(i)
}

func (c *boolColumn) verify(ids []uint32, ok []bool) {
	for i, id := range ids[:len(ok)] {
		if id != noID && !c.equal(id, i) {
			ok[i] = false
		}
	}
}

func (c *boolColumn) build(alloc memory.Allocator, lo, hi int) arrow.Array {
	return vec.NewBool(alloc, c.vals[lo:hi], c.valid[lo:hi])
}

func (c *boolColumn) size() int64 { return int64(cap(c.vals) + cap(c.valid)) }

var binarySeed = maphash.MakeSeed()

type binaryColumn struct {
	dt      arrow.DataType
	data    []byte
	offs    []int64
	valid   []bool
	in      vec.BinaryView
	inValid vec.Bitmap
}

func newBinaryColumn(dt arrow.DataType) *binaryColumn {
	return &binaryColumn{dt: dt, offs: []int64{0}}
}

func (c *binaryColumn) hash(arr arrow.Array, h []uint64) {
	vals, valid := vec.Binary(arr), vec.Validity(arr)
	for i := range h {
		x := uint64(hashNull)
		if valid.Valid(i) {
			x = maphash.Bytes(binarySeed, vals.Value(i))
		}
		h[i] = mix(h[i], x)
	}
}

func (c *binaryColumn) bind(arr arrow.Array) { c.in, c.inValid = vec.Binary(arr), vec.Validity(arr) }

func (c *binaryColumn) appendRow(i int) {
	ok := c.inValid.Valid(i)
	if ok {
		c.data = append(c.data, c.in.Value(i)...)
	}
	c.offs = append(c.offs, int64(len(c.data)))
	c.valid = append(c.valid, ok)
}

func (c *binaryColumn) value(id uint32) []byte { return c.data[c.offs[id]:c.offs[id+1]] }

func (c *binaryColumn) equal(id uint32, i int) bool {
	if !c.inValid.Valid(i) {
		return !c.valid[id]
	}
	return c.valid[id] && bytes.Equal(c.value(id), c.in.Value(i))
}

func (c *binaryColumn) verify(ids []uint32, ok []bool) {
	for i, id := range ids[:len(ok)] {
		if id != noID && !c.equal(id, i) {
			ok[i] = false
		}
	}
}

func (c *binaryColumn) build(alloc memory.Allocator, lo, hi int) arrow.Array {
	base := c.offs[lo]
	offs := make([]int64, hi-lo+1)
	for i := range offs {
		offs[i] = c.offs[lo+i] - base
	}
	return vec.NewBinary(alloc, c.dt, c.data[base:c.offs[hi]], offs, c.valid[lo:hi])
}

func (c *binaryColumn) size() int64 { return int64(cap(c.data) + 8*cap(c.offs) + cap(c.valid)) }

// nullColumn keys the NULL type: every value is NULL.
type nullColumn struct{ n int }

func (c *nullColumn) hash(_ arrow.Array, h []uint64) {
	for i := range h {
		h[i] = mix(h[i], hashNull)
	}
}
func (c *nullColumn) bind(arrow.Array)        {}
func (c *nullColumn) appendRow(int)           { c.n++ }
func (c *nullColumn) equal(uint32, int) bool  { return true }
func (c *nullColumn) verify([]uint32, []bool) {}
func (c *nullColumn) size() int64             { return 0 }
func (c *nullColumn) build(alloc memory.Allocator, lo, hi int) arrow.Array {
	return array.MakeArrayOfNull(alloc, arrow.Null, hi-lo)
}
