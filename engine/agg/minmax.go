package agg

import (
	"cmp"
	"strings"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/engine/internal/vec"
)

func resolveMinMax(isMax bool) resolver {
	return func(args []arrow.DataType) (*Func, error) {
		if len(args) != 1 {
			return nil, nil
		}
		dt := args[0]
		var mk func() Accumulator
		switch dt.ID() {
		case arrow.INT8:
			mk = fixedMinMax[int8](dt, isMax)
		case arrow.INT16:
			mk = fixedMinMax[int16](dt, isMax)
		case arrow.INT32, arrow.DATE32, arrow.TIME32:
			mk = fixedMinMax[int32](dt, isMax)
		case arrow.INT64, arrow.DATE64, arrow.TIME64, arrow.TIMESTAMP, arrow.DURATION:
			mk = fixedMinMax[int64](dt, isMax)
		case arrow.UINT8:
			mk = fixedMinMax[uint8](dt, isMax)
		case arrow.UINT16:
			mk = fixedMinMax[uint16](dt, isMax)
		case arrow.UINT32:
			mk = fixedMinMax[uint32](dt, isMax)
		case arrow.UINT64:
			mk = fixedMinMax[uint64](dt, isMax)
		case arrow.FLOAT32:
			mk = fixedMinMax[float32](dt, isMax)
		case arrow.FLOAT64:
			mk = fixedMinMax[float64](dt, isMax)
		case arrow.DECIMAL128:
			mk = func() Accumulator { return &decimalMinMax{dt: dt, max: isMax} }
		case arrow.BOOL:
			// min(bool) is bool_and, max(bool) bool_or.
			mk = func() Accumulator { return &boolAgg{and: !isMax} }
		case arrow.STRING, arrow.BINARY, arrow.LARGE_STRING, arrow.LARGE_BINARY:
			mk = func() Accumulator { return &binaryMinMax{dt: dt, max: isMax} }
		default:
			return nil, nil
		}
		return &Func{Result: dt, ResultNullable: true, State: []arrow.Field{state("value", dt)}, new: mk}, nil
	}
}

// pgLess orders as PostgreSQL does: NaN above every other value.
func pgLess[T cmp.Ordered](a, b T) bool {
	if a != a {
		return false
	}
	if b != b {
		return true
	}
	return a < b
}

// mmState is one group's least or greatest value, if it has one.
type mmState[T any] struct {
	v   T
	has bool
}

type minMax[T cmp.Ordered] struct {
	dt  arrow.DataType
	max bool
	st  []mmState[T]
}

func fixedMinMax[T interface {
	cmp.Ordered
	vec.Fixed
}](dt arrow.DataType, isMax bool) func() Accumulator {
	return func() Accumulator { return &fixedMM[T]{minMax: minMax[T]{dt: dt, max: isMax}} }
}

type fixedMM[T interface {
	cmp.Ordered
	vec.Fixed
}] struct{ minMax[T] }

func (m *fixedMM[T]) Grow(n int) { m.st = grow(m.st, n) }

func (m *fixedMM[T]) Update(rows int, args []arrow.Array, groups []uint32) error {
	vals, valid := vec.Values[T](args[0]), vec.Validity(args[0])
	if groups == nil {
		m.fold(vals, valid)
		return nil
	}
	for i, v := range vals {
		g := groups[i]
		if g == Skip || !valid.Valid(i) {
			continue
		}
		st := &m.st[g]
		if !st.has || (m.max && pgLess(st.v, v)) || (!m.max && pgLess(v, st.v)) {
			st.v, st.has = v, true
		}
	}
	return nil
}

// fold folds every row into group 0.
func (m *fixedMM[T]) fold(vals []T, valid vec.Bitmap) {
	st := m.st[0]
	for i, v := range vals {
		if valid.Valid(i) && (!st.has || (m.max && pgLess(st.v, v)) || (!m.max && pgLess(v, st.v))) {
			st.v, st.has = v, true
		}
	}
	m.st[0] = st
}

func (m *fixedMM[T]) Merge(states []arrow.Array, groups []uint32) error {
	return m.Update(states[0].Len(), states, groups)
}

func (m *fixedMM[T]) State(alloc memory.Allocator, lo, hi int) ([]arrow.Array, error) {
	a, err := m.Result(alloc, lo, hi)
	return []arrow.Array{a}, err
}

