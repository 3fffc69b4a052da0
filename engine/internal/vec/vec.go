// Package vec gives typed, allocation-free views of Arrow arrays and builds
// arrays from plain Go slices, for the typed loops of the engine's
// operators and aggregate functions.
//
// Views alias the array's buffers: they are valid while the array is
// retained and must not be written to.
package vec

import (
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Fixed is the Go types whose Arrow arrays are one buffer of little-endian
// values of that type.
type Fixed interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 |
		~float32 | ~float64 | decimal128.Num | arrow.MonthDayNanoInterval
}

// Values returns the values of a fixed-width array as a slice of T (whose
// size must be the type's width). Slots of NULLs hold unspecified values.
func Values[T Fixed](arr arrow.Array) []T {
	d := arr.Data()
	bufs := d.Buffers()
	if arr.Len() == 0 || len(bufs) < 2 || bufs[1] == nil {
		return nil
	}
	b := bufs[1].Bytes()
	var zero T
	all := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/int(unsafe.Sizeof(zero)))
	return all[d.Offset() : d.Offset()+arr.Len()]
}

// Bitmap is a view of a validity or boolean bitmap starting at bit Off.
// A nil validity bitmap means every value is valid.
type Bitmap struct {
	Bits []byte
	Off  int
}

// Get reports bit i.
func (b Bitmap) Get(i int) bool {
	j := b.Off + i
	return b.Bits[j>>3]&(1<<(j&7)) != 0
}

// Valid reports whether row i is not NULL.
func (b Bitmap) Valid(i int) bool {
	if b.Bits == nil {
		return true
	}
	j := b.Off + i
	return b.Bits[j>>3]&(1<<(j&7)) != 0
}

// Validity returns arr's validity bitmap, with nil Bits when arr has no NULLs.
func Validity(arr arrow.Array) Bitmap {
	if arr.NullN() == 0 {
		return Bitmap{}
	}
	if arr.DataType().ID() == arrow.NULL {
		return Bitmap{Bits: make([]byte, bitutil.BytesForBits(int64(arr.Len()))), Off: 0}
	}
	return Bitmap{Bits: arr.NullBitmapBytes(), Off: arr.Data().Offset()}
}

// Bools returns the value bitmap of a boolean array.
func Bools(arr arrow.Array) Bitmap {
	d := arr.Data()
	if arr.Len() == 0 {
		return Bitmap{Bits: []byte{0}}
	}
	return Bitmap{Bits: d.Buffers()[1].Bytes(), Off: d.Offset()}
}

// BinaryView reads the values of a STRING, BINARY, LARGE_STRING or
// LARGE_BINARY array.
type BinaryView struct {
	off32 []int32
	off64 []int64
	data  []byte
}

// Binary returns a view of a variable-width binary or string array.
func Binary(arr arrow.Array) BinaryView {
	d := arr.Data()
	bufs := d.Buffers()
	var v BinaryView
	if len(bufs) > 2 && bufs[2] != nil {
		v.data = bufs[2].Bytes()
	}
	if bufs[1] == nil {
		v.off32 = make([]int32, arr.Len()+1)
		return v
	}
	n := d.Offset() + arr.Len() + 1
	switch arr.DataType().ID() {
	case arrow.LARGE_STRING, arrow.LARGE_BINARY:
		b := bufs[1].Bytes()
		v.off64 = unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/8)[d.Offset():n]
	default:
		b := bufs[1].Bytes()
		v.off32 = unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/4)[d.Offset():n]
	}
	return v
}

// Value returns value i; it aliases the array's buffer.
func (v BinaryView) Value(i int) []byte {
	if v.off32 != nil {
		return v.data[v.off32[i]:v.off32[i+1]]
	}
	return v.data[v.off64[i]:v.off64[i+1]]
}

// String returns value i as a string aliasing the array's buffer: copy it
// (strings.Clone) before keeping it past the array's life.
func (v BinaryView) String(i int) string {
	b := v.Value(i)
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// IsBinary reports whether dt is read by BinaryView.
func IsBinary(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.STRING, arrow.BINARY, arrow.LARGE_STRING, arrow.LARGE_BINARY:
		return true
	}
	return false
}

// ValidityBuffer builds a validity bitmap from valid (nil: all valid) and
// returns it with the number of NULLs; the buffer is nil when there are none.
func ValidityBuffer(alloc memory.Allocator, valid []bool, n int) (*memory.Buffer, int) {
	if valid == nil {
		return nil, 0
	}
	nulls := 0
	for _, ok := range valid[:n] {
		if !ok {
			nulls++
		}
	}
	if nulls == 0 {
		return nil, 0
	}
	buf := memory.NewResizableBuffer(alloc)
	buf.Resize(int(bitutil.BytesForBits(int64(n))))
	bits := buf.Bytes()
	clear(bits)
	for i, ok := range valid[:n] {
		if ok {
			bitutil.SetBit(bits, i)
		}
	}
	return buf, nulls
}

