package pqwrite

import (
	"fmt"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
)

// Parquet's enums (parquet.thrift), as the file holds them.
const (
	// Type
	physBoolean   = 0
	physInt32     = 1
	physInt64     = 2
	physDouble    = 5
	physByteArray = 6

	// FieldRepetitionType
	repRequired = 0
	repOptional = 1

	// ConvertedType
	convUTF8            = 0
	convDate            = 6
	convTimestampMicros = 10
	convInt32           = 17
	convInt64           = 18

	// Encoding
	encPlain             = 0
	encRLE               = 3
	encDeltaBinaryPacked = 5
	encDeltaByteArray    = 7
	encRLEDictionary     = 8

	// PageType
	pageData       = 0
	pageDictionary = 2

	// BoundaryOrder
	orderUnordered  = 0
	orderAscending  = 1
	orderDescending = 2
)

// physical is a column's Parquet physical type and what pqarrow writes
// beside it for its Arrow type: the converted type (-1: none) and the
// logical type, which writeLogical serializes.
type physical struct {
	typ       int32
	converted int32
	logical   logicalType
}

type logicalType uint8

const (
	logicalNone logicalType = iota
	logicalString
	logicalInt32
	logicalInt64
	logicalDate
	logicalTimestampMicros // not adjusted to UTC
)

// physicalOf maps an Arrow type to its Parquet types, as pqarrow.ToParquet
// does for these types.
func physicalOf(t arrow.DataType) (physical, error) {
	switch t.ID() {
	case arrow.INT64:
		return physical{physInt64, convInt64, logicalInt64}, nil
	case arrow.INT32:
		return physical{physInt32, convInt32, logicalInt32}, nil
	case arrow.FLOAT64:
		return physical{physDouble, -1, logicalNone}, nil
	case arrow.BOOL:
		return physical{physBoolean, -1, logicalNone}, nil
	case arrow.STRING:
		return physical{physByteArray, convUTF8, logicalString}, nil
	case arrow.BINARY:
		return physical{physByteArray, -1, logicalNone}, nil
	case arrow.DATE32:
		return physical{physInt32, convDate, logicalDate}, nil
	case arrow.TIMESTAMP:
		ts := t.(*arrow.TimestampType)
		if ts.Unit == arrow.Microsecond && ts.TimeZone == "" {
			return physical{physInt64, convTimestampMicros, logicalTimestampMicros}, nil
		}
	}
	return physical{}, fmt.Errorf("unsupported type %s", t)
}

// values is a view of the buffers of one Arrow array, for the encoders:
// the slice of its physical type, from the array's offset.
type values struct {
	i32   []int32
	i64   []int64
	f64   []float64
	bools []byte // booleans: bit i+boolOff is value i
	off   int
	offs  []int32 // byte arrays: value i is data[offs[i]:offs[i+1]]
	data  []byte
}

// set points v at the values of a, an array of physical type phys. An
// array of only NULLs may come without a values buffer: nothing is read
// of it then.
func (v *values) set(a arrow.Array, phys int32) {
	*v = values{}
	d := a.Data()
	off, n := d.Offset(), d.Len()
	bufs := d.Buffers()
	var raw []byte
	if len(bufs) > 1 && bufs[1] != nil {
		raw = bufs[1].Bytes()
	}
	if a.NullN() == n && len(raw) == 0 {
		return
	}
	switch phys {
	case physInt32:
		v.i32 = castSlice[int32](raw)[off : off+n]
	case physInt64:
		v.i64 = castSlice[int64](raw)[off : off+n]
	case physDouble:
		v.f64 = castSlice[float64](raw)[off : off+n]
	case physBoolean:
		v.bools, v.off = raw, off
	case physByteArray:
		v.offs = castSlice[int32](raw)[off : off+n+1]
		if len(bufs) > 2 && bufs[2] != nil {
			v.data = bufs[2].Bytes()
		}
	}
}

// castSlice views b as a slice of T.
func castSlice[T int32 | int64 | float64 | uint32 | uint64](b []byte) []T {
	var z T
	if len(b) < int(unsafe.Sizeof(z)) {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/int(unsafe.Sizeof(z)))
}

// asBytes views a slice of fixed-width values as its bytes
// (little-endian on the machines Go runs Arrow on).
func asBytes[T int32 | int64 | float64](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var z T
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(z)))
}

// validRuns walks the runs of set and of unset bits of a validity bitmap
// (bit off+i is row i) over rows [pos, end).
type validRuns struct {
	bits     []byte
	off      int
	pos, end int
}

// next returns the next run [start, stop) and whether its rows are
// valid; ok is false past the end.
func (r *validRuns) next() (start, stop int, valid, ok bool) {
	if r.pos >= r.end {
		return 0, 0, false, false
	}
	start = r.pos
	i := r.pos + r.off
	valid = r.bits[i>>3]>>(i&7)&1 == 1
	var same byte // a byte of bits all equal to the run's
	if valid {
		same = 0xff
	}
	end := r.end + r.off
	i++
	for i < end {
		if i&7 == 0 && i+8 <= end {
			if r.bits[i>>3] == same {
				i += 8
				continue
			}
		}
		if (r.bits[i>>3]>>(i&7)&1 == 1) != valid {
			break
		}
		i++
	}
	r.pos = i - r.off
	return start, r.pos, valid, true
}
