package expr

import (
	"math"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// Date and time functions. extract and date_part return double precision
// (PostgreSQL 15 returns numeric from extract; NUMERIC is double precision
// here). Fields of a timestamptz are those of its local time in the
// session's time zone.

func init() {
	T, TS, TZ, D, IV, F, I := kText, kTimestamp, kTimestampTZ, kDate, kInterval, kFloat8, kInt4
	now := func(c *call) (arrow.Array, error) {
		return fixedRows(c, func(int) (int64, error) { return c.ctx.Now, nil })
	}
	for _, name := range []string{"now", "current_timestamp", "transaction_timestamp", "statement_timestamp"} {
		def(name, nil, TZ, now)
	}
	def("clock_timestamp", nil, TZ, func(c *call) (arrow.Array, error) {
		return fixedRows(c, func(int) (int64, error) { return time.Now().UnixMicro(), nil })
	}, isVolatile)
	def("current_date", nil, D, func(c *call) (arrow.Array, error) {
		f := localFields(c.ctx.Now, c.ctx.location())
		d := int32(daysFromCivil(f.year, f.month, f.day))
		return fixedRows(c, func(int) (int32, error) { return d, nil })
	})
	def("localtimestamp", nil, TS, func(c *call) (arrow.Array, error) {
		us := localFields(c.ctx.Now, c.ctx.location()).micros()
		return fixedRows(c, func(int) (int64, error) { return us, nil })
	})
	def("date_trunc", ks(T, TS), TS, dateTrunc, canFail)
	def("date_trunc", ks(T, TZ), TZ, dateTrunc, canFail)
	def("date_trunc", ks(T, IV), IV, dateTruncInterval, canFail)
	for _, name := range []string{"date_part", "extract"} {
		def(name, ks(T, TS), F, datePart, canFail, mayBeNull)
		def(name, ks(T, TZ), F, datePart, canFail, mayBeNull)
		def(name, ks(T, D), F, datePart, canFail, mayBeNull)
		def(name, ks(T, IV), F, datePartInterval, canFail)
	}
	def("make_date", ks(I, I, I), D, makeDate, canFail)
	def("make_timestamp", ks(I, I, I, I, I, F), TS, makeTimestamp, canFail)
	def("to_timestamp", ks(F), TZ, toTimestamp, canFail)
	def("age", ks(TS, TS), IV, age, canFail)
	def("age", ks(TZ, TZ), IV, age, canFail)
	def("age", ks(TS), IV, age, canFail)
	def("age", ks(TZ), IV, age, canFail)
	def("timezone", ks(T, TZ), TS, atTimeZone, canFail)
	def("timezone", ks(T, TS), TZ, atTimeZone, canFail)
	def("isfinite", ks(D), kBool, func(c *call) (arrow.Array, error) {
		v := c.i32(0)
		return c.boolRows(func(i int) bool { return v[i] != dateNoBegin && v[i] != dateNoEnd })
	})
	def("isfinite", ks(TZ), kBool, isFiniteTS)
	def("isfinite", ks(TS), kBool, isFiniteTS)
}

func isFiniteTS(c *call) (arrow.Array, error) {
	v := c.i64(0)
	return c.boolRows(func(i int) bool { return v[i] != tsNoBegin && v[i] != tsNoEnd })
}

// units normalises a field name: "Years" → "year", "ms" → "millisecond".
var unitNames = map[string]string{
	"us": "microseconds", "ms": "milliseconds", "s": "second", "min": "minute", "h": "hour",
	"d": "day", "w": "week", "mon": "month", "y": "year", "dec": "decade", "c": "century", "mil": "millennium",
}

func normUnit(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if u, ok := intervalUnits[s]; ok {
		return unitNames[u]
	}
	switch s {
	case "qtr", "quarters":
		return "quarter"
	}
	return s
}

// unit returns the normalised field name of argument j by row, parsed
// once when the argument is a constant.
func (c *call) unit(j int) func(i int) string {
	if s, ok := c.constText(j); ok {
		u := normUnit(s)
		return func(int) string { return u }
	}
	v := c.text(j)
	return func(i int) string { return normUnit(v.str(i)) }
}

func unitError(unit string, k kind, supported bool) error {
	if supported {
		return sqlerr.New(sqlerr.FeatureNotSupported, "unit %q not supported for type %s", unit, kindNames[k])
	}
	return sqlerr.New(sqlerr.InvalidParameterValue, "unit %q not recognized for type %s", unit, kindNames[k])
}

// truncFields truncates broken-down time to unit, as date_trunc does.
func truncFields(f *fields, unit string) bool {
	switch unit {
	case "microseconds":
	case "milliseconds":
		f.usec = f.usec / 1000 * 1000
	case "second":
		f.usec = 0
	case "minute":
		f.sec, f.usec = 0, 0
	case "hour":
		f.min, f.sec, f.usec = 0, 0, 0
	case "day":
		f.hour, f.min, f.sec, f.usec = 0, 0, 0, 0
	case "week":
		days := daysFromCivil(f.year, f.month, f.day)
		days -= floorMod(days+3, 7) // 1970-01-01 was a Thursday; weeks start on Monday
		f.year, f.month, f.day = civilFromDays(days)
		f.hour, f.min, f.sec, f.usec = 0, 0, 0, 0
	case "month", "quarter", "year", "decade", "century", "millennium":
		y := f.year
		switch unit {
		case "quarter":
			f.month = (f.month-1)/3*3 + 1
		case "decade":
			if y > 0 {
				y = y / 10 * 10
			} else {
				y = -((8 - (y - 1)) / 10) * 10
			}
		case "century":
			if y > 0 {
				y = (y+99)/100*100 - 99
			} else {
				y = -((99-(y-1))/100)*100 + 1
			}
		case "millennium":
			if y > 0 {
				y = (y+999)/1000*1000 - 999
			} else {
				y = -((999-(y-1))/1000)*1000 + 1
			}
		}
		if unit != "month" && unit != "quarter" {
			f.month = 1
		}
		f.year, f.day = y, 1
		f.hour, f.min, f.sec, f.usec = 0, 0, 0, 0
	default:
		return false
	}
	return true
}

func dateTrunc(c *call) (arrow.Array, error) {
	units, ts := c.text(0), c.i64(1)
	var loc *time.Location
	if c.ret == kTimestampTZ {
		loc = c.ctx.location()
	}
	unitOf := c.unit(0)
	return fixedRows(c, func(i int) (int64, error) {
		unit := unitOf(i)
		us := ts[i]
		var f fields
		if loc != nil {
			f = localFields(us, loc)
		} else {
			f = splitTS(us)
		}
		if !truncFields(&f, unit) {
			return 0, unitError(units.str(i), c.ret, false)
		}
		if us == tsNoBegin || us == tsNoEnd {
			return us, nil
		}
		if loc != nil {
			return fromLocal(f, loc), nil
		}
		return f.micros(), nil
	})
}

func dateTruncInterval(c *call) (arrow.Array, error) {
	units, ivs := c.text(0), vals[interval](c.args[1])
	unitOf := c.unit(0)
	return fixedRows(c, func(i int) (interval, error) {
		v := ivs[i]
		us := ivMicros(v)
		months, days := int64(v.Months), int64(v.Days)
		switch unit := unitOf(i); unit {
		case "microseconds":
		case "milliseconds":
			us = us / 1000 * 1000
		case "second":
			us = us / usPerSec * usPerSec
		case "minute":
			us = us / usPerMin * usPerMin
		case "hour":
			us = us / usPerHour * usPerHour
		case "day":
			us = 0
		case "month", "quarter", "year", "decade", "century", "millennium":
			us, days = 0, 0
			div := map[string]int64{"month": 1, "quarter": 3, "year": 12, "decade": 120, "century": 1200, "millennium": 12000}[unit]
			months = months / div * div
		case "week":
			return interval{}, unitError(units.str(i), kInterval, true)
		default:
			return interval{}, unitError(units.str(i), kInterval, false)
		}
		return mkInterval(int32(months), int32(days), us), nil
	})
}

// datePart extracts a field of a timestamp, timestamptz or date.
func datePart(c *call) (arrow.Array, error) {
	units := c.text(0)
	k := kindOf(c.args[1].DataType())
	var loc *time.Location
	if k == kTimestampTZ {
		loc = c.ctx.location()
	}
	var ds []int32
	var tss []int64
	if k == kDate {
		ds = c.i32(1)
	} else {
		tss = c.i64(1)
	}
	unit := c.unit(0)
	return fixedRowsNull(c, func(i int) (float64, bool, error) {
		var us int64
		if k == kDate {
			d := ds[i]
			switch d {
			case dateNoBegin:
				us = tsNoBegin
			case dateNoEnd:
				us = tsNoEnd
			default:
				us = int64(d) * usPerDay
			}
		} else {
			us = tss[i]
		}
		return extractField(unit(i), units.str(i), us, k, loc)
	})
}

// extractField is one field of an instant (local to loc for timestamptz).
func extractField(unit, unitText string, us int64, k kind, loc *time.Location) (float64, bool, error) {
	if us == tsNoBegin || us == tsNoEnd {
		sign := 1.0
		if us == tsNoBegin {
			sign = -1
		}
		switch unit {
		case "epoch", "year", "decade", "century", "millennium", "isoyear", "julian":
			return math.Inf(int(sign)), true, nil
		case "microseconds", "milliseconds", "second", "minute", "hour", "day", "month", "quarter",
			"week", "dow", "isodow", "doy", "timezone", "timezone_hour", "timezone_minute":
			return 0, false, nil
		}
		return 0, false, unitError(unitText, k, false)
	}
	var f fields
	if loc != nil {
		f = localFields(us, loc)
	} else {
		f = splitTS(us)
	}
	secs := float64(f.sec) + float64(f.usec)/1e6
	y := f.year
	days := daysFromCivil(f.year, f.month, f.day)
	if k == kDate {
		switch unit {
		case "microseconds", "milliseconds", "second", "minute", "hour", "timezone", "timezone_hour", "timezone_minute":
			return 0, false, unitError(unitText, k, true)
		}
	}
	switch unit {
	case "microseconds":
		return float64(f.sec)*1e6 + float64(f.usec), true, nil
	case "milliseconds":
		return float64(f.sec)*1e3 + float64(f.usec)/1e3, true, nil
	case "second":
		return secs, true, nil
	case "minute":
		return float64(f.min), true, nil
	case "hour":
		return float64(f.hour), true, nil
	case "day":
		return float64(f.day), true, nil
	case "month":
		return float64(f.month), true, nil
	case "quarter":
		return float64((f.month-1)/3 + 1), true, nil
	case "year":
		if y > 0 {
			return float64(y), true, nil
		}
		return float64(y - 1), true, nil
	case "decade":
		if y >= 0 {
			return float64(y / 10), true, nil
		}
		return float64(-((8 - (y - 1)) / 10)), true, nil
	case "century":
		if y > 0 {
			return float64((y + 99) / 100), true, nil
		}
		return float64(-((99 - (y - 1)) / 100)), true, nil
	case "millennium":
		if y > 0 {
			return float64((y + 999) / 1000), true, nil
		}
		return float64(-((999 - (y - 1)) / 1000)), true, nil
	case "dow":
		return float64(floorMod(days+4, 7)), true, nil
	case "isodow":
		return float64(floorMod(days+3, 7) + 1), true, nil
	case "doy":
		return float64(days - daysFromCivil(f.year, 1, 1) + 1), true, nil
	case "week", "isoyear":
		iy, w := isoWeek(days)
		if unit == "week" {
			return float64(w), true, nil
		}
		if iy <= 0 {
			iy--
		}
		return float64(iy), true, nil
	case "epoch":
		if k == kDate {
			return float64(days) * 86400, true, nil
		}
		return float64(us) / 1e6, true, nil
	case "julian":
		return float64(days+2440588) + (float64(f.hour)*3600+float64(f.min)*60+secs)/86400, true, nil
	case "timezone", "timezone_hour", "timezone_minute":
		if k != kTimestampTZ {
			return 0, false, unitError(unitText, k, true)
		}
		switch unit {
		case "timezone":
			return float64(f.offset), true, nil
		case "timezone_hour":
			return float64(f.offset / 3600), true, nil
		}
		return float64(f.offset / 60 % 60), true, nil
	}
	return 0, false, unitError(unitText, k, false)
}

// isoWeek is the ISO 8601 year and week of a day.
func isoWeek(days int64) (int64, int) {
	// The Thursday of the day's week decides the year.
	thu := days - floorMod(days+3, 7) + 3
	y, _, _ := civilFromDays(thu)
	return y, int((thu-daysFromCivil(y, 1, 1))/7) + 1
}

func datePartInterval(c *call) (arrow.Array, error) {
	units, ivs := c.text(0), vals[interval](c.args[1])
	unit := c.unit(0)
	return fixedRowsNull(c, func(i int) (float64, bool, error) {
		v := ivs[i]
		us := ivMicros(v)
		years, months := int64(v.Months)/12, int64(v.Months)%12
		secUS := us % usPerMin
		switch unit(i) {
		case "microseconds":
			return float64(secUS), true, nil
		case "milliseconds":
			return float64(secUS) / 1e3, true, nil
		case "second":
			return float64(secUS) / 1e6, true, nil
		case "minute":
			return float64(us / usPerMin % 60), true, nil
		case "hour":
			return float64(us / usPerHour), true, nil
		case "day":
			return float64(v.Days), true, nil
		case "month":
			return float64(months), true, nil
		case "quarter":
			return float64(months/3 + 1), true, nil
		case "year":
			return float64(years), true, nil
		case "decade":
			return float64(years / 10), true, nil
		case "century":
			return float64(years / 100), true, nil
		case "millennium":
			return float64(years / 1000), true, nil
		case "epoch":
			return float64(us)/1e6 + 365.25*86400*float64(years) + 30*86400*float64(months) + 86400*float64(v.Days), true, nil
		}
		return 0, false, unitError(units.str(i), kInterval, false)
	})
}

// fixedRowsNull is fixedRows for functions that may return NULL on a
// valid row (extract of a field of an infinite timestamp).
func fixedRowsNull[T fixed](c *call, f func(i int) (T, bool, error)) (arrow.Array, error) {
	var nulls []int
	arr, err := fixedRows(c, func(i int) (T, error) {
		v, ok, err := f(i)
		if !ok && err == nil {
			nulls = append(nulls, i)
		}
		return v, err
	})
	if err != nil || len(nulls) == 0 {
		return arr, err
	}
	defer arr.Release()
	which := make([]int32, c.n)
	for _, i := range nulls {
		which[i] = -1
	}
	return gather(c.ctx.Alloc, arr.DataType(), []arrow.Array{arr}, which, iota32(c.n))
}

func makeDate(c *call) (arrow.Array, error) {
	y, m, d := c.i32(0), c.i32(1), c.i32(2)
	return fixedRows(c, func(i int) (int32, error) {
		yy := int64(y[i])
		if yy < 0 {
			yy++ // make_date(-1, …) is 1 BC
		}
		if y[i] == 0 || m[i] < 1 || m[i] > 12 || d[i] < 1 || int(d[i]) > daysIn(yy, int(m[i])) {
			return 0, sqlerr.New(sqlerr.DatetimeFieldOverflow, "date field value out of range: %d-%02d-%02d", y[i], m[i], d[i])
		}
		days := daysFromCivil(yy, int(m[i]), int(d[i]))
		if days < minDate || days >= maxDate {
			return 0, sqlerr.New(sqlerr.DatetimeFieldOverflow, "date out of range: %d-%02d-%02d", y[i], m[i], d[i])
		}
		return int32(days), nil
	})
}

func makeTimestamp(c *call) (arrow.Array, error) {
	y, mo, d, h, mi, s := c.i32(0), c.i32(1), c.i32(2), c.i32(3), c.i32(4), c.f64(5)
	return fixedRows(c, func(i int) (int64, error) {
		yy := int64(y[i])
		if yy < 0 {
			yy++
		}
		sec := s[i]
		if y[i] == 0 || mo[i] < 1 || mo[i] > 12 || d[i] < 1 || int(d[i]) > daysIn(yy, int(mo[i])) ||
			h[i] < 0 || h[i] > 23 || mi[i] < 0 || mi[i] > 59 || !(sec >= 0 && sec <= 60) {
			return 0, sqlerr.New(sqlerr.DatetimeFieldOverflow, "date/time field value out of range: %d-%02d-%02d %d:%02d:%v",
				y[i], mo[i], d[i], h[i], mi[i], sec)
		}
		f := fields{year: yy, month: int(mo[i]), day: int(d[i]), hour: int(h[i]), min: int(mi[i])}
		return f.micros() + int64(math.Round(sec*1e6)), nil
	})
}

func toTimestamp(c *call) (arrow.Array, error) {
	v := c.f64(0)
	return fixedRows(c, func(i int) (int64, error) {
		switch x := v[i]; {
		case math.IsNaN(x):
			return 0, sqlerr.New(sqlerr.DatetimeFieldOverflow, "timestamp cannot be NaN")
		case math.IsInf(x, 1):
			return tsNoEnd, nil
		case math.IsInf(x, -1):
			return tsNoBegin, nil
		}
		us := math.Round(v[i] * 1e6)
		if us < float64(minTS) || us >= float64(maxTS) {
			return 0, sqlerr.New(sqlerr.DatetimeFieldOverflow, "timestamp out of range: %q", string(appendFloat(nil, v[i], 64)))
		}
		return int64(us), nil
	})
}

// age is the symbolic difference of two timestamps in years, months and
// days (PostgreSQL's timestamp_age); with one argument, from midnight
// today.
func age(c *call) (arrow.Array, error) {
	k := kindOf(c.args[0].DataType())
	var loc *time.Location
	if k == kTimestampTZ {
		loc = c.ctx.location()
	}
	var a []int64
	if len(c.args) == 2 {
		a = c.i64(0)
	}
	b := c.i64(len(c.args) - 1)
	f := localFields(c.ctx.Now, c.ctx.location())
	f.hour, f.min, f.sec, f.usec = 0, 0, 0, 0
	today := f.micros()
	if loc != nil {
		today = fromLocal(f, loc)
	}
	return fixedRows(c, func(i int) (interval, error) {
		t1 := today
		if a != nil {
			t1 = a[i]
		}
		t2 := b[i]
		if t1 == tsNoBegin || t1 == tsNoEnd || t2 == tsNoBegin || t2 == tsNoEnd {
			return interval{}, sqlerr.New(sqlerr.DatetimeFieldOverflow, "cannot compute age of infinite timestamps")
		}
		split := splitTS
		if loc != nil {
			split = func(us int64) fields { return localFields(us, loc) }
		}
		return ageOf(split(t1), split(t2), t1 < t2), nil
	})
}

func ageOf(f1, f2 fields, neg bool) interval {
	fsec := f1.usec - f2.usec
	sec, mi, h := f1.sec-f2.sec, f1.min-f2.min, f1.hour-f2.hour
	d, mo, y := f1.day-f2.day, f1.month-f2.month, int(f1.year-f2.year)
	if neg {
		fsec, sec, mi, h, d, mo, y = -fsec, -sec, -mi, -h, -d, -mo, -y
	}
	for fsec < 0 {
		fsec += 1_000_000
		sec--
	}
	for sec < 0 {
		sec += 60
		mi--
	}
	for mi < 0 {
		mi += 60
		h--
	}
	for h < 0 {
		h += 24
		d--
	}
	for d < 0 {
		if neg {
			d += daysIn(f1.year, f1.month)
		} else {
			d += daysIn(f2.year, f2.month)
		}
		mo--
	}
	for mo < 0 {
		mo += 12
		y--
	}
	if neg {
		fsec, sec, mi, h, d, mo, y = -fsec, -sec, -mi, -h, -d, -mo, -y
	}
	us := int64(h)*usPerHour + int64(mi)*usPerMin + int64(sec)*usPerSec + int64(fsec)
	return mkInterval(int32(y*12+mo), int32(d), us)
}

// atTimeZone is timezone(zone, ts): a timestamptz as wall-clock time in
// zone, or a timestamp's wall-clock time in zone as a timestamptz.
func atTimeZone(c *call) (arrow.Array, error) {
	zones, ts := c.text(0), c.i64(1)
	toLocal := c.ret == kTimestamp
	return fixedRows(c, func(i int) (int64, error) {
		name := zones.str(i)
		loc, err := zoneNamed(name)
		if err != nil {
			return 0, err
		}
		us := ts[i]
		if us == tsNoBegin || us == tsNoEnd {
			return us, nil
		}
		if toLocal {
			return localFields(us, loc).micros(), nil
		}
		return fromLocal(splitTS(us), loc), nil
	})
}

// zoneNamed resolves a time zone name or a numeric offset, which AT TIME
// ZONE reads with PostgreSQL's POSIX convention: '+05' is five hours west
// of Greenwich.
func zoneNamed(name string) (*time.Location, error) {
	switch strings.ToUpper(name) {
	case "UTC", "GMT", "Z", "ZULU":
		return time.UTC, nil
	}
	if l, err := time.LoadLocation(name); err == nil {
		return l, nil
	}
	if off, ok := parseOffsetZone(name); ok {
		return time.FixedZone(name, -off), nil
	}
	return nil, sqlerr.New(sqlerr.InvalidParameterValue, "time zone %q not recognized", name)
}
