package expr

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// Parsing text into values, with PostgreSQL's input rules and messages.

func syntaxError(k kind, s string) error {
	code := sqlerr.InvalidTextRepresentation
	if k.isDatetime() || k == kInterval {
		code = sqlerr.InvalidDatetimeFormat
	}
	return sqlerr.New(code, "invalid input syntax for type %s: %q", kindNames[k], s)
}

func rangeError(k kind, s string) error {
	switch k {
	case kFloat4, kFloat8:
		return sqlerr.New(sqlerr.NumericValueOutOfRange, "%q is out of range for type %s", s, kindNames[k])
	case kDate, kTimestamp, kTimestampTZ:
		return sqlerr.New(sqlerr.DatetimeFieldOverflow, "%s out of range: %q", map[kind]string{kDate: "date", kTimestamp: "timestamp", kTimestampTZ: "timestamp"}[k], s)
	case kInterval:
		return sqlerr.New(sqlerr.DatetimeFieldOverflow, "interval field value out of range: %q", s)
	}
	return sqlerr.New(sqlerr.NumericValueOutOfRange, "value %q is out of range for type %s", s, kindNames[k])
}

func fieldRangeError(s string) error {
	return sqlerr.New(sqlerr.DatetimeFieldOverflow, "date/time field value out of range: %q", s)
}

const spaces = " \t\n\r\f\v"

// parseInt reads an integer of kind k: optional blanks, sign, digits.
func parseInt(s string, k kind) (int64, error) {
	t := strings.Trim(s, spaces)
	digits := t
	if len(digits) > 0 && (digits[0] == '+' || digits[0] == '-') {
		digits = digits[1:]
	}
	if digits == "" {
		return 0, syntaxError(k, s)
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, syntaxError(k, s)
		}
	}
	bitSize := map[kind]int{kInt2: 16, kInt4: 32, kInt8: 64}[k]
	v, err := strconv.ParseInt(t, 10, bitSize)
	if err != nil {
		return 0, rangeError(k, s)
	}
	return v, nil
}

// parseFloat reads a float of kind k, including NaN and [-]Infinity.
func parseFloat(s string, k kind) (float64, error) {
	t := strings.Trim(s, spaces)
	bitSize := 64
	if k == kFloat4 {
		bitSize = 32
	}
	if t == "" || strings.ContainsRune(t, '_') {
		return 0, syntaxError(k, s)
	}
	f, err := strconv.ParseFloat(t, bitSize)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, rangeError(k, s)
		}
		return 0, syntaxError(k, s)
	}
	if f == 0 {
		// An underflow parses to zero without error; PostgreSQL rejects it.
		mant := t
		if i := strings.IndexAny(mant, "eE"); i >= 0 {
			mant = mant[:i]
		}
		if strings.ContainsAny(mant, "123456789") && !strings.HasPrefix(strings.ToLower(strings.TrimLeft(mant, "+-")), "0x") {
			return 0, rangeError(k, s)
		}
	}
	return f, nil
}

// parseBool accepts what PostgreSQL's boolin does: any prefix of true,
// false, yes, no; on, off (two letters at least); 1 and 0.
func parseBool(s string) (bool, error) {
	t := strings.ToLower(strings.Trim(s, spaces))
	if t != "" {
		switch {
		case strings.HasPrefix("true", t):
			return true, nil
		case strings.HasPrefix("false", t):
			return false, nil
		case strings.HasPrefix("yes", t):
			return true, nil
		case strings.HasPrefix("no", t):
			return false, nil
		case len(t) >= 2 && strings.HasPrefix("on", t):
			return true, nil
		case len(t) >= 2 && strings.HasPrefix("off", t):
			return false, nil
		case t == "1":
			return true, nil
		case t == "0":
			return false, nil
		}
	}
	return false, syntaxError(kBool, s)
}

// dtScanner reads the ISO date and time formats PostgreSQL accepts:
// "2020-01-31", "20200131", "2020-01-31 12:34:56.789", "2020-01-31T12:34",
// with an optional zone (Z, UTC, +02, -03:30, +0530, or a zone name) and
// an optional BC/AD suffix.
type dtScanner struct {
	s   string
	pos int
}

