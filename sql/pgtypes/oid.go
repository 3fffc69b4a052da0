package pgtypes

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// OIDs of the PostgreSQL types Dormouse shows or accepts (pg_type.oid).
const (
	Bool        uint32 = 16
	Bytea       uint32 = 17
	Char        uint32 = 18
	Name        uint32 = 19
	Int8        uint32 = 20
	Int2        uint32 = 21
	Int4        uint32 = 23
	Regproc     uint32 = 24
	Text        uint32 = 25
	OID         uint32 = 26
	JSON        uint32 = 114
	Float4      uint32 = 700
	Float8      uint32 = 701
	Unknown     uint32 = 705
	BPChar      uint32 = 1042
	Varchar     uint32 = 1043
	Date        uint32 = 1082
	Time        uint32 = 1083
	Timestamp   uint32 = 1114
	Timestamptz uint32 = 1184
	Interval    uint32 = 1186
	Numeric     uint32 = 1700
	Regclass    uint32 = 2205
	Regtype     uint32 = 2206
	UUID        uint32 = 2950
	JSONB       uint32 = 3802

	BoolArray        uint32 = 1000
	ByteaArray       uint32 = 1001
	CharArray        uint32 = 1002
	NameArray        uint32 = 1003
	Int2Array        uint32 = 1005
	Int4Array        uint32 = 1007
	TextArray        uint32 = 1009
	VarcharArray     uint32 = 1015
	Int8Array        uint32 = 1016
	Float4Array      uint32 = 1021
	Float8Array      uint32 = 1022
	OIDArray         uint32 = 1028
	TimestampArray   uint32 = 1115
	DateArray        uint32 = 1182
	TimestamptzArray uint32 = 1185
	IntervalArray    uint32 = 1187
	NumericArray     uint32 = 1231
)

// Type is a PostgreSQL type as Dormouse carries it.
type Type struct {
	OID  uint32
	Name string // pg_type.typname
	// Len is pg_type.typlen: the size of a value, -1 for variable length.
	Len int16
	// Arrow is the Arrow type that carries its values; nil for a type
	// Dormouse only names (uuid, json).
	Arrow arrow.DataType
	// Elem is the element type of an array type, 0 otherwise.
	Elem uint32
	// Array is the type of arrays of this type, 0 if none.
	Array uint32
}

// Types lists every type this package knows, scalars first.
var Types = []Type{
	{OID: Bool, Name: "bool", Len: 1, Arrow: expr.BoolType, Array: BoolArray},
	{OID: Bytea, Name: "bytea", Len: -1, Arrow: expr.ByteaType, Array: ByteaArray},
	{OID: Char, Name: "char", Len: 1, Arrow: expr.TextType, Array: CharArray},
	{OID: Name, Name: "name", Len: 64, Arrow: expr.TextType, Array: NameArray},
	{OID: Int8, Name: "int8", Len: 8, Arrow: expr.Int8Type, Array: Int8Array},
	{OID: Int2, Name: "int2", Len: 2, Arrow: expr.Int2Type, Array: Int2Array},
	{OID: Int4, Name: "int4", Len: 4, Arrow: expr.Int4Type, Array: Int4Array},
	{OID: Text, Name: "text", Len: -1, Arrow: expr.TextType, Array: TextArray},
	{OID: OID, Name: "oid", Len: 4, Arrow: expr.Int8Type, Array: OIDArray},
	{OID: Float4, Name: "float4", Len: 4, Arrow: expr.Float4Type, Array: Float4Array},
	{OID: Float8, Name: "float8", Len: 8, Arrow: expr.Float8Type, Array: Float8Array},
	{OID: Unknown, Name: "unknown", Len: -2, Arrow: expr.TextType},
	{OID: BPChar, Name: "bpchar", Len: -1, Arrow: expr.TextType},
	{OID: Varchar, Name: "varchar", Len: -1, Arrow: expr.TextType, Array: VarcharArray},
	{OID: Date, Name: "date", Len: 4, Arrow: expr.DateType, Array: DateArray},
	{OID: Timestamp, Name: "timestamp", Len: 8, Arrow: expr.TimestampType, Array: TimestampArray},
	{OID: Timestamptz, Name: "timestamptz", Len: 8, Arrow: expr.TimestampTZType, Array: TimestamptzArray},
	{OID: Interval, Name: "interval", Len: 16, Arrow: expr.IntervalType, Array: IntervalArray},
	{OID: Numeric, Name: "numeric", Len: -1, Arrow: expr.Float8Type, Array: NumericArray},
	{OID: BoolArray, Name: "_bool", Len: -1, Elem: Bool},
	{OID: ByteaArray, Name: "_bytea", Len: -1, Elem: Bytea},
	{OID: CharArray, Name: "_char", Len: -1, Elem: Char},
	{OID: NameArray, Name: "_name", Len: -1, Elem: Name},
	{OID: Int2Array, Name: "_int2", Len: -1, Elem: Int2},
	{OID: Int4Array, Name: "_int4", Len: -1, Elem: Int4},
	{OID: TextArray, Name: "_text", Len: -1, Elem: Text},
	{OID: VarcharArray, Name: "_varchar", Len: -1, Elem: Varchar},
	{OID: Int8Array, Name: "_int8", Len: -1, Elem: Int8},
	{OID: Float4Array, Name: "_float4", Len: -1, Elem: Float4},
	{OID: Float8Array, Name: "_float8", Len: -1, Elem: Float8},
	{OID: OIDArray, Name: "_oid", Len: -1, Elem: OID},
	{OID: TimestampArray, Name: "_timestamp", Len: -1, Elem: Timestamp},
	{OID: DateArray, Name: "_date", Len: -1, Elem: Date},
	{OID: TimestamptzArray, Name: "_timestamptz", Len: -1, Elem: Timestamptz},
	{OID: IntervalArray, Name: "_interval", Len: -1, Elem: Interval},
	{OID: NumericArray, Name: "_numeric", Len: -1, Elem: Numeric},
}

