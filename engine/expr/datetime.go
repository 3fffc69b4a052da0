package expr

import (
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// Dates are days since 1970-01-01 (Date32), timestamps microseconds since
// 1970-01-01 00:00:00 (UTC for timestamptz). As in PostgreSQL, the extreme
// values of each stand for -infinity and infinity.

const (
	usPerSec  = int64(1_000_000)
	usPerMin  = 60 * usPerSec
	usPerHour = 60 * usPerMin
	usPerDay  = 24 * usPerHour

	dateNoBegin = math.MinInt32
	dateNoEnd   = math.MaxInt32
	tsNoBegin   = math.MinInt64
	tsNoEnd     = math.MaxInt64

	// PostgreSQL's ranges: dates from 4714-11-24 BC (Julian day 0) to
	// 5874897 AD, timestamps from 4714-11-24 BC to what fits in int64
	// microseconds from 1970 (294247 AD; PostgreSQL, counting from 2000,
	// reaches 294276 AD). Upper bounds are exclusive.
	minDate = -2440588
	maxDate = 2147483494 - 2440588
	minTS   = int64(-210866803200000000)
	maxTS   = int64(math.MaxInt64)
)

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// civilFromDays converts days since 1970-01-01 to a proleptic Gregorian
// date; years are astronomical (0 is 1 BC).
func civilFromDays(z int64) (y int64, m, d int) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		m = int(mp + 3)
	} else {
		m = int(mp - 9)
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// daysFromCivil is the inverse of civilFromDays.
func daysFromCivil(y int64, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mm := int64(m) + 9
	if m > 2 {
		mm = int64(m) - 3
	}
	doy := (153*mm+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func isLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y int64, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// fields is a broken-down timestamp.
type fields struct {
	year             int64
	month, day       int
	hour, min, sec   int
	usec             int
	offset           int // seconds east of UTC, for timestamptz
	inf              int // -1, +1 for -infinity, infinity
	hasTime, hasZone bool
}

func splitTS(us int64) fields {
	days := floorDiv(us, usPerDay)
	rem := us - days*usPerDay
	y, m, d := civilFromDays(days)
	return fields{year: y, month: m, day: d,
		hour: int(rem / usPerHour), min: int(rem / usPerMin % 60), sec: int(rem / usPerSec % 60), usec: int(rem % usPerSec)}
}

func (f fields) micros() int64 {
	return daysFromCivil(f.year, f.month, f.day)*usPerDay + int64(f.hour)*usPerHour +
		int64(f.min)*usPerMin + int64(f.sec)*usPerSec + int64(f.usec)
}

var locations sync.Map // name → *time.Location

// location is the session's time zone (UTC when unset or unknown).
func (ctx *Context) location() *time.Location {
	if ctx == nil || ctx.TimeZone == "" {
		return time.UTC
	}
	return loadLocation(ctx.TimeZone)
}

func loadLocation(name string) *time.Location {
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location)
	}
	loc := time.UTC
	if l, err := time.LoadLocation(name); err == nil {
		loc = l
	} else if off, ok := parseOffsetZone(name); ok {
		loc = time.FixedZone(name, off)
	}
	locations.Store(name, loc)
	return loc
}

// localFields breaks a timestamptz down in loc.
func localFields(us int64, loc *time.Location) fields {
	if loc == time.UTC {
		return splitTS(us)
	}
	t := time.UnixMicro(us).In(loc)
	_, off := t.Zone()
	f := splitTS(us + int64(off)*usPerSec)
	f.offset = off
	return f
}

// fromLocal is the timestamptz of local wall-clock time f in loc.
func fromLocal(f fields, loc *time.Location) int64 {
	wall := f.micros()
	if loc == time.UTC {
		return wall
	}
	days := floorDiv(wall, usPerDay)
	y, m, d := civilFromDays(days)
	rem := wall - days*usPerDay
	t := time.Date(int(y), time.Month(m), d, 0, 0, 0, 0, loc).Add(time.Duration(rem) * time.Microsecond)
	// time.Date resolves midnight; re-resolve the full wall time for DST.
	t2 := time.Date(int(y), time.Month(m), d, int(rem/usPerHour), int(rem/usPerMin%60), int(rem/usPerSec%60), int(rem%usPerSec)*1000, loc)
	if t2.UnixMicro() != t.UnixMicro() {
		t = t2
	}
	return t.UnixMicro()
}

// appendYear writes a year as PostgreSQL does: at least four digits, and
// BC years through the suffix appended by the caller.
func appendDateFields(b []byte, y int64, m, d int) []byte {
	if y <= 0 {
		y = 1 - y
	}
	b = appendPad(b, y, 4)
	b = append(b, '-')
	b = appendPad(b, int64(m), 2)
	b = append(b, '-')
	return appendPad(b, int64(d), 2)
}

func appendPad(b []byte, v int64, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], v, 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

func appendDate(b []byte, days int32) []byte {
	switch days {
	case dateNoBegin:
		return append(b, "-infinity"...)
	case dateNoEnd:
		return append(b, "infinity"...)
	}
	y, m, d := civilFromDays(int64(days))
	b = appendDateFields(b, y, m, d)
	if y <= 0 {
		b = append(b, " BC"...)
	}
	return b
}

// appendTime writes HH:MM:SS with the fraction's trailing zeros removed.
func appendTime(b []byte, h, mi, s, us int) []byte {
	b = appendPad(b, int64(h), 2)
	b = append(b, ':')
	b = appendPad(b, int64(mi), 2)
	b = append(b, ':')
	b = appendPad(b, int64(s), 2)
	if us != 0 {
		var tmp [8]byte
		f := appendPad(tmp[:0], int64(us), 6)
		for len(f) > 0 && f[len(f)-1] == '0' {
			f = f[:len(f)-1]
		}
		b = append(b, '.')
		b = append(b, f...)
	}
	return b
}

// appendTimestamp writes a timestamp, or a timestamptz in loc when loc is
// not nil, in PostgreSQL's ISO output style.
func appendTimestamp(b []byte, us int64, loc *time.Location) []byte {
	switch us {
	case tsNoBegin:
		return append(b, "-infinity"...)
	case tsNoEnd:
		return append(b, "infinity"...)
	}
	var f fields
	if loc != nil {
		f = localFields(us, loc)
	} else {
		f = splitTS(us)
	}
	b = appendDateFields(b, f.year, f.month, f.day)
	b = append(b, ' ')
	b = appendTime(b, f.hour, f.min, f.sec, f.usec)
	if loc != nil {
		off := f.offset
		if off < 0 {
			b = append(b, '-')
			off = -off
		} else {
			b = append(b, '+')
		}
		b = appendPad(b, int64(off/3600), 2)
		if off%3600 != 0 {
			b = append(b, ':')
			b = appendPad(b, int64(off/60%60), 2)
			if off%60 != 0 {
				b = append(b, ':')
				b = appendPad(b, int64(off%60), 2)
			}
		}
	}
	if f.year <= 0 {
		b = append(b, " BC"...)
	}
	return b
}

// Intervals are months, days and nanoseconds; PostgreSQL keeps
// microseconds, so the nanoseconds are always a multiple of 1000.

type interval = arrow.MonthDayNanoInterval

func ivMicros(v interval) int64 { return v.Nanoseconds / 1000 }

func mkInterval(months, days int32, us int64) interval {
	return interval{Months: months, Days: days, Nanoseconds: us * 1000}
}

// ivKey orders intervals as PostgreSQL does: months are 30 days and days
// 24 hours, compared as a (days, remainder) pair to avoid overflow.
func ivKey(v interval) (int64, int64) {
	us := ivMicros(v)
	days := int64(v.Months)*30 + int64(v.Days) + floorDiv(us, usPerDay)
	return days, floorMod(us, usPerDay)
}

func ivCompare(a, b interval) int {
	ad, ar := ivKey(a)
	bd, br := ivKey(b)
	switch {
	case ad < bd || (ad == bd && ar < br):
		return -1
	case ad == bd && ar == br:
		return 0
	}
	return 1
}

// appendInterval writes an interval in IntervalStyle postgres:
// "1 year 2 mons -3 days +04:05:06.5".
func appendInterval(b []byte, v interval) []byte {
	years, mons := v.Months/12, v.Months%12
	neg := false // a previous field was negative: positive ones get a +
	empty := true
	unit := func(val int64, name string) {
		if val == 0 {
			return
		}
		if !empty {
			b = append(b, ' ')
		}
		if neg && val > 0 {
			b = append(b, '+')
		}
		b = strconv.AppendInt(b, val, 10)
		b = append(b, ' ')
		b = append(b, name...)
		if val != 1 {
			b = append(b, 's')
		}
		neg = val < 0
		empty = false
	}
	unit(int64(years), "year")
	unit(int64(mons), "mon")
	unit(int64(v.Days), "day")
	us := ivMicros(v)
	if us != 0 || empty {
		if !empty {
			b = append(b, ' ')
		}
		if us < 0 {
			b = append(b, '-')
		} else if neg {
			b = append(b, '+')
		}
		a := uint64(us)
		if us < 0 {
			a = uint64(-us)
		}
		h := a / uint64(usPerHour)
		a -= h * uint64(usPerHour)
		b = appendPad(b, int64(h), 2)
		b = append(b, ':')
		b = appendPad(b, int64(a/uint64(usPerMin)), 2)
		b = append(b, ':')
		a %= uint64(usPerMin)
		b = appendPad(b, int64(a/uint64(usPerSec)), 2)
		if frac := int64(a % uint64(usPerSec)); frac != 0 {
			var tmp [8]byte
			f := appendPad(tmp[:0], frac, 6)
			for len(f) > 0 && f[len(f)-1] == '0' {
				f = f[:len(f)-1]
			}
			b = append(b, '.')
			b = append(b, f...)
		}
	}
	return b
}

// addMonths adds months to a timestamp's broken-down date, clamping the
// day to the end of the month as PostgreSQL does (Jan 31 + 1 month is the
// last day of February).
func addMonths(f *fields, months int64) {
	m := f.year*12 + int64(f.month-1) + months
	f.year = floorDiv(m, 12)
	f.month = int(floorMod(m, 12)) + 1
	if dim := daysIn(f.year, f.month); f.day > dim {
		f.day = dim
	}
}

// tsAddInterval is timestamp + interval (PostgreSQL's
// timestamp_pl_interval): months in calendar terms, then days, then time;
// for a timestamptz (loc not nil) months and days move the wall clock in
// loc, across daylight-saving changes.
func tsAddInterval(us int64, v interval, loc *time.Location) (int64, bool) {
	if us == tsNoBegin || us == tsNoEnd {
		return us, true
	}
	if v.Months != 0 || v.Days != 0 {
		var f fields
		if loc != nil {
			f = localFields(us, loc)
		} else {
			f = splitTS(us)
		}
		addMonths(&f, int64(v.Months))
		if v.Days != 0 {
			days := daysFromCivil(f.year, f.month, f.day) + int64(v.Days)
			f.year, f.month, f.day = civilFromDays(days)
		}
		if loc != nil {
			us = fromLocal(f, loc)
		} else {
			us = f.micros()
		}
	}
	d := ivMicros(v)
	r := us + d
	if (d > 0 && r < us) || (d < 0 && r > us) || r < minTS || r >= maxTS {
		return 0, false
	}
	return r, true
}

// tsDiff is timestamp - timestamp: days and time, as
// interval_justify_hours leaves them.
func tsDiff(a, b int64) (interval, bool) {
	if a == tsNoBegin || a == tsNoEnd || b == tsNoBegin || b == tsNoEnd {
		return interval{}, false
	}
	d := a - b
	days := d / usPerDay
	return mkInterval(0, int32(days), d-days*usPerDay), true
}

// ivMul multiplies an interval by a float as PostgreSQL's interval_mul
// does, cascading fractional months into days and fractional days into
// time.
func ivMul(v interval, factor float64) (interval, bool) {
	rm := float64(v.Months) * factor
	rd := float64(v.Days) * factor
	if math.IsNaN(rm) || rm < math.MinInt32 || rm > math.MaxInt32 || math.IsNaN(rd) || rd < math.MinInt32 || rd > math.MaxInt32 {
		return interval{}, false
	}
	months := int32(rm)
	days := int32(rd)
	tsround := func(x float64) float64 { return math.RoundToEven(x*1e6) / 1e6 }
	monthRemDays := tsround((float64(v.Months)*factor - float64(months)) * 30)
	secRem := tsround((float64(v.Days)*factor - float64(days) + monthRemDays - float64(int64(monthRemDays))) * 86400)
	if math.Abs(secRem) >= 86400 {
		days += int32(secRem / 86400)
		secRem -= float64(int64(secRem/86400)) * 86400
	}
	days += int32(monthRemDays)
	t := math.RoundToEven(float64(ivMicros(v))*factor + secRem*1e6)
	if math.IsNaN(t) || t < math.MinInt64 || t >= math.MaxInt64 {
		return interval{}, false
	}
	return mkInterval(months, days, int64(t)), true
}
