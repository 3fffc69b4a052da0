package agg

import (
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/engine/internal/vec"
)

type varKind int

const (
	varSamp varKind = iota
	varPop
)

func resolveVariance(kind varKind, sqrt bool) resolver {
	return func(args []arrow.DataType) (*Func, error) {
		if len(args) != 1 || !(isInteger(args[0]) || isFloat(args[0])) {
			return nil, nil
		}
		f64 := arrow.PrimitiveTypes.Float64
		return &Func{
			Result: f64, ResultNullable: true,
			State: []arrow.Field{state("count", arrow.PrimitiveTypes.Int64), state("mean", f64), state("m2", f64)},
			new:   func() Accumulator { return &variance{kind: kind, sqrt: sqrt} },
		}, nil
	}
}

// variance keeps count, mean and the sum of squared deviations (M2) per
// group: Welford's update per row, Chan's formula to merge.
type variance struct {
	kind    varKind
	sqrt    bool
	n       []int64
	mean    []float64
	m2      []float64
	scratch []float64
}

func (v *variance) Grow(n int) { v.n, v.mean, v.m2 = grow(v.n, n), grow(v.mean, n), grow(v.m2, n) }

func (v *variance) Update(rows int, args []arrow.Array, groups []uint32) error {
	vals, valid := toFloat64s(args[0], &v.scratch), vec.Validity(args[0])
	for i, x := range vals {
		g := groupOf(groups, i)
		if g == Skip || !valid.Valid(i) {
			continue
		}
		v.n[g]++
		d := x - v.mean[g]
		v.mean[g] += d / float64(v.n[g])
		v.m2[g] += d * (x - v.mean[g])
	}
	return nil
}

func (v *variance) Merge(states []arrow.Array, groups []uint32) error {
	ns, means, m2s := vec.Values[int64](states[0]), vec.Values[float64](states[1]), vec.Values[float64](states[2])
	for i, nb := range ns {
		g := groupOf(groups, i)
		if g == Skip || nb == 0 {
			continue
		}
		na := v.n[g]
		n := na + nb
		d := means[i] - v.mean[g]
		v.mean[g] += d * float64(nb) / float64(n)
		v.m2[g] += m2s[i] + d*d*float64(na)*float64(nb)/float64(n)
		v.n[g] = n
	}
	return nil
}

func (v *variance) State(alloc memory.Allocator, lo, hi int) ([]arrow.Array, error) {
	f64 := arrow.PrimitiveTypes.Float64
	return []arrow.Array{
		vec.NewFixed(alloc, arrow.PrimitiveTypes.Int64, v.n[lo:hi], nil),
		vec.NewFixed(alloc, f64, v.mean[lo:hi], nil),
		vec.NewFixed(alloc, f64, v.m2[lo:hi], nil),
	}, nil
}

func (v *variance) Result(alloc memory.Allocator, lo, hi int) (arrow.Array, error) {
	out := make([]float64, hi-lo)
	valid := make([]bool, hi-lo)
	for i := range out {
		n := v.n[lo+i]
		div := float64(n)
		if v.kind == varSamp {
			div--
		}
		if div <= 0 {
			continue
		}
		r := max(v.m2[lo+i], 0) / div
		if v.sqrt {
			r = math.Sqrt(r)
		}
		out[i], valid[i] = r, true
	}
	return vec.NewFixed(alloc, arrow.PrimitiveTypes.Float64, out, valid), nil
}

func (v *variance) Size() int64 { return int64(cap(v.n)+cap(v.mean)+cap(v.m2)+cap(v.scratch)) * 8 }

func (*variance) Release() {}
