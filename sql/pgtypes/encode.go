package pgtypes

import (
	"encoding/binary"
	"math"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/dormousedb/dormouse/engine/expr"
)

// Format codes of the wire protocol.
const (
	TextFormat   int16 = 0
	BinaryFormat int16 = 1
)

// Epoch offsets: PostgreSQL counts dates and timestamps from 2000-01-01,
// Arrow from 1970-01-01.
const (
	pgEpochDays   = 10957
	pgEpochMicros = pgEpochDays * 86400 * 1_000_000
)

// Encoder appends the value of row i of the column it was made for, which
// must not be NULL (the caller checks IsNull and writes NULL its own way).
type Encoder func(b []byte, i int) []byte

// ColumnEncoder is an Encoder that takes its column with each value, so
// that one serves every column of its kind: choosing one for a batch
// allocates nothing, where NewEncoder makes a closure for each column of
// each batch (a point lookup's one-row batch pays that per row).
type ColumnEncoder func(b []byte, a arrow.Array, i int) []byte

// StaticEncoder returns the ColumnEncoder of columns like a in format as
// type oid, for the types results hold most (integers and text), or nil
// for the others, which NewEncoder serves. It writes what NewEncoder's
// encoder writes (TestStaticEncoders).
func StaticEncoder(a arrow.Array, oid uint32, format int16) ColumnEncoder {
	switch a.(type) {
	case *array.Int64:
		if format != BinaryFormat {
			return textInt64
		}
		if oid != OID {
			return binaryInt64
		}
	case *array.Int32:
		if format != BinaryFormat {
			return textInt32
		}
		return binaryInt32
	case *array.String:
		return rawString // text and binary alike
	}
	return nil
}

func textInt64(b []byte, a arrow.Array, i int) []byte {
	return strconv.AppendInt(b, a.(*array.Int64).Value(i), 10)
}

func textInt32(b []byte, a arrow.Array, i int) []byte {
	return strconv.AppendInt(b, int64(a.(*array.Int32).Value(i)), 10)
}

func binaryInt64(b []byte, a arrow.Array, i int) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(a.(*array.Int64).Value(i)))
}

func binaryInt32(b []byte, a arrow.Array, i int) []byte {
	return binary.BigEndian.AppendUint32(b, uint32(a.(*array.Int32).Value(i)))
}

func rawString(b []byte, a arrow.Array, i int) []byte {
	return append(b, a.(*array.String).Value(i)...)
}

// NewEncoder returns the encoder of column a in format (TextFormat or
// BinaryFormat) as type oid (from ForArrow). loc is the session's time
// zone, in which timestamptz text is written.
func NewEncoder(a arrow.Array, oid uint32, format int16, loc *time.Location) Encoder {
	if format == BinaryFormat {
		return binaryEncoder(a, oid)
	}
	return textEncoder(a, loc)
}

func textEncoder(a arrow.Array, loc *time.Location) Encoder {
	switch a := a.(type) {
	case *array.Boolean:
		return func(b []byte, i int) []byte {
			if a.Value(i) {
				return append(b, 't')
			}
			return append(b, 'f')
		}
	case *array.Int16:
		return func(b []byte, i int) []byte { return strconv.AppendInt(b, int64(a.Value(i)), 10) }
	case *array.Int32:
		return func(b []byte, i int) []byte { return strconv.AppendInt(b, int64(a.Value(i)), 10) }
	case *array.Int64:
		return func(b []byte, i int) []byte { return strconv.AppendInt(b, a.Value(i), 10) }
	case *array.Uint32:
		return func(b []byte, i int) []byte { return strconv.AppendUint(b, uint64(a.Value(i)), 10) }
	case *array.Float32:
		return func(b []byte, i int) []byte { return expr.AppendFloat(b, float64(a.Value(i)), 32) }
	case *array.Float64:
		return func(b []byte, i int) []byte { return expr.AppendFloat(b, a.Value(i), 64) }
	case *array.String:
		return func(b []byte, i int) []byte { return append(b, a.Value(i)...) }
	case *array.LargeString:
		return func(b []byte, i int) []byte { return append(b, a.Value(i)...) }
	case *array.Binary:
		return func(b []byte, i int) []byte { return expr.AppendBytea(b, a.Value(i)) }
	case *array.LargeBinary:
		return func(b []byte, i int) []byte { return expr.AppendBytea(b, a.Value(i)) }
	case *array.Date32:
		return func(b []byte, i int) []byte { return expr.AppendDate(b, int32(a.Value(i))) }
	case *array.Timestamp:
		toMicros := microsOf(a.DataType().(*arrow.TimestampType).Unit)
		var zone *time.Location
		if a.DataType().(*arrow.TimestampType).TimeZone != "" {
			zone = loc
			if zone == nil {
				zone = time.UTC
			}
		}
		return func(b []byte, i int) []byte { return expr.AppendTimestamp(b, toMicros(int64(a.Value(i))), zone) }
	case *array.MonthDayNanoInterval:
		return func(b []byte, i int) []byte { return expr.AppendInterval(b, a.Value(i)) }
	case *array.List:
		return listTextEncoder(a, loc)
	case *array.Null:
		return func(b []byte, i int) []byte { return b }
	}
	return func(b []byte, i int) []byte { return append(b, a.ValueStr(i)...) }
}

