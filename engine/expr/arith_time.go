package expr

import (
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// Date, timestamp and interval arithmetic, and concatenation. These run
// row by row over valid rows only (calendar arithmetic is not a tight
// loop), with the operands materialised.

// rowsOf materialises both operands and returns them with the validity of
// the result (owned by the caller) and a test for valid rows.
func rowsOf(ctx *Context, l, r operand, lt, rt arrow.DataType, n int) (la, ra arrow.Array, validity *memory.Buffer, valid func(int) bool, err error) {
	if la, err = l.materialize(ctx.Alloc, lt, n); err != nil {
		return
	}
	if ra, err = r.materialize(ctx.Alloc, rt, n); err != nil {
		la.Release()
		return
	}
	validity = validityAnd(ctx.Alloc, n, la, ra)
	var vb []byte
	if validity != nil {
		vb = validity.Bytes()
	}
	valid = func(i int) bool { return validAt(vb, 0, i) }
	return
}

func arithTemporal(ctx *Context, op byte, l, r operand, n int, lk, rk, res kind) (arrow.Array, error) {
	la, ra, validity, valid, err := rowsOf(ctx, l, r, lk.typ(), rk.typ(), n)
	if err != nil {
		return nil, err
	}
	defer la.Release()
	defer ra.Release()
	fail := func(e error) (arrow.Array, error) {
		if validity != nil {
			validity.Release()
		}
		return nil, e
	}
	var loc *time.Location
	if res == kTimestampTZ || lk == kTimestampTZ {
		loc = ctx.location()
	}
	switch {
	case lk == kDate && rk == kInt4, lk == kInt4 && rk == kDate:
		ds, is := vals[int32](la), vals[int32](ra)
		if lk == kInt4 {
			ds, is = is, ds
		}
		buf, out := newFixed[int32](ctx.Alloc, n)
		for i := 0; i < n; i++ {
			if !valid(i) || ds[i] == dateNoBegin || ds[i] == dateNoEnd {
				out[i] = ds[i]
				continue
			}
			d := int64(ds[i]) + int64(is[i])
			if op == '-' {
				d = int64(ds[i]) - int64(is[i])
			}
			if d < minDate || d >= maxDate {
				buf.Release()
				return fail(sqlerr.New(sqlerr.DatetimeFieldOverflow, "date out of range"))
			}
			out[i] = int32(d)
		}
		return makeArray(DateType, n, validity, buf), nil
	case lk == kDate && rk == kDate:
		a, b := vals[int32](la), vals[int32](ra)
		buf, out := newFixed[int32](ctx.Alloc, n)
		for i := 0; i < n; i++ {
			if !valid(i) {
				continue
			}
			if a[i] == dateNoBegin || a[i] == dateNoEnd || b[i] == dateNoBegin || b[i] == dateNoEnd {
				buf.Release()
				return fail(sqlerr.New(sqlerr.DatetimeFieldOverflow, "cannot subtract infinite dates"))
			}
			out[i] = a[i] - b[i]
		}
		return makeArray(Int4Type, n, validity, buf), nil
	case (lk == kTimestamp || lk == kTimestampTZ) && rk == kInterval, lk == kInterval:
		if lk == kInterval && rk == kInterval {
			return ivAddArrays(ctx, op, la, ra, validity, valid, fail)
		}
		if lk == kInterval && rk.isNumeric() {
			return ivMulArrays(ctx, op, la, ra, validity, valid, fail)
		}
		tsArr, ivArr := la, ra
		if lk == kInterval {
			tsArr, ivArr = ra, la
		}
		ts, ivs := vals[int64](tsArr), vals[interval](ivArr)
		buf, out := newFixed[int64](ctx.Alloc, n)
		for i := 0; i < n; i++ {
			if !valid(i) {
				continue
			}
			v := ivs[i]
			if op == '-' {
				v = interval{Months: -v.Months, Days: -v.Days, Nanoseconds: -v.Nanoseconds}
			}
			r, ok := tsAddInterval(ts[i], v, loc)
			if !ok {
				buf.Release()
				return fail(arithError(ekOverflow, res))
			}
			out[i] = r
		}
		return makeArray(res.typ(), n, validity, buf), nil
	case rk == kInterval && lk.isNumeric():
		return ivMulArrays(ctx, '*', ra, la, validity, valid, fail)
	case (lk == kTimestamp || lk == kTimestampTZ) && lk == rk:
		a, b := vals[int64](la), vals[int64](ra)
		buf, out := newFixed[interval](ctx.Alloc, n)
		for i := 0; i < n; i++ {
			if !valid(i) {
				continue
			}
			v, ok := tsDiff(a[i], b[i])
			if !ok {
				buf.Release()
				return fail(sqlerr.New(sqlerr.DatetimeFieldOverflow, "cannot subtract infinite timestamps"))
			}
			out[i] = v
		}
		return makeArray(IntervalType, n, validity, buf), nil
	}
	return fail(opNotExist(string(op), lk.typ(), rk.typ()))
}

func ivAddArrays(ctx *Context, op byte, la, ra arrow.Array, validity *memory.Buffer, valid func(int) bool, fail func(error) (arrow.Array, error)) (arrow.Array, error) {
	a, b := vals[interval](la), vals[interval](ra)
	n := len(a)
	buf, out := newFixed[interval](ctx.Alloc, n)
	for i := 0; i < n; i++ {
		if !valid(i) {
			continue
		}
		y := b[i]
		if op == '-' {
			y = interval{Months: -y.Months, Days: -y.Days, Nanoseconds: -y.Nanoseconds}
		}
		m, ek1 := checkedInt('+', int64(a[i].Months), int64(y.Months))
		d, ek2 := checkedInt('+', int64(a[i].Days), int64(y.Days))
		us, ek3 := checkedInt('+', ivMicros(a[i]), ivMicros(y))
		if ek1|ek2|ek3 != ekNone || m != int64(int32(m)) || d != int64(int32(d)) || us > 1<<62 || us < -(1<<62) {
			buf.Release()
			return fail(arithError(ekOverflow, kInterval))
		}
		out[i] = mkInterval(int32(m), int32(d), us)
	}
	return makeArray(IntervalType, n, validity, buf), nil
}

func ivMulArrays(ctx *Context, op byte, ivArr, fArr arrow.Array, validity *memory.Buffer, valid func(int) bool, fail func(error) (arrow.Array, error)) (arrow.Array, error) {
	a, f := vals[interval](ivArr), vals[float64](fArr)
	n := len(a)
	buf, out := newFixed[interval](ctx.Alloc, n)
	for i := 0; i < n; i++ {
		if !valid(i) {
			continue
		}
		factor := f[i]
		if op == '/' {
			if factor == 0 {
				buf.Release()
				return fail(arithError(ekDivZero, kInterval))
			}
			factor = 1 / factor
		}
		v, ok := ivMul(a[i], factor)
		if !ok {
			buf.Release()
			return fail(arithError(ekOverflow, kInterval))
		}
		out[i] = v
	}
	return makeArray(IntervalType, n, validity, buf), nil
}

func negInterval(ctx *Context, x arrow.Array) (arrow.Array, error) {
	a := vals[interval](x)
	buf, out := newFixed[interval](ctx.Alloc, len(a))
	for i, v := range a {
		out[i] = interval{Months: -v.Months, Days: -v.Days, Nanoseconds: -v.Nanoseconds}
	}
	return makeArray(IntervalType, len(a), copyValidity(ctx.Alloc, x), buf), nil
}

// concatArrays is l || r over text or bytea; NULL if either side is.
func concatArrays(ctx *Context, l, r operand, n int, res kind) (arrow.Array, error) {
	part := func(o operand) (binaryView, []byte, []byte, int) {
		if o.arr == nil {
			switch v := o.val.(type) {
			case string:
				return binaryView{}, []byte(v), nil, 0
			case []byte:
				return binaryView{}, v, nil, 0
			}
		}
		bits, off := bitsOf(o.arr, 0)
		if o.arr.NullN() == 0 {
			bits = nil
		}
		return viewOf(o.arr), nil, bits, off
	}
	lv, lc, lb, lo := part(l)
	rv, rc, rb, ro := part(r)
	b := newTextBuilder(ctx.Alloc, res.typ(), n, 16*n)
	for i := 0; i < n; i++ {
		if !validAt(lb, lo, i) || !validAt(rb, ro, i) {
			b.appendNull()
			continue
		}
		if l.arr != nil {
			b.data = append(b.data, lv.at(i)...)
		} else {
			b.data = append(b.data, lc...)
		}
		if r.arr != nil {
			b.data = append(b.data, rv.at(i)...)
		} else {
			b.data = append(b.data, rc...)
		}
		b.offs = append(b.offs, int32(len(b.data)))
	}
	return b.finish(), nil
}