func (p *dtScanner) skipSpaces() {
	for p.pos < len(p.s) && strings.IndexByte(spaces, p.s[p.pos]) >= 0 {
		p.pos++
	}
}

func (p *dtScanner) digits() (string, bool) {
	start := p.pos
	for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
		p.pos++
	}
	return p.s[start:p.pos], p.pos > start
}

func (p *dtScanner) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func atoi(s string) int64 {
	v, _ := strconv.ParseInt(s, 10, 64)
	return v
}

// parseDateTime parses s into fields; k is the type being read, for the
// messages. It handles the special words too, relative to now.
func parseDateTime(s string, k kind, now int64, loc *time.Location) (fields, error) {
	switch strings.ToLower(strings.Trim(s, spaces)) {
	case "infinity", "+infinity":
		return fields{inf: 1}, nil
	case "-infinity":
		return fields{inf: -1}, nil
	case "epoch":
		return fields{year: 1970, month: 1, day: 1, hasZone: true}, nil
	case "now":
		f := localFields(now, loc)
		f.hasTime = true
		return f, nil
	case "today", "tomorrow", "yesterday":
		f := localFields(now, loc)
		f.hour, f.min, f.sec, f.usec = 0, 0, 0, 0
		d := map[string]int64{"today": 0, "tomorrow": 1, "yesterday": -1}[strings.ToLower(strings.Trim(s, spaces))]
		f.year, f.month, f.day = civilFromDays(daysFromCivil(f.year, f.month, f.day) + d)
		f.offset = 0
		return f, nil
	}
	p := &dtScanner{s: s}
	bad := syntaxError(k, s)
	p.skipSpaces()
	y, ok := p.digits()
	if !ok {
		return fields{}, bad
	}
	var f fields
	if p.peek() == '-' {
		p.pos++
		m, ok1 := p.digits()
		if !ok1 || p.peek() != '-' {
			return fields{}, bad
		}
		p.pos++
		d, ok2 := p.digits()
		if !ok2 || len(m) > 2 || len(d) > 2 {
			return fields{}, bad
		}
		f.year, f.month, f.day = atoi(y), int(atoi(m)), int(atoi(d))
	} else if len(y) == 8 {
		f.year, f.month, f.day = atoi(y[:4]), int(atoi(y[4:6])), int(atoi(y[6:]))
	} else {
		return fields{}, bad
	}
	// time
	save := p.pos
	if c := p.peek(); c == 'T' || c == 't' || c == ' ' {
		p.pos++
		p.skipSpaces()
		if h, ok := p.digits(); ok && p.peek() == ':' && len(h) <= 2 {
			p.pos++
			mi, ok := p.digits()
			if !ok || len(mi) > 2 { // PostgreSQL takes 3:4:5 as 03:04:05
				return fields{}, bad
			}
			f.hour, f.min, f.hasTime = int(atoi(h)), int(atoi(mi)), true
			if p.peek() == ':' {
				p.pos++
				sec, ok := p.digits()
				if !ok || len(sec) > 2 {
					return fields{}, bad
				}
				f.sec = int(atoi(sec))
				if p.peek() == '.' {
					p.pos++
					frac, _ := p.digits()
					f.usec = fracMicros(frac)
				}
			}
		} else {
			p.pos = save
		}
	}
	// zone and era
	p.skipSpaces()
	rest := p.s[p.pos:]
	if rest != "" {
		upper := strings.ToUpper(rest)
		era := ""
		if strings.HasSuffix(upper, " BC") || upper == "BC" {
			era, rest = "BC", strings.TrimSpace(rest[:len(rest)-2])
		} else if strings.HasSuffix(upper, " AD") || upper == "AD" {
			era, rest = "AD", strings.TrimSpace(rest[:len(rest)-2])
		}
		if rest != "" {
			off, ok := parseOffsetZone(rest)
			if !ok {
				switch strings.ToUpper(rest) {
				case "Z", "UTC", "GMT", "ZULU":
					off, ok = 0, true
				default:
					l, err := time.LoadLocation(rest)
					if err != nil {
						return fields{}, bad
					}
					// The offset of a named zone depends on the local time.
					t := time.Date(int(f.year), time.Month(f.month), f.day, f.hour, f.min, f.sec, 0, l)
					_, off = t.Zone()
					ok = true
				}
			}
			f.offset, f.hasZone = off, ok
		}
		if era == "BC" {
			if f.year == 0 {
				return fields{}, bad
			}
			f.year = 1 - f.year
		}
	}
	if f.month < 1 || f.month > 12 || f.day < 1 || f.day > daysIn(f.year, f.month) ||
		f.hour > 24 || f.min > 59 || f.sec > 60 || (f.hour == 24 && (f.min != 0 || f.sec != 0 || f.usec != 0)) {
		return fields{}, fieldRangeError(s)
	}
	return f, nil
}

