package expr

import (
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// This file holds the low-level helpers the kernels share: typed views of
// Arrow buffers, validity bitmaps and the assembly of result arrays.

// fixed is the set of Go types stored in fixed-width Arrow buffers.
type fixed interface {
	~int16 | ~int32 | ~int64 | ~float32 | ~float64 | arrow.MonthDayNanoInterval
}

// number is the set of Go types our numeric, date and timestamp kernels
// compute on.
type number interface {
	~int16 | ~int32 | ~int64 | ~float32 | ~float64
}

// vals is the typed view of a fixed-width array's values (offset applied).
func vals[T fixed](a arrow.Array) []T {
	d := a.Data()
	b := d.Buffers()[1]
	if b == nil {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b.Bytes()))), b.Len()/int(unsafe.Sizeof(*new(T))))[d.Offset() : d.Offset()+d.Len()]
}

// newFixed allocates a buffer of n values of T; the caller fills every
// value and hands the buffer to makeArray.
func newFixed[T fixed](alloc memory.Allocator, n int) (*memory.Buffer, []T) {
	buf := memory.NewResizableBuffer(alloc)
	buf.Resize(n * int(unsafe.Sizeof(*new(T))))
	if n == 0 {
		return buf, nil
	}
	return buf, unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(buf.Bytes()))), n)
}

// newBitmap allocates a zeroed bitmap of n bits.
func newBitmap(alloc memory.Allocator, n int) (*memory.Buffer, []byte) {
	buf := memory.NewResizableBuffer(alloc)
	buf.Resize(int(bitutil.BytesForBits(int64(n))))
	b := buf.Bytes()
	clear(b)
	return buf, b
}

// makeArray assembles an array from a validity bitmap (nil for no NULLs)
// and value buffers, taking over the caller's references to the buffers.
func makeArray(dt arrow.DataType, n int, validity *memory.Buffer, bufs ...*memory.Buffer) arrow.Array {
	nulls := 0
	if validity != nil {
		nulls = n - bitutil.CountSetBits(validity.Bytes(), 0, n)
		if nulls == 0 {
			validity.Release()
			validity = nil
		}
	}
	all := append([]*memory.Buffer{validity}, bufs...)
	data := array.NewData(dt, n, all, nil, nulls, 0)
	arr := array.MakeFromData(data)
	data.Release()
	for _, b := range all {
		if b != nil {
			b.Release()
		}
	}
	return arr
}

// bitsOf returns a's bitmap buffer i (0 validity, 1 boolean values) and the
// bit offset of its first element; nil when absent.
func bitsOf(a arrow.Array, i int) ([]byte, int) {
	d := a.Data()
	b := d.Buffers()[i]
	if b == nil {
		return nil, 0
	}
	return b.Bytes(), d.Offset()
}

// validityAnd is the validity of a result that is NULL wherever any input
// is: a new bitmap (nil when no input has NULLs) owned by the caller.
func validityAnd(alloc memory.Allocator, n int, arrs ...arrow.Array) *memory.Buffer {
	var out *memory.Buffer
	var ob []byte
	for _, a := range arrs {
		if a == nil || a.NullN() == 0 {
			continue
		}
		bits, off := bitsOf(a, 0)
		if out == nil {
			out, ob = newBitmap(alloc, n)
			if bits == nil { // arrow.Null: every value is NULL
				continue
			}
			bitutil.CopyBitmap(bits, off, n, ob, 0)
			continue
		}
		if bits == nil {
			clear(ob)
			continue
		}
		bitutil.BitmapAnd(ob, bits, 0, int64(off), ob, 0, int64(n))
	}
	return out
}

// copyValidity is a's validity as a new bitmap, nil when a has no NULLs.
func copyValidity(alloc memory.Allocator, a arrow.Array) *memory.Buffer {
	return validityAnd(alloc, a.Len(), a)
}

// allNull makes an all-NULL array of n values of dt.
func allNull(alloc memory.Allocator, dt arrow.DataType, n int) arrow.Array {
	return array.MakeArrayOfNull(alloc, dt, n)
}

// validAt reports whether row i of a validity bitmap (nil: all valid) is set.
func validAt(bits []byte, off, i int) bool {
	return bits == nil || bitutil.BitIsSet(bits, off+i)
}

