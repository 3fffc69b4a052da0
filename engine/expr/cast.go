package expr

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// CastExpr converts X to type To with PostgreSQL's cast semantics: text
// is parsed and formatted by the types' input and output rules, floats
// round to integers half away from zero, narrowing checks the range.
type CastExpr struct {
	X       Expr
	To      arrow.DataType
	numeric bool // a cast to numeric (To is double precision; IsNumeric)
}

type castContext uint8

const (
	castImplicit castContext = iota
	castAssign
	castExplicit
)

// Cast is CAST(x AS to) / x::to. A constant is converted at once, so a
// typed literal such as '2024-01-31'::date comes back as a date literal,
// and a malformed one as its input error. A cast that PostgreSQL does not
// have is SQLSTATE 42846.
func Cast(x Expr, to arrow.DataType) (Expr, error) { return coerce(x, to, castExplicit) }

// ImplicitCast converts x to type to where PostgreSQL would do so without
// being asked — numeric widening, date to timestamp, an untyped literal to
// any type — and fails with SQLSTATE 42804 otherwise.
func ImplicitCast(x Expr, to arrow.DataType) (Expr, error) { return coerce(x, to, castImplicit) }

// AssignCast converts x for storing in a column of type to (INSERT,
// UPDATE): implicit casts plus numeric narrowing and anything to text.
func AssignCast(x Expr, to arrow.DataType) (Expr, error) { return coerce(x, to, castAssign) }

func coerce(x Expr, to arrow.DataType, cc castContext) (Expr, error) {
	if isNumericType(to) {
		return coerceNumeric(x, cc)
	}
	from, tk := kindOf(x.Type()), kindOf(to)
	if arrow.TypeEqual(x.Type(), to) && !isUntyped(x) {
		if cc == castExplicit && IsNumeric(x) {
			return &CastExpr{X: x, To: to}, nil // numeric::float8 is a double
		}
		return x, nil
	}
	if isNested(to) || isNested(x.Type()) {
		return coerceNested(x, to, cc)
	}
	if tk == kOther || (from == kOther && !arrow.TypeEqual(x.Type(), to)) {
		return nil, sqlerr.New(sqlerr.CannotCoerce, "cannot cast type %s to %s", TypeName(x.Type()), TypeName(to))
	}
	switch v := x.(type) {
	case *Literal:
		if v.untyped {
			if v.Value == nil {
				return Null(to), nil
			}
			if tk == kUnknown {
				return x, nil
			}
			return castConstant(&CastExpr{X: v, To: to})
		}
	case *Parameter:
		if kindOf(v.Typ) == kUnknown {
			return &Parameter{Index: v.Index, Typ: to}, nil
		}
	}
	ok := false
	switch cc {
	case castImplicit:
		ok = implicitCastable(from, tk)
	case castAssign:
		ok = assignCastable(from, tk)
	default:
		ok = explicitCastable(from, tk)
	}
	if !ok {
		if cc == castExplicit {
			return nil, sqlerr.New(sqlerr.CannotCoerce, "cannot cast type %s to %s", TypeName(x.Type()), TypeName(to))
		}
		return nil, sqlerr.New(sqlerr.DatatypeMismatch, "expression of type %s cannot be used as %s", TypeName(x.Type()), TypeName(to)).
			WithHint("You will need to rewrite or cast the expression.")
	}
	c := &CastExpr{X: x, To: to}
	if _, isLit := x.(*Literal); isLit {
		return castConstant(c)
	}
	return c, nil
}

// coerceNumeric casts x to double precision with the numeric flavour.
func coerceNumeric(x Expr, cc castContext) (Expr, error) {
	if IsNumeric(x) {
		return x, nil
	}
	e, err := coerce(x, Float8Type, cc)
	if err != nil {
		return nil, err
	}
	switch v := e.(type) {
	case *Literal:
		l := *v
		l.numeric = true
		return &l, nil
	case *CastExpr:
		c := *v
		c.numeric = true
		return &c, nil
	}
	return &CastExpr{X: e, To: Float8Type, numeric: true}, nil
}

