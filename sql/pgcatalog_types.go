package sql

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/storage/schema"
)

// PostgreSQL type OIDs that the code names.
const (
	oidBool        = 16
	oidBytea       = 17
	oidChar        = 18
	oidName        = 19
	oidInt8        = 20
	oidInt2        = 21
	oidInt2Vector  = 22
	oidInt4        = 23
	oidRegproc     = 24
	oidText        = 25
	oidOid         = 26
	oidXid         = 28
	oidOidVector   = 30
	oidNodeTree    = 194
	oidFloat4      = 700
	oidFloat8      = 701
	oidUnknown     = 705
	oidInet        = 869
	oidAclitem     = 1033
	oidBpchar      = 1042
	oidVarchar     = 1043
	oidDate        = 1082
	oidTime        = 1083
	oidTimestamp   = 1114
	oidTimestampTZ = 1184
	oidInterval    = 1186
	oidNumeric     = 1700
	oidRegclass    = 2205
	oidRegtype     = 2206
	oidRecord      = 2249
	oidAnyArray    = 2277
	oidRegnamespc  = 4089
	oidRegrole     = 4096
)

// The built-in types by OID and by name (package variables, so that they
// are ready before any init function declares a catalog relation).
var pgTypeByOID, pgTypeByName = indexPgTypes()

func indexPgTypes() (map[int64]*pgType, map[string]*pgType) {
	byOID, byName := map[int64]*pgType{}, map[string]*pgType{}
	for i := range pgTypes {
		t := &pgTypes[i]
		byOID[t.oid] = t
		byName[t.name] = t
	}
	return byOID, byName
}

// arrowTypeOID is the PostgreSQL type of values of an Arrow type: int8
// for Int64, text for String, the array types for lists (integer[] is
// 1007), record for structs, text for the null type.
func arrowTypeOID(t arrow.DataType) int64 {
	if t == nil {
		return oidText
	}
	switch t.ID() {
	case arrow.BOOL:
		return oidBool
	case arrow.INT16:
		return oidInt2
	case arrow.INT32:
		return oidInt4
	case arrow.INT64:
		return oidInt8
	case arrow.FLOAT32:
		return oidFloat4
	case arrow.FLOAT64:
		return oidFloat8
	case arrow.STRING, arrow.LARGE_STRING, arrow.NULL:
		return oidText
	case arrow.BINARY, arrow.LARGE_BINARY:
		return oidBytea
	case arrow.DATE32:
		return oidDate
	case arrow.TIMESTAMP:
		if t.(*arrow.TimestampType).TimeZone != "" {
			return oidTimestampTZ
		}
		return oidTimestamp
	case arrow.INTERVAL_MONTH_DAY_NANO:
		return oidInterval
	case arrow.STRUCT:
		return oidRecord
	case arrow.LIST:
		if et := pgTypeByOID[arrowTypeOID(expr.ElemType(t))]; et != nil && et.array != 0 {
			return et.array
		}
		return oidAnyArray
	}
	return oidText
}

// columnTypeOID is the PostgreSQL type of a table column, as declared
// types are kept: text for varchar, timestamp for timestamptz (stored in
// UTC), double precision for real and numeric.
func columnTypeOID(t schema.Type) int64 {
	switch t {
	case schema.BigInt:
		return oidInt8
	case schema.Integer:
		return oidInt4
	case schema.Double:
		return oidFloat8
	case schema.Boolean:
		return oidBool
	case schema.Varchar:
		return oidText
	case schema.Varbinary:
		return oidBytea
	case schema.Timestamp:
		return oidTimestamp
	case schema.Date:
		return oidDate
	}
	return arrowTypeOID(t.Arrow())
}

