package ingest

import (
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// column accumulates the values of one column of a batch being built in
// plain Go slices, which appending to costs a bounds check and a store, and
// turns them into an Arrow array at the end with one copy per buffer. The
// CSV parsers and the sorter's row decoder build their batches this way,
// reusing the slices from one batch to the next.
type column struct {
	kind  colKind
	u64   []uint64 // kind8 values
	u32   []uint32 // kind4 values
	data  []byte   // kindBool values (0 or 1 each), kindBytes bytes
	offs  []int32  // kindBytes offsets, from 0
	nulls []int32  // rows that are NULL
}

func (c *column) reset() {
	c.u64, c.u32, c.data, c.nulls = c.u64[:0], c.u32[:0], c.data[:0], c.nulls[:0]
	c.offs = append(c.offs[:0], 0)
}

// len is the number of values appended since reset.
func (c *column) len() int {
	switch c.kind {
	case kind8:
		return len(c.u64)
	case kind4:
		return len(c.u32)
	case kindBool:
		return len(c.data)
	}
	return len(c.offs) - 1
}

func (c *column) appendBytes(v []byte) {
	c.data = append(c.data, v...)
	c.offs = append(c.offs, int32(len(c.data)))
}

func (c *column) appendNull() {
	c.nulls = append(c.nulls, int32(c.len()))
	c.appendZero()
}

func (c *column) appendZero() {
	switch c.kind {
	case kind8:
		c.u64 = append(c.u64, 0)
	case kind4:
		c.u32 = append(c.u32, 0)
	case kindBool:
		c.data = append(c.data, 0)
	case kindBytes:
		c.offs = append(c.offs, int32(len(c.data)))
	}
}

// appendNulls appends n NULLs.
func (c *column) appendNulls(n int) {
	for range n {
		c.appendNull()
	}
}

// array copies the column's n values into a new array of type dt.
func (c *column) array(alloc memory.Allocator, dt arrow.DataType, n int) arrow.Array {
	var bufs []*memory.Buffer
	switch c.kind {
	case kind8:
		bufs = []*memory.Buffer{copyBuffer(alloc, bytesOf(c.u64))}
	case kind4:
		bufs = []*memory.Buffer{copyBuffer(alloc, bytesOf(c.u32))}
	case kindBool:
		b := newBuffer(alloc, int(bitutil.BytesForBits(int64(n))))
		bits := b.Bytes()
		clear(bits)
		for r, v := range c.data {
			if v != 0 {
				bitutil.SetBit(bits, r)
			}
		}
		bufs = []*memory.Buffer{b}
	case kindBytes:
		bufs = []*memory.Buffer{copyBuffer(alloc, bytesOf(c.offs)), copyBuffer(alloc, c.data)}
	}
	var valid *memory.Buffer
	if len(c.nulls) > 0 {
		valid = newBuffer(alloc, int(bitutil.BytesForBits(int64(n))))
		bitutil.SetBitsTo(valid.Bytes(), 0, int64(n), true)
		for _, r := range c.nulls {
			bitutil.ClearBit(valid.Bytes(), int(r))
		}
		defer valid.Release()
	}
	data := array.NewData(dt, n, append([]*memory.Buffer{valid}, bufs...), nil, len(c.nulls), 0)
	for _, b := range bufs {
		b.Release()
	}
	defer data.Release()
	return array.MakeFromData(data)
}

// newBatch turns columns of n values into a batch of schema sch.
func newBatch(alloc memory.Allocator, sch *arrow.Schema, cols []column, n int) arrow.RecordBatch {
	arrs := make([]arrow.Array, len(cols))
	for i := range cols {
		arrs[i] = cols[i].array(alloc, sch.Field(i).Type, n)
	}
	rec := array.NewRecordBatch(sch, arrs, int64(n))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}

func kindOf(dt arrow.DataType) (colKind, bool) {
	switch dt.ID() {
	case arrow.INT64, arrow.FLOAT64, arrow.TIMESTAMP:
		return kind8, true
	case arrow.INT32, arrow.DATE32:
		return kind4, true
	case arrow.BOOL:
		return kindBool, true
	case arrow.STRING, arrow.BINARY:
		return kindBytes, true
	}
	return 0, false
}

func newBuffer(alloc memory.Allocator, n int) *memory.Buffer {
	b := memory.NewResizableBuffer(alloc)
	b.Resize(n)
	return b
}

func copyBuffer(alloc memory.Allocator, src []byte) *memory.Buffer {
	b := newBuffer(alloc, len(src))
	copy(b.Bytes(), src)
	return b
}

func bytesOf[T uint32 | uint64 | int32](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(s[0])))
}
