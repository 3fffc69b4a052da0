package pgtypes

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// OIDs of the PostgreSQL types Dormouse shows or accepts (pg_type.oid),
// and of those its pg_catalog names. This is the one list of them: sql's
// pg_catalog takes its OIDs from here, and its pg_type rows must agree
// with Types (a test in package sql checks).
const (
	Bool         uint32 = 16
	Bytea        uint32 = 17
	Char         uint32 = 18
	Name         uint32 = 19
	Int8         uint32 = 20
	Int2         uint32 = 21
	Int2Vector   uint32 = 22
	Int4         uint32 = 23
	Regproc      uint32 = 24
	Text         uint32 = 25
	OID          uint32 = 26
	Xid          uint32 = 28
	OIDVector    uint32 = 30
	JSON         uint32 = 114
	NodeTree     uint32 = 194
	Float4       uint32 = 700
	Float8       uint32 = 701
	Unknown      uint32 = 705
	Inet         uint32 = 869
	Aclitem      uint32 = 1033
	BPChar       uint32 = 1042
	Varchar      uint32 = 1043
	Date         uint32 = 1082
	Time         uint32 = 1083
	Timestamp    uint32 = 1114
	Timestamptz  uint32 = 1184
	Interval     uint32 = 1186
	Numeric      uint32 = 1700
	Regclass     uint32 = 2205
	Regtype      uint32 = 2206
	Record       uint32 = 2249
	AnyArray     uint32 = 2277
	UUID         uint32 = 2950
	JSONB        uint32 = 3802
	Regnamespace uint32 = 4089
	Regrole      uint32 = 4096

	BoolArray        uint32 = 1000
	ByteaArray       uint32 = 1001
	CharArray        uint32 = 1002
	NameArray        uint32 = 1003
	Int2Array        uint32 = 1005
	Int4Array        uint32 = 1007
	TextArray        uint32 = 1009
	BPCharArray      uint32 = 1014
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
	RecordArray      uint32 = 2287
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
	{OID: BPChar, Name: "bpchar", Len: -1, Arrow: expr.TextType, Array: BPCharArray},
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
	{OID: BPCharArray, Name: "_bpchar", Len: -1, Elem: BPChar},
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
	oid, ok := OIDOf(t)
	if numeric && oid == Float8 {
		oid = Numeric
	}
	pt, known := byOID[oid]
	if !ok || !known {
		return Type{}, sqlerr.New(sqlerr.FeatureNotSupported, "results of Arrow type %s have no PostgreSQL type", t)
	}
	return *pt, nil
}

// OIDOf is the PostgreSQL type of values of Arrow type t, as the engine
// makes them (engine/expr): int8 for Int64, text for String (and for the
// type of an unresolved NULL), timestamptz for a timestamp with a zone,
// the array type of the element's for a list (anyarray if it has none),
// record for a struct. ok is false for an Arrow type the engine does not
// produce; the OID is then text's.
func OIDOf(t arrow.DataType) (oid uint32, ok bool) {
	switch t.ID() {
	case arrow.BOOL:
		return Bool, true
	case arrow.INT16:
		return Int2, true
	case arrow.INT32:
		return Int4, true
	case arrow.INT64:
		return Int8, true
	case arrow.UINT32:
		return OID, true
	case arrow.FLOAT32:
		return Float4, true
	case arrow.FLOAT64:
		return Float8, true
	case arrow.STRING, arrow.LARGE_STRING, arrow.NULL:
		return Text, true // an unresolved NULL shows as text, as in PostgreSQL
	case arrow.BINARY, arrow.LARGE_BINARY:
		return Bytea, true
	case arrow.DATE32:
		return Date, true
	case arrow.TIMESTAMP:
		if t.(*arrow.TimestampType).TimeZone != "" {
			return Timestamptz, true
		}
		return Timestamp, true
	case arrow.INTERVAL_MONTH_DAY_NANO:
		return Interval, true
	case arrow.STRUCT:
		return Record, true
	case arrow.LIST:
		elem, ok := OIDOf(t.(*arrow.ListType).Elem())
		if et := byOID[elem]; ok && et != nil && et.Array != 0 {
			return et.Array, true
		}
		if elem == Record {
			return RecordArray, ok
		}
		return AnyArray, ok
	}
	return Text, false
}
