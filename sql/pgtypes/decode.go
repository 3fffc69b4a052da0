package pgtypes

import (
	"encoding/binary"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// AppendBinary decodes one value in the binary format of type oid and
// appends it to bld, whose Arrow type must be the one that carries oid's
// values (Type.Arrow, or a wider one: an int4 into an int8 builder). A
// value of the wrong size or an invalid one is SQLSTATE 22P03
// (invalid_binary_representation).
func AppendBinary(bld array.Builder, oid uint32, data []byte) error {
	be := binary.BigEndian
	bad := func() error {
		name := "OID " + strconv.FormatUint(uint64(oid), 10)
		if t, ok := byOID[oid]; ok {
			name = t.Name
		}
		return sqlerr.New("22P03", "incorrect binary data format for type %s", name)
	}
	var i int64
	var f float64
	isInt := false
	switch oid {
	case Bool:
		if len(data) != 1 {
			return bad()
		}
		b, ok := bld.(*array.BooleanBuilder)
		if !ok {
			return mismatch(bld, oid)
		}
		b.Append(data[0] != 0)
		return nil
	case Int2:
		if len(data) != 2 {
			return bad()
		}
		i, isInt = int64(int16(be.Uint16(data))), true
	case Int4:
		if len(data) != 4 {
			return bad()
		}
		i, isInt = int64(int32(be.Uint32(data))), true
	case Int8:
		if len(data) != 8 {
			return bad()
		}
		i, isInt = int64(be.Uint64(data)), true
	case OID, Regclass, Regtype, Regproc:
		if len(data) != 4 {
			return bad()
		}
		i, isInt = int64(be.Uint32(data)), true
	case Float4:
		if len(data) != 4 {
			return bad()
		}
		f = float64(math.Float32frombits(be.Uint32(data)))
	case Float8:
		if len(data) != 8 {
			return bad()
		}
		f = math.Float64frombits(be.Uint64(data))
	case Numeric:
		var n pgtype.Numeric
		if err := typeMap.Scan(Numeric, pgtype.BinaryFormatCode, data, &n); err != nil {
			return bad()
		}
		v, err := n.Float64Value()
		if err != nil {
			return bad()
		}
		f = v.Float64
	case Text, Varchar, BPChar, Name, Char, Unknown, JSON:
		if !utf8.Valid(data) {
			return sqlerr.New("22021", "invalid byte sequence for encoding \"UTF8\"")
		}
		switch b := bld.(type) {
		case *array.StringBuilder:
			b.BinaryBuilder.Append(data)
		case *array.BinaryBuilder:
			b.Append(data)
		default:
			return mismatch(bld, oid)
		}
		return nil
	case Bytea:
		b, ok := bld.(*array.BinaryBuilder)
		if !ok {
			return mismatch(bld, oid)
		}
		b.Append(data)
		return nil
	case Date:
		if len(data) != 4 {
			return bad()
		}
		d := int32(be.Uint32(data))
		if d != math.MinInt32 && d != math.MaxInt32 {
			if int64(d)+pgEpochDays > math.MaxInt32 {
				return bad()
			}
			d += pgEpochDays
		}
		b, ok := bld.(*array.Date32Builder)
		if !ok {
			return mismatch(bld, oid)
		}
		b.Append(arrow.Date32(d))
		return nil
	case Timestamp, Timestamptz:
		if len(data) != 8 {
			return bad()
		}
		us := int64(be.Uint64(data))
		if us != math.MinInt64 && us != math.MaxInt64 {
			if us > math.MaxInt64-pgEpochMicros {
				return bad()
			}
			us += pgEpochMicros
		}
		b, ok := bld.(*array.TimestampBuilder)
		if !ok {
			return mismatch(bld, oid)
		}
		b.Append(arrow.Timestamp(us))
		return nil
	case Interval:
		if len(data) != 16 {
			return bad()
		}
		us := int64(be.Uint64(data))
		if us > math.MaxInt64/1000 || us < math.MinInt64/1000 {
			return sqlerr.New(sqlerr.DatetimeFieldOverflow, "interval out of range")
		}
		b, ok := bld.(*array.MonthDayNanoIntervalBuilder)
		if !ok {
			return mismatch(bld, oid)
		}
		b.Append(arrow.MonthDayNanoInterval{Months: int32(be.Uint32(data[12:])), Days: int32(be.Uint32(data[8:])), Nanoseconds: us * 1000})
		return nil
	default:
		return sqlerr.New(sqlerr.FeatureNotSupported, "binary values of type OID %d are not supported", oid)
	}
	switch b := bld.(type) {
	case *array.Int16Builder:
		if !isInt || i != int64(int16(i)) {
			return outOfRange(isInt, "smallint")
		}
		b.Append(int16(i))
	case *array.Int32Builder:
		if !isInt || i != int64(int32(i)) {
			return outOfRange(isInt, "integer")
		}
		b.Append(int32(i))
	case *array.Int64Builder:
		if !isInt {
			return mismatch(bld, oid)
		}
		b.Append(i)
	case *array.Float32Builder:
		if isInt {
			f = float64(i)
		}
		b.Append(float32(f))
	case *array.Float64Builder:
		if isInt {
			f = float64(i)
		}
		b.Append(f)
	default:
		return mismatch(bld, oid)
	}
	return nil
}

func outOfRange(isInt bool, name string) error {
	if !isInt {
		return sqlerr.New(sqlerr.DatatypeMismatch, "a floating-point value cannot be read as %s", name)
	}
	return sqlerr.New(sqlerr.NumericValueOutOfRange, "%s out of range", name)
}

func mismatch(bld array.Builder, oid uint32) error {
	name := strconv.FormatUint(uint64(oid), 10)
	if t, ok := byOID[oid]; ok {
		name = t.Name
	}
	return sqlerr.New(sqlerr.DatatypeMismatch, "a value of type %s cannot be stored as %s", name, expr.TypeName(bld.Type()))
}

// ParseText reads s as a value of type t by t's input function, as a
// quoted literal cast to t would be ('…'::t), with ctx giving the session's
// time zone and the statement's time. It returns a one-row array of t's
// Arrow type, which the caller releases.
func ParseText(ctx *expr.Context, s string, t arrow.DataType) (arrow.Array, error) {
	if !utf8.ValidString(s) {
		return nil, sqlerr.New("22021", "invalid byte sequence for encoding \"UTF8\"")
	}
	alloc := ctx.Alloc
	if alloc == nil {
		alloc = memory.DefaultAllocator
	}
	if t.ID() == arrow.STRING {
		return scalar.MakeArrayFromScalar(scalar.NewStringScalar(s), 1, alloc)
	}
	if a := parsePlainInt(s, t, alloc); a != nil {
		return a, nil
	}
	e, err := expr.Cast(expr.Unknown(s), t)
	if err != nil {
		return nil, err
	}
	if e, err = expr.Fold(ctx, e); err != nil {
		return nil, err
	}
	sc, ok := expr.Constant(e)
	if !ok {
		return nil, sqlerr.New(sqlerr.InvalidTextRepresentation, "invalid input syntax for type %s: \"%s\"", expr.TypeName(t), s)
	}
	return scalar.MakeArrayFromScalar(sc, 1, alloc)
}

// NullArray is a one-row NULL of type t, for a NULL parameter.
func NullArray(t arrow.DataType, alloc memory.Allocator) (arrow.Array, error) {
	if alloc == nil {
		alloc = memory.DefaultAllocator
	}
	return scalar.MakeArrayFromScalar(scalar.MakeNullScalar(t), 1, alloc)
}

// parsePlainInt is ParseText's fast path for the commonest parameter, a
// key given as text (PlainInt), as a one-row array; nil when s is not
// such a number.
func parsePlainInt(s string, t arrow.DataType, alloc memory.Allocator) arrow.Array {
	v, ok := PlainInt(s, t)
	if !ok {
		return nil
	}
	// One value in a buffer of its own, without a builder's bitmap and
	// growth: a prepared point lookup parses its key this way each time.
	buf := memory.NewResizableBuffer(alloc)
	if t.ID() == arrow.INT32 {
		buf.Resize(4)
		binary.LittleEndian.PutUint32(buf.Bytes(), uint32(int32(v)))
	} else {
		buf.Resize(8)
		binary.LittleEndian.PutUint64(buf.Bytes(), uint64(v))
	}
	d := array.NewData(t, 1, []*memory.Buffer{nil, buf}, nil, 0, 0)
	buf.Release()
	defer d.Release()
	return array.MakeFromData(d)
}

// PlainInt reads the commonest parameter, a key given as text (pgbench
// and psql send every parameter so), when t is BIGINT or INTEGER and s is
// plain decimal digits with an optional minus sign, short enough that it
// cannot overflow: the value ParseText gives s (TestParseTextPlainInt).
// Anything else (spaces, a plus sign, a long or bad number, another type)
// returns false, for ParseText's general path, which accepts or refuses
// it as a cast would. It takes the bytes of a message as they are, so
// that a caller need not make a string of them.
func PlainInt[S string | []byte](s S, t arrow.DataType) (int64, bool) {
	digits := s
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	var limit int
	switch t.ID() {
	case arrow.INT64:
		limit = 18
	case arrow.INT32:
		limit = 9
	default:
		return 0, false
	}
	if len(digits) == 0 || len(digits) > limit {
		return 0, false
	}
	var v int64
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if len(digits) < len(s) {
		v = -v
	}
	return v, true
}

// BinaryInt reads a BIGINT or INTEGER parameter in the binary format
// (int8 or int4) for a parameter of type t that holds it as it is: the
// value AppendBinary appends to t's builder. Anything else (other types,
// a value of the wrong size) returns false, for AppendBinary, which
// reports what is wrong.
func BinaryInt(oid uint32, data []byte, t arrow.DataType) (int64, bool) {
	switch {
	case oid == Int8 && len(data) == 8 && t.ID() == arrow.INT64:
		return int64(binary.BigEndian.Uint64(data)), true
	case oid == Int4 && len(data) == 4 && (t.ID() == arrow.INT32 || t.ID() == arrow.INT64):
		return int64(int32(binary.BigEndian.Uint32(data))), true
	}
	return 0, false
}
