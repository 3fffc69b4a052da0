package agg

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/engine/internal/vec"
)

func resolveBool(and bool) resolver {
	return func(args []arrow.DataType) (*Func, error) {
		if len(args) != 1 || args[0].ID() != arrow.BOOL {
			return nil, nil
		}
		return &Func{
			Result: arrow.FixedWidthTypes.Boolean, ResultNullable: true,
			State: []arrow.Field{state("value", arrow.FixedWidthTypes.Boolean)},
			new:   func() Accumulator { return &boolAgg{and: and} },
		}, nil
	}
}

// boolAgg is bool_and (and min(boolean)) or bool_or (and max(boolean)).
type boolAgg struct {
	and  bool
	vals []bool
	has  []bool
}

func (b *boolAgg) Grow(n int) { b.vals, b.has = grow(b.vals, n), grow(b.has, n) }

func (b *boolAgg) Update(rows int, args []arrow.Array, groups []uint32) error {
	vals, valid := vec.Bools(args[0]), vec.Validity(args[0])
	for i := range rows {
		g := groupOf(groups, i)
		if g == Skip || !valid.Valid(i) {
			continue
		}
		v := vals.Get(i)
		switch {
		case !b.has[g]:
			b.vals[g], b.has[g] = v, true
		case b.and:
			b.vals[g] = b.vals[g] && v
		default:
			b.vals[g] = b.vals[g] || v
		}
	}
	return nil
}

func (b *boolAgg) Merge(states []arrow.Array, groups []uint32) error {
	return b.Update(states[0].Len(), states, groups)
}

func (b *boolAgg) State(alloc memory.Allocator, lo, hi int) ([]arrow.Array, error) {
	a, err := b.Result(alloc, lo, hi)
	return []arrow.Array{a}, err
}

func (b *boolAgg) Result(alloc memory.Allocator, lo, hi int) (arrow.Array, error) {
	return vec.NewBool(alloc, b.vals[lo:hi], b.has[lo:hi]), nil
}

func (b *boolAgg) Size() int64 { return int64(cap(b.vals) + cap(b.has)) }

func (*boolAgg) Release() {}
