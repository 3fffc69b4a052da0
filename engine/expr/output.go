package expr

import (
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// The output functions of single values, exported for the front doors
// (pgwire's text result format, COPY TO) that write values one at a time
// into their own buffers rather than casting whole columns to text. They
// write exactly what ::text writes.

// AppendFloat appends f as PostgreSQL's float8out (bitSize 64) or float4out
// (bitSize 32) writes it.
func AppendFloat(b []byte, f float64, bitSize int) []byte { return appendFloat(b, f, bitSize) }

// AppendDate appends a date (days since 1970-01-01) in ISO style.
func AppendDate(b []byte, days int32) []byte { return appendDate(b, days) }

// AppendTimestamp appends a timestamp (microseconds since 1970-01-01) in ISO
// style; with loc not nil it is a timestamptz shown in loc, with its offset.
func AppendTimestamp(b []byte, us int64, loc *time.Location) []byte {
	return appendTimestamp(b, us, loc)
}

// AppendInterval appends an interval in IntervalStyle postgres.
func AppendInterval(b []byte, v arrow.MonthDayNanoInterval) []byte { return appendInterval(b, v) }

// AppendBytea appends bytes in bytea's hex output format (\x0a0b).
func AppendBytea(b []byte, v []byte) []byte { return appendBytea(b, v) }

// Location is the time zone a TimeZone setting names (UTC when it names
// none we know), as timestamptz output and input use it.
func Location(name string) *time.Location {
	if name == "" {
		return time.UTC
	}
	return loadLocation(name)
}
