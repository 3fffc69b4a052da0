package agg

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/engine/internal/vec"
)

func resolveStringAgg(args []arrow.DataType) (*Func, error) {
	if len(args) != 2 || !vec.IsBinary(args[0]) || !vec.IsBinary(args[1]) {
		return nil, nil
	}
	text := isText(args[0])
	if text != isText(args[1]) {
		return nil, nil
	}
	dt := args[0]
	return &Func{
		Result: dt, ResultNullable: true,
		State: []arrow.Field{state("value", arrow.BinaryTypes.Binary), state("first_delimiter", arrow.PrimitiveTypes.Int64)},
		new:   func() Accumulator { return &stringAgg{dt: dt} },
	}, nil
}

func isText(dt arrow.DataType) bool { return dt.ID() == arrow.STRING || dt.ID() == arrow.LARGE_STRING }

// stringAgg keeps, per group, every value preceded by its row's delimiter
// and the length of the first delimiter, which the result leaves out (as
// PostgreSQL's string_agg does), so that two partial states merge by
// concatenation.
type stringAgg struct {
	dt    arrow.DataType
	bufs  [][]byte
	first []int64
	has   []bool
	held  int64
}

func (s *stringAgg) Grow(n int) {
	s.bufs, s.first, s.has = grow(s.bufs, n), grow(s.first, n), grow(s.has, n)
}

func (s *stringAgg) Update(rows int, args []arrow.Array, groups []uint32) error {
	vals, valid := vec.Binary(args[0]), vec.Validity(args[0])
	seps, sepValid := vec.Binary(args[1]), vec.Validity(args[1])
	for i := range rows {
		g := groupOf(groups, i)
		if g == Skip || !valid.Valid(i) {
			continue
		}
		var sep []byte
		if sepValid.Valid(i) {
			sep = seps.Value(i)
		}
		s.add(g, sep, vals.Value(i), int64(len(sep)))
	}
	return nil
}

// add appends sep and v to group g; first is the delimiter length to
// remember if g had nothing yet.
func (s *stringAgg) add(g uint32, sep, v []byte, first int64) {
	before := cap(s.bufs[g])
	if !s.has[g] {
		s.first[g], s.has[g] = first, true
	}
	s.bufs[g] = append(append(s.bufs[g], sep...), v...)
	s.held += int64(cap(s.bufs[g]) - before)
}

func (s *stringAgg) Merge(states []arrow.Array, groups []uint32) error {
	vals, valid := vec.Binary(states[0]), vec.Validity(states[0])
	firsts := vec.Values[int64](states[1])
	for i := range states[0].Len() {
		if g := groupOf(groups, i); g != Skip && valid.Valid(i) {
			s.add(g, nil, vals.Value(i), firsts[i])
		}
	}
	return nil
}

func (s *stringAgg) State(alloc memory.Allocator, lo, hi int) ([]arrow.Array, error) {
	data, offs := s.concat(lo, hi, false)
	return []arrow.Array{
		vec.NewBinary(alloc, arrow.BinaryTypes.Binary, data, offs, s.has[lo:hi]),
		vec.NewFixed(alloc, arrow.PrimitiveTypes.Int64, s.first[lo:hi], nil),
	}, nil
}

func (s *stringAgg) Result(alloc memory.Allocator, lo, hi int) (arrow.Array, error) {
	data, offs := s.concat(lo, hi, true)
	return vec.NewBinary(alloc, s.dt, data, offs, s.has[lo:hi]), nil
}

// concat lays groups lo..hi-1 end to end, without their first delimiter
// when trim is set.
func (s *stringAgg) concat(lo, hi int, trim bool) ([]byte, []int64) {
	var data []byte
	offs := make([]int64, 1, hi-lo+1)
	for g := lo; g < hi; g++ {
		b := s.bufs[g]
		if trim && s.has[g] {
			b = b[s.first[g]:]
		}
		data = append(data, b...)
		offs = append(offs, int64(len(data)))
	}
	return data, offs
}

func (s *stringAgg) Size() int64 { return int64(cap(s.bufs))*24 + int64(cap(s.first))*9 + s.held }

func (*stringAgg) Release() {}
