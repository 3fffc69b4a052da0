package engine

import (
	"encoding/binary"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/dormousedb/dormouse/engine/internal/vec"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// Sort keys are encoded as bytes whose bytes.Compare order is the sort
// order, so that sorting, top-N, merging and window partitioning compare
// one byte string per row instead of dispatching on types per column.
//
// Each key column contributes a NULL marker byte — 0x00 for a NULL placed
// first, 0x02 for a NULL placed last, 0x01 before a value — then, for
// values, an order-preserving encoding, every byte inverted for DESC:
//
//   - integers, dates, times, timestamps, durations: big-endian with the
//     sign bit flipped (so negative sorts before positive);
//   - floats: the IEEE bits, all flipped for negatives and the sign bit
//     flipped for positives, after mapping -0 to 0 and every NaN to one NaN,
//     which sorts above +Inf, as in PostgreSQL;
//   - booleans: one byte, false before true;
//   - text and bytea: the bytes with 0x00 escaped as 0x00 0xFF, ended by
//     0x00 0x01, so that no encoding is a prefix of another (byte order:
//     PostgreSQL's C collation);
//   - decimals: the 128-bit integer, big-endian, sign bit flipped.
//
// Equal encodings mean equal values (NaN = NaN, -0 = 0), which is also
// what window peers and DISTINCT ON need.

// SortKeyEncoder encodes the sort keys of rows. It is not safe for
// concurrent use; make one per operator.
type SortKeyEncoder struct {
	keys []SortKey
	cols []keyEncoder
}

type keyEncoder interface {
	bind(arr arrow.Array)
	// appendValue appends the encoding of non-NULL row i, ascending.
	appendValue(dst []byte, i int) []byte
	valid(i int) bool
}

// Asc is an ascending sort key with PostgreSQL's default NULLS LAST.
func Asc(col int) SortKey { return SortKey{Column: col} }

// Desc is a descending sort key with PostgreSQL's default NULLS FIRST.
func Desc(col int) SortKey { return SortKey{Column: col, Desc: true, NullsFirst: true} }

// NewSortKeyEncoder returns an encoder for keys over columns of sch, or a
// 0A000 error for a column type that cannot be sorted.
func NewSortKeyEncoder(sch *arrow.Schema, keys []SortKey) (*SortKeyEncoder, error) {
	types := make([]arrow.DataType, len(keys))
	for i, k := range keys {
		types[i] = sch.Field(k.Column).Type
	}
	return newKeyEncoder(types, keys)
}

// newKeyEncoder returns an encoder of the given key column types, the
// directions taken from keys (whose Column fields are ignored by
// BindColumns).
func newKeyEncoder(types []arrow.DataType, keys []SortKey) (*SortKeyEncoder, error) {
	e := &SortKeyEncoder{keys: keys}
	for _, dt := range types {
		c, err := keyEncoderFor(dt)
		if err != nil {
			return nil, err
		}
		e.cols = append(e.cols, c)
	}
	return e, nil
}

func keyEncoderFor(dt arrow.DataType) (keyEncoder, error) {
	switch dt.ID() {
	case arrow.INT8:
		return &intEncoder[int8]{}, nil
	case arrow.INT16:
		return &intEncoder[int16]{}, nil
	case arrow.INT32, arrow.DATE32, arrow.TIME32:
		return &intEncoder[int32]{}, nil
	case arrow.INT64, arrow.DATE64, arrow.TIME64, arrow.TIMESTAMP, arrow.DURATION:
		return &intEncoder[int64]{}, nil
	case arrow.UINT8:
		return &intEncoder[uint8]{}, nil
	case arrow.UINT16:
		return &intEncoder[uint16]{}, nil
	case arrow.UINT32:
		return &intEncoder[uint32]{}, nil
	case arrow.UINT64:
		return &intEncoder[uint64]{}, nil
	case arrow.FLOAT32:
		return &floatEncoder[float32]{}, nil
	case arrow.FLOAT64:
		return &floatEncoder[float64]{}, nil
	case arrow.BOOL:
		return &boolEncoder{}, nil
	case arrow.STRING, arrow.BINARY, arrow.LARGE_STRING, arrow.LARGE_BINARY:
		return &binaryEncoder{}, nil
	case arrow.DECIMAL128:
		return &decimalEncoder{}, nil
	case arrow.NULL:
		return &nullEncoder{}, nil
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "cannot sort values of type %s", dt)
}

// Bind makes rec the batch whose rows Append encodes.
func (e *SortKeyEncoder) Bind(rec arrow.RecordBatch) {
	for i, k := range e.keys {
		e.cols[i].bind(rec.Column(k.Column))
	}
}

// BindColumns makes cols (one per key, in key order) the arrays whose rows
// Append encodes.
func (e *SortKeyEncoder) BindColumns(cols []arrow.Array) {
	for i, c := range cols {
		e.cols[i].bind(c)
	}
}

// Append appends the key of row i of the bound batch to dst.
func (e *SortKeyEncoder) Append(dst []byte, i int) []byte {
	for c, enc := range e.cols {
		k := e.keys[c]
		if !enc.valid(i) {
			if k.NullsFirst {
				dst = append(dst, 0x00)
			} else {
				dst = append(dst, 0x02)
			}
			continue
		}
		dst = append(dst, 0x01)
		start := len(dst)
		dst = enc.appendValue(dst, i)
		if k.Desc {
			for j := start; j < len(dst); j++ {
				dst[j] = ^dst[j]
			}
		}
	}
	return dst
}

// AppendAll appends the keys of rows 0..rows-1 of the bound batch to buf
// and their end offsets to ends (key i is buf[ends[i-1]:ends[i]]).
func (e *SortKeyEncoder) AppendAll(buf []byte, ends []int, rows int) ([]byte, []int) {
	for i := range rows {
		buf = e.Append(buf, i)
		ends = append(ends, len(buf))
	}
	return buf, ends
}

type intEncoder[T integer] struct {
	vals     []T
	validity vec.Bitmap
}

type integer interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

func (e *intEncoder[T]) bind(arr arrow.Array) {
	e.vals, e.validity = vec.Values[T](arr), vec.Validity(arr)
}
func (e *intEncoder[T]) valid(i int) bool { return e.validity.Valid(i) }
func (e *intEncoder[T]) appendValue(dst []byte, i int) []byte {
	v := e.vals[i]
	signed := ^T(0) < 0
	switch unsafe.Sizeof(v) {
	case 1:
		b := uint8(v)
		if signed {
			b ^= 0x80
		}
		return append(dst, b)
	case 2:
		b := uint16(v)
		if signed {
			b ^= 0x8000
		}
		return binary.BigEndian.AppendUint16(dst, b)
	case 4:
		b := uint32(v)
		if signed {
			b ^= 0x80000000
		}
		return binary.BigEndian.AppendUint32(dst, b)
	}
	b := uint64(v)
	if signed {
		b ^= 1 << 63
	}
	return binary.BigEndian.AppendUint64(dst, b)
}

type floatEncoder[T float32 | float64] struct {
	vals     []T
	validity vec.Bitmap
}

func (e *floatEncoder[T]) bind(arr arrow.Array) {
	e.vals, e.validity = vec.Values[T](arr), vec.Validity(arr)
}
func (e *floatEncoder[T]) valid(i int) bool { return e.validity.Valid(i) }
func (e *floatEncoder[T]) appendValue(dst []byte, i int) []byte {
	v := e.vals[i]
	if unsafe.Sizeof(v) == 4 {
		b := floatKeyBits[float32, uint32](float32(v))
		if b&(1<<31) != 0 {
			b = ^b
		} else {
			b |= 1 << 31
		}
		return binary.BigEndian.AppendUint32(dst, b)
	}
	b := floatKeyBits[float64, uint64](float64(v))
	if b&(1<<63) != 0 {
		b = ^b
	} else {
		b |= 1 << 63
	}
	return binary.BigEndian.AppendUint64(dst, b)
}

type boolEncoder struct{ vals, validity vec.Bitmap }

func (e *boolEncoder) bind(arr arrow.Array) { e.vals, e.validity = vec.Bools(arr), vec.Validity(arr) }
func (e *boolEncoder) valid(i int) bool     { return e.validity.Valid(i) }
func (e *boolEncoder) appendValue(dst []byte, i int) []byte {
	if e.vals.Get(i) {
		return append(dst, 1)
	}
	return append(dst, 0)
}

type binaryEncoder struct {
	vals     vec.BinaryView
	validity vec.Bitmap
}

func (e *binaryEncoder) bind(arr arrow.Array) {
	e.vals, e.validity = vec.Binary(arr), vec.Validity(arr)
}
func (e *binaryEncoder) valid(i int) bool { return e.validity.Valid(i) }
func (e *binaryEncoder) appendValue(dst []byte, i int) []byte {
	for _, c := range e.vals.Value(i) {
		if c == 0 {
			dst = append(dst, 0, 0xFF)
		} else {
			dst = append(dst, c)
		}
	}
	return append(dst, 0, 1)
}

type decimalEncoder struct {
	vals     []decimal128.Num
	validity vec.Bitmap
}

func (e *decimalEncoder) bind(arr arrow.Array) {
	e.vals, e.validity = vec.Values[decimal128.Num](arr), vec.Validity(arr)
}
func (e *decimalEncoder) valid(i int) bool { return e.validity.Valid(i) }
func (e *decimalEncoder) appendValue(dst []byte, i int) []byte {
	v := e.vals[i]
	dst = binary.BigEndian.AppendUint64(dst, uint64(v.HighBits())^(1<<63))
	return binary.BigEndian.AppendUint64(dst, v.LowBits())
}

type nullEncoder struct{}

func (nullEncoder) bind(arrow.Array)                     {}
func (nullEncoder) valid(int) bool                       { return false }
func (nullEncoder) appendValue(dst []byte, _ int) []byte { return dst }