func (m *fixedMM[T]) Result(alloc memory.Allocator, lo, hi int) (arrow.Array, error) {
	vals := make([]T, hi-lo)
	has := make([]bool, hi-lo)
	for i, st := range m.st[lo:hi] {
		vals[i], has[i] = st.v, st.has
	}
	return vec.NewFixed(alloc, m.dt, vals, has), nil
}

func (m *fixedMM[T]) Size() int64 {
	var zero mmState[T]
	return int64(cap(m.st)) * int64(unsafe.Sizeof(zero))
}

type decimalMinMax struct {
	dt   arrow.DataType
	max  bool
	vals []decimal128.Num
	has  []bool
}

func (m *decimalMinMax) Grow(n int) { m.vals, m.has = grow(m.vals, n), grow(m.has, n) }

func (m *decimalMinMax) Update(rows int, args []arrow.Array, groups []uint32) error {
	vals, valid := vec.Values[decimal128.Num](args[0]), vec.Validity(args[0])
	for i, v := range vals {
		g := groupOf(groups, i)
		if g == Skip || !valid.Valid(i) {
			continue
		}
		if !m.has[g] || (m.max && v.Greater(m.vals[g])) || (!m.max && v.Less(m.vals[g])) {
			m.vals[g], m.has[g] = v, true
		}
	}
	return nil
}

func (m *decimalMinMax) Merge(states []arrow.Array, groups []uint32) error {
	return m.Update(states[0].Len(), states, groups)
}

func (m *decimalMinMax) State(alloc memory.Allocator, lo, hi int) ([]arrow.Array, error) {
	a, err := m.Result(alloc, lo, hi)
	return []arrow.Array{a}, err
}

func (m *decimalMinMax) Result(alloc memory.Allocator, lo, hi int) (arrow.Array, error) {
	return vec.NewFixed(alloc, m.dt, m.vals[lo:hi], m.has[lo:hi]), nil
}

func (m *decimalMinMax) Size() int64 { return int64(cap(m.vals))*16 + int64(cap(m.has)) }

// binaryMinMax keeps a copy of the least or greatest value of each group,
// compared bytewise (the C collation).
type binaryMinMax struct {
	dt   arrow.DataType
	max  bool
	vals []string
	has  []bool
	held int64
}

func (m *binaryMinMax) Grow(n int) { m.vals, m.has = grow(m.vals, n), grow(m.has, n) }

func (m *binaryMinMax) Update(rows int, args []arrow.Array, groups []uint32) error {
	vals, valid := vec.Binary(args[0]), vec.Validity(args[0])
	for i := range rows {
		g := groupOf(groups, i)
		if g == Skip || !valid.Valid(i) {
			continue
		}
		v := vals.String(i)
		if !m.has[g] || (m.max && v > m.vals[g]) || (!m.max && v < m.vals[g]) {
			m.held += int64(len(v) - len(m.vals[g]))
			m.vals[g], m.has[g] = strings.Clone(v), true
		}
	}
	return nil
}

func (m *binaryMinMax) Merge(states []arrow.Array, groups []uint32) error {
	return m.Update(states[0].Len(), states, groups)
}

func (m *binaryMinMax) State(alloc memory.Allocator, lo, hi int) ([]arrow.Array, error) {
	a, err := m.Result(alloc, lo, hi)
	return []arrow.Array{a}, err
}

func (m *binaryMinMax) Result(alloc memory.Allocator, lo, hi int) (arrow.Array, error) {
	return buildStrings(alloc, m.dt, m.vals[lo:hi], m.has[lo:hi]), nil
}

func (m *binaryMinMax) Size() int64 { return int64(cap(m.vals))*16 + int64(cap(m.has)) + m.held }

// buildStrings builds a binary or string array of vals, NULL where !valid.
func buildStrings(alloc memory.Allocator, dt arrow.DataType, vals []string, valid []bool) arrow.Array {
	size := 0
	for _, v := range vals {
		size += len(v)
	}
	data := make([]byte, 0, size)
	offs := make([]int64, 1, len(vals)+1)
	for i, v := range vals {
		if valid[i] {
			data = append(data, v...)
		}
		offs = append(offs, int64(len(data)))
	}
	return vec.NewBinary(alloc, dt, data, offs, valid)
}

func (*fixedMM[T]) Release() {}

func (*decimalMinMax) Release() {}

func (*binaryMinMax) Release() {}
