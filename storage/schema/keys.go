package schema

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Keys are compared as bytes. Each key value has an order-preserving
// encoding, so that bytes.Compare on encodings orders values as the type
// does, whatever the type:
//
//   - BIGINT, INTEGER, TIMESTAMP, DATE: 8 bytes big-endian, sign bit flipped.
//   - DOUBLE: IEEE 754 bits, all flipped when negative, else sign flipped.
//   - BOOLEAN: one byte, 0 or 1.
//   - VARCHAR, VARBINARY: the bytes themselves.
//
// Partition bounds, file min/max keys and row-key sketches hold the plain
// encoding of one column (a "dimension"). Sorting whole rows uses the
// composite encoding of several columns, in which variable-length values are
// escaped (0x00 becomes 0x00 0xFF) and terminated by 0x00 0x00 so that a
// shorter value sorts before its extensions and column boundaries never blur.
//
// The empty encoding sorts before every value and so stands for minus
// infinity in ranges.

// AppendValue appends the plain encoding of arr[row] to dst. The array must
// hold one of the schema's types and row must not be null.
func AppendValue(dst []byte, arr arrow.Array, row int) []byte {
	switch a := arr.(type) {
	case *array.Int64:
		return appendInt(dst, a.Value(row))
	case *array.Int32:
		return appendInt(dst, int64(a.Value(row)))
	case *array.Timestamp:
		return appendInt(dst, int64(a.Value(row)))
	case *array.Date32:
		return appendInt(dst, int64(a.Value(row)))
	case *array.Float64:
		return appendFloat(dst, a.Value(row))
	case *array.Boolean:
		if a.Value(row) {
			return append(dst, 1)
		}
		return append(dst, 0)
	case *array.String:
		return append(dst, a.Value(row)...)
	case *array.LargeString:
		return append(dst, a.Value(row)...)
	case *array.Binary:
		return append(dst, a.Value(row)...)
	case *array.LargeBinary:
		return append(dst, a.Value(row)...)
	}
	panic(fmt.Sprintf("schema: cannot encode key of Arrow type %s", arr.DataType()))
}

// AppendComposite appends the composite encoding of arr[row] to dst: the
// plain encoding for fixed-width types, escaped and terminated for strings
// and binaries.
func AppendComposite(dst []byte, arr arrow.Array, row int) []byte {
	switch a := arr.(type) {
	case *array.String:
		return appendEscaped(dst, stringBytes(a.Value(row)))
	case *array.Binary:
		return appendEscaped(dst, a.Value(row))
	case *array.LargeString:
		return appendEscaped(dst, stringBytes(a.Value(row)))
	case *array.LargeBinary:
		return appendEscaped(dst, a.Value(row))
	}
	return AppendValue(dst, arr, row)
}

// AppendRowKey appends the composite encoding of the first n columns of rec
// at row: with n = schema.NumKeys() it orders rows exactly as the table does.
func AppendRowKey(dst []byte, rec arrow.RecordBatch, n, row int) []byte {
	for c := 0; c < n; c++ {
		dst = AppendComposite(dst, rec.Column(c), row)
	}
	return dst
}

// SplitComposite splits a composite encoding of the given leading key types
// back into plain per-column encodings.
func SplitComposite(types []Type, enc []byte) ([][]byte, error) {
	out := make([][]byte, 0, len(types))
	for _, t := range types {
		if t == Varchar || t == Varbinary {
			var v []byte
			for {
				i := bytes.IndexByte(enc, 0)
				if i < 0 || i+1 >= len(enc) {
					return nil, fmt.Errorf("truncated composite key")
				}
				v = append(v, enc[:i]...)
				switch enc[i+1] {
				case 0xFF:
					v = append(v, 0)
					enc = enc[i+2:]
					continue
				case 0x00:
					enc = enc[i+2:]
				default:
					return nil, fmt.Errorf("bad escape in composite key")
				}
				break
			}
			out = append(out, v)
			continue
		}
		w := 8
		if t == Boolean {
			w = 1
		}
		if len(enc) < w {
			return nil, fmt.Errorf("truncated composite key")
		}
		out = append(out, enc[:w:w])
		enc = enc[w:]
	}
	return out, nil
}

// stringBytes views a string's bytes without copying; they must not be
// changed.
func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

func appendInt(dst []byte, v int64) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(v)^(1<<63))
}

func appendFloat(dst []byte, f float64) []byte {
	if f == 0 {
		f = 0 // fold -0 into +0, as SQL equality does
	}
	bits := math.Float64bits(f)
	if bits&(1<<63) != 0 {
		bits = ^bits
	} else {
		bits |= 1 << 63
	}
	return binary.BigEndian.AppendUint64(dst, bits)
}