// fracMicros turns the digits after a decimal point into microseconds,
// rounding to the nearest.
func fracMicros(frac string) int {
	us := 0
	for i := 0; i < 6; i++ {
		us *= 10
		if i < len(frac) {
			us += int(frac[i] - '0')
		}
	}
	if len(frac) > 6 && frac[6] >= '5' {
		us++
	}
	return us
}

// parseOffsetZone reads a numeric zone: +HH, +HH:MM, +HHMM, +HH:MM:SS.
func parseOffsetZone(s string) (int, bool) {
	if len(s) < 2 || (s[0] != '+' && s[0] != '-') {
		return 0, false
	}
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	parts := strings.Split(s[1:], ":")
	if len(parts) == 1 && len(parts[0]) == 4 {
		parts = []string{parts[0][:2], parts[0][2:]}
	}
	if len(parts) > 3 {
		return 0, false
	}
	off := 0
	mult := 3600
	for _, p := range parts {
		if p == "" || len(p) > 2 {
			return 0, false
		}
		v, err := strconv.Atoi(p)
		if err != nil {
			return 0, false
		}
		off += v * mult
		mult /= 60
	}
	if off > 15*3600+59*60 {
		return 0, false
	}
	return sign * off, true
}

func parseDate(s string, now int64, loc *time.Location) (int32, error) {
	f, err := parseDateTime(s, kDate, now, loc)
	if err != nil {
		return 0, err
	}
	switch f.inf {
	case -1:
		return dateNoBegin, nil
	case 1:
		return dateNoEnd, nil
	}
	d := daysFromCivil(f.year, f.month, f.day)
	if d < minDate || d >= maxDate {
		return 0, rangeError(kDate, s)
	}
	return int32(d), nil
}

// parseTimestamp reads a timestamp (a zone in the text is ignored, as
// PostgreSQL ignores it) or a timestamptz (times without a zone are local
// to loc).
func parseTimestamp(s string, k kind, now int64, loc *time.Location) (int64, error) {
	f, err := parseDateTime(s, k, now, loc)
	if err != nil {
		return 0, err
	}
	switch f.inf {
	case -1:
		return tsNoBegin, nil
	case 1:
		return tsNoEnd, nil
	}
	if f.year < -4713 || f.year > 294247 {
		return 0, rangeError(k, s)
	}
	var us int64
	switch {
	case k == kTimestamp:
		us = f.micros()
	case f.hasZone:
		us = f.micros() - int64(f.offset)*usPerSec
	default:
		us = fromLocal(f, loc)
	}
	if us < minTS || us >= maxTS {
		return 0, rangeError(k, s)
	}
	return us, nil
}

