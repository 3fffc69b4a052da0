package expr

import (
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// Mathematical functions. NUMERIC is double precision here: round(x)
// rounds half away from zero for numeric and half to even for double
// precision, as PostgreSQL does; round(x, n) and trunc(x, n), which
// PostgreSQL has for numeric only, round the shortest decimal form of x —
// what the user wrote — half away from zero: round(2.675, 2) is 2.68,
// although the double nearest 2.675 is below it.

func init() {
	F, I2, I4, I8, F4 := kFloat8, kInt2, kInt4, kInt8, kFloat4
	def("abs", ks(I2), I2, absInt[int16], canFail)
	def("abs", ks(I4), I4, absInt[int32], canFail)
	def("abs", ks(I8), I8, absInt[int64], canFail)
	def("abs", ks(F4), F4, func(c *call) (arrow.Array, error) {
		v := vals[float32](c.args[0])
		return fixedRows(c, func(i int) (float32, error) { return float32(math.Abs(float64(v[i]))), nil })
	})
	def("abs", ks(F), F, mathF(func(x float64) (float64, error) { return math.Abs(x), nil }))
	def("sign", ks(F), F, mathF(func(x float64) (float64, error) {
		switch {
		case x > 0:
			return 1, nil
		case x < 0:
			return -1, nil
		}
		return x, nil
	}))
	def("round", ks(F), F, func(c *call) (arrow.Array, error) {
		// numeric rounds half away from zero, double precision half to even
		if c.numeric {
			return mathF(func(x float64) (float64, error) { return math.Round(x), nil })(c)
		}
		return mathF(func(x float64) (float64, error) { return math.RoundToEven(x), nil })(c)
	})
	def("round", ks(F, I4), F, roundN(false))
	def("trunc", ks(F), F, mathF(func(x float64) (float64, error) { return math.Trunc(x), nil }))
	def("trunc", ks(F, I4), F, roundN(true))
	def("ceil", ks(F), F, mathF(func(x float64) (float64, error) { return math.Ceil(x), nil }))
	def("ceiling", ks(F), F, mathF(func(x float64) (float64, error) { return math.Ceil(x), nil }))
	def("floor", ks(F), F, mathF(func(x float64) (float64, error) { return math.Floor(x), nil }))
	def("sqrt", ks(F), F, mathF(func(x float64) (float64, error) {
		if x < 0 {
			return 0, sqlerr.New(sqlerr.InvalidArgumentForPower, "cannot take square root of a negative number")
		}
		return math.Sqrt(x), nil
	}), canFail)
	def("cbrt", ks(F), F, mathF(func(x float64) (float64, error) { return math.Cbrt(x), nil }))
	def("exp", ks(F), F, mathF(func(x float64) (float64, error) {
		r := math.Exp(x)
		switch {
		case math.IsInf(r, 0) && !math.IsInf(x, 0):
			return 0, arithError(ekOverflow, kFloat8)
		case r == 0 && !math.IsInf(x, 0):
			return 0, arithError(ekUnderflow, kFloat8)
		}
		return r, nil
	}), canFail)
	def("ln", ks(F), F, mathF(logIn(math.Log)), canFail)
	def("log", ks(F), F, mathF(logIn(math.Log10)), canFail)
	def("log10", ks(F), F, mathF(logIn(math.Log10)), canFail)
	def("log", ks(F, F), F, logBase, canFail)
	for _, name := range []string{"power", "pow"} {
		def(name, ks(F, F), F, func(c *call) (arrow.Array, error) {
			a, b := c.f64(0), c.f64(1)
			return fixedRows(c, func(i int) (float64, error) {
				r, ek := checkedPow(a[i], b[i])
				return r, arithError(ek, kFloat8)
			})
		}, canFail)
	}
	def("mod", ks(I2, I2), I2, modInt[int16], canFail)
	def("mod", ks(I4, I4), I4, modInt[int32], canFail)
	def("mod", ks(I8, I8), I8, modInt[int64], canFail)
	def("mod", ks(F, F), F, func(c *call) (arrow.Array, error) {
		a, b := c.f64(0), c.f64(1)
		return fixedRows(c, func(i int) (float64, error) {
			r, ek := checkedFloat('%', a[i], b[i])
			return r, arithError(ek, kFloat8)
		})
	}, canFail)
	def("div", ks(F, F), F, func(c *call) (arrow.Array, error) {
		a, b := c.f64(0), c.f64(1)
		return fixedRows(c, func(i int) (float64, error) {
			if b[i] == 0 {
				return 0, arithError(ekDivZero, kFloat8)
			}
			return math.Trunc(a[i] / b[i]), nil
		})
	}, canFail)
	def("pi", nil, F, func(c *call) (arrow.Array, error) {
		return fixedRows(c, func(int) (float64, error) { return math.Pi, nil })
	})
	def("random", nil, F, func(c *call) (arrow.Array, error) {
		return fixedRows(c, func(int) (float64, error) { return rand.Float64(), nil })
	}, isVolatile)
	unary := map[string]func(float64) float64{
		"degrees": func(x float64) float64 { return x * 180 / math.Pi },
		"radians": func(x float64) float64 { return x * math.Pi / 180 },
		"sin":     math.Sin, "cos": math.Cos, "tan": math.Tan, "atan": math.Atan,
		"cot": func(x float64) float64 { return 1 / math.Tan(x) },
	}
	for name, f := range unary {
		f := f
		def(name, ks(F), F, mathF(func(x float64) (float64, error) { return f(x), nil }))
	}
	for name, f := range map[string]func(float64) float64{"asin": math.Asin, "acos": math.Acos} {
		f := f
		def(name, ks(F), F, mathF(func(x float64) (float64, error) {
			if x < -1 || x > 1 {
				return 0, sqlerr.New(sqlerr.NumericValueOutOfRange, "input is out of range")
			}
			return f(x), nil
		}), canFail)
	}
	def("atan2", ks(F, F), F, func(c *call) (arrow.Array, error) {
		a, b := c.f64(0), c.f64(1)
		return fixedRows(c, func(i int) (float64, error) { return math.Atan2(a[i], b[i]), nil })
	})
}

// mathF applies f to a float8 argument.
func mathF(f func(float64) (float64, error)) func(c *call) (arrow.Array, error) {
	return func(c *call) (arrow.Array, error) {
		v := c.f64(0)
		return fixedRows(c, func(i int) (float64, error) { return f(v[i]) })
	}
}

func logIn(f func(float64) float64) func(float64) (float64, error) {
	return func(x float64) (float64, error) {
		switch {
		case x == 0:
			return 0, sqlerr.New(sqlerr.InvalidArgumentForLog, "cannot take logarithm of zero")
		case x < 0:
			return 0, sqlerr.New(sqlerr.InvalidArgumentForLog, "cannot take logarithm of a negative number")
		}
		return f(x), nil
	}
}

// logBase is log(b, x), the logarithm of x to base b.
func logBase(c *call) (arrow.Array, error) {
	b, x := c.f64(0), c.f64(1)
	ln := logIn(math.Log)
	return fixedRows(c, func(i int) (float64, error) {
		lb, err := ln(b[i])
		if err != nil {
			return 0, err
		}
		lx, err := ln(x[i])
		if err != nil {
			return 0, err
		}
		if lb == 0 {
			return 0, arithError(ekDivZero, kFloat8)
		}
		return lx / lb, nil
	})
}

func absInt[T intT](c *call) (arrow.Array, error) {
	v := vals[T](c.args[0])
	mn := minInt[T]()
	return fixedRows(c, func(i int) (T, error) {
		switch x := v[i]; {
		case x == mn:
			return 0, arithError(ekOverflow, c.ret)
		case x < 0:
			return -x, nil
		default:
			return x, nil
		}
	})
}

func modInt[T intT](c *call) (arrow.Array, error) {
	a, b := vals[T](c.args[0]), vals[T](c.args[1])
	return fixedRows(c, func(i int) (T, error) {
		r, ek := checkedInt('%', a[i], b[i])
		return r, arithError(ek, c.ret)
	})
}

func roundN(trunc bool) func(c *call) (arrow.Array, error) {
	return func(c *call) (arrow.Array, error) {
		x, n := c.f64(0), c.i32(1)
		return fixedRows(c, func(i int) (float64, error) { return roundDecimal(x[i], int(n[i]), trunc), nil })
	}
}

// roundDecimal rounds (or truncates) x to n decimal places (n < 0: to
// tens, hundreds…) in decimal, half away from zero, working on the
// shortest decimal representation of x.
func roundDecimal(x float64, n int, trunc bool) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) || x == 0 {
		return x
	}
	s := strconv.FormatFloat(x, 'e', -1, 64)
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	e := 0
	for e < len(s) && s[e] != 'e' {
		e++
	}
	exp, _ := strconv.Atoi(s[e+1:])
	digits := make([]byte, 0, e)
	for _, ch := range []byte(s[:e]) {
		if ch != '.' {
			digits = append(digits, ch)
		}
	}
	keep := exp + 1 + n // digits kept: those before the point plus n
	if keep >= len(digits) {
		return x
	}
	up := !trunc && keep >= 0 && digits[keep] >= '5'
	if keep < 0 {
		keep = 0
	}
	mant := digits[:keep]
	// add one in the last kept place, carrying
	if up {
		i := len(mant) - 1
		for ; i >= 0; i-- {
			if mant[i] == '9' {
				mant[i] = '0'
				continue
			}
			mant[i]++
			break
		}
		if i < 0 {
			mant = append([]byte{'1'}, mant...)
			exp++
			keep++
		}
	}
	if len(mant) == 0 {
		return 0
	}
	r, _ := strconv.ParseFloat(string(mant)+"e"+strconv.Itoa(exp+1-keep), 64)
	if neg {
		r = -r
	}
	return r
}
