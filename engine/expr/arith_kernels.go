package expr

import (
	"math"
	"math/bits"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// Numeric kernels. Each loop runs over every slot, NULL or not, and only
// notes that something may have gone wrong; the slow path (checkRows) then
// looks for a valid row that really overflowed or divided by zero, so that
// garbage under a NULL never raises an error and the hot loop stays free of
// validity tests.

type intT interface{ ~int16 | ~int32 | ~int64 }
type floatT interface{ ~float32 | ~float64 }

// errKind is what a checked operation found.
type errKind uint8

const (
	ekNone errKind = iota
	ekOverflow
	ekUnderflow
	ekDivZero
	ekPowZeroNeg
	ekPowNegFrac
)

func minInt[T intT]() T {
	var z T
	return T(-1) << (8*unsafe.Sizeof(z) - 1)
}

// checkedInt is one integer operation with PostgreSQL's error rules.
func checkedInt[T intT](op byte, x, y T) (T, errKind) {
	switch op {
	case '+':
		r := x + y
		if (x^r)&(y^r) < 0 {
			return 0, ekOverflow
		}
		return r, ekNone
	case '-':
		r := x - y
		if (x^y)&(x^r) < 0 {
			return 0, ekOverflow
		}
		return r, ekNone
	case '*':
		if x != 0 && (x*y/x != y || (x == -1 && y == minInt[T]()) || (y == -1 && x == minInt[T]())) {
			return 0, ekOverflow
		}
		return x * y, ekNone
	case '/':
		if y == 0 {
			return 0, ekDivZero
		}
		if y == -1 && x == minInt[T]() {
			return 0, ekOverflow
		}
		return x / y, ekNone
	case '%':
		if y == 0 {
			return 0, ekDivZero
		}
		if y == -1 {
			return 0, ekNone
		}
		return x % y, ekNone
	}
	panic("expr: bad integer operator " + string(op))
}

// checkedFloat is one float operation with PostgreSQL's error rules
// (float.h: overflow unless an input was infinite, underflow to zero
// unless an input was zero, division by zero unless the dividend is NaN).
func checkedFloat[T floatT](op byte, x, y T) (T, errKind) {
	var r T
	switch op {
	case '+':
		r = x + y
	case '-':
		r = x - y
	case '*':
		r = x * y
		if r == 0 && x != 0 && y != 0 {
			return 0, ekUnderflow
		}
	case '/':
		if y == 0 && x == x {
			return 0, ekDivZero
		}
		r = x / y
		if r == 0 && x != 0 && !isInf(y) {
			return 0, ekUnderflow
		}
	case '%':
		if y == 0 && x == x {
			return 0, ekDivZero
		}
		return T(math.Mod(float64(x), float64(y))), ekNone
	case '^':
		return checkedPow(x, y)
	default:
		panic("expr: bad float operator " + string(op))
	}
	if isInf(r) && !isInf(x) && !isInf(y) {
		return 0, ekOverflow
	}
	return r, ekNone
}

func checkedPow[T floatT](x, y T) (T, errKind) {
	fx, fy := float64(x), float64(y)
	if fx == 0 && fy < 0 {
		return 0, ekPowZeroNeg
	}
	if fx < 0 && math.Floor(fy) != fy && !math.IsInf(fy, 0) && !math.IsNaN(fy) {
		return 0, ekPowNegFrac
	}
	r := math.Pow(fx, fy)
	if math.IsInf(r, 0) && !math.IsInf(fx, 0) && !math.IsInf(fy, 0) {
		return 0, ekOverflow
	}
	if r == 0 && fx != 0 && !math.IsInf(fy, 0) {
		return 0, ekUnderflow
	}
	return T(r), ekNone
}

func isInf[T floatT](f T) bool { return f-f != 0 && f == f }

// arithError is the SQL error for what a kernel found in a result of kind k.
func arithError(ek errKind, k kind) error {
	switch ek {
	case ekDivZero:
		return sqlerr.New(sqlerr.DivisionByZero, "division by zero")
	case ekOverflow:
		switch k {
		case kInt2:
			return sqlerr.New(sqlerr.NumericValueOutOfRange, "smallint out of range")
		case kInt4:
			return sqlerr.New(sqlerr.NumericValueOutOfRange, "integer out of range")
		case kInt8:
			return sqlerr.New(sqlerr.NumericValueOutOfRange, "bigint out of range")
		case kInterval:
			return sqlerr.New(sqlerr.DatetimeFieldOverflow, "interval out of range")
		case kDate:
			return sqlerr.New(sqlerr.DatetimeFieldOverflow, "date out of range")
		case kTimestamp, kTimestampTZ:
			return sqlerr.New(sqlerr.DatetimeFieldOverflow, "timestamp out of range")
		}
		return sqlerr.New(sqlerr.NumericValueOutOfRange, "value out of range: overflow")
	case ekUnderflow:
		return sqlerr.New(sqlerr.NumericValueOutOfRange, "value out of range: underflow")
	case ekPowZeroNeg:
		return sqlerr.New(sqlerr.InvalidArgumentForPower, "zero raised to a negative power is undefined")
	case ekPowNegFrac:
		return sqlerr.New(sqlerr.InvalidArgumentForPower, "a negative number raised to a non-integer power yields a complex result")
	}
	return nil
}

// get is operand o's value at row i: the constant, or the array's value.
func get[T fixed](o operand, vs []T, i int) T {
	if o.arr == nil {
		return asT[T](o.val)
	}
	return vs[i]
}

// arithInt computes l op r over integers of type T.
func arithInt[T intT](ctx *Context, op byte, l, r operand, n int, k kind) (arrow.Array, error) {
	buf, out := newFixed[T](ctx.Alloc, n)
	validity := validityAnd(ctx.Alloc, n, l.arr, r.arr)
	var vb []byte
	if validity != nil {
		vb = validity.Bytes()
	}
	var a, b []T
	if l.arr != nil {
		a = vals[T](l.arr)
	}
	if r.arr != nil {
		b = vals[T](r.arr)
	}
	var bad bool
	switch {
	case a != nil && b != nil:
		bad = intVV(op, a, b, out, vb)
	case a != nil:
		bad = intVS(op, a, asT[T](r.val), out)
	default:
		bad = intSV(op, asT[T](l.val), b, out, vb)
	}
	if bad {
		for i := 0; i < n; i++ {
			if !validAt(vb, 0, i) {
				continue
			}
			if _, ek := checkedInt(op, get(l, a, i), get(r, b, i)); ek != ekNone {
				buf.Release()
				if validity != nil {
					validity.Release()
				}
				return nil, arithError(ek, k)
			}
		}
	}
	return makeArray(k.typ(), n, validity, buf), nil
}

// The VV and SV kernels get the result's validity (nil: no NULLs) so that
// a zero divisor under a NULL does not send them to the slow path.
func intVV[T intT](op byte, a, b, out []T, vb []byte) bool {
	b, out = b[:len(a)], out[:len(a)]
	switch op {
	case '+':
		var bad T
		for i := range a {
			r := a[i] + b[i]
			out[i] = r
			bad |= (a[i] ^ r) & (b[i] ^ r)
		}
		return bad < 0
	case '-':
		var bad T
		for i := range a {
			r := a[i] - b[i]
			out[i] = r
			bad |= (a[i] ^ b[i]) & (a[i] ^ r)
		}
		return bad < 0
	case '*':
		return mulVV(a, b, out)
	case '/', '%':
		bad := false
		mn := minInt[T]()
		for i := range a {
			d := b[i]
			if d == 0 {
				bad = bad || validAt(vb, 0, i)
				out[i] = 0
				continue
			}
			if op == '/' {
				out[i] = a[i] / d
				bad = bad || (d == -1 && a[i] == mn)
			} else {
				out[i] = a[i] % d
			}
		}
		return bad
	}
	panic("expr: bad integer operator")
}

// mulVV multiplies with an overflow test by the width of T: int16 and
// int32 through int64, int64 through the 128-bit product.
func mulVV[T intT](a, b, out []T) bool {
	switch any(out).(type) {
	case []int64:
		x, y, o := any(a).([]int64), any(b).([]int64), any(out).([]int64)
		var bad int64
		for i := range x {
			hi, lo := bits.Mul64(uint64(x[i]), uint64(y[i]))
			shi := int64(hi) - (x[i]>>63)&y[i] - (y[i]>>63)&x[i]
			o[i] = int64(lo)
			bad |= shi ^ (int64(lo) >> 63)
		}
		return bad != 0
	}
	bad := false
	for i := range a {
		r := int64(a[i]) * int64(b[i])
		out[i] = T(r)
		bad = bad || r != int64(T(r))
	}
	return bad
}

func intVS[T intT](op byte, a []T, s T, out []T) bool {
	out = out[:len(a)]
	switch op {
	case '+':
		var bad T
		for i := range a {
			r := a[i] + s
			out[i] = r
			bad |= (a[i] ^ r) & (s ^ r)
		}
		return bad < 0
	case '-':
		var bad T
		for i := range a {
			r := a[i] - s
			out[i] = r
			bad |= (a[i] ^ s) & (a[i] ^ r)
		}
		return bad < 0
	case '*':
		return mulVS(a, s, out)
	case '/', '%':
		if s == 0 {
			clear(out)
			return len(a) > 0
		}
		if s == -1 {
			bad := false
			mn := minInt[T]()
			for i := range a {
				if op == '/' {
					out[i] = -a[i]
					bad = bad || a[i] == mn
				} else {
					out[i] = 0
				}
			}
			return bad
		}
		if op == '/' {
			for i := range a {
				out[i] = a[i] / s
			}
		} else {
			for i := range a {
				out[i] = a[i] % s
			}
		}
		return false
	}
	panic("expr: bad integer operator")
}

func intSV[T intT](op byte, s T, b []T, out []T, vb []byte) bool {
	switch op {
	case '+', '*':
		return intVS(op, b, s, out)
	}
	out = out[:len(b)]
	bad := false
	switch op {
	case '-':
		var acc T
		for i := range b {
			r := s - b[i]
			out[i] = r
			acc |= (s ^ b[i]) & (s ^ r)
		}
		return acc < 0
	default:
		for i := range b {
			r, ek := checkedInt(op, s, b[i])
			out[i] = r
			bad = bad || (ek != ekNone && validAt(vb, 0, i))
		}
	}
	return bad
}

func mulVS[T intT](a []T, s T, out []T) bool {
	switch any(out).(type) {
	case []int64:
		x, y, o := any(a).([]int64), any(s).(int64), any(out).([]int64)
		var bad int64
		for i := range x {
			hi, lo := bits.Mul64(uint64(x[i]), uint64(y))
			shi := int64(hi) - (x[i]>>63)&y - (y>>63)&x[i]
			o[i] = int64(lo)
			bad |= shi ^ (int64(lo) >> 63)
		}
		return bad != 0
	}
	bad := false
	for i := range a {
		r := int64(a[i]) * int64(s)
		out[i] = T(r)
		bad = bad || r != int64(T(r))
	}
	return bad
}

// arithFloat computes l op r over floats of type T.
func arithFloat[T floatT](ctx *Context, op byte, l, r operand, n int, k kind) (arrow.Array, error) {
	buf, out := newFixed[T](ctx.Alloc, n)
	validity := validityAnd(ctx.Alloc, n, l.arr, r.arr)
	var vb []byte
	if validity != nil {
		vb = validity.Bytes()
	}
	var a, b []T
	if l.arr != nil {
		a = vals[T](l.arr)
	}
	if r.arr != nil {
		b = vals[T](r.arr)
	}
	var bad bool
	switch {
	case a != nil && b != nil:
		bad = floatVV(op, a, b, out, vb)
	case a != nil:
		bad = floatVS(op, a, asT[T](r.val), out)
	default:
		bad = floatSV(op, asT[T](l.val), b, out, vb)
	}
	if bad {
		for i := 0; i < n; i++ {
			if !validAt(vb, 0, i) {
				continue
			}
			if _, ek := checkedFloat(op, get(l, a, i), get(r, b, i)); ek != ekNone {
				buf.Release()
				if validity != nil {
					validity.Release()
				}
				return nil, arithError(ek, k)
			}
		}
	}
	return makeArray(k.typ(), n, validity, buf), nil
}

func floatVV[T floatT](op byte, a, b, out []T, vb []byte) bool {
	b, out = b[:len(a)], out[:len(a)]
	bad := false
	switch op {
	case '+':
		for i := range a {
			r := a[i] + b[i]
			out[i] = r
			bad = bad || r-r != 0
		}
	case '-':
		for i := range a {
			r := a[i] - b[i]
			out[i] = r
			bad = bad || r-r != 0
		}
	case '*':
		for i := range a {
			r := a[i] * b[i]
			out[i] = r
			bad = bad || r-r != 0 || (r == 0 && a[i] != 0 && b[i] != 0)
		}
	case '/':
		for i := range a {
			d := b[i]
			r := a[i] / d
			out[i] = r
			if d == 0 {
				bad = bad || validAt(vb, 0, i)
				continue
			}
			bad = bad || r-r != 0 || (r == 0 && a[i] != 0)
		}
	default:
		for i := range a {
			r, ek := checkedFloat(op, a[i], b[i])
			out[i] = r
			bad = bad || (ek != ekNone && validAt(vb, 0, i))
		}
	}
	return bad
}

func floatVS[T floatT](op byte, a []T, s T, out []T) bool {
	out = out[:len(a)]
	bad := false
	switch op {
	case '+':
		for i := range a {
			r := a[i] + s
			out[i] = r
			bad = bad || r-r != 0
		}
	case '-':
		for i := range a {
			r := a[i] - s
			out[i] = r
			bad = bad || r-r != 0
		}
	case '*':
		for i := range a {
			r := a[i] * s
			out[i] = r
			bad = bad || r-r != 0 || (r == 0 && a[i] != 0 && s != 0)
		}
	case '/':
		if s == 0 {
			bad = len(a) > 0
		}
		for i := range a {
			r := a[i] / s
			out[i] = r
			bad = bad || r-r != 0 || (r == 0 && a[i] != 0)
		}
	default:
		for i := range a {
			r, ek := checkedFloat(op, a[i], s)
			out[i] = r
			bad = bad || ek != ekNone
		}
	}
	return bad
}

func floatSV[T floatT](op byte, s T, b []T, out []T, vb []byte) bool {
	switch op {
	case '+', '*':
		return floatVS(op, b, s, out)
	}
	out = out[:len(b)]
	bad := false
	for i := range b {
		r, ek := checkedFloat(op, s, b[i])
		out[i] = r
		bad = bad || (ek != ekNone && validAt(vb, 0, i))
	}
	return bad
}

// negInt is unary minus over integers, with overflow on the minimum.
func negInt[T intT](ctx *Context, x arrow.Array, k kind) (arrow.Array, error) {
	a := vals[T](x)
	buf, out := newFixed[T](ctx.Alloc, len(a))
	mn := minInt[T]()
	bad := false
	for i := range a {
		out[i] = -a[i]
		bad = bad || a[i] == mn
	}
	if bad && firstInvalid(len(a), x, nil, func(i int) bool { return a[i] == mn }) >= 0 {
		buf.Release()
		return nil, arithError(ekOverflow, k)
	}
	return makeArray(k.typ(), len(a), copyValidity(ctx.Alloc, x), buf), nil
}

// negFloat is unary minus over floats.
func negFloat[T floatT](ctx *Context, x arrow.Array, k kind) arrow.Array {
	a := vals[T](x)
	buf, out := newFixed[T](ctx.Alloc, len(a))
	for i := range a {
		out[i] = -a[i]
	}
	return makeArray(k.typ(), len(a), copyValidity(ctx.Alloc, x), buf)
}
