package engine

import (
	"bytes"
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/engine/internal/vec"
	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/storage/iterator"
)

// iterCol combines one column of Iterate's input run by run. Keys use
// Last: every row of a run holds the same key.
type iterCol interface {
	// diff sets d[i] for each row i whose value differs from row i-1's
	// (key columns, which hold no NULLs), as the key encoding compares.
	diff(arr arrow.Array, d []bool)
	// carryEquals reports whether arr's first value equals the carried
	// one (key columns).
	carryEquals(arr arrow.Array) bool
	// run combines the runs of arr that start at starts (ascending, the
	// first at 0). When emitCarry it first outputs the carried value; when
	// cont the first run continues the carried one. Every run but the last
	// is output; the last becomes the carry.
	run(arr arrow.Array, starts []int32, emitCarry, cont bool) error
	// flush outputs the carried value.
	flush()
	// finish returns what was output since the last finish.
	finish() arrow.Array
}

func newIterCol(fn iterator.Func, f arrow.Field, alloc memory.Allocator) (iterCol, error) {
	switch f.Type.ID() {
	case arrow.INT64, arrow.TIMESTAMP:
		return &fixedCol[int64]{fn: fn, field: f, alloc: alloc, add: addInt64}, nil
	case arrow.INT32, arrow.DATE32:
		return &fixedCol[int32]{fn: fn, field: f, alloc: alloc, add: addInt32}, nil
	case arrow.FLOAT64:
		return &fixedCol[float64]{fn: fn, field: f, alloc: alloc, add: addFloat64, eq: eqFloat64}, nil
	case arrow.BOOL:
		return &boolCol{fn: fn, field: f, alloc: alloc}, nil
	case arrow.STRING, arrow.BINARY:
		return &binCol{fn: fn, field: f, alloc: alloc, offs: []int64{0}}, nil
	}
	return nil, fmt.Errorf("iterate: column %s has unsupported type %s", f.Name, f.Type)
}

// runEnd is the end of run g of n rows.
func runEnd(starts []int32, g, n int) int {
	if g+1 < len(starts) {
		return int(starts[g+1])
	}
	return n
}

// fixedCol combines an integer, timestamp, date or double column.
type fixedCol[T int32 | int64 | float64] struct {
	fn    iterator.Func
	field arrow.Field
	alloc memory.Allocator
	add   func(a, b T) (T, bool) // false on overflow
	eq    func(a, b T) bool      // key equality when not ==

	carry      T
	carryValid bool
	out        []T
	valid      []bool
	nulls      int
}

func (c *fixedCol[T]) push(v T, ok bool) {
	c.out = append(c.out, v)
	c.valid = append(c.valid, ok)
	if !ok {
		c.nulls++
	}
}

func (c *fixedCol[T]) diff(arr arrow.Array, d []bool) {
	vals := vec.Values[T](arr)
	if c.eq == nil {
		for i := 1; i < len(vals); i++ {
			if vals[i] != vals[i-1] {
				d[i] = true
			}
		}
		return
	}
	for i := 1; i < len(vals); i++ {
		if !c.eq(vals[i], vals[i-1]) {
			d[i] = true
		}
	}
}

func (c *fixedCol[T]) carryEquals(arr arrow.Array) bool {
	v := vec.Values[T](arr)[0]
	if c.eq == nil {
		return v == c.carry
	}
	return c.eq(v, c.carry)
}

