package ingest

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// The sorter copies each row, with its key, into a compact row format, so
// that putting rows in order moves one contiguous record per row rather
// than touching every column of every input batch at random. The same bytes
// are what a spilled run holds, so spilling and merging never convert.
//
// A row is
//
//	uvarint  length of the rest of the row
//	uvarint  key length
//	[]byte   key
//	[]byte   NULL bitmap over the nullable columns (bit set = NULL), if any
//	values   of the non-NULL columns in storage order: BIGINT, DOUBLE and
//	         TIMESTAMP as 8 bytes, INTEGER and DATE as 4 (little-endian),
//	         BOOLEAN as 1 byte, VARCHAR and VARBINARY as uvarint length and
//	         bytes.

type colKind uint8

const (
	kind8 colKind = iota
	kind4
	kindBool
	kindBytes
)

// rowCodec encodes rows of one schema and decodes them into batches.
type rowCodec struct {
	sch       *arrow.Schema
	kinds     []colKind
	nullBit   []int // bit of each column in the NULL bitmap, or -1
	nullBytes int
}

func newRowCodec(sch *arrow.Schema) *rowCodec {
	c := &rowCodec{sch: sch}
	bits := 0
	for _, f := range sch.Fields() {
		k, ok := kindOf(f.Type)
		if !ok {
			panic(fmt.Sprintf("ingest: cannot sort Arrow type %s", f.Type))
		}
		c.kinds = append(c.kinds, k)
		bit := -1
		if f.Nullable {
			bit, bits = bits, bits+1
		}
		c.nullBit = append(c.nullBit, bit)
	}
	c.nullBytes = (bits + 7) / 8
	return c
}

// colView gives direct access to the values of one column of a batch.
type colView struct {
	kind  colKind
	u64   []uint64
	u32   []uint32
	bits  bitmapSource // BOOLEAN values
	bin   binarySource
	valid bitmapSource // bits == nil when the column has no NULLs
}

// bitmapSource is a bitmap and the bit of the array's first row.
type bitmapSource struct {
	bits []byte
	off  int
}

// binarySource is a variable-length column: offsets from its first row,
// and the bytes they index.
type binarySource struct {
	offs []int32
	data []byte
}

// views prepares the columns of rec for encoding. A NULL in a column the
// schema declares NOT NULL is an error.
func (c *rowCodec) views(dst []colView, rec arrow.RecordBatch) ([]colView, error) {
	dst = dst[:0]
	for i, col := range rec.Columns() {
		d := col.Data()
		v := colView{kind: c.kinds[i]}
		if col.NullN() > 0 {
			if c.nullBit[i] < 0 {
				return nil, fmt.Errorf("sort: column %q is NOT NULL but the batch has NULLs in it", c.sch.Field(i).Name)
			}
			v.valid = bitmapSource{bits: col.NullBitmapBytes(), off: d.Offset()}
		}
		switch v.kind {
		case kind8:
			v.u64 = fixedValues[uint64](d)
		case kind4:
			v.u32 = fixedValues[uint32](d)
		case kindBool:
			v.bits = bitmapSource{bits: d.Buffers()[1].Bytes(), off: d.Offset()}
		case kindBytes:
			v.bin = binarySourceOf(d)
		}
		dst = append(dst, v)
	}
	return dst, nil
}

// appendRow appends the encoding of row of the viewed batch, with its key.
func (c *rowCodec) appendRow(dst []byte, views []colView, key []byte, row int) []byte {
	start := len(dst)
	dst = append(dst, 0) // the length, fixed below
	dst = binary.AppendUvarint(dst, uint64(len(key)))
	dst = append(dst, key...)
	nulls := len(dst)
	for range c.nullBytes {
		dst = append(dst, 0)
	}
	for i := range views {
		v := &views[i]
		if v.valid.bits != nil && !bitutil.BitIsSet(v.valid.bits, v.valid.off+row) {
			bit := c.nullBit[i]
			dst[nulls+bit/8] |= 1 << (bit % 8)
			continue
		}
		switch v.kind {
		case kind8:
			dst = binary.LittleEndian.AppendUint64(dst, v.u64[row])
		case kind4:
			dst = binary.LittleEndian.AppendUint32(dst, v.u32[row])
		case kindBool:
			b := byte(0)
			if bitutil.BitIsSet(v.bits.bits, v.bits.off+row) {
				b = 1
			}
			dst = append(dst, b)
		case kindBytes:
			s := v.bin.data[v.bin.offs[row]:v.bin.offs[row+1]]
			dst = binary.AppendUvarint(dst, uint64(len(s)))
			dst = append(dst, s...)
		}
	}
	n := len(dst) - start - 1
	if n < 0x80 {
		dst[start] = byte(n)
		return dst
	}
	// A long row: make room for a longer length.
	var l [binary.MaxVarintLen64]byte
	w := binary.PutUvarint(l[:], uint64(n))
	dst = append(dst, l[:w-1]...)
	copy(dst[start+w:], dst[start+1:start+1+n])
	copy(dst[start:], l[:w])
	return dst
}

