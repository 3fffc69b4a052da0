package agg

import (
	"math"
	"math/bits"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/engine/internal/vec"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// int128State is the partial-state type of integer sums: a 128-bit integer
// in a DECIMAL128(38, 0) column, whose layout it shares.
var int128State = &arrow.Decimal128Type{Precision: 38, Scale: 0}

func resolveSum(args []arrow.DataType) (*Func, error) {
	if len(args) != 1 {
		return nil, nil
	}
	switch {
	case isInteger(args[0]):
		return &Func{
			Result: arrow.PrimitiveTypes.Int64, ResultNullable: true,
			State: []arrow.Field{state("sum", int128State)},
			new:   func() Accumulator { return &intSum{} },
		}, nil
	case isFloat(args[0]):
		dt := args[0]
		return &Func{
			Result: dt, ResultNullable: true,
			State: []arrow.Field{state("sum", arrow.PrimitiveTypes.Float64)},
			new:   func() Accumulator { return &floatSum{result: dt} },
		}, nil
	}
	return nil, nil
}

func resolveAvg(args []arrow.DataType) (*Func, error) {
	if len(args) != 1 {
		return nil, nil
	}
	switch {
	case isInteger(args[0]):
		return &Func{
			Result: arrow.PrimitiveTypes.Float64, ResultNullable: true,
			State: []arrow.Field{state("sum", int128State), state("count", arrow.PrimitiveTypes.Int64)},
			new:   func() Accumulator { return &intSum{avg: true} },
		}, nil
	case isFloat(args[0]):
		return &Func{
			Result: arrow.PrimitiveTypes.Float64, ResultNullable: true,
			State: []arrow.Field{state("sum", arrow.PrimitiveTypes.Float64), state("count", arrow.PrimitiveTypes.Int64)},
			new:   func() Accumulator { return &floatSum{result: arrow.PrimitiveTypes.Float64, avg: true} },
		}, nil
	}
	return nil, nil
}

// i128 is a two's complement 128-bit integer laid out as decimal128.Num.
type i128 struct {
	lo uint64
	hi int64
}

func (a *i128) add(lo uint64, hi int64) {
	var c uint64
	a.lo, c = bits.Add64(a.lo, lo, 0)
	a.hi += hi + int64(c)
}

func (a i128) fitsInt64() bool { return a.hi == int64(a.lo)>>63 }

func (a i128) float64() float64 {
	if a.fitsInt64() {
		return float64(int64(a.lo))
	}
	if a.hi < 0 {
		lo, b := bits.Sub64(0, a.lo, 0)
		return -(float64(uint64(-a.hi-int64(b)))*0x1p64 + float64(lo))
	}
	return float64(a.hi)*0x1p64 + float64(a.lo)
}

type integer interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

// intSum sums integers exactly in 128 bits, for sum (BIGINT result,
// 22003 if it does not fit) and avg (DOUBLE PRECISION).
type intSum struct {
	st  []intState
	avg bool
}

// intState is one group's sum and count, side by side so that an update
// touches one cache line.
type intState struct {
	sum i128
	n   int64
}

func (s *intSum) Grow(n int) { s.st = grow(s.st, n) }

func (s *intSum) Update(rows int, args []arrow.Array, groups []uint32) error {
	arr := args[0]
	valid := vec.Validity(arr)
	switch arr.DataType().ID() {
	case arrow.INT8:
		addInts(s, vec.Values[int8](arr), valid, groups)
	case arrow.INT16:
		addInts(s, vec.Values[int16](arr), valid, groups)
	case arrow.INT32:
		addInts(s, vec.Values[int32](arr), valid, groups)
	case arrow.INT64:
		addInts(s, vec.Values[int64](arr), valid, groups)
	case arrow.UINT8:
		addInts(s, vec.Values[uint8](arr), valid, groups)
	case arrow.UINT16:
		addInts(s, vec.Values[uint16](arr), valid, groups)
	case arrow.UINT32:
		addInts(s, vec.Values[uint32](arr), valid, groups)
	case arrow.UINT64:
		addInts(s, vec.Values[uint64](arr), valid, groups)
	}
	return nil
}

func addInts[T integer](s *intSum, vals []T, valid vec.Bitmap, groups []uint32) {
	signed := ^T(0) < 0
	if groups == nil {
		var acc i128
		var n int64
		for i, v := range vals {
			if valid.Valid(i) {
				hi := int64(0)
				if signed && v < 0 {
					hi = -1
				}
				acc.add(uint64(v), hi)
				n++
			}
		}
		s.st[0].sum.add(acc.lo, acc.hi)
		s.st[0].n += n
		return
	}
	for i, v := range vals {
		g := groups[i]
		if g == Skip || !valid.Valid(i) {
			continue
		}
		hi := int64(0)
		if signed && v < 0 {
			hi = -1
		}
		st := &s.st[g]
		st.sum.add(uint64(v), hi)
		st.n++
	}
}

func (s *intSum) Merge(states []arrow.Array, groups []uint32) error {
	sums, valid := vec.Values[decimal128.Num](states[0]), vec.Validity(states[0])
	var cnts []int64
	if s.avg {
		cnts = vec.Values[int64](states[1])
	}
	for i, v := range sums {
		g := groupOf(groups, i)
		if g == Skip || !valid.Valid(i) {
			continue
		}
		s.st[g].sum.add(v.LowBits(), v.HighBits())
		if s.avg {
			s.st[g].n += cnts[i]
		} else {
			s.st[g].n++
		}
	}
	return nil
}

func (s *intSum) State(alloc memory.Allocator, lo, hi int) ([]arrow.Array, error) {
	sums := make([]i128, hi-lo)
	cnts := make([]int64, hi-lo)
	valid := make([]bool, hi-lo)
	for i, st := range s.st[lo:hi] {
		sums[i], cnts[i], valid[i] = st.sum, st.n, st.n > 0
	}
	nums := unsafe.Slice((*decimal128.Num)(unsafe.Pointer(unsafe.SliceData(sums))), len(sums))
	out := []arrow.Array{vec.NewFixed(alloc, int128State, nums, valid)}
	if s.avg {
		out = append(out, vec.NewFixed(alloc, arrow.PrimitiveTypes.Int64, cnts, nil))
	}
	return out, nil
}

func (s *intSum) Result(alloc memory.Allocator, lo, hi int) (arrow.Array, error) {
	valid := make([]bool, hi-lo)
	if s.avg {
		out := make([]float64, hi-lo)
		for i, st := range s.st[lo:hi] {
			if st.n > 0 {
				out[i], valid[i] = st.sum.float64()/float64(st.n), true
			}
		}
		return vec.NewFixed(alloc, arrow.PrimitiveTypes.Float64, out, valid), nil
	}
	out := make([]int64, hi-lo)
	for i, st := range s.st[lo:hi] {
		if st.n == 0 {
			continue
		}
		sum := st.sum
		if !sum.fitsInt64() {
			return nil, sqlerr.New(sqlerr.NumericValueOutOfRange, "bigint out of range").
				WithHint("sum is BIGINT here; cast the argument to double precision to sum beyond it")
		}
		out[i], valid[i] = int64(sum.lo), true
	}
	return vec.NewFixed(alloc, arrow.PrimitiveTypes.Int64, out, valid), nil
}

func (s *intSum) Size() int64 { return int64(cap(s.st)) * 24 }

// floatSum sums floats in float64, for sum (of the input's type) and avg.
type floatSum struct {
	st      []floatState
	result  arrow.DataType
	avg     bool
	scratch []float64
}

// floatState is one group's sum and count.
type floatState struct {
	sum float64
	n   int64
}

func (s *floatSum) Grow(n int) { s.st = grow(s.st, n) }

func (s *floatSum) Update(rows int, args []arrow.Array, groups []uint32) error {
	vals := toFloat64s(args[0], &s.scratch)
	valid := vec.Validity(args[0])
	if groups == nil {
		var sum float64
		var n int64
		for i, v := range vals {
			if valid.Valid(i) {
				sum += v
				n++
			}
		}
		s.st[0].sum += sum
		s.st[0].n += n
		return nil
	}
	for i, v := range vals {
		if g := groups[i]; g != Skip && valid.Valid(i) {
			st := &s.st[g]
			st.sum += v
			st.n++
		}
	}
	return nil
}

func (s *floatSum) Merge(states []arrow.Array, groups []uint32) error {
	sums, valid := vec.Values[float64](states[0]), vec.Validity(states[0])
	var cnts []int64
	if s.avg {
		cnts = vec.Values[int64](states[1])
	}
	for i, v := range sums {
		g := groupOf(groups, i)
		if g == Skip || !valid.Valid(i) {
			continue
		}
		s.st[g].sum += v
		if s.avg {
			s.st[g].n += cnts[i]
		} else {
			s.st[g].n++
		}
	}
	return nil
}

func (s *floatSum) State(alloc memory.Allocator, lo, hi int) ([]arrow.Array, error) {
	sums := make([]float64, hi-lo)
	cnts := make([]int64, hi-lo)
	valid := make([]bool, hi-lo)
	for i, st := range s.st[lo:hi] {
		sums[i], cnts[i], valid[i] = st.sum, st.n, st.n > 0
	}
	out := []arrow.Array{vec.NewFixed(alloc, arrow.PrimitiveTypes.Float64, sums, valid)}
	if s.avg {
		out = append(out, vec.NewFixed(alloc, arrow.PrimitiveTypes.Int64, cnts, nil))
	}
	return out, nil
}

func (s *floatSum) Result(alloc memory.Allocator, lo, hi int) (arrow.Array, error) {
	valid := make([]bool, hi-lo)
	out := make([]float64, hi-lo)
	for i, st := range s.st[lo:hi] {
		if st.n > 0 {
			out[i], valid[i] = st.sum, true
			if s.avg {
				out[i] /= float64(st.n)
			}
		}
	}
	if s.result.ID() == arrow.FLOAT32 {
		f32 := make([]float32, len(out))
		for i, v := range out {
			f32[i] = float32(v)
		}
		return vec.NewFixed(alloc, s.result, f32, valid), nil
	}
	return vec.NewFixed(alloc, s.result, out, valid), nil
}

func (s *floatSum) Size() int64 { return int64(cap(s.st))*16 + int64(cap(s.scratch))*8 }

// toFloat64s returns the values of a numeric array as float64, converting
// into scratch unless the array is DOUBLE already. NULL slots are
// unspecified.
func toFloat64s(arr arrow.Array, scratch *[]float64) []float64 {
	if arr.DataType().ID() == arrow.FLOAT64 {
		return vec.Values[float64](arr)
	}
	if cap(*scratch) < arr.Len() {
		*scratch = make([]float64, arr.Len())
	}
	out := (*scratch)[:arr.Len()]
	switch arr.DataType().ID() {
	case arrow.FLOAT32:
		convert(out, vec.Values[float32](arr))
	case arrow.INT8:
		convert(out, vec.Values[int8](arr))
	case arrow.INT16:
		convert(out, vec.Values[int16](arr))
	case arrow.INT32:
		convert(out, vec.Values[int32](arr))
	case arrow.INT64:
		convert(out, vec.Values[int64](arr))
	case arrow.UINT8:
		convert(out, vec.Values[uint8](arr))
	case arrow.UINT16:
		convert(out, vec.Values[uint16](arr))
	case arrow.UINT32:
		convert(out, vec.Values[uint32](arr))
	case arrow.UINT64:
		convert(out, vec.Values[uint64](arr))
	default:
		for i := range out {
			out[i] = math.NaN()
		}
	}
	return out
}

func convert[T integer | float32](dst []float64, src []T) {
	for i, v := range src {
		dst[i] = float64(v)
	}
}

func (*intSum) Release() {}

func (*floatSum) Release() {}