// microsOf converts a timestamp of unit to microseconds.
func microsOf(unit arrow.TimeUnit) func(int64) int64 {
	switch unit {
	case arrow.Second:
		return func(v int64) int64 { return v * 1_000_000 }
	case arrow.Millisecond:
		return func(v int64) int64 { return v * 1_000 }
	case arrow.Nanosecond:
		return func(v int64) int64 { return v / 1_000 }
	}
	return func(v int64) int64 { return v }
}

// listTextEncoder writes an array literal: {1,2,NULL}, {"a b","c\"d"}.
func listTextEncoder(a *array.List, loc *time.Location) Encoder {
	values := a.ListValues()
	elem := textEncoder(values, loc)
	offsets := a.Offsets()
	var scratch []byte
	return func(b []byte, i int) []byte {
		b = append(b, '{')
		for j := offsets[i]; j < offsets[i+1]; j++ {
			if j > offsets[i] {
				b = append(b, ',')
			}
			if values.IsNull(int(j)) {
				b = append(b, "NULL"...)
				continue
			}
			scratch = elem(scratch[:0], int(j))
			b = appendArrayElem(b, scratch)
		}
		return append(b, '}')
	}
}

// appendArrayElem writes one element of an array literal, quoted when
// array_out would quote it.
func appendArrayElem(b, v []byte) []byte {
	quote := len(v) == 0 || (len(v) == 4 && (v[0]|0x20) == 'n' && (v[1]|0x20) == 'u' && (v[2]|0x20) == 'l' && (v[3]|0x20) == 'l')
	for _, c := range v {
		switch c {
		case '{', '}', ',', '"', '\\', ' ', '\t', '\n', '\r', '\v', '\f':
			quote = true
		}
	}
	if !quote {
		return append(b, v...)
	}
	b = append(b, '"')
	for _, c := range v {
		if c == '"' || c == '\\' {
			b = append(b, '\\')
		}
		b = append(b, c)
	}
	return append(b, '"')
}

func binaryEncoder(a arrow.Array, oid uint32) Encoder {
	be := binary.BigEndian
	switch a := a.(type) {
	case *array.Boolean:
		return func(b []byte, i int) []byte {
			if a.Value(i) {
				return append(b, 1)
			}
			return append(b, 0)
		}
	case *array.Int16:
		return func(b []byte, i int) []byte { return be.AppendUint16(b, uint16(a.Value(i))) }
	case *array.Int32:
		return func(b []byte, i int) []byte { return be.AppendUint32(b, uint32(a.Value(i))) }
	case *array.Int64:
		if oid == OID {
			return func(b []byte, i int) []byte { return be.AppendUint32(b, uint32(a.Value(i))) }
		}
		return func(b []byte, i int) []byte { return be.AppendUint64(b, uint64(a.Value(i))) }
	case *array.Uint32:
		return func(b []byte, i int) []byte { return be.AppendUint32(b, a.Value(i)) }
	case *array.Float32:
		return func(b []byte, i int) []byte { return be.AppendUint32(b, math.Float32bits(a.Value(i))) }
	case *array.Float64:
		if oid == Numeric {
			return func(b []byte, i int) []byte { return AppendNumericBinary(b, a.Value(i)) }
		}
		return func(b []byte, i int) []byte { return be.AppendUint64(b, math.Float64bits(a.Value(i))) }
	case *array.String:
		return func(b []byte, i int) []byte { return append(b, a.Value(i)...) }
	case *array.LargeString:
		return func(b []byte, i int) []byte { return append(b, a.Value(i)...) }
	case *array.Binary:
		return func(b []byte, i int) []byte { return append(b, a.Value(i)...) }
	case *array.LargeBinary:
		return func(b []byte, i int) []byte { return append(b, a.Value(i)...) }
	case *array.Date32:
		return func(b []byte, i int) []byte { return be.AppendUint32(b, uint32(dateToPG(int32(a.Value(i))))) }
	case *array.Timestamp:
		toMicros := microsOf(a.DataType().(*arrow.TimestampType).Unit)
		return func(b []byte, i int) []byte {
			return be.AppendUint64(b, uint64(timestampToPG(toMicros(int64(a.Value(i))))))
		}
	case *array.MonthDayNanoInterval:
		return func(b []byte, i int) []byte {
			v := a.Value(i)
			b = be.AppendUint64(b, uint64(v.Nanoseconds/1000))
			b = be.AppendUint32(b, uint32(v.Days))
			return be.AppendUint32(b, uint32(v.Months))
		}
	case *array.List:
		return listBinaryEncoder(a, oid)
	}
	// Types with no binary form of their own are sent as their text.
	return textEncoder(a, time.UTC)
}