// pgArrowType is the Arrow type that carries values of a PostgreSQL type:
// oid and xid as bigint, name and "char" as text, int2vector and
// oidvector as arrays. ok is false for types the engine cannot hold.
func pgArrowType(oid int64) (arrow.DataType, bool) {
	switch oid {
	case oidBool:
		return arrow.FixedWidthTypes.Boolean, true
	case oidBytea:
		return arrow.BinaryTypes.Binary, true
	case oidChar, oidName, oidText, oidBpchar, oidVarchar, oidRegproc, oidNodeTree, oidInet, oidAclitem, oidUnknown, oidTime:
		return arrow.BinaryTypes.String, true
	case oidInt8, oidOid, oidXid, oidRegclass, oidRegtype, oidRegnamespc, oidRegrole:
		return arrow.PrimitiveTypes.Int64, true
	case oidInt2:
		return arrow.PrimitiveTypes.Int16, true
	case oidInt4:
		return arrow.PrimitiveTypes.Int32, true
	case oidFloat4:
		return arrow.PrimitiveTypes.Float32, true
	case oidFloat8, oidNumeric:
		return arrow.PrimitiveTypes.Float64, true
	case oidDate:
		return arrow.FixedWidthTypes.Date32, true
	case oidTimestamp:
		return expr.TimestampType, true
	case oidTimestampTZ:
		return expr.TimestampTZType, true
	case oidInterval:
		return expr.IntervalType, true
	case oidInt2Vector:
		return expr.ListOf(arrow.PrimitiveTypes.Int16), true
	case oidOidVector:
		return expr.ListOf(arrow.PrimitiveTypes.Int64), true
	case oidAnyArray:
		return expr.ListOf(arrow.BinaryTypes.String), true
	}
	if t := pgTypeByOID[oid]; t != nil && t.category == 'A' && t.elem != 0 {
		if et, ok := pgArrowType(t.elem); ok {
			return expr.ListOf(et), true
		}
	}
	return nil, false
}

// pgTypeAliases are the spellings of type names that are not pg_type
// names.
var pgTypeAliases = map[string]string{
	"boolean": "bool", "smallint": "int2", "integer": "int4", "int": "int4", "bigint": "int8",
	"real": "float4", "double precision": "float8", "float": "float8", "decimal": "numeric",
	"character varying": "varchar", "character": "bpchar", "timestamp without time zone": "timestamp",
	"timestamp with time zone": "timestamptz", "time without time zone": "time",
}

// lookupPgType finds a type by (possibly pg_catalog-qualified) name.
func lookupPgType(names []string) *pgType {
	parts := make([]string, 0, len(names))
	for i, n := range names {
		n = strings.ToLower(n)
		if i == 0 && len(names) > 1 && n == "pg_catalog" {
			continue
		}
		parts = append(parts, n)
	}
	name := strings.Join(parts, " ")
	if a, ok := pgTypeAliases[name]; ok {
		name = a
	}
	return pgTypeByName[name]
}

// formatType is format_type(oid, typmod): the SQL name of a type with its
// modifier, as \d and pgJDBC show it.
func formatType(oid int64, typmod int32, rowTypes map[int64]string) string {
	if oid == 0 {
		return "-"
	}
	if name, ok := rowTypes[oid]; ok {
		return quoteIdentIfNeeded(name)
	}
	t := pgTypeByOID[oid]
	if t == nil {
		return "???"
	}
	if t.category == 'A' && t.elem != 0 && t.subscript == "array_subscript_handler" && t.len == -1 && strings.HasPrefix(t.name, "_") {
		return formatType(t.elem, typmod, rowTypes) + "[]"
	}
	switch oid {
	case oidBool:
		return "boolean"
	case oidInt2:
		return "smallint"
	case oidInt4:
		return "integer"
	case oidInt8:
		return "bigint"
	case oidFloat4:
		return "real"
	case oidFloat8:
		return "double precision"
	case oidChar:
		return `"char"`
	case oidVarchar:
		if typmod >= 4 {
			return fmt.Sprintf("character varying(%d)", typmod-4)
		}
		return "character varying"
	case oidBpchar:
		if typmod >= 4 {
			return fmt.Sprintf("character(%d)", typmod-4)
		}
		return "bpchar"
	case oidNumeric:
		if typmod >= 4 {
			m := typmod - 4
			return fmt.Sprintf("numeric(%d,%d)", (m>>16)&0xffff, m&0xffff)
		}
		return "numeric"
	case oidTimestamp, oidTimestampTZ, oidTime:
		base := map[int64]string{oidTimestamp: "timestamp", oidTimestampTZ: "timestamp", oidTime: "time"}[oid]
		zone := " without time zone"
		if oid == oidTimestampTZ {
			zone = " with time zone"
		}
		if typmod >= 0 {
			return fmt.Sprintf("%s(%d)%s", base, typmod, zone)
		}
		return base + zone
	case oidInterval:
		return "interval"
	}
	return quoteIdentIfNeeded(t.name)
}

// quoteIdentIfNeeded double-quotes a name that is not a plain lower-case
// identifier, as PostgreSQL's quote_identifier does.
func quoteIdentIfNeeded(name string) string { return expr.QuoteIdent(name) }
