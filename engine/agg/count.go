package agg

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/engine/internal/vec"
)

func resolveCount(args []arrow.DataType) (*Func, error) {
	if len(args) > 1 {
		return nil, nil
	}
	return &Func{
		Result: arrow.PrimitiveTypes.Int64,
		State:  []arrow.Field{state("count", arrow.PrimitiveTypes.Int64)},
		new:    func() Accumulator { return &count{} },
	}, nil
}

// count is count(*) (no arguments: every row) and count(x) (non-NULL x).
type count struct{ n []int64 }

func (c *count) Grow(n int) { c.n = grow(c.n, n) }

func (c *count) Update(rows int, args []arrow.Array, groups []uint32) error {
	var valid vec.Bitmap
	if len(args) > 0 {
		valid = vec.Validity(args[0])
	}
	switch {
	case groups == nil && len(args) == 0:
		c.n[0] += int64(rows)
	case groups == nil:
		c.n[0] += int64(rows - args[0].NullN())
	case valid.Bits == nil:
		for _, g := range groups[:rows] {
			if g != Skip {
				c.n[g]++
			}
		}
	default:
		for i, g := range groups[:rows] {
			if g != Skip && valid.Valid(i) {
				c.n[g]++
			}
		}
	}
	return nil
}

func (c *count) Merge(states []arrow.Array, groups []uint32) error {
	vals, valid := vec.Values[int64](states[0]), vec.Validity(states[0])
	for i, v := range vals {
		if g := groupOf(groups, i); g != Skip && valid.Valid(i) {
			c.n[g] += v
		}
	}
	return nil
}

func (c *count) State(alloc memory.Allocator, lo, hi int) ([]arrow.Array, error) {
	a, err := c.Result(alloc, lo, hi)
	return []arrow.Array{a}, err
}

func (c *count) Result(alloc memory.Allocator, lo, hi int) (arrow.Array, error) {
	return vec.NewFixed(alloc, arrow.PrimitiveTypes.Int64, c.n[lo:hi], nil), nil
}

func (c *count) Size() int64 { return int64(cap(c.n)) * 8 }

func (*count) Release() {}
