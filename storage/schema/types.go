package schema

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
)

// Type is a column type.
type Type uint8

// The column types. The zero value is invalid so that a forgotten type is
// caught by Validate.
const (
	Invalid Type = iota
	BigInt
	Integer
	Double
	Boolean
	Varchar
	Varbinary
	Timestamp // microseconds since the Unix epoch, no time zone
	Date      // days since the Unix epoch
)

var typeNames = [...]string{
	Invalid:   "INVALID",
	BigInt:    "BIGINT",
	Integer:   "INTEGER",
	Double:    "DOUBLE",
	Boolean:   "BOOLEAN",
	Varchar:   "VARCHAR",
	Varbinary: "VARBINARY",
	Timestamp: "TIMESTAMP",
	Date:      "DATE",
}

// typeAliases maps the names users write (PostgreSQL's among them) to types.
var typeAliases = map[string]Type{
	"BIGINT": BigInt, "INT8": BigInt, "LONG": BigInt,
	"INTEGER": Integer, "INT": Integer, "INT4": Integer,
	"DOUBLE": Double, "DOUBLE PRECISION": Double, "FLOAT8": Double, "FLOAT": Double,
	"BOOLEAN": Boolean, "BOOL": Boolean,
	"VARCHAR": Varchar, "TEXT": Varchar, "STRING": Varchar,
	"VARBINARY": Varbinary, "BYTEA": Varbinary, "BINARY": Varbinary, "BYTES": Varbinary,
	"TIMESTAMP": Timestamp,
	"DATE":      Date,
}

// IntegerLike says whether values of t are integers as keys and spans
// see them: BIGINT, INTEGER, TIMESTAMP (microseconds) and DATE (days),
// all encoded by EncodeInt.
func (t Type) IntegerLike() bool {
	switch t {
	case BigInt, Integer, Timestamp, Date:
		return true
	}
	return false
}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// ParseType reads a type name, case-insensitively, accepting common aliases.
func ParseType(s string) (Type, error) {
	if t, ok := typeAliases[strings.ToUpper(strings.TrimSpace(s))]; ok {
		return t, nil
	}
	return Invalid, fmt.Errorf("unknown type %q (want one of BIGINT, INTEGER, DOUBLE, BOOLEAN, VARCHAR, VARBINARY, TIMESTAMP, DATE)", s)
}

// FitLength applies a length limit of n characters to a VARCHAR value as
// PostgreSQL assigns a value to varchar(n): it returns how many bytes of v
// to keep — all of them when v has at most n characters, the first n
// characters when the rest are spaces — or an error when v is longer.
func FitLength(v string, n int) (int, error) {
	if len(v) <= n {
		return len(v), nil // no more characters than bytes
	}
	end, chars := 0, 0
	for end < len(v) && chars < n {
		_, size := utf8.DecodeRuneInString(v[end:])
		end += size
		chars++
	}
	if strings.TrimLeft(v[end:], " ") != "" {
		return 0, fmt.Errorf("value too long for type character varying(%d)", n)
	}
	return end, nil
}

// MarshalText writes the type's name, so schemas read well as JSON.
func (t Type) MarshalText() ([]byte, error) {
	if t == Invalid || int(t) >= len(typeNames) {
		return nil, fmt.Errorf("marshal invalid type %d", uint8(t))
	}
	return []byte(t.String()), nil
}

// UnmarshalText reads a type's name.
func (t *Type) UnmarshalText(b []byte) error {
	v, err := ParseType(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// timestampType is TIMESTAMP: microseconds with no time zone, as
// PostgreSQL's timestamp without time zone (values are read as UTC).
var timestampType = &arrow.TimestampType{Unit: arrow.Microsecond}

// Arrow is the Arrow data type that holds values of this type.
func (t Type) Arrow() arrow.DataType {
	switch t {
	case BigInt:
		return arrow.PrimitiveTypes.Int64
	case Integer:
		return arrow.PrimitiveTypes.Int32
	case Double:
		return arrow.PrimitiveTypes.Float64
	case Boolean:
		return arrow.FixedWidthTypes.Boolean
	case Varchar:
		return arrow.BinaryTypes.String
	case Varbinary:
		return arrow.BinaryTypes.Binary
	case Timestamp:
		return timestampType
	case Date:
		return arrow.FixedWidthTypes.Date32
	}
	panic(fmt.Sprintf("schema: no Arrow type for %v", t))
}

// FromArrow returns the column type that holds an Arrow type, if any.
func FromArrow(dt arrow.DataType) (Type, bool) {
	switch dt.ID() {
	case arrow.INT64:
		return BigInt, true
	case arrow.INT32:
		return Integer, true
	case arrow.FLOAT64:
		return Double, true
	case arrow.BOOL:
		return Boolean, true
	case arrow.STRING, arrow.LARGE_STRING:
		return Varchar, true
	case arrow.BINARY, arrow.LARGE_BINARY:
		return Varbinary, true
	case arrow.TIMESTAMP:
		return Timestamp, true
	case arrow.DATE32:
		return Date, true
	}
	return Invalid, false
}
