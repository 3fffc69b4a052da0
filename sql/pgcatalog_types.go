package sql

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/sql/pgtypes"
	"github.com/dormousedb/dormouse/storage/schema"
)

// PostgreSQL type OIDs that the catalog code names, as int64 like every
// OID here. sql/pgtypes owns their values.
const (
	oidBool        = int64(pgtypes.Bool)
	oidBytea       = int64(pgtypes.Bytea)
	oidChar        = int64(pgtypes.Char)
	oidName        = int64(pgtypes.Name)
	oidInt8        = int64(pgtypes.Int8)
	oidInt2        = int64(pgtypes.Int2)
	oidInt2Vector  = int64(pgtypes.Int2Vector)
	oidInt4        = int64(pgtypes.Int4)
	oidRegproc     = int64(pgtypes.Regproc)
	oidText        = int64(pgtypes.Text)
	oidOid         = int64(pgtypes.OID)
	oidXid         = int64(pgtypes.Xid)
	oidOidVector   = int64(pgtypes.OIDVector)
	oidNodeTree    = int64(pgtypes.NodeTree)
	oidFloat4      = int64(pgtypes.Float4)
	oidFloat8      = int64(pgtypes.Float8)
	oidUnknown     = int64(pgtypes.Unknown)
	oidInet        = int64(pgtypes.Inet)
	oidAclitem     = int64(pgtypes.Aclitem)
	oidBpchar      = int64(pgtypes.BPChar)
	oidVarchar     = int64(pgtypes.Varchar)
	oidDate        = int64(pgtypes.Date)
	oidTime        = int64(pgtypes.Time)
	oidTimestamp   = int64(pgtypes.Timestamp)
	oidTimestampTZ = int64(pgtypes.Timestamptz)
	oidInterval    = int64(pgtypes.Interval)
	oidNumeric     = int64(pgtypes.Numeric)
	oidRegclass    = int64(pgtypes.Regclass)
	oidRegtype     = int64(pgtypes.Regtype)
	oidRecord      = int64(pgtypes.Record)
	oidAnyArray    = int64(pgtypes.AnyArray)
	oidRegnamespc  = int64(pgtypes.Regnamespace)
	oidRegrole     = int64(pgtypes.Regrole)
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

// arrowTypeOID is the PostgreSQL type of values of an Arrow type
// (pgtypes.OIDOf): int8 for Int64, text for String, the array types for
// lists (integer[] is 1007), record for structs, text for the null type
// and for any type the engine does not make.
func arrowTypeOID(t arrow.DataType) int64 {
	if t == nil {
		return oidText
	}
	oid, _ := pgtypes.OIDOf(t)
	return int64(oid)
}

// columnTypeOID is the PostgreSQL type of a table column, as declared
// types are kept: varchar for a column declared character varying, text
// for other strings (char(n) among them), timestamp for timestamptz
// (stored in UTC), double precision for real and numeric.
func columnTypeOID(c schema.Column) int64 {
	if c.Type == schema.Varchar && c.SQLType == schema.SQLVarchar {
		return oidVarchar
	}
	t := c.Type
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
