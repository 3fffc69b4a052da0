package ingest

import (
	"fmt"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Output batches are gathered one column at a time from a list of (source
// batch, row) references: one typed loop per column, no per-row builder
// calls, whatever number of sources the rows come from.

// gatherColumn returns the rows refs of srcs (entry.b indexes srcs) as one
// array of type dt.
func gatherColumn(alloc memory.Allocator, dt arrow.DataType, srcs []arrow.Array, refs []entry) arrow.Array {
	switch dt.ID() {
	case arrow.INT64, arrow.FLOAT64, arrow.TIMESTAMP:
		return gatherFixed[uint64](alloc, dt, srcs, refs)
	case arrow.INT32, arrow.DATE32:
		return gatherFixed[uint32](alloc, dt, srcs, refs)
	case arrow.BOOL:
		return gatherBool(alloc, dt, srcs, refs)
	case arrow.STRING, arrow.BINARY:
		src := make([]binarySource, len(srcs))
		for i, a := range srcs {
			src[i] = binarySourceOf(a)
		}
		return gatherBinary(alloc, dt, src, refs, srcs)
	}
	panic(fmt.Sprintf("ingest: cannot gather Arrow type %s", dt))
}

// bitmapSource is one source's validity bitmap (nil when it has no nulls)
// and the bit offset of its first row.
type bitmapSource struct {
	bits []byte
	off  int
}

// gatherValidity returns the validity bitmap of the gathered rows and their
// null count, or nil and 0 if no source has nulls.
func gatherValidity(alloc memory.Allocator, srcs []arrow.Array, refs []entry) (*memory.Buffer, int) {
	var vs []bitmapSource
	for i, a := range srcs {
		if a.NullN() == 0 {
			continue
		}
		if vs == nil {
			vs = make([]bitmapSource, len(srcs))
		}
		vs[i] = bitmapSource{bits: a.NullBitmapBytes(), off: a.Data().Offset()}
	}
	if vs == nil {
		return nil, 0
	}
	buf := memory.NewResizableBuffer(alloc)
	buf.Resize(int(bitutil.BytesForBits(int64(len(refs)))))
	out := buf.Bytes()
	clear(out)
	nulls := 0
	for i, e := range refs {
		v := vs[e.b]
		if v.bits == nil || bitutil.BitIsSet(v.bits, v.off+int(e.r)) {
			bitutil.SetBit(out, i)
		} else {
			nulls++
		}
	}
	return buf, nulls
}

func gatherFixed[T uint32 | uint64](alloc memory.Allocator, dt arrow.DataType, srcs []arrow.Array, refs []entry) arrow.Array {
	size := int(unsafe.Sizeof(T(0)))
	vals := make([][]T, len(srcs))
	for i, a := range srcs {
		vals[i] = fixedValues[T](a.Data())
	}
	buf := memory.NewResizableBuffer(alloc)
	buf.Resize(len(refs) * size)
	out := view[T](buf.Bytes(), len(refs))
	for i, e := range refs {
		out[i] = vals[e.b][e.r]
	}
	return finish(dt, len(refs), alloc, srcs, refs, buf)
}

// fixedValues views the values of a fixed-width array as []T, from its
// offset.
func fixedValues[T uint32 | uint64](d arrow.ArrayData) []T {
	b := d.Buffers()[1]
	if b == nil || b.Len() == 0 {
		return nil
	}
	all := view[T](b.Bytes(), b.Len()/int(unsafe.Sizeof(T(0))))
	return all[d.Offset() : d.Offset()+d.Len()]
}

// finish wraps gathered value buffers (released here) into an array with
// the gathered validity.
func finish(dt arrow.DataType, n int, alloc memory.Allocator, srcs []arrow.Array, refs []entry, bufs ...*memory.Buffer) arrow.Array {
	valid, nulls := gatherValidity(alloc, srcs, refs)
	data := array.NewData(dt, n, append([]*memory.Buffer{valid}, bufs...), nil, nulls, 0)
	if valid != nil {
		valid.Release()
	}
	for _, b := range bufs {
		b.Release()
	}
	defer data.Release()
	return array.MakeFromData(data)
}

func gatherBool(alloc memory.Allocator, dt arrow.DataType, srcs []arrow.Array, refs []entry) arrow.Array {
	vals := make([]bitmapSource, len(srcs))
	for i, a := range srcs {
		d := a.Data()
		vals[i] = bitmapSource{bits: d.Buffers()[1].Bytes(), off: d.Offset()}
	}
	buf := memory.NewResizableBuffer(alloc)
	buf.Resize(int(bitutil.BytesForBits(int64(len(refs)))))
	out := buf.Bytes()
	clear(out)
	for i, e := range refs {
		if v := vals[e.b]; bitutil.BitIsSet(v.bits, v.off+int(e.r)) {
			bitutil.SetBit(out, i)
		}
	}
	return finish(dt, len(refs), alloc, srcs, refs, buf)
}

// binarySource is one source of variable-length values: offsets from the
// source's first row, and the bytes they index.
type binarySource struct {
	offs []int32
	data []byte
}

func binarySourceOf(a arrow.Array) binarySource {
	d := a.Data()
	var s binarySource
	if b := d.Buffers()[1]; b != nil && b.Len() > 0 {
		all := view[int32](b.Bytes(), b.Len()/4)
		s.offs = all[d.Offset() : d.Offset()+d.Len()+1]
	}
	if b := d.Buffers()[2]; b != nil {
		s.data = b.Bytes()
	}
	return s
}

// gatherBinary gathers variable-length values; srcs, if not nil, gives the
// validity (key columns have none).
func gatherBinary(alloc memory.Allocator, dt arrow.DataType, src []binarySource, refs []entry, srcs []arrow.Array) arrow.Array {
	total := 0
	for _, e := range refs {
		o := src[e.b].offs
		total += int(o[e.r+1] - o[e.r])
	}
	offBuf := memory.NewResizableBuffer(alloc)
	offBuf.Resize(4 * (len(refs) + 1))
	offs := view[int32](offBuf.Bytes(), len(refs)+1)
	dataBuf := memory.NewResizableBuffer(alloc)
	dataBuf.Resize(total)
	data := dataBuf.Bytes()
	pos := int32(0)
	for i, e := range refs {
		s := src[e.b]
		offs[i] = pos
		pos += int32(copy(data[pos:], s.data[s.offs[e.r]:s.offs[e.r+1]]))
	}
	offs[len(refs)] = pos
	if srcs == nil {
		d := array.NewData(dt, len(refs), []*memory.Buffer{nil, offBuf, dataBuf}, nil, 0, 0)
		offBuf.Release()
		dataBuf.Release()
		defer d.Release()
		return array.MakeFromData(d)
	}
	return finish(dt, len(refs), alloc, srcs, refs, offBuf, dataBuf)
}

// view reinterprets the start of an Arrow buffer (64-byte aligned, holding
// no Go pointers) as n values of T.
func view[T any](b []byte, n int) []T {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), n)
}