// intervalUnits maps the unit words of interval input to (months, micros)
// per unit; days are micros of usPerDay but kept apart (see addUnit).
var intervalUnits = map[string]string{
	"microsecond": "us", "microseconds": "us", "us": "us", "usec": "us", "usecs": "us", "useconds": "us",
	"millisecond": "ms", "milliseconds": "ms", "ms": "ms", "msec": "ms", "msecs": "ms", "mseconds": "ms",
	"second": "s", "seconds": "s", "s": "s", "sec": "s", "secs": "s",
	"minute": "min", "minutes": "min", "m": "min", "min": "min", "mins": "min",
	"hour": "h", "hours": "h", "h": "h", "hr": "h", "hrs": "h",
	"day": "d", "days": "d", "d": "d",
	"week": "w", "weeks": "w", "w": "w",
	"month": "mon", "months": "mon", "mon": "mon", "mons": "mon",
	"year": "y", "years": "y", "y": "y", "yr": "y", "yrs": "y",
	"decade": "dec", "decades": "dec", "dec": "dec", "decs": "dec",
	"century": "c", "centuries": "c", "c": "c", "cent": "c",
	"millennium": "mil", "millennia": "mil", "millenniums": "mil", "mil": "mil", "mils": "mil",
}

// ivAcc accumulates interval fields while parsing.
type ivAcc struct {
	months, days float64
	us           float64
}

func (a *ivAcc) add(v float64, unit string) {
	switch unit {
	case "us":
		a.us += v
	case "ms":
		a.us += v * 1e3
	case "s":
		a.us += v * 1e6
	case "min":
		a.us += v * 60e6
	case "h":
		a.us += v * 3600e6
	case "d":
		a.days += v
	case "w":
		a.days += 7 * v
	case "mon":
		a.months += v
	case "y":
		a.months += 12 * v
	case "dec":
		a.months += 120 * v
	case "c":
		a.months += 1200 * v
	case "mil":
		a.months += 12000 * v
	}
}

// result cascades fractions down as PostgreSQL does: a fraction of a
// month is 30 days, a fraction of a day 24 hours.
func (a *ivAcc) result() (interval, bool) {
	months := math.Trunc(a.months)
	days := a.days + (a.months-months)*30
	wholeDays := math.Trunc(days)
	us := math.Round(a.us + (days-wholeDays)*float64(usPerDay))
	if math.Abs(months) > math.MaxInt32 || math.Abs(wholeDays) > math.MaxInt32 || math.Abs(us) >= 9.2e18 {
		return interval{}, false
	}
	return mkInterval(int32(months), int32(wholeDays), int64(us)), true
}

// parseInterval reads PostgreSQL's interval input: "1 year 2 mons",
// "3 days 04:05:06.7", "-1 day +02:00", "@ 2 hours ago", "1.5 weeks",
// "10" (seconds) and ISO 8601 "P1Y2M3DT4H5M6S".
func parseInterval(s string) (interval, error) {
	bad := syntaxError(kInterval, s)
	t := strings.ToLower(strings.Trim(s, spaces))
	if strings.HasPrefix(t, "p") {
		return parseISOInterval(t, s)
	}
	t = strings.TrimPrefix(t, "@")
	toks := strings.Fields(t)
	if len(toks) == 0 {
		return interval{}, bad
	}
	ago := false
	if toks[len(toks)-1] == "ago" {
		ago, toks = true, toks[:len(toks)-1]
	}
	var acc ivAcc
	for i := 0; i < len(toks); i++ {
		tok := toks[i]
		if strings.Contains(tok, ":") {
			us, ok := parseClock(tok)
			if !ok {
				return interval{}, bad
			}
			acc.us += us
			continue
		}
		// a number, possibly glued to its unit ("5days")
		j := 0
		for j < len(tok) && (tok[j] == '+' || tok[j] == '-' || tok[j] == '.' || (tok[j] >= '0' && tok[j] <= '9')) {
			j++
		}
		num, unit := tok[:j], tok[j:]
		if num == "" {
			return interval{}, bad
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return interval{}, bad
		}
		if unit == "" && i+1 < len(toks) {
			if _, ok := intervalUnits[toks[i+1]]; ok {
				unit = toks[i+1]
				i++
			}
		}
		if unit == "" {
			unit = "s"
		}
		u, ok := intervalUnits[unit]
		if !ok {
			return interval{}, bad
		}
		acc.add(v, u)
	}
	if ago {
		acc.months, acc.days, acc.us = -acc.months, -acc.days, -acc.us
	}
	v, ok := acc.result()
	if !ok {
		return interval{}, rangeError(kInterval, s)
	}
	return v, nil
}