// castConstant converts a literal now. Only the session-independent parts
// of a conversion are done: text that needs the session's time zone or
// clock ('now', a timestamptz without a zone) stays a cast, evaluated
// with the statement's context.
func castConstant(c *CastExpr) (Expr, error) {
	if l, ok := c.X.(*Literal); ok && l.Value != nil {
		if s, isText := l.Value.(string); isText && needsSession(s, kindOf(c.To)) {
			return c, nil
		}
		if kindOf(c.To) == kText && kindOf(l.Typ) == kTimestampTZ {
			return c, nil
		}
		if (kindOf(l.Typ) == kTimestampTZ) != (kindOf(c.To) == kTimestampTZ) && kindOf(l.Typ).isDatetime() && kindOf(c.To).isDatetime() {
			return c, nil
		}
	}
	return evalConstant(&Context{Alloc: constAlloc}, c)
}

// needsSession reports whether parsing s as kind k depends on the session.
func needsSession(s string, k kind) bool {
	if !k.isDatetime() {
		return false
	}
	switch strings.ToLower(strings.Trim(s, spaces)) {
	case "now", "today", "tomorrow", "yesterday":
		return true
	}
	if k != kTimestampTZ {
		return false
	}
	f, err := parseDateTime(s, k, 0, time.UTC)
	return err == nil && f.inf == 0 && !f.hasZone
}

func (c *CastExpr) Type() arrow.DataType { return c.To }
func (c *CastExpr) Nullable() bool       { return c.X.Nullable() }
func (c *CastExpr) Children() []Expr     { return []Expr{c.X} }
func (c *CastExpr) WithChildren(ch []Expr) Expr {
	return &CastExpr{X: ch[0], To: c.To, numeric: c.numeric}
}

func (c *CastExpr) String() string {
	if c.numeric {
		return wrap(c.X) + "::numeric"
	}
	return wrap(c.X) + "::" + TypeName(c.To)
}

func (c *CastExpr) mayFail() bool {
	from, to := kindOf(c.X.Type()), kindOf(c.To)
	return !implicitCastable(from, to) || (from.isInt() && to.isInt() && numericRank(from) > numericRank(to))
}

func (c *CastExpr) Eval(ctx *Context, rec arrow.RecordBatch) (arrow.Array, error) {
	a, err := c.X.Eval(ctx, rec)
	if err != nil {
		return nil, err
	}
	defer a.Release()
	from, to := kindOf(a.DataType()), kindOf(c.To)
	if from.isNumeric() && to.isNumeric() && from != to {
		// numeric rounds half away from zero, floats half to even.
		return castNumeric(ctx, a, from, to, IsNumeric(c.X))
	}
	return castArray(ctx, a, from, to)
}

// castArray converts an array of kind from to kind to.
func castArray(ctx *Context, a arrow.Array, from, to kind) (arrow.Array, error) {
	n := a.Len()
	switch {
	case from == to:
		a.Retain()
		return a, nil
	case from == kUnknown || a.NullN() == n:
		return allNull(ctx.Alloc, to.typ(), n), nil
	case to == kText:
		return toText(ctx, a, from, false), nil
	case from == kText:
		return fromText(ctx, a, to)
	case from.isNumeric() && to.isNumeric():
		return castNumeric(ctx, a, from, to, false)
	case from == kBool && to == kInt4:
		bits, off := bitsOf(a, 1)
		buf, out := newFixed[int32](ctx.Alloc, n)
		for i := range out {
			out[i] = int32(b2u(bitutil.BitIsSet(bits, off+i)))
		}
		return makeArray(Int4Type, n, copyValidity(ctx.Alloc, a), buf), nil
	case from == kInt4 && to == kBool:
		src := vals[int32](a)
		buf, out := newBitmap(ctx.Alloc, n)
		for i, v := range src {
			if v != 0 {
				bitutil.SetBit(out, i)
			}
		}
		return boolArray(n, buf, copyValidity(ctx.Alloc, a)), nil
	case from.isDatetime() && to.isDatetime():
		return castDatetime(ctx, a, from, to)
	}
	return nil, sqlerr.New(sqlerr.CannotCoerce, "cannot cast type %s to %s", kindNames[from], kindNames[to])
}

