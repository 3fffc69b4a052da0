package expr

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// The Arrow types that carry each SQL type.
//
// NUMERIC has no Arrow type of its own yet: it is approximated by double
// precision until decimals arrive. NumericType is a marker for the
// constructors — Lit(1.5, NumericType), Null(NumericType), Cast(x,
// NumericType), what ParseTypeName returns for numeric and decimal — that
// gives a Float8Type expression a numeric flavour (see IsNumeric), so that
// round(x) and casts to integers round half away from zero as numeric does
// rather than half to even as double precision does. No expression has
// NumericType as its Type(), and it must not be used in a schema.
var (
	BoolType        arrow.DataType = arrow.FixedWidthTypes.Boolean
	Int2Type        arrow.DataType = arrow.PrimitiveTypes.Int16
	Int4Type        arrow.DataType = arrow.PrimitiveTypes.Int32
	Int8Type        arrow.DataType = arrow.PrimitiveTypes.Int64
	Float4Type      arrow.DataType = arrow.PrimitiveTypes.Float32
	Float8Type      arrow.DataType = arrow.PrimitiveTypes.Float64
	NumericType     arrow.DataType = &numericMarker{}
	TextType        arrow.DataType = arrow.BinaryTypes.String
	ByteaType       arrow.DataType = arrow.BinaryTypes.Binary
	TimestampType   arrow.DataType = &arrow.TimestampType{Unit: arrow.Microsecond}
	TimestampTZType arrow.DataType = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	DateType        arrow.DataType = arrow.FixedWidthTypes.Date32
	IntervalType    arrow.DataType = arrow.FixedWidthTypes.MonthDayNanoInterval
	// UnknownType is the type of a NULL literal before it is resolved.
	UnknownType arrow.DataType = arrow.Null
)

// kind is the SQL type of an Arrow type, the switch every operator uses.
type kind uint8

const (
	kOther kind = iota
	kUnknown
	kBool
	kInt2
	kInt4
	kInt8
	kFloat4
	kFloat8
	kText
	kBytea
	kTimestamp
	kTimestampTZ
	kDate
	kInterval
)

func kindOf(t arrow.DataType) kind {
	if t == nil {
		return kOther
	}
	switch t.ID() {
	case arrow.NULL:
		return kUnknown
	case arrow.BOOL:
		return kBool
	case arrow.INT16:
		return kInt2
	case arrow.INT32:
		return kInt4
	case arrow.INT64:
		return kInt8
	case arrow.FLOAT32:
		return kFloat4
	case arrow.FLOAT64:
		return kFloat8
	case arrow.STRING:
		return kText
	case arrow.BINARY:
		return kBytea
	case arrow.TIMESTAMP:
		ts := t.(*arrow.TimestampType)
		if ts.Unit != arrow.Microsecond {
			return kOther
		}
		if ts.TimeZone == "" {
			return kTimestamp
		}
		return kTimestampTZ
	case arrow.DATE32:
		return kDate
	case arrow.INTERVAL_MONTH_DAY_NANO:
		return kInterval
	}
	return kOther
}

var kindTypes = [...]arrow.DataType{
	kUnknown: UnknownType, kBool: BoolType, kInt2: Int2Type, kInt4: Int4Type, kInt8: Int8Type,
	kFloat4: Float4Type, kFloat8: Float8Type, kText: TextType, kBytea: ByteaType,
	kTimestamp: TimestampType, kTimestampTZ: TimestampTZType, kDate: DateType, kInterval: IntervalType,
}

func (k kind) typ() arrow.DataType {
	if int(k) < len(kindTypes) {
		return kindTypes[k]
	}
	return nil
}

var kindNames = [...]string{
	kOther: "", kUnknown: "unknown", kBool: "boolean", kInt2: "smallint", kInt4: "integer", kInt8: "bigint",
	kFloat4: "real", kFloat8: "double precision", kText: "text", kBytea: "bytea",
	kTimestamp: "timestamp without time zone", kTimestampTZ: "timestamp with time zone",
	kDate: "date", kInterval: "interval",
}

func (k kind) isInt() bool     { return k == kInt2 || k == kInt4 || k == kInt8 }
func (k kind) isFloat() bool   { return k == kFloat4 || k == kFloat8 }
func (k kind) isNumeric() bool { return k.isInt() || k.isFloat() }
func (k kind) isDatetime() bool {
	return k == kDate || k == kTimestamp || k == kTimestampTZ
}