// NewFixed builds an array of type dt (whose width must be T's) from vals;
// valid marks the non-NULL values (nil: all).
func NewFixed[T Fixed](alloc memory.Allocator, dt arrow.DataType, vals []T, valid []bool) arrow.Array {
	n := len(vals)
	var zero T
	size := int(unsafe.Sizeof(zero))
	buf := memory.NewResizableBuffer(alloc)
	buf.Resize(n * size)
	if n > 0 {
		copy(buf.Bytes(), unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(vals))), n*size))
	}
	vbuf, nulls := ValidityBuffer(alloc, valid, n)
	data := array.NewData(dt, n, []*memory.Buffer{vbuf, buf}, nil, nulls, 0)
	buf.Release()
	if vbuf != nil {
		vbuf.Release()
	}
	defer data.Release()
	return array.MakeFromData(data)
}

// NewBool builds a BOOLEAN array from vals; valid marks the non-NULL values
// (nil: all).
func NewBool(alloc memory.Allocator, vals []bool, valid []bool) arrow.Array {
	n := len(vals)
	buf := memory.NewResizableBuffer(alloc)
	buf.Resize(int(bitutil.BytesForBits(int64(n))))
	bits := buf.Bytes()
	clear(bits)
	for i, v := range vals {
		if v {
			bitutil.SetBit(bits, i)
		}
	}
	vbuf, nulls := ValidityBuffer(alloc, valid, n)
	data := array.NewData(arrow.FixedWidthTypes.Boolean, n, []*memory.Buffer{vbuf, buf}, nil, nulls, 0)
	buf.Release()
	if vbuf != nil {
		vbuf.Release()
	}
	defer data.Release()
	return array.MakeFromData(data)
}

// NewBinary builds a STRING, BINARY, LARGE_STRING or LARGE_BINARY array of
// n values from the concatenated data and n+1 offsets into it.
func NewBinary(alloc memory.Allocator, dt arrow.DataType, data []byte, offsets []int64, valid []bool) arrow.Array {
	n := len(offsets) - 1
	obuf := memory.NewResizableBuffer(alloc)
	switch dt.ID() {
	case arrow.LARGE_STRING, arrow.LARGE_BINARY:
		obuf.Resize((n + 1) * 8)
		copy(unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(obuf.Bytes()))), n+1), offsets)
	default:
		obuf.Resize((n + 1) * 4)
		o := unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(obuf.Bytes()))), n+1)
		for i, x := range offsets {
			o[i] = int32(x)
		}
	}
	dbuf := memory.NewResizableBuffer(alloc)
	dbuf.Resize(len(data))
	copy(dbuf.Bytes(), data)
	vbuf, nulls := ValidityBuffer(alloc, valid, n)
	d := array.NewData(dt, n, []*memory.Buffer{vbuf, obuf, dbuf}, nil, nulls, 0)
	obuf.Release()
	dbuf.Release()
	if vbuf != nil {
		vbuf.Release()
	}
	defer d.Release()
	return array.MakeFromData(d)
}

// Width is the byte width of a fixed-width type's values read by Values, or
// 0 for other types (BOOLEAN included).
func Width(dt arrow.DataType) int {
	switch dt.ID() {
	case arrow.INT8, arrow.UINT8:
		return 1
	case arrow.INT16, arrow.UINT16:
		return 2
	case arrow.INT32, arrow.UINT32, arrow.FLOAT32, arrow.DATE32, arrow.TIME32:
		return 4
	case arrow.INT64, arrow.UINT64, arrow.FLOAT64, arrow.DATE64, arrow.TIME64, arrow.TIMESTAMP, arrow.DURATION:
		return 8
	case arrow.DECIMAL128, arrow.INTERVAL_MONTH_DAY_NANO:
		return 16
	}
	return 0
}

// Size is the number of bytes of the buffers of arr (children and
// dictionary included); buffers shared with other arrays count in full.
func Size(arr arrow.Array) int64 { return dataSize(arr.Data()) }

func dataSize(d arrow.ArrayData) int64 {
	var n int64
	for _, b := range d.Buffers() {
		if b != nil {
			n += int64(b.Len())
		}
	}
	for _, c := range d.Children() {
		n += dataSize(c)
	}
	if dict, ok := d.Dictionary().(*array.Data); ok && dict != nil {
		n += dataSize(dict)
	}
	return n
}

// BatchSize is the number of bytes of the buffers of rec's columns.
func BatchSize(rec arrow.RecordBatch) int64 {
	var n int64
	for _, c := range rec.Columns() {
		n += Size(c)
	}
	return n
}