// castNumeric converts between numeric kinds; halfAway rounds to integers
// half away from zero (numeric) rather than half to even (float).
func castNumeric(ctx *Context, a arrow.Array, from, to kind, halfAway bool) (arrow.Array, error) {
	switch from {
	case kInt2:
		return castNumFrom[int16](ctx, a, to, halfAway)
	case kInt4:
		return castNumFrom[int32](ctx, a, to, halfAway)
	case kInt8:
		return castNumFrom[int64](ctx, a, to, halfAway)
	case kFloat4:
		return castNumFrom[float32](ctx, a, to, halfAway)
	}
	return castNumFrom[float64](ctx, a, to, halfAway)
}

func castNumFrom[F number](ctx *Context, a arrow.Array, to kind, halfAway bool) (arrow.Array, error) {
	round := math.RoundToEven
	if halfAway {
		round = math.Round
	}
	switch to {
	case kInt2:
		return convertNum[F, int16](ctx, a, to, math.MinInt16, math.MaxInt16, round)
	case kInt4:
		return convertNum[F, int32](ctx, a, to, math.MinInt32, math.MaxInt32, round)
	case kInt8:
		return convertNum[F, int64](ctx, a, to, math.MinInt64, math.MaxInt64, round)
	case kFloat4:
		return convertNum[F, float32](ctx, a, to, 0, 0, round)
	}
	return convertNum[F, float64](ctx, a, to, 0, 0, round)
}

// convertNum converts numbers, with PostgreSQL's checks: an integer
// target must hold the value (floats are first rounded by round), a real
// must not overflow or underflow.
func convertNum[F, T number](ctx *Context, a arrow.Array, to kind, lo, hi int64, round func(float64) float64) (arrow.Array, error) {
	src := vals[F](a)
	buf, out := newFixed[T](ctx.Alloc, len(src))
	fromFloat := kindOf(a.DataType()).isFloat()
	bad := false
	switch {
	case to.isInt() && fromFloat:
		flo, fhi := float64(lo), -float64(lo) // [-2^(b-1), 2^(b-1))
		for i, v := range src {
			r := round(float64(v))
			ok := r >= flo && r < fhi
			if ok {
				out[i] = T(r)
			} else {
				out[i] = 0
			}
			bad = bad || !ok
		}
	case to.isInt():
		for i, v := range src {
			x := int64(v)
			out[i] = T(x)
			bad = bad || x < lo || x > hi
		}
	case to == kFloat4 && fromFloat:
		for i, v := range src {
			r := T(v)
			out[i] = r
			f := float32(r)
			bad = bad || f-f != 0 || (f == 0 && v != 0)
		}
	default:
		for i, v := range src {
			out[i] = T(v)
		}
	}
	if bad {
		i := firstInvalid(len(src), a, nil, func(i int) bool {
			if to.isInt() {
				if fromFloat {
					r := round(float64(src[i]))
					return !(r >= float64(lo) && r < -float64(lo))
				}
				return int64(src[i]) < lo || int64(src[i]) > hi
			}
			f := float64(src[i])
			r := float64(float32(f))
			return (math.IsInf(r, 0) && !math.IsInf(f, 0)) || (r == 0 && f != 0)
		})
		if i >= 0 {
			buf.Release()
			if to == kFloat4 && float32(src[i]) == 0 {
				return nil, arithError(ekUnderflow, to)
			}
			return nil, arithError(ekOverflow, to)
		}
	}
	return makeArray(to.typ(), len(src), copyValidity(ctx.Alloc, a), buf), nil
}