// category is PostgreSQL's type category (pg_type.typcategory), which
// decides which types can meet in CASE, UNION and function resolution.
func (k kind) category() byte {
	switch {
	case k == kBool:
		return 'B'
	case k.isNumeric():
		return 'N'
	case k == kText:
		return 'S'
	case k.isDatetime():
		return 'D'
	case k == kInterval:
		return 'T'
	case k == kBytea:
		return 'U'
	case k == kUnknown:
		return 'X'
	}
	return 0
}

// preferred reports whether k is its category's preferred type.
func (k kind) preferred() bool {
	return k == kFloat8 || k == kText || k == kTimestampTZ || k == kBool || k == kInterval
}

// TypeName is the PostgreSQL name of an Arrow type, for EXPLAIN and error
// messages ("integer", "timestamp with time zone"). Types without a SQL
// counterpart are named by Arrow.
func TypeName(t arrow.DataType) string {
	if isNumericType(t) {
		return "numeric"
	}
	if isNested(t) {
		return nestedTypeName(t)
	}
	if k := kindOf(t); k != kOther {
		return kindNames[k]
	}
	if t == nil {
		return "unknown"
	}
	return t.String()
}

// numericMarker is the type of NumericType: a Float64 type that is not
// Float8Type.
type numericMarker struct {
	arrow.Float64Type
	_ byte // not zero-sized, so its pointer is its own
}

func (*numericMarker) Name() string   { return "numeric" }
func (*numericMarker) String() string { return "numeric" }

// isNumericType reports whether t is NumericType.
func isNumericType(t arrow.DataType) bool {
	_, ok := t.(*numericMarker)
	return ok
}

// storage is the Arrow type that carries values of t.
func storage(t arrow.DataType) arrow.DataType {
	if isNumericType(t) {
		return Float8Type
	}
	return t
}

// typeNames maps every accepted spelling (lower case, pg_catalog prefix
// removed, words joined by one space) to a kind.
var typeNames = map[string]kind{
	"bool": kBool, "boolean": kBool,
	"int2": kInt2, "smallint": kInt2,
	"int": kInt4, "int4": kInt4, "integer": kInt4,
	"int8": kInt8, "bigint": kInt8,
	"real": kFloat4, "float4": kFloat4,
	"float8": kFloat8, "double precision": kFloat8, "float": kFloat8,
	"numeric": kFloat8, "decimal": kFloat8,
	"text": kText, "varchar": kText, "character varying": kText, "char": kText, "character": kText,
	"bpchar": kText, "name": kText, "string": kText,
	"bytea":     kBytea,
	"timestamp": kTimestamp, "timestamp without time zone": kTimestamp,
	"timestamptz": kTimestampTZ, "timestamp with time zone": kTimestampTZ,
	"date":     kDate,
	"interval": kInterval,
	"unknown":  kUnknown,
}

// ParseTypeName resolves a type as the parser spells it — names is the
// possibly qualified, possibly multi-word name ({"pg_catalog", "int4"},
// {"double precision"}, {"character", "varying"}), mods its type modifiers
// (varchar(10), numeric(10,2), float(24)) — to its Arrow type. Modifiers
// other than float's precision are accepted and ignored: lengths are not
// enforced and numeric is double precision. An unknown name is SQLSTATE
// 42704.
func ParseTypeName(names []string, mods []int) (arrow.DataType, error) {
	parts := make([]string, 0, len(names))
	for i, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		if i == 0 && len(names) > 1 && n == "pg_catalog" {
			continue
		}
		parts = append(parts, n)
	}
	name := strings.Join(strings.Fields(strings.Join(parts, " ")), " ")
	k, ok := typeNames[name]
	if !ok {
		return nil, sqlerr.New(sqlerr.UndefinedObject, "type %q does not exist", strings.Join(names, "."))
	}
	if name == "float" && len(mods) > 0 {
		switch p := mods[0]; {
		case p < 1:
			return nil, sqlerr.New(sqlerr.InvalidParameterValue, "precision for type float must be at least 1 bit")
		case p <= 24:
			k = kFloat4
		case p > 53:
			return nil, sqlerr.New(sqlerr.InvalidParameterValue, "precision for type float must be less than 54 bits")
		}
	}
	if name == "numeric" || name == "decimal" {
		return NumericType, nil
	}
	return k.typ(), nil
}

