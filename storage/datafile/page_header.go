package datafile

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dormousedb/dormouse/storage/datafile/internal/compact"
)

// Why a hand-written page header decoder.
//
// The direct read path (read_direct.go) reads single pages found in the
// offset index, so it must decode their Thrift headers itself: arrow-go
// keeps its generated Thrift types internal, and its general Thrift
// protocol allocates per field. A page header is a handful of integers in
// Thrift's compact protocol; this reads them and skips everything else
// (statistics, CRC, unknown fields), allocating nothing.

// Parquet page types (parquet.thrift PageType).
const (
	pageData       = 0
	pageDictionary = 2
	pageDataV2     = 3
)

// Parquet encodings (parquet.thrift Encoding) the direct path decodes.
const (
	encPlain          = 0
	encPlainDict      = 2
	encRLE            = 3
	encRLEDictionary  = 8
	encBitPackedLevel = 4 // deprecated BIT_PACKED levels; not decoded
)

// pageHeader holds what the direct path needs of a PageHeader.
type pageHeader struct {
	typ              int32
	uncompressedSize int32
	compressedSize   int32
	numValues        int32 // data, data v2 and dictionary pages
	encoding         int32
	defEncoding      int32 // data page v1
	numNulls         int32 // data page v2
	defBytes         int32 // data page v2: definition levels' length
	repBytes         int32 // data page v2: repetition levels' length
	v2Compressed     bool  // data page v2: values are compressed
	headerLen        int   // bytes the header took
}

var errBadHeader = errors.New("malformed page header")

// thrift compact protocol field types.
const (
	tBoolTrue  = compact.BoolTrue
	tBoolFalse = compact.BoolFalse
	tByte      = compact.Byte
	tI16       = compact.I16
	tI32       = compact.I32
	tI64       = compact.I64
	tDouble    = compact.Double
	tBinary    = compact.Binary
	tList      = compact.List
	tSet       = compact.Set
	tMap       = compact.Map
	tStruct    = compact.Struct
)

// compactReader reads Thrift's compact protocol from a byte slice.
type compactReader struct {
	b   []byte
	pos int
	err error
}

func (r *compactReader) byte() byte {
	if r.pos >= len(r.b) {
		r.err = errBadHeader
		return 0
	}
	c := r.b[r.pos]
	r.pos++
	return c
}

func (r *compactReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b[min(r.pos, len(r.b)):])
	if n <= 0 {
		r.err = errBadHeader
		return 0
	}
	r.pos += n
	return v
}

func (r *compactReader) varint() int64 {
	u := r.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

func (r *compactReader) i32() int32 { return int32(r.varint()) }

// field reads a field header, returning its type (0 at the struct's end)
// and id, given the id of the field before it.
func (r *compactReader) field(prev int16) (typ byte, id int16) {
	h := r.byte()
	if h == 0 {
		return 0, 0
	}
	typ = h & 0x0f
	if d := h >> 4; d != 0 {
		return typ, prev + int16(d)
	}
	return typ, int16(r.varint())
}

// skip skips a value of the given type.
func (r *compactReader) skip(typ byte, depth int) {
	if depth > 32 {
		r.err = errBadHeader
		return
	}
	switch typ {
	case tBoolTrue, tBoolFalse:
	case tByte:
		r.byte()
	case tI16, tI32, tI64:
		r.uvarint()
	case tDouble:
		r.pos += 8
	case tBinary:
		n := r.uvarint()
		if n > uint64(len(r.b)) {
			r.err = errBadHeader
			return
		}
		r.pos += int(n)
	case tList, tSet:
		h := r.byte()
		n := uint64(h >> 4)
		if n == 15 {
			n = r.uvarint()
		}
		et := h & 0x0f
		for i := uint64(0); i < n && r.err == nil; i++ {
			if et == tBoolTrue || et == tBoolFalse {
				r.byte()
			} else {
				r.skip(et, depth+1)
			}
		}
	case tMap:
		n := r.uvarint()
		if n == 0 {
			return
		}
		kv := r.byte()
		for i := uint64(0); i < n && r.err == nil; i++ {
			r.skip(kv>>4, depth+1)
			r.skip(kv&0x0f, depth+1)
		}
	case tStruct:
		var id int16
		for r.err == nil {
			var t byte
			t, id = r.field(id)
			if t == 0 {
				return
			}
			r.skip(t, depth+1)
		}
	default:
		r.err = errBadHeader
	}
	if r.pos > len(r.b) {
		r.err = errBadHeader
	}
}

// readPageHeader decodes the page header at the start of b.
func readPageHeader(b []byte) (pageHeader, error) {
	r := compactReader{b: b}
	h := pageHeader{v2Compressed: true}
	var id int16
	for r.err == nil {
		var t byte
		t, id = r.field(id)
		if t == 0 {
			break
		}
		switch {
		case id == 1 && t == tI32:
			h.typ = r.i32()
		case id == 2 && t == tI32:
			h.uncompressedSize = r.i32()
		case id == 3 && t == tI32:
			h.compressedSize = r.i32()
		case id == 5 && t == tStruct: // DataPageHeader
			r.i32Struct([]*int32{1: &h.numValues, 2: &h.encoding, 3: &h.defEncoding}, nil)
		case id == 7 && t == tStruct: // DictionaryPageHeader
			r.i32Struct([]*int32{1: &h.numValues, 2: &h.encoding}, nil)
		case id == 8 && t == tStruct: // DataPageHeaderV2
			r.i32Struct([]*int32{1: &h.numValues, 2: &h.numNulls, 4: &h.encoding, 5: &h.defBytes, 6: &h.repBytes},
				func(id int16, t byte) bool {
					if id == 7 && (t == tBoolTrue || t == tBoolFalse) {
						h.v2Compressed = t == tBoolTrue
						return true
					}
					return false
				})
		default:
			r.skip(t, 0)
		}
	}
	if r.err != nil {
		return pageHeader{}, r.err
	}
	if h.compressedSize < 0 || h.uncompressedSize < 0 || h.numValues < 0 || h.defBytes < 0 || h.repBytes < 0 {
		return pageHeader{}, fmt.Errorf("%w: negative size", errBadHeader)
	}
	h.headerLen = r.pos
	return h, nil
}

// i32Struct reads a nested struct whose fields of interest are i32s:
// field id goes to into[id] when that is set, any other field to take
// (nil: none), and the rest are skipped.
func (r *compactReader) i32Struct(into []*int32, take func(id int16, t byte) bool) {
	r.structFields(func(id int16, t byte) bool {
		if t == tI32 && id >= 0 && int(id) < len(into) && into[id] != nil {
			*into[id] = r.i32()
			return true
		}
		return take != nil && take(id, t)
	})
}

// structFields reads a nested struct's fields, handing each to take,
// which reads it and returns true, or returns false to have it skipped.
func (r *compactReader) structFields(take func(id int16, t byte) bool) {
	var id int16
	for r.err == nil {
		var t byte
		t, id = r.field(id)
		if t == 0 {
			return
		}
		if !take(id, t) {
			r.skip(t, 1)
		}
	}
}