// toText formats every value of a as text (the cast; concat passes
// boolChar to get the output function's t/f).
func toText(ctx *Context, a arrow.Array, from kind, boolChar bool) arrow.Array {
	n := a.Len()
	if a.NullN() == n {
		return allNull(ctx.Alloc, TextType, n)
	}
	b := newTextBuilder(ctx.Alloc, TextType, n, n*8)
	loc := ctx.location()
	vbits, voff := bitsOf(a, 0)
	if a.NullN() == 0 {
		vbits = nil
	}
	var app func(dst []byte, i int) []byte
	switch from {
	case kBool:
		bits, off := bitsOf(a, 1)
		app = func(dst []byte, i int) []byte {
			return appendValue(dst, bitutil.BitIsSet(bits, off+i), kBool, nil, boolChar)
		}
	case kInt2:
		vs := vals[int16](a)
		app = func(dst []byte, i int) []byte { return appendValue(dst, vs[i], from, nil, false) }
	case kInt4:
		vs := vals[int32](a)
		app = func(dst []byte, i int) []byte { return appendValue(dst, vs[i], from, nil, false) }
	case kInt8:
		vs := vals[int64](a)
		app = func(dst []byte, i int) []byte { return appendValue(dst, vs[i], from, nil, false) }
	case kFloat4:
		vs := vals[float32](a)
		app = func(dst []byte, i int) []byte { return appendFloat(dst, float64(vs[i]), 32) }
	case kFloat8:
		vs := vals[float64](a)
		app = func(dst []byte, i int) []byte { return appendFloat(dst, vs[i], 64) }
	case kText:
		v := viewOf(a)
		app = func(dst []byte, i int) []byte { return append(dst, v.at(i)...) }
	case kBytea:
		v := viewOf(a)
		app = func(dst []byte, i int) []byte { return appendBytea(dst, v.at(i)) }
	case kDate:
		vs := vals[int32](a)
		app = func(dst []byte, i int) []byte { return appendDate(dst, vs[i]) }
	case kTimestamp:
		vs := vals[int64](a)
		app = func(dst []byte, i int) []byte { return appendTimestamp(dst, vs[i], nil) }
	case kTimestampTZ:
		vs := vals[int64](a)
		app = func(dst []byte, i int) []byte { return appendTimestamp(dst, vs[i], loc) }
	case kInterval:
		vs := vals[interval](a)
		app = func(dst []byte, i int) []byte { return appendInterval(dst, vs[i]) }
	default:
		panic(fmt.Sprintf("expr: no text output for %s", a.DataType()))
	}
	for i := 0; i < n; i++ {
		if !validAt(vbits, voff, i) {
			b.appendNull()
			continue
		}
		b.data = app(b.data, i)
		b.offs = append(b.offs, int32(len(b.data)))
	}
	return b.finish()
}

// fromText parses every value of a text array as kind to.
func fromText(ctx *Context, a arrow.Array, to kind) (arrow.Array, error) {
	v := viewOf(a)
	n := a.Len()
	vbits, voff := bitsOf(a, 0)
	if a.NullN() == 0 {
		vbits = nil
	}
	validity := copyValidity(ctx.Alloc, a)
	fail := func(err error) (arrow.Array, error) {
		if validity != nil {
			validity.Release()
		}
		return nil, err
	}
	loc := ctx.location()
	switch to {
	case kBool:
		buf, out := newBitmap(ctx.Alloc, n)
		for i := 0; i < n; i++ {
			if !validAt(vbits, voff, i) {
				continue
			}
			b, err := parseBool(v.str(i))
			if err != nil {
				buf.Release()
				return fail(err)
			}
			if b {
				bitutil.SetBit(out, i)
			}
		}
		return boolArray(n, buf, validity), nil
	case kBytea:
		if validity != nil {
			validity.Release()
		}
		b := newTextBuilder(ctx.Alloc, ByteaType, n, len(v.data))
		for i := 0; i < n; i++ {
			if !validAt(vbits, voff, i) {
				b.appendNull()
				continue
			}
			p, err := parseBytea(v.str(i))
			if err != nil {
				return nil, err
			}
			b.appendBytes(p)
		}
		return b.finish(), nil
	}
	parse := func(s string) (any, error) {
		switch to {
		case kInt2:
			x, err := parseInt(s, to)
			return int16(x), err
		case kInt4:
			x, err := parseInt(s, to)
			return int32(x), err
		case kInt8:
			return parseInt(s, to)
		case kFloat4:
			f, err := parseFloat(s, to)
			return float32(f), err
		case kFloat8:
			return parseFloat(s, to)
		case kDate:
			return parseDate(s, ctx.Now, loc)
		case kTimestamp, kTimestampTZ:
			return parseTimestamp(s, to, ctx.Now, loc)
		case kInterval:
			return parseInterval(s)
		}
		return nil, sqlerr.New(sqlerr.CannotCoerce, "cannot cast type text to %s", TypeName(to.typ()))
	}
	switch to {
	case kInt2:
		return parseFixed[int16](ctx, v, n, vbits, voff, validity, to, parse)
	case kInt4, kDate:
		return parseFixed[int32](ctx, v, n, vbits, voff, validity, to, parse)
	case kInt8, kTimestamp, kTimestampTZ:
		return parseFixed[int64](ctx, v, n, vbits, voff, validity, to, parse)
	case kFloat4:
		return parseFixed[float32](ctx, v, n, vbits, voff, validity, to, parse)
	case kFloat8:
		return parseFixed[float64](ctx, v, n, vbits, voff, validity, to, parse)
	case kInterval:
		return parseFixed[interval](ctx, v, n, vbits, voff, validity, to, parse)
	}
	return fail(sqlerr.New(sqlerr.CannotCoerce, "cannot cast type text to %s", kindNames[to]))
}