func (c *fixedCol[T]) run(arr arrow.Array, starts []int32, emitCarry, cont bool) error {
	vals := vec.Values[T](arr)
	valid := vec.Validity(arr)
	if emitCarry {
		c.push(c.carry, c.carryValid)
	}
	last := len(starts) - 1
	for g, s := range starts {
		lo, hi := int(s), runEnd(starts, g, len(vals))
		var acc T
		ok := false
		if g == 0 && cont {
			acc, ok = c.carry, c.carryValid
		}
		switch c.fn {
		case iterator.Last:
			acc, ok = vals[hi-1], valid.Valid(hi-1)
		case iterator.Min:
			for i := lo; i < hi; i++ {
				if valid.Valid(i) && (!ok || lessNaN(vals[i], acc)) {
					acc, ok = vals[i], true
				}
			}
		case iterator.Max:
			for i := lo; i < hi; i++ {
				if valid.Valid(i) && (!ok || lessNaN(acc, vals[i])) {
					acc, ok = vals[i], true
				}
			}
		case iterator.Sum:
			for i := lo; i < hi; i++ {
				if !valid.Valid(i) {
					continue
				}
				if !ok {
					acc, ok = vals[i], true
					continue
				}
				var fits bool
				if acc, fits = c.add(acc, vals[i]); !fits {
					return sqlerr.New(sqlerr.NumericValueOutOfRange, "%s out of range in sum(%s), the aggregation of rows with equal keys",
						sqlTypeName(c.field.Type), c.field.Name)
				}
			}
		}
		if g < last {
			c.push(acc, ok)
		} else {
			c.carry, c.carryValid = acc, ok
		}
	}
	return nil
}

func (c *fixedCol[T]) flush() { c.push(c.carry, c.carryValid) }

func (c *fixedCol[T]) finish() arrow.Array {
	var valid []bool
	if c.nulls > 0 {
		valid = c.valid
	}
	a := vec.NewFixed(c.alloc, c.field.Type, c.out, valid)
	c.out, c.valid, c.nulls = c.out[:0], c.valid[:0], 0
	return a
}

// lessNaN orders values as SQL does: NaN above every number.
func lessNaN[T int32 | int64 | float64](a, b T) bool {
	return a < b || (a == a && b != b)
}

func addInt64(a, b int64) (int64, bool) {
	s := a + b
	return s, (b >= 0) == (s >= a)
}

func addInt32(a, b int32) (int32, bool) {
	s := int64(a) + int64(b)
	return int32(s), s >= math.MinInt32 && s <= math.MaxInt32
}

// addFloat64 fails when finite values add up to an infinity, as
// PostgreSQL's float8 arithmetic does.
func addFloat64(a, b float64) (float64, bool) {
	s := a + b
	return s, !math.IsInf(s, 0) || math.IsInf(a, 0) || math.IsInf(b, 0)
}

// eqFloat64 is key equality: equal encodings (schema.AppendValue folds -0
// into 0 and keeps NaN's bits).
func eqFloat64(a, b float64) bool { return a == b || math.Float64bits(a) == math.Float64bits(b) }

func sqlTypeName(dt arrow.DataType) string {
	switch dt.ID() {
	case arrow.INT64:
		return "bigint"
	case arrow.INT32:
		return "integer"
	case arrow.FLOAT64:
		return "double precision"
	}
	return dt.String()
}

// boolCol combines a BOOLEAN column: min is AND, max is OR.
type boolCol struct {
	fn    iterator.Func
	field arrow.Field
	alloc memory.Allocator

	carry      bool
	carryValid bool
	out        []bool
	valid      []bool
	nulls      int
}

func (c *boolCol) push(v, ok bool) {
	c.out = append(c.out, v)
	c.valid = append(c.valid, ok)
	if !ok {
		c.nulls++
	}
}

func (c *boolCol) diff(arr arrow.Array, d []bool) {
	vals := vec.Bools(arr)
	for i := 1; i < arr.Len(); i++ {
		if vals.Get(i) != vals.Get(i-1) {
			d[i] = true
		}
	}
}

func (c *boolCol) carryEquals(arr arrow.Array) bool { return vec.Bools(arr).Get(0) == c.carry }