func appendEscaped(dst, v []byte) []byte {
	for {
		i := bytes.IndexByte(v, 0)
		if i < 0 {
			break
		}
		dst = append(dst, v[:i]...)
		dst = append(dst, 0, 0xFF)
		v = v[i+1:]
	}
	dst = append(dst, v...)
	return append(dst, 0, 0)
}

// EncodeInt returns the plain encoding of an integer-like key value
// (BIGINT, INTEGER, TIMESTAMP in microseconds, DATE in days).
func EncodeInt(v int64) []byte { return appendInt(nil, v) }

// AppendInt appends EncodeInt(v) to dst.
func AppendInt(dst []byte, v int64) []byte { return appendInt(dst, v) }

// EncodeFloat returns the plain encoding of a DOUBLE key value.
func EncodeFloat(f float64) []byte { return appendFloat(nil, f) }

// DecodeInt reads the plain encoding of an integer-like key value.
func DecodeInt(enc []byte) (int64, error) {
	if len(enc) != 8 {
		return 0, fmt.Errorf("integer key encoding has %d bytes, want 8", len(enc))
	}
	return int64(binary.BigEndian.Uint64(enc) ^ (1 << 63)), nil
}

// DecodeFloat reads the plain encoding of a DOUBLE key value.
func DecodeFloat(enc []byte) (float64, error) {
	if len(enc) != 8 {
		return 0, fmt.Errorf("double key encoding has %d bytes, want 8", len(enc))
	}
	bits := binary.BigEndian.Uint64(enc)
	if bits&(1<<63) != 0 {
		bits &^= 1 << 63
	} else {
		bits = ^bits
	}
	return math.Float64frombits(bits), nil
}

// TimestampLayout is how TIMESTAMP values are written as text.
const TimestampLayout = "2006-01-02 15:04:05.999999"

// DateLayout is how DATE values are written as text.
const DateLayout = "2006-01-02"

// FormatValue renders a plain key encoding of type t as text, the way a user
// wrote it. An empty encoding of a fixed-width type renders as "-inf".
func FormatValue(t Type, enc []byte) string {
	switch t {
	case Varchar:
		if utf8.Valid(enc) && bytes.IndexByte(enc, 0) < 0 {
			return string(enc)
		}
		return fmt.Sprintf("%q", enc)
	case Varbinary:
		return fmt.Sprintf("\\x%x", enc)
	}
	if len(enc) == 0 {
		return "-inf"
	}
	switch t {
	case BigInt, Integer:
		v, err := DecodeInt(enc)
		if err != nil {
			return fmt.Sprintf("<%x>", enc)
		}
		return strconv.FormatInt(v, 10)
	case Timestamp:
		v, err := DecodeInt(enc)
		if err != nil {
			return fmt.Sprintf("<%x>", enc)
		}
		return time.UnixMicro(v).UTC().Format(TimestampLayout)
	case Date:
		v, err := DecodeInt(enc)
		if err != nil {
			return fmt.Sprintf("<%x>", enc)
		}
		return time.Unix(v*86400, 0).UTC().Format(DateLayout)
	case Double:
		v, err := DecodeFloat(enc)
		if err != nil {
			return fmt.Sprintf("<%x>", enc)
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	case Boolean:
		if len(enc) == 1 && enc[0] == 1 {
			return "true"
		}
		return "false"
	}
	return fmt.Sprintf("<%x>", enc)
}

// ParseValue reads a key value written as text (the forms FormatValue
// writes; TIMESTAMP also accepts RFC 3339) and returns its plain encoding.
func ParseValue(t Type, text string) ([]byte, error) {
	switch t {
	case Varchar:
		return []byte(text), nil
	case Varbinary:
		if h, ok := strings.CutPrefix(text, "\\x"); ok {
			b := make([]byte, len(h)/2)
			if _, err := fmt.Sscanf(h, "%x", &b); err != nil && h != "" {
				return nil, fmt.Errorf("parse %q as bytea hex: %w", text, err)
			}
			return b, nil
		}
		return []byte(text), nil
	case BigInt, Integer:
		v, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("parse %q as %s: %w", text, t, err)
		}
		if t == Integer && (v < math.MinInt32 || v > math.MaxInt32) {
			return nil, fmt.Errorf("%q is out of range for INTEGER", text)
		}
		return EncodeInt(v), nil
	case Double:
		v, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
		if err != nil {
			return nil, fmt.Errorf("parse %q as DOUBLE: %w", text, err)
		}
		return EncodeFloat(v), nil
	case Boolean:
		v, err := ParseBool(text)
		if err != nil {
			return nil, err
		}
		if v {
			return []byte{1}, nil
		}
		return []byte{0}, nil
	case Timestamp:
		v, err := ParseTimestamp(text)
		if err != nil {
			return nil, err
		}
		return EncodeInt(v), nil
	case Date:
		v, err := ParseDate(text)
		if err != nil {
			return nil, err
		}
		return EncodeInt(int64(v)), nil
	}
	return nil, fmt.Errorf("cannot parse a key of type %s", t)
}