func parseFixed[T fixed](ctx *Context, v binaryView, n int, vbits []byte, voff int, validity *memory.Buffer, to kind, parse func(string) (any, error)) (arrow.Array, error) {
	buf, out := newFixed[T](ctx.Alloc, n)
	var zero T
	for i := 0; i < n; i++ {
		if !validAt(vbits, voff, i) {
			out[i] = zero
			continue
		}
		x, err := parse(v.str(i))
		if err != nil {
			buf.Release()
			if validity != nil {
				validity.Release()
			}
			return nil, err
		}
		out[i] = asT[T](x)
	}
	return makeArray(to.typ(), n, validity, buf), nil
}

// asT converts a canonical Go value to the kernel type T: dates are int32
// and timestamps int64 underneath.
func asT[T fixed](x any) T {
	if t, ok := x.(T); ok {
		return t
	}
	var zero T
	switch p := any(&zero).(type) {
	case *int32:
		switch v := x.(type) {
		case arrow.Date32:
			*p = int32(v)
		case int32:
			*p = v
		}
	case *int64:
		switch v := x.(type) {
		case arrow.Timestamp:
			*p = int64(v)
		case int64:
			*p = v
		}
	}
	return zero
}

func castDatetime(ctx *Context, a arrow.Array, from, to kind) (arrow.Array, error) {
	loc := ctx.location()
	n := a.Len()
	if from == kDate {
		src := vals[int32](a)
		buf, out := newFixed[int64](ctx.Alloc, n)
		for i, d := range src {
			switch {
			case d == dateNoBegin:
				out[i] = tsNoBegin
			case d == dateNoEnd:
				out[i] = tsNoEnd
			case to == kTimestampTZ:
				y, m, dd := civilFromDays(int64(d))
				out[i] = fromLocal(fields{year: y, month: m, day: dd}, loc)
			default:
				out[i] = int64(d) * usPerDay
			}
		}
		if i := firstInvalid(n, a, nil, func(i int) bool {
			return src[i] != dateNoBegin && src[i] != dateNoEnd && (int64(src[i])*usPerDay < minTS)
		}); i >= 0 {
			buf.Release()
			return nil, arithError(ekOverflow, to)
		}
		return makeArray(to.typ(), n, copyValidity(ctx.Alloc, a), buf), nil
	}
	src := vals[int64](a)
	if to == kDate {
		buf, out := newFixed[int32](ctx.Alloc, n)
		for i, us := range src {
			switch {
			case us == tsNoBegin:
				out[i] = dateNoBegin
			case us == tsNoEnd:
				out[i] = dateNoEnd
			case from == kTimestampTZ:
				f := localFields(us, loc)
				out[i] = int32(daysFromCivil(f.year, f.month, f.day))
			default:
				out[i] = int32(floorDiv(us, usPerDay))
			}
		}
		return makeArray(DateType, n, copyValidity(ctx.Alloc, a), buf), nil
	}
	buf, out := newFixed[int64](ctx.Alloc, n)
	for i, us := range src {
		switch {
		case us == tsNoBegin || us == tsNoEnd:
			out[i] = us
		case to == kTimestampTZ: // wall clock in the session zone → instant
			out[i] = fromLocal(splitTS(us), loc)
		default: // instant → wall clock in the session zone
			out[i] = localFields(us, loc).micros()
		}
	}
	return makeArray(to.typ(), n, copyValidity(ctx.Alloc, a), buf), nil
}

// constAlloc allocates what folding constants at construction needs; the
// arrays live only until the literal's value is read.
var constAlloc memory.Allocator = memory.DefaultAllocator