// firstInvalid finds the first valid row i of a and b (either may be nil)
// for which bad(i) holds; kernels call it, off the fast path, to tell an
// error on a real row from garbage under a NULL.
func firstInvalid(n int, a, b arrow.Array, bad func(i int) bool) int {
	var ab, bb []byte
	var ao, bo int
	if a != nil && a.NullN() > 0 {
		ab, ao = bitsOf(a, 0)
	}
	if b != nil && b.NullN() > 0 {
		bb, bo = bitsOf(b, 0)
	}
	for i := 0; i < n; i++ {
		if validAt(ab, ao, i) && validAt(bb, bo, i) && bad(i) {
			return i
		}
	}
	return -1
}

// b2u is 1 for true: the compiler turns it into a SETcc.
func b2u(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// packBools writes one bit per element of bs into out, 8 at a time.
func packBools(bs []bool, out []byte) {
	n := len(bs)
	j := 0
	for ; j+8 <= n; j += 8 {
		v := bs[j : j+8 : j+8]
		out[j>>3] = b2u(v[0]) | b2u(v[1])<<1 | b2u(v[2])<<2 | b2u(v[3])<<3 |
			b2u(v[4])<<4 | b2u(v[5])<<5 | b2u(v[6])<<6 | b2u(v[7])<<7
	}
	for ; j < n; j++ {
		if bs[j] {
			out[j>>3] |= 1 << (j & 7)
		}
	}
}

// boolArray makes a boolean array of n values from a value bitmap and a
// validity bitmap (nil: no NULLs), taking over both buffers.
func boolArray(n int, data, validity *memory.Buffer) arrow.Array {
	return makeArray(BoolType, n, validity, data)
}

// alignedBits returns a boolean array's value bits starting at bit 0, copying
// them when the array is a slice at an offset; release is a no-op otherwise.
func alignedBits(alloc memory.Allocator, a arrow.Array, i int) ([]byte, func()) {
	bits, off := bitsOf(a, i)
	if bits == nil {
		return nil, func() {}
	}
	if off == 0 {
		return bits, func() {}
	}
	buf, b := newBitmap(alloc, a.Len())
	bitutil.CopyBitmap(bits, off, a.Len(), b, 0)
	return b, buf.Release
}

// binaryView is the offsets and bytes of a string or binary array.
type binaryView struct {
	offs []int32
	data []byte
}

func viewOf(a arrow.Array) binaryView {
	d := a.Data()
	offs := arrow.GetOffsets[int32](d, 1)
	var data []byte
	if b := d.Buffers()[2]; b != nil {
		data = b.Bytes()
	}
	return binaryView{offs: offs, data: data}
}

func (v binaryView) at(i int) []byte { return v.data[v.offs[i]:v.offs[i+1]] }

func (v binaryView) str(i int) string {
	b := v.data[v.offs[i]:v.offs[i+1]]
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// textBuilder accumulates string or binary values row by row, then copies
// them into buffers from the allocator.
type textBuilder struct {
	alloc memory.Allocator
	dt    arrow.DataType
	offs  []int32
	data  []byte
	nulls []int
}

func newTextBuilder(alloc memory.Allocator, dt arrow.DataType, n, dataHint int) *textBuilder {
	return &textBuilder{alloc: alloc, dt: dt, offs: make([]int32, 1, n+1), data: make([]byte, 0, dataHint)}
}

func (b *textBuilder) appendBytes(p []byte) {
	b.data = append(b.data, p...)
	b.offs = append(b.offs, int32(len(b.data)))
}

func (b *textBuilder) appendNull() {
	b.nulls = append(b.nulls, len(b.offs)-1)
	b.offs = append(b.offs, int32(len(b.data)))
}

// finish builds the array.
func (b *textBuilder) finish() arrow.Array {
	n := len(b.offs) - 1
	var validity *memory.Buffer
	if len(b.nulls) > 0 {
		var vb []byte
		validity, vb = newBitmap(b.alloc, n)
		bitutil.SetBitsTo(vb, 0, int64(n), true)
		for _, i := range b.nulls {
			bitutil.ClearBit(vb, i)
		}
	}
	ob := memory.NewResizableBuffer(b.alloc)
	ob.Resize(len(b.offs) * 4)
	copy(ob.Bytes(), arrow.GetBytes(b.offs))
	db := memory.NewResizableBuffer(b.alloc)
	db.Resize(len(b.data))
	copy(db.Bytes(), b.data)
	return makeArray(b.dt, n, validity, ob, db)
}
