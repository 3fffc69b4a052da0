package ingest

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/dormousedb/dormouse/storage/schema"
)

// csvCol converts the text of one field into its column.
type csvCol struct {
	csvField
	null    []byte
	nullErr error
	col     *column
	ascii   *bool  // the chunk is all ASCII: VARCHAR needs no UTF-8 check
	hex     []byte // scratch for VARBINARY
}

func newCSVCol(f csvField, null []byte, col *column, ascii *bool) csvCol {
	c := csvCol{csvField: f, null: null, col: col, ascii: ascii}
	if f.notNull != "" {
		c.nullErr = fmt.Errorf("NULL in %s", f.notNull)
	}
	return c
}

// append converts one field; quoted says whether any of it was quoted,
// which keeps it from being NULL. The error text says what is wrong with
// the value, the caller says where.
func (c *csvCol) append(v []byte, quoted bool) error {
	if !quoted && bytes.Equal(v, c.null) {
		if c.nullErr != nil {
			return c.nullErr
		}
		c.col.appendNull()
		return nil
	}
	col := c.col
	switch c.typ {
	case schema.BigInt:
		x, err := parseInt(v, 64, "bigint")
		if err != nil {
			return err
		}
		col.u64 = append(col.u64, uint64(x))
	case schema.Integer:
		x, err := parseInt(v, 32, "integer")
		if err != nil {
			return err
		}
		col.u32 = append(col.u32, uint32(int32(x)))
	case schema.Double:
		x, err := parseFloat(v)
		if err != nil {
			return err
		}
		col.u64 = append(col.u64, math.Float64bits(x))
	case schema.Boolean:
		x, err := parseBool(v)
		if err != nil {
			return err
		}
		b := byte(0)
		if x {
			b = 1
		}
		col.data = append(col.data, b)
	case schema.Varchar:
		if !*c.ascii && !utf8.Valid(v) {
			return fmt.Errorf("invalid byte sequence for encoding \"UTF8\": %q", v)
		}
		if c.maxLen > 0 && len(v) > c.maxLen {
			n, err := schema.FitLength(unsafeString(v), c.maxLen)
			if err != nil {
				return fmt.Errorf("%w: %q", err, v)
			}
			v = v[:n]
		}
		col.appendBytes(v)
	case schema.Varbinary:
		x, err := parseBytea(v, &c.hex)
		if err != nil {
			return err
		}
		col.appendBytes(x)
	case schema.Timestamp:
		x, ok := fastTimestamp(v)
		if !ok {
			var err error
			if x, err = schema.ParseTimestamp(string(v)); err != nil {
				return err
			}
		}
		col.u64 = append(col.u64, uint64(x))
	case schema.Date:
		x, ok := fastDate(v)
		if !ok {
			d, err := schema.ParseDate(string(v))
			if err != nil {
				return err
			}
			x = int64(d)
		}
		col.u32 = append(col.u32, uint32(int32(x)))
	}
	return nil
}

// unsafeString views b as a string for parsing functions that do not keep
// it.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// parseInt reads a decimal integer the way PostgreSQL does: optional sign,
// surrounding spaces allowed, range-checked for the type.
func parseInt(v []byte, bits int, typ string) (int64, error) {
	if x, ok := fastInt(v); ok {
		if bits == 32 && (x < math.MinInt32 || x > math.MaxInt32) {
			return 0, fmt.Errorf("value %q is out of range for type %s", v, typ)
		}
		return x, nil
	}
	x, err := strconv.ParseInt(strings.TrimSpace(unsafeString(v)), 10, bits)
	if err == nil {
		return x, nil
	}
	if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("value %q is out of range for type %s", v, typ)
	}
	return 0, fmt.Errorf("invalid input syntax for type %s: %q", typ, v)
}

// fastInt reads an optionally signed run of at most 18 digits, which cannot
// overflow int64.
func fastInt(v []byte) (int64, bool) {
	neg := false
	if len(v) > 0 && (v[0] == '-' || v[0] == '+') {
		neg, v = v[0] == '-', v[1:]
	}
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var x int64
	for _, c := range v {
		d := c - '0'
		if d > 9 {
			return 0, false
		}
		x = x*10 + int64(d)
	}
	if neg {
		x = -x
	}
	return x, true
}

func parseFloat(v []byte) (float64, error) {
	if x, ok := fastFloat(v); ok {
		return x, nil
	}
	x, err := strconv.ParseFloat(unsafeString(v), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		x, err = strconv.ParseFloat(strings.TrimSpace(unsafeString(v)), 64)
	}
	if err == nil {
		return x, nil
	}
	if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("value %q is out of range for type double precision", v)
	}
	return 0, fmt.Errorf("invalid input syntax for type double precision: %q", v)
}