func (c *boolCol) run(arr arrow.Array, starts []int32, emitCarry, cont bool) error {
	vals := vec.Bools(arr)
	valid := vec.Validity(arr)
	if emitCarry {
		c.push(c.carry, c.carryValid)
	}
	last := len(starts) - 1
	for g, s := range starts {
		lo, hi := int(s), runEnd(starts, g, arr.Len())
		acc, ok := false, false
		if g == 0 && cont {
			acc, ok = c.carry, c.carryValid
		}
		if c.fn == iterator.Last {
			acc, ok = vals.Get(hi-1), valid.Valid(hi-1)
		} else {
			for i := lo; i < hi; i++ {
				if !valid.Valid(i) {
					continue
				}
				v := vals.Get(i)
				switch {
				case !ok:
					acc, ok = v, true
				case c.fn == iterator.Min:
					acc = acc && v
				default:
					acc = acc || v
				}
			}
		}
		if g < last {
			c.push(acc, ok)
		} else {
			c.carry, c.carryValid = acc, ok
		}
	}
	return nil
}

func (c *boolCol) flush() { c.push(c.carry, c.carryValid) }

func (c *boolCol) finish() arrow.Array {
	var valid []bool
	if c.nulls > 0 {
		valid = c.valid
	}
	a := vec.NewBool(c.alloc, c.out, valid)
	c.out, c.valid, c.nulls = c.out[:0], c.valid[:0], 0
	return a
}

// binCol combines a VARCHAR or VARBINARY column; values compare byte-wise.
type binCol struct {
	fn    iterator.Func
	field arrow.Field
	alloc memory.Allocator

	carry      []byte
	carryValid bool
	data       []byte
	offs       []int64 // output value i is data[offs[i]:offs[i+1]]
	valid      []bool
	nulls      int
}

func (c *binCol) push(v []byte, ok bool) {
	if ok {
		c.data = append(c.data, v...)
	} else {
		c.nulls++
	}
	c.offs = append(c.offs, int64(len(c.data)))
	c.valid = append(c.valid, ok)
}

func (c *binCol) diff(arr arrow.Array, d []bool) {
	view := vec.Binary(arr)
	for i := 1; i < arr.Len(); i++ {
		if !bytes.Equal(view.Value(i), view.Value(i-1)) {
			d[i] = true
		}
	}
}

func (c *binCol) carryEquals(arr arrow.Array) bool {
	return bytes.Equal(vec.Binary(arr).Value(0), c.carry)
}

// better reports whether a should replace b under min or max.
func (c *binCol) better(a, b []byte) bool {
	if c.fn == iterator.Min {
		return bytes.Compare(a, b) < 0
	}
	return bytes.Compare(a, b) > 0
}

func (c *binCol) run(arr arrow.Array, starts []int32, emitCarry, cont bool) error {
	view := vec.Binary(arr)
	valid := vec.Validity(arr)
	if emitCarry {
		c.push(c.carry, c.carryValid)
	}
	last := len(starts) - 1
	for g, s := range starts {
		lo, hi := int(s), runEnd(starts, g, arr.Len())
		var v []byte
		ok := false
		if c.fn == iterator.Last {
			if valid.Valid(hi - 1) {
				v, ok = view.Value(hi-1), true
			}
		} else {
			for i := lo; i < hi; i++ {
				if valid.Valid(i) && (!ok || c.better(view.Value(i), v)) {
					v, ok = view.Value(i), true
				}
			}
			if g == 0 && cont && c.carryValid && (!ok || c.better(c.carry, v)) {
				v, ok = c.carry, true
			}
		}
		if g < last {
			c.push(v, ok)
		} else {
			// v may alias the carry: copy within the same bytes is safe.
			c.carry = append(c.carry[:0], v...)
			c.carryValid = ok
		}
	}
	return nil
}

func (c *binCol) flush() { c.push(c.carry, c.carryValid) }

func (c *binCol) finish() arrow.Array {
	var valid []bool
	if c.nulls > 0 {
		valid = c.valid
	}
	a := vec.NewBinary(c.alloc, c.field.Type, c.data, c.offs, valid)
	c.data, c.offs, c.valid, c.nulls = c.data[:0], c.offs[:1], c.valid[:0], 0
	return a
}