var byOID = func() map[uint32]*Type {
	m := make(map[uint32]*Type, len(Types))
	for i := range Types {
		m[Types[i].OID] = &Types[i]
	}
	for i := range Types {
		if t := &Types[i]; t.Elem != 0 {
			t.Arrow = arrow.ListOf(m[t.Elem].Arrow)
		}
	}
	return m
}()

// ForOID returns the type with an OID, if Dormouse knows it.
func ForOID(oid uint32) (Type, bool) {
	t, ok := byOID[oid]
	if !ok {
		return Type{}, false
	}
	return *t, true
}

// ParamType is the Arrow type of a parameter a client declared with oid:
// nil for 0 and unknown (the statement decides), an error for a type that
// Dormouse does not carry.
func ParamType(oid uint32) (arrow.DataType, error) {
	switch oid {
	case 0, Unknown:
		return nil, nil
	case Numeric:
		return expr.NumericType, nil
	}
	if t, ok := byOID[oid]; ok && t.Arrow != nil {
		return t.Arrow, nil
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "parameters of type OID %d are not supported", oid)
}

// ForArrow is the type a result column of Arrow type t shows as. numeric
// says that the column's values are of the numeric flavour of double
// precision (expr.IsNumeric), which PostgreSQL would type numeric.
func ForArrow(t arrow.DataType, numeric bool) (Type, error) {
	oid, err := oidOf(t)
	if err != nil {
		return Type{}, err
	}
	if numeric && oid == Float8 {
		oid = Numeric
	}
	return *byOID[oid], nil
}

func oidOf(t arrow.DataType) (uint32, error) {
	switch t.ID() {
	case arrow.BOOL:
		return Bool, nil
	case arrow.INT16:
		return Int2, nil
	case arrow.INT32:
		return Int4, nil
	case arrow.INT64:
		return Int8, nil
	case arrow.UINT32:
		return OID, nil
	case arrow.FLOAT32:
		return Float4, nil
	case arrow.FLOAT64:
		return Float8, nil
	case arrow.STRING, arrow.LARGE_STRING, arrow.NULL:
		return Text, nil // an unresolved NULL shows as text, as in PostgreSQL
	case arrow.BINARY, arrow.LARGE_BINARY:
		return Bytea, nil
	case arrow.DATE32:
		return Date, nil
	case arrow.TIMESTAMP:
		if t.(*arrow.TimestampType).TimeZone != "" {
			return Timestamptz, nil
		}
		return Timestamp, nil
	case arrow.INTERVAL_MONTH_DAY_NANO:
		return Interval, nil
	case arrow.LIST:
		elem, err := oidOf(t.(*arrow.ListType).Elem())
		if err != nil {
			return 0, err
		}
		if a := byOID[elem].Array; a != 0 {
			return a, nil
		}
		return 0, fmt.Errorf("no array type of %s", byOID[elem].Name)
	}
	return 0, sqlerr.New(sqlerr.FeatureNotSupported, "results of Arrow type %s have no PostgreSQL type", t)
}