// parseClock reads [-+]H:MM[:SS[.frac]] as microseconds.
func parseClock(tok string) (float64, bool) {
	sign := 1.0
	if tok[0] == '-' || tok[0] == '+' {
		if tok[0] == '-' {
			sign = -1
		}
		tok = tok[1:]
	}
	parts := strings.Split(tok, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, false
	}
	h, err1 := strconv.ParseUint(parts[0], 10, 32)
	m, err2 := strconv.ParseUint(parts[1], 10, 8)
	if err1 != nil || err2 != nil || m > 59 {
		return 0, false
	}
	us := float64(h)*3600e6 + float64(m)*60e6
	if len(parts) == 3 {
		sec, err := strconv.ParseFloat(parts[2], 64)
		if err != nil || sec < 0 || sec >= 61 || strings.ContainsAny(parts[2], "eE+-") {
			return 0, false
		}
		us += math.Round(sec * 1e6)
	}
	return sign * us, true
}

func parseISOInterval(t, orig string) (interval, error) {
	bad := syntaxError(kInterval, orig)
	var acc ivAcc
	inTime := false
	rest := t[1:]
	if rest == "" {
		return interval{}, bad
	}
	for rest != "" {
		if rest[0] == 't' {
			inTime, rest = true, rest[1:]
			continue
		}
		j := 0
		for j < len(rest) && (rest[j] == '-' || rest[j] == '+' || rest[j] == '.' || (rest[j] >= '0' && rest[j] <= '9')) {
			j++
		}
		if j == 0 || j == len(rest) {
			return interval{}, bad
		}
		v, err := strconv.ParseFloat(rest[:j], 64)
		if err != nil {
			return interval{}, bad
		}
		var unit string
		switch c := rest[j]; {
		case c == 'y' && !inTime:
			unit = "y"
		case c == 'm' && !inTime:
			unit = "mon"
		case c == 'w' && !inTime:
			unit = "w"
		case c == 'd' && !inTime:
			unit = "d"
		case c == 'h' && inTime:
			unit = "h"
		case c == 'm' && inTime:
			unit = "min"
		case c == 's' && inTime:
			unit = "s"
		default:
			return interval{}, bad
		}
		acc.add(v, unit)
		rest = rest[j+1:]
	}
	v, ok := acc.result()
	if !ok {
		return interval{}, rangeError(kInterval, orig)
	}
	return v, nil
}

// parseBytea reads the hex format (\x0a0b) or the escape format (\\ for a
// backslash, \ooo for an octal byte, anything else as itself).
func parseBytea(s string) ([]byte, error) {
	if strings.HasPrefix(s, `\x`) || strings.HasPrefix(s, `\X`) {
		out := make([]byte, 0, (len(s)-2)/2)
		h := s[2:]
		for i := 0; i < len(h); {
			if strings.IndexByte(spaces, h[i]) >= 0 {
				i++
				continue
			}
			hi, ok1 := unhex(h[i])
			if !ok1 {
				return nil, sqlerr.New(sqlerr.InvalidTextRepresentation, "invalid hexadecimal digit: %q", h[i:i+1])
			}
			if i+1 >= len(h) {
				return nil, sqlerr.New(sqlerr.InvalidTextRepresentation, "invalid hexadecimal data: odd number of digits")
			}
			lo, ok2 := unhex(h[i+1])
			if !ok2 {
				return nil, sqlerr.New(sqlerr.InvalidTextRepresentation, "invalid hexadecimal digit: %q", h[i+1:i+2])
			}
			out = append(out, hi<<4|lo)
			i += 2
		}
		return out, nil
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		switch {
		case i+1 < len(s) && s[i+1] == '\\':
			out = append(out, '\\')
			i++
		case i+3 < len(s) && isOctal(s[i+1]) && s[i+1] <= '3' && isOctal(s[i+2]) && isOctal(s[i+3]):
			out = append(out, (s[i+1]-'0')<<6|(s[i+2]-'0')<<3|(s[i+3]-'0'))
			i += 3
		default:
			return nil, sqlerr.New(sqlerr.InvalidTextRepresentation, "invalid input syntax for type bytea")
		}
	}
	return out, nil
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