func dateToPG(days int32) int32 {
	if days == math.MinInt32 || days == math.MaxInt32 {
		return days // -infinity, infinity
	}
	return days - pgEpochDays
}

func timestampToPG(us int64) int64 {
	if us == math.MinInt64 || us == math.MaxInt64 {
		return us
	}
	return us - pgEpochMicros
}

// listBinaryEncoder writes array_send's format: dimensions, a has-NULL
// flag, the element OID, the dimension's length and lower bound, then each
// element as a length and its bytes (-1 for NULL).
func listBinaryEncoder(a *array.List, oid uint32) Encoder {
	be := binary.BigEndian
	values := a.ListValues()
	elemOID := uint32(0)
	if t, ok := byOID[oid]; ok {
		elemOID = t.Elem
	}
	elem := binaryEncoder(values, elemOID)
	offsets := a.Offsets()
	return func(b []byte, i int) []byte {
		lo, hi := int(offsets[i]), int(offsets[i+1])
		if lo == hi {
			b = be.AppendUint32(b, 0)
			b = be.AppendUint32(b, 0)
			return be.AppendUint32(b, elemOID)
		}
		hasNull := uint32(0)
		for j := lo; j < hi; j++ {
			if values.IsNull(j) {
				hasNull = 1
				break
			}
		}
		b = be.AppendUint32(b, 1)
		b = be.AppendUint32(b, hasNull)
		b = be.AppendUint32(b, elemOID)
		b = be.AppendUint32(b, uint32(hi-lo))
		b = be.AppendUint32(b, 1)
		for j := lo; j < hi; j++ {
			if values.IsNull(j) {
				b = be.AppendUint32(b, math.MaxUint32)
				continue
			}
			at := len(b)
			b = append(b, 0, 0, 0, 0)
			b = elem(b, j)
			be.PutUint32(b[at:], uint32(len(b)-at-4))
		}
		return b
	}
}

var typeMap = pgtype.NewMap()

// AppendNumericBinary writes f in numeric_send's format: the exact decimal
// of the shortest text that reads back as f (so 0.1 is 0.1, not
// 0.1000000000000000055…), NaN and the infinities as numeric has them.
func AppendNumericBinary(b []byte, f float64) []byte {
	out, err := typeMap.Encode(Numeric, pgtype.BinaryFormatCode, pgtype.Float8{Float64: f, Valid: true}, b)
	if err != nil {
		// Every float64 has a numeric form; keep the stream well-formed.
		return append(b, 0, 0, 0, 0, 0xC0, 0, 0, 0) // NaN
	}
	return out
}

// AppendCSVField appends a value as a CSV field the way PostgreSQL's COPY
// writes it: quoted (quotes doubled) when it holds the delimiter, a quote
// or a newline, when it reads as the NULL string, or when it is \. (the
// end-of-data marker), so that it reads back as itself.
func AppendCSVField(b, v []byte, delimiter byte, null string) []byte {
	quote := string(v) == null || string(v) == `\.`
	for _, ch := range v {
		if ch == delimiter || ch == '"' || ch == '\n' || ch == '\r' {
			quote = true
			break
		}
	}
	if !quote {
		return append(b, v...)
	}
	b = append(b, '"')
	for _, ch := range v {
		if ch == '"' {
			b = append(b, '"')
		}
		b = append(b, ch)
	}
	return append(b, '"')
}