// rowAt returns the row that starts at off in buf, without its length, and
// the offset just past it.
func rowAt(buf []byte, off int) ([]byte, int) {
	if n := int(buf[off]); n < 0x80 {
		return buf[off+1 : off+1+n], off + 1 + n
	}
	n, w := binary.Uvarint(buf[off:])
	start := off + w
	return buf[start : start+int(n)], start + int(n)
}

// splitKey returns the key of a row (as rowAt returns it) and the rest.
func splitKey(row []byte) (key, rest []byte) {
	if n := int(row[0]); n < 0x80 {
		return row[1 : 1+n], row[1+n:]
	}
	n, w := binary.Uvarint(row)
	return row[w : w+int(n)], row[w+int(n):]
}

// rowDecoder turns rows back into batches, through column scratch that it
// reuses from one batch to the next.
type rowDecoder struct {
	codec *rowCodec
	alloc memory.Allocator
	cols  []column
	n     int // rows added since reset
}

func newRowDecoder(codec *rowCodec, alloc memory.Allocator) *rowDecoder {
	d := &rowDecoder{codec: codec, alloc: alloc, cols: make([]column, len(codec.kinds))}
	for i, k := range codec.kinds {
		d.cols[i].kind = k
	}
	return d
}

// decode returns a batch of the rows, in order, and sets keys[i] to the key
// of rows[i] if keys is not nil. The keys point into the rows.
func (d *rowDecoder) decode(rows [][]byte, keys [][]byte) arrow.RecordBatch {
	d.reset()
	d.add(rows, keys)
	return d.finish()
}

// reset starts a batch.
func (d *rowDecoder) reset() {
	for i := range d.cols {
		d.cols[i].reset()
	}
	d.n = 0
}

// add decodes rows into the batch being built, and their keys into keys
// unless it is nil.
func (d *rowDecoder) add(rows [][]byte, keys [][]byte) {
	c := d.codec
	for i, row := range rows {
		key, p := splitKey(row)
		if keys != nil {
			keys[i] = key
		}
		nulls := p[:c.nullBytes]
		p = p[c.nullBytes:]
		for j := range d.cols {
			col := &d.cols[j]
			if bit := c.nullBit[j]; bit >= 0 && nulls[bit/8]&(1<<(bit%8)) != 0 {
				col.appendNull()
				continue
			}
			switch col.kind {
			case kind8:
				col.u64 = append(col.u64, binary.LittleEndian.Uint64(p))
				p = p[8:]
			case kind4:
				col.u32 = append(col.u32, binary.LittleEndian.Uint32(p))
				p = p[4:]
			case kindBool:
				col.data = append(col.data, p[0])
				p = p[1:]
			case kindBytes:
				n, w := uint64(p[0]), 1
				if n >= 0x80 {
					n, w = binary.Uvarint(p)
				}
				col.appendBytes(p[w : w+int(n)])
				p = p[w+int(n):]
			}
		}
	}
	d.n += len(rows)
}

// finish returns the batch of the rows added since reset.
func (d *rowDecoder) finish() arrow.RecordBatch {
	return newBatch(d.alloc, d.codec.sch, d.cols, d.n)
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

func binarySourceOf(d arrow.ArrayData) binarySource {
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

// view reinterprets the start of an Arrow buffer (64-byte aligned, holding
// no Go pointers) as n values of T.
func view[T any](b []byte, n int) []T {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), n)
}
