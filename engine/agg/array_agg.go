package agg

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/engine/internal/vec"
)

func resolveArrayAgg(args []arrow.DataType) (*Func, error) {
	if len(args) != 1 {
		return nil, nil
	}
	dt := arrow.ListOf(args[0])
	return &Func{
		Result: dt, ResultNullable: true,
		State:    []arrow.Field{state("values", dt)},
		newAlloc: func(alloc memory.Allocator) Accumulator { return &arrayAgg{elem: args[0], alloc: alloc} },
	}, nil
}

// arrayAgg keeps copies of the values it is given, in chunks, and a linked
// list of them per group in order of arrival; Result gathers each group's
// values with one take.
type arrayAgg struct {
	elem   arrow.DataType
	alloc  memory.Allocator
	chunks []arrow.Array
	kept   int64
	head   []int64 // per group: 1 + first kept value, 0 for none
	tail   []int64
	next   []int64 // per kept value: 1 + next value of its group, 0 at the end
	held   int64
	all    arrow.Array // the chunks concatenated, for Result and State
}

func (a *arrayAgg) Grow(n int) { a.head, a.tail = grow(a.head, n), grow(a.tail, n) }

func (a *arrayAgg) Update(rows int, args []arrow.Array, groups []uint32) error {
	return a.add(args[0], groups)
}

func (a *arrayAgg) add(arr arrow.Array, groups []uint32) error {
	var idx []int32
	keptGroups := groups
	if groups != nil {
		keptGroups = nil
		for i, g := range groups[:arr.Len()] {
			if g != Skip {
				idx = append(idx, int32(i))
				keptGroups = append(keptGroups, g)
			}
		}
		if len(idx) == 0 {
			return nil
		}
	}
	var chunk arrow.Array
	if groups == nil || len(idx) == arr.Len() {
		arr.Retain()
		chunk = arr
	} else {
		ind := vec.NewFixed(a.alloc, arrow.PrimitiveTypes.Int32, idx, nil)
		defer ind.Release()
		var err error
		chunk, err = compute.TakeArray(compute.WithAllocator(context.Background(), a.alloc), arr, ind)
		if err != nil {
			return err
		}
	}
	a.chunks = append(a.chunks, chunk)
	a.held += vec.Size(chunk)
	for j := range chunk.Len() {
		g := groupOf(keptGroups, j)
		k := a.kept + int64(j) + 1
		if a.head[g] == 0 {
			a.head[g] = k
		} else {
			a.next[a.tail[g]-1] = k
		}
		a.tail[g] = k
		a.next = append(a.next, 0)
	}
	a.kept += int64(chunk.Len())
	return nil
}

func (a *arrayAgg) Merge(states []arrow.Array, groups []uint32) error {
	list := states[0].(*array.List)
	offs := list.Offsets()
	child := list.ListValues()
	elemGroups := make([]uint32, child.Len())
	for i := range elemGroups {
		elemGroups[i] = Skip
	}
	for i := range list.Len() {
		if g := groupOf(groups, i); g != Skip && list.IsValid(i) {
			for e := offs[i]; e < offs[i+1]; e++ {
				elemGroups[e] = g
			}
		}
	}
	return a.add(child, elemGroups)
}

func (a *arrayAgg) State(alloc memory.Allocator, lo, hi int) ([]arrow.Array, error) {
	r, err := a.Result(alloc, lo, hi)
	if err != nil {
		return nil, err
	}
	return []arrow.Array{r}, nil
}

func (a *arrayAgg) Result(alloc memory.Allocator, lo, hi int) (arrow.Array, error) {
	if a.all == nil || int64(a.all.Len()) != a.kept {
		if a.all != nil {
			a.all.Release()
		}
		if len(a.chunks) == 0 {
			a.all = array.MakeArrayOfNull(a.alloc, a.elem, 0)
		} else {
			all, err := array.Concatenate(a.chunks, a.alloc)
			if err != nil {
				return nil, err
			}
			a.all = all
		}
	}
	var idx []int64
	offs := make([]int32, 1, hi-lo+1)
	valid := make([]bool, hi-lo)
	for g := lo; g < hi; g++ {
		for k := a.head[g]; k != 0; k = a.next[k-1] {
			idx = append(idx, k-1)
		}
		offs = append(offs, int32(len(idx)))
		valid[g-lo] = a.head[g] != 0
	}
	ind := vec.NewFixed(alloc, arrow.PrimitiveTypes.Int64, idx, nil)
	defer ind.Release()
	vals, err := compute.TakeArray(compute.WithAllocator(context.Background(), alloc), a.all, ind)
	if err != nil {
		return nil, err
	}
	defer vals.Release()
	offArr := vec.NewFixed(alloc, arrow.PrimitiveTypes.Int32, offs, nil)
	defer offArr.Release()
	vbuf, nulls := vec.ValidityBuffer(alloc, valid, len(valid))
	if vbuf != nil {
		defer vbuf.Release()
	}
	data := array.NewData(arrow.ListOf(a.elem), hi-lo, []*memory.Buffer{vbuf, offArr.Data().Buffers()[1]},
		[]arrow.ArrayData{vals.Data()}, nulls, 0)
	defer data.Release()
	return array.MakeFromData(data), nil
}

func (a *arrayAgg) Size() int64 {
	return int64(cap(a.head)+cap(a.tail)+cap(a.next))*8 + a.held
}

func (a *arrayAgg) Release() {
	for _, c := range a.chunks {
		c.Release()
	}
	a.chunks = nil
	if a.all != nil {
		a.all.Release()
		a.all = nil
	}
}