// numericRank orders the numeric kinds for promotion: int2 < int4 < int8
// < float4 < float8.
func numericRank(k kind) int {
	switch k {
	case kInt2:
		return 1
	case kInt4:
		return 2
	case kInt8:
		return 3
	case kFloat4:
		return 4
	case kFloat8:
		return 5
	}
	return 0
}

// promote is the type two numeric operands meet in, as PostgreSQL's
// operators resolve: the wider integer, float4 only when both are float4,
// otherwise float8 (an integer meeting a real resolves to double precision).
func promote(a, b kind) kind {
	if a.isInt() && b.isInt() {
		if numericRank(a) >= numericRank(b) {
			return a
		}
		return b
	}
	if a == kFloat4 && b == kFloat4 {
		return kFloat4
	}
	return kFloat8
}

// implicitCastable reports whether PostgreSQL casts from to to implicitly
// (pg_cast context 'i'): numeric widening, date → timestamp(tz),
// timestamp → timestamptz, and anything from unknown.
func implicitCastable(from, to kind) bool {
	switch {
	case from == to, from == kUnknown:
		return true
	case from.isNumeric() && to.isNumeric():
		return numericRank(from) < numericRank(to)
	case from == kDate:
		return to == kTimestamp || to == kTimestampTZ
	case from == kTimestamp:
		return to == kTimestampTZ
	}
	return false
}

// assignCastable reports whether a value of kind from may be stored in a
// column of kind to (pg_cast context 'a', plus I/O conversion to text).
func assignCastable(from, to kind) bool {
	switch {
	case implicitCastable(from, to):
		return true
	case from.isNumeric() && to.isNumeric():
		return true
	case to == kText:
		return from != kOther
	case from == kTimestamp || from == kTimestampTZ:
		return to.isDatetime()
	}
	return false
}

// explicitCastable reports whether CAST(x AS to) exists for x of kind from.
func explicitCastable(from, to kind) bool {
	switch {
	case assignCastable(from, to):
		return true
	case from == kText:
		return to != kOther
	case from == kBool:
		return to == kInt4
	case from == kInt4:
		return to == kBool
	}
	return false
}

// CommonType is the type values of the given types meet in when they
// share a column — UNION, VALUES, CASE, COALESCE, IN — by PostgreSQL's
// rules, simplified: UnknownType adopts the others' type (text if all are
// unknown); the others must be of one category (numeric, string,
// date/time, …); the category's preferred type wins if present, else the
// widest. Types of different categories are SQLSTATE 42804.
func CommonType(types ...arrow.DataType) (arrow.DataType, error) {
	ks := make([]kind, len(types))
	for i, t := range types {
		ks[i] = kindOf(t)
	}
	k, err := commonKind("", ks)
	if err != nil {
		return nil, err
	}
	return k.typ(), nil
}

// CommonTypeOf is CommonType of expressions, where untyped literals and
// parameters count as unknown; context names the construct in the error
// ("CASE types text and integer cannot be matched").
func CommonTypeOf(context string, xs ...Expr) (arrow.DataType, error) {
	ks := make([]kind, len(xs))
	for i, x := range xs {
		ks[i] = typeOf(x)
		if ks[i] == kOther {
			for _, y := range xs {
				if !arrow.TypeEqual(x.Type(), y.Type()) && typeOf(y) != kUnknown {
					return nil, sqlerr.New(sqlerr.DatatypeMismatch, "%s types %s and %s cannot be matched",
						context, TypeName(x.Type()), TypeName(y.Type()))
				}
			}
			return x.Type(), nil
		}
	}
	k, err := commonKind(context, ks)
	if err != nil {
		return nil, err
	}
	return k.typ(), nil
}

func commonKind(context string, ks []kind) (kind, error) {
	res := kUnknown
	for _, k := range ks {
		switch {
		case k == kUnknown:
		case res == kUnknown:
			res = k
		case k.category() != res.category() || k == kOther:
			msg := "types %s and %s cannot be matched"
			if context != "" {
				msg = context + " " + msg
			}
			return 0, sqlerr.New(sqlerr.DatatypeMismatch, msg, kindNames[res], kindNames[k])
		case res.preferred():
		case k.preferred():
			res = k
		case implicitCastable(res, k):
			res = k
		}
	}
	if res == kUnknown {
		return kText, nil
	}
	return res, nil
}