// pow10 holds the powers of ten that a float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// fastFloat reads a plain decimal ("-12.375") of at most 15 digits, which
// is exactly an integer below 2^53 divided by an exact power of ten: one
// correctly rounded division gives the correctly rounded value, as
// strconv.ParseFloat would. Anything else is left to strconv.
func fastFloat(v []byte) (float64, bool) {
	i, neg := 0, false
	if len(v) > 0 && (v[0] == '-' || v[0] == '+') {
		i, neg = 1, v[0] == '-'
	}
	var mant uint64
	digits, frac := 0, -1
	for ; i < len(v); i++ {
		c := v[i]
		if c == '.' {
			if frac >= 0 {
				return 0, false
			}
			frac = 0
			continue
		}
		d := c - '0'
		if d > 9 {
			return 0, false
		}
		mant = mant*10 + uint64(d)
		digits++
		if frac >= 0 {
			frac++
		}
	}
	if digits == 0 || digits > 15 {
		return 0, false
	}
	f := float64(mant)
	if frac > 0 {
		f /= pow10[frac]
	}
	if neg {
		f = -f
	}
	return f, true
}

func parseBool(v []byte) (bool, error) {
	switch unsafeString(v) {
	case "t", "true", "1":
		return true, nil
	case "f", "false", "0":
		return false, nil
	}
	return schema.ParseBool(string(v))
}

// parseBytea reads PostgreSQL's hex form \x0a1b...; any other text is taken
// as the bytes themselves.
func parseBytea(v []byte, scratch *[]byte) ([]byte, error) {
	if len(v) < 2 || v[0] != '\\' || v[1] != 'x' {
		return v, nil
	}
	h := v[2:]
	if len(h)%2 != 0 {
		return nil, errors.New("invalid hexadecimal data: odd number of digits")
	}
	if cap(*scratch) < len(h)/2 {
		*scratch = make([]byte, len(h)/2)
	}
	out := (*scratch)[:len(h)/2]
	if _, err := hex.Decode(out, h); err != nil {
		var bad hex.InvalidByteError
		if errors.As(err, &bad) {
			return nil, fmt.Errorf("invalid hexadecimal digit: %q", string(rune(bad)))
		}
		return nil, fmt.Errorf("invalid hexadecimal data: %v", err)
	}
	return out, nil
}

// fastTimestamp reads the common forms "YYYY-MM-DD HH:MM:SS[.fraction]"
// (or with a 'T') and "YYYY-MM-DD" as UTC microseconds, exactly as
// schema.ParseTimestamp would; anything else is left to it.
func fastTimestamp(v []byte) (int64, bool) {
	if len(v) == 10 {
		d, ok := fastDate(v)
		return d * 86400e6, ok
	}
	if len(v) < 19 || (v[10] != ' ' && v[10] != 'T') || v[13] != ':' || v[16] != ':' {
		return 0, false
	}
	days, ok := fastDate(v[:10])
	if !ok {
		return 0, false
	}
	h, ok1 := digits2(v[11:13])
	m, ok2 := digits2(v[14:16])
	s, ok3 := digits2(v[17:19])
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || s > 59 {
		return 0, false
	}
	us := int64(0)
	if frac := v[19:]; len(frac) > 0 {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
			return 0, false
		}
		scale := int64(100000)
		for _, c := range frac[1:] {
			d := c - '0'
			if d > 9 {
				return 0, false
			}
			us += int64(d) * scale
			scale /= 10
		}
	}
	return days*86400e6 + (h*3600+m*60+s)*1e6 + us, true
}

// fastDate reads "YYYY-MM-DD" as days since the epoch.
func fastDate(v []byte) (int64, bool) {
	if len(v) != 10 || v[4] != '-' || v[7] != '-' {
		return 0, false
	}
	y1, ok1 := digits2(v[0:2])
	y2, ok2 := digits2(v[2:4])
	mo, ok3 := digits2(v[5:7])
	d, ok4 := digits2(v[8:10])
	if !ok1 || !ok2 || !ok3 || !ok4 || mo < 1 || mo > 12 || d < 1 {
		return 0, false
	}
	y := y1*100 + y2
	if d > daysIn(y, mo) {
		return 0, false
	}
	return daysFromCivil(y, mo, d), true
}

func digits2(v []byte) (int64, bool) {
	a, b := v[0]-'0', v[1]-'0'
	if a > 9 || b > 9 {
		return 0, false
	}
	return int64(a)*10 + int64(b), true
}

func daysIn(y, m int64) int64 {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil is Howard Hinnant's algorithm for the proleptic Gregorian
// calendar.
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