// ParseBool reads a boolean the way PostgreSQL does (true/false, t/f,
// yes/no, on/off, 1/0, case-insensitive).
func ParseBool(text string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(text)) {
	case "t", "true", "y", "yes", "on", "1":
		return true, nil
	case "f", "false", "n", "no", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("invalid input syntax for type boolean: %q", text)
}

var timestampLayouts = []string{
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z07",
	"2006-01-02",
}

// ParseTimestamp reads a timestamp as microseconds since the Unix epoch. A
// value without a zone is UTC; one with a zone is converted to UTC.
func ParseTimestamp(text string) (int64, error) {
	s := strings.TrimSpace(text)
	for _, l := range timestampLayouts {
		if ts, err := time.Parse(l, s); err == nil {
			return ts.UnixMicro(), nil
		}
	}
	return 0, fmt.Errorf("invalid input syntax for type timestamp: %q", text)
}

// ParseDate reads a date as days since the Unix epoch.
func ParseDate(text string) (int32, error) {
	d, err := time.Parse(DateLayout, strings.TrimSpace(text))
	if err != nil {
		return 0, fmt.Errorf("invalid input syntax for type date: %q", text)
	}
	return int32(d.Unix() / 86400), nil
}

// AdjacentOrder returns a function giving the order (-1, 0, 1) of col's
// row-1 against its row as their plain encodings (AppendValue) order
// them, without encoding where it can: byte order for strings and
// binaries, numeric for integer types (whose encoding is big-endian with
// the sign bit flipped). Writers and ingest check that rows come in key
// order with it, a few nanoseconds a row where encoding each key would
// cost tens.
func AdjacentOrder(col arrow.Array) func(row int) int {
	switch a := col.(type) {
	case *array.String:
		return func(r int) int { return strings.Compare(a.Value(r-1), a.Value(r)) }
	case *array.Binary:
		return func(r int) int { return bytes.Compare(a.Value(r-1), a.Value(r)) }
	case *array.Int64:
		return adjacentNumbers(a.Int64Values())
	case *array.Int32:
		return adjacentNumbers(a.Int32Values())
	case *array.Timestamp:
		return adjacentNumbers(a.TimestampValues())
	case *array.Date32:
		return adjacentNumbers(a.Date32Values())
	}
	var x, y []byte
	return func(r int) int {
		x = AppendValue(x[:0], col, r-1)
		y = AppendValue(y[:0], col, r)
		return bytes.Compare(x, y)
	}
}

func adjacentNumbers[T int64 | int32 | arrow.Timestamp | arrow.Date32](v []T) func(int) int {
	return func(r int) int { return cmp.Compare(v[r-1], v[r]) }
}

// Head is a key's first sixteen bytes as two big-endian numbers,
// zero-padded (Prefix8 twice): keys whose heads differ sort as their
// heads do, so most comparisons of neighbouring keys (a merge's, an order
// check's) are of two integers, not calls to bytes.Compare. Sixteen
// bytes, not eight: neighbours in a sorted order often share more than
// eight.
type Head struct{ Hi, Lo uint64 }

// HeadOf returns b's Head.
func HeadOf(b []byte) Head {
	h := Head{Hi: Prefix8(b)}
	if len(b) > 8 {
		h.Lo = Prefix8(b[8:])
	}
	return h
}

// Cmp orders a and b by their heads, 0 when the heads are equal and the
// keys must be compared whole.
func (a Head) Cmp(b Head) int {
	switch {
	case a.Hi != b.Hi:
		if a.Hi < b.Hi {
			return -1
		}
		return 1
	case a.Lo != b.Lo:
		if a.Lo < b.Lo {
			return -1
		}
		return 1
	}
	return 0
}

// Before is 1 if head a sorts before head b, else 0, without a branch
// (a 128-bit subtraction's borrow): for searches whose probes go either
// way at random, where a mispredicted branch costs more than the
// comparison.
func (a Head) Before(b Head) uint64 {
	_, borrow := bits.Sub64(a.Lo, b.Lo, 0)
	_, borrow = bits.Sub64(a.Hi, b.Hi, borrow)
	return borrow
}

// Prefix8 returns the first eight bytes of b as a big-endian number,
// zero-padded: if Prefix8(a) < Prefix8(b), a sorts before b by
// bytes.Compare; equal prefixes decide nothing. Sorts and running minima
// of encoded keys compare these first, one integer comparison for most
// pairs.
func Prefix8(b []byte) uint64 {
	if len(b) >= 8 {
		return binary.BigEndian.Uint64(b)
	}
	var k uint64
	for i, c := range b {
		k |= uint64(c) << (56 - 8*i)
	}
	return k
}
