package expr

import (
	"encoding/hex"
	"math"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// Formatting values as PostgreSQL's output functions do.

// appendFloat writes f as PostgreSQL's float8out/float4out do with the
// default extra_float_digits: the shortest text that reads back exactly,
// in fixed notation for decimal exponents from -4 to 14 (5 for real) and
// exponential notation otherwise ("1e+15", "1.5e-07").
func appendFloat(b []byte, f float64, bitSize int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(b, "-0"...)
		}
		return append(b, '0')
	}
	var tmp [40]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, bitSize) // -d.ddde±xx
	if e[0] == '-' {
		b = append(b, '-')
		e = e[1:]
	}
	i := 0
	var digits [24]byte
	nd := 0
	for ; e[i] != 'e'; i++ {
		if e[i] != '.' {
			digits[nd] = e[i]
			nd++
		}
	}
	exp, _ := strconv.Atoi(string(e[i+1:]))
	limit := 15
	if bitSize == 32 {
		limit = 6
	}
	if exp < -4 || exp >= limit {
		b = append(b, digits[0])
		if nd > 1 {
			b = append(b, '.')
			b = append(b, digits[1:nd]...)
		}
		b = append(b, 'e')
		if exp < 0 {
			b = append(b, '-')
			exp = -exp
		} else {
			b = append(b, '+')
		}
		return appendPad(b, int64(exp), 2)
	}
	if exp < 0 {
		b = append(b, "0."...)
		for j := -1; j > exp; j-- {
			b = append(b, '0')
		}
		return append(b, digits[:nd]...)
	}
	if nd <= exp+1 {
		b = append(b, digits[:nd]...)
		for j := nd; j <= exp; j++ {
			b = append(b, '0')
		}
		return b
	}
	b = append(b, digits[:exp+1]...)
	b = append(b, '.')
	return append(b, digits[exp+1:nd]...)
}

// appendBytea writes bytes in the hex output format: \x0a0b.
func appendBytea(b []byte, v []byte) []byte {
	b = append(b, `\x`...)
	return hex.AppendEncode(b, v)
}

// appendValue writes a canonical Go value of kind k as text; loc is the
// session zone for timestamptz. boolChar writes booleans as t/f (the
// output function, used by concat) rather than true/false (the cast).
func appendValue(b []byte, v any, k kind, loc *time.Location, boolChar bool) []byte {
	switch x := v.(type) {
	case bool:
		switch {
		case boolChar && x:
			return append(b, 't')
		case boolChar:
			return append(b, 'f')
		}
		return strconv.AppendBool(b, x)
	case int16:
		return strconv.AppendInt(b, int64(x), 10)
	case int32:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case float32:
		return appendFloat(b, float64(x), 32)
	case float64:
		return appendFloat(b, x, 64)
	case string:
		return append(b, x...)
	case []byte:
		return appendBytea(b, x)
	case arrow.Date32:
		return appendDate(b, int32(x))
	case arrow.Timestamp:
		if k == kTimestampTZ {
			if loc == nil {
				loc = time.UTC
			}
			return appendTimestamp(b, int64(x), loc)
		}
		return appendTimestamp(b, int64(x), nil)
	case arrow.MonthDayNanoInterval:
		return appendInterval(b, x)
	}
	return b
}

// formatValue is appendValue as a string, in UTC.
func formatValue(v any, k kind) string {
	return string(appendValue(nil, v, k, time.UTC, false))
}
