package engine

import (
	"bytes"
	"context"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/engine/agg"
	"github.com/dormousedb/dormouse/engine/internal/vec"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// distinctAcc makes an aggregate see each distinct argument value once per
// group: a hash table over (group, arguments) lets through only the rows
// that add a new entry. As a partial aggregate it only collects the
// distinct values, and its state is the list of them per group; the final
// aggregate runs those lists through the same table.
type distinctAcc struct {
	inner   agg.Accumulator
	seen    *keyTable
	alloc   memory.Allocator
	partial bool
	elem    arrow.DataType
	ids     []uint32
	pass    []uint32
	claimed []bool
}

func newDistinctAcc(inner agg.Accumulator, c AggCall, alloc memory.Allocator, partial bool) (*distinctAcc, error) {
	if len(c.Args) == 0 {
		return nil, sqlerr.New(sqlerr.SyntaxError, "DISTINCT specified, but %s has no arguments", c.Func)
	}
	types := []arrow.DataType{arrow.PrimitiveTypes.Uint32}
	for _, a := range c.Args {
		types = append(types, a.Type())
	}
	seen, err := newKeyTable(types)
	if err != nil {
		return nil, err
	}
	return &distinctAcc{inner: inner, seen: seen, alloc: alloc, partial: partial, elem: c.Args[0].Type()}, nil
}

func (d *distinctAcc) Grow(n int) { d.inner.Grow(n) }

func (d *distinctAcc) Update(rows int, args []arrow.Array, groups []uint32) error {
	if rows == 0 {
		return nil
	}
	gs := groups
	if gs == nil {
		gs = make([]uint32, rows)
	}
	garr := vec.NewFixed(d.alloc, arrow.PrimitiveTypes.Uint32, gs[:rows], nil)
	defer garr.Release()
	keys := append([]arrow.Array{garr}, args...)
	d.ids = slices.Grow(d.ids[:0], rows)[:rows]
	before := d.seen.Len()
	added := d.seen.insert(keys, rows, d.ids)
	if d.partial {
		return nil
	}
	d.pass = slices.Grow(d.pass[:0], rows)[:rows]
	d.claimed = slices.Grow(d.claimed[:0], added)[:added]
	clear(d.claimed)
	for i, id := range d.ids {
		d.pass[i] = agg.Skip
		if g := gs[i]; g != agg.Skip && int(id) >= before && !d.claimed[int(id)-before] {
			d.claimed[int(id)-before] = true
			d.pass[i] = g
		}
	}
	return d.inner.Update(rows, args, d.pass)
}

// Merge takes lists of distinct values, as State makes them.
func (d *distinctAcc) Merge(states []arrow.Array, groups []uint32) error {
	list := states[0].(*array.List)
	offs := list.Offsets()
	child := list.ListValues()
	elemGroups := make([]uint32, child.Len())
	for i := range elemGroups {
		elemGroups[i] = agg.Skip
	}
	for i := range list.Len() {
		if g := groupOfRow(groups, i); g != agg.Skip && list.IsValid(i) {
			for e := offs[i]; e < offs[i+1]; e++ {
				elemGroups[e] = g
			}
		}
	}
	return d.Update(child.Len(), []arrow.Array{child}, elemGroups)
}

func groupOfRow(groups []uint32, i int) uint32 {
	if groups == nil {
		return 0
	}
	return groups[i]
}

// State returns, per group lo..hi-1, the list of its distinct values.
func (d *distinctAcc) State(alloc memory.Allocator, lo, hi int) ([]arrow.Array, error) {
	keys := d.seen.keys(alloc, 0, d.seen.Len())
	defer releaseArrays(keys)
	gs := vec.Values[uint32](keys[0])
	counts := make([]int32, hi-lo+1)
	for _, g := range gs {
		if int(g) >= lo && int(g) < hi {
			counts[int(g)-lo+1]++
		}
	}
	for i := 1; i < len(counts); i++ {
		counts[i] += counts[i-1]
	}
	offs := slices.Clone(counts)
	idx := make([]int32, counts[len(counts)-1])
	for id, g := range gs {
		if int(g) >= lo && int(g) < hi {
			idx[counts[int(g)-lo]] = int32(id)
			counts[int(g)-lo]++
		}
	}
	ind := indexArray(alloc, idx, nil)
	defer ind.Release()
	vals, err := compute.TakeArray(computeContext(context.Background(), alloc), keys[1], ind)
	if err != nil {
		return nil, err
	}
	defer vals.Release()
	offArr := vec.NewFixed(alloc, arrow.PrimitiveTypes.Int32, offs, nil)
	defer offArr.Release()
	data := array.NewData(arrow.ListOf(d.elem), hi-lo, []*memory.Buffer{nil, offArr.Data().Buffers()[1]},
		[]arrow.ArrayData{vals.Data()}, 0, 0)
	defer data.Release()
	return []arrow.Array{array.MakeFromData(data)}, nil
}

func (d *distinctAcc) Result(alloc memory.Allocator, lo, hi int) (arrow.Array, error) {
	return d.inner.Result(alloc, lo, hi)
}

func (d *distinctAcc) Size() int64 {
	return d.inner.Size() + d.seen.size() + int64(cap(d.ids)+cap(d.pass))*4 + int64(cap(d.claimed))
}

func (d *distinctAcc) Release() { d.inner.Release() }

// orderedAcc feeds an aggregate its rows in the order of ORDER BY inside
// the call: it keeps copies of the arguments with each row's group and
// encoded order key, and at the end sorts them by (group, key, arrival)
// and updates the aggregate in that order.
type orderedAcc struct {
	inner  agg.Accumulator
	nargs  int
	enc    *SortKeyEncoder
	alloc  memory.Allocator
	chunks [][]arrow.Array // kept argument values, per batch
	groups []uint32        // per kept row
	keys   []byte
	ends   []int
	held   int64
	fed    bool
}

func newOrderedAcc(inner agg.Accumulator, c AggCall, alloc memory.Allocator) (*orderedAcc, error) {
	types := make([]arrow.DataType, len(c.OrderBy))
	dirs := make([]SortKey, len(c.OrderBy))
	for i, o := range c.OrderBy {
		types[i] = o.Expr.Type()
		dirs[i] = SortKey{Column: i, Desc: o.Desc, NullsFirst: o.NullsFirst}
	}
	enc, err := newKeyEncoder(types, dirs)
	if err != nil {
		return nil, err
	}
	return &orderedAcc{inner: inner, nargs: len(c.Args), enc: enc, alloc: alloc}, nil
}

func (a *orderedAcc) Grow(n int) { a.inner.Grow(n) }

// Update takes the arguments followed by the ORDER BY values.
func (a *orderedAcc) Update(rows int, cols []arrow.Array, groups []uint32) error {
	var idx []int32
	for i := range rows {
		if g := groupOfRow(groups, i); g != agg.Skip {
			idx = append(idx, int32(i))
		}
	}
	if len(idx) == 0 {
		return nil
	}
	a.enc.BindColumns(cols[a.nargs:])
	for _, i := range idx {
		a.keys = a.enc.Append(a.keys, int(i))
		a.ends = append(a.ends, len(a.keys))
		a.groups = append(a.groups, groupOfRow(groups, int(i)))
	}
	args := cols[:a.nargs]
	var kept []arrow.Array
	if len(idx) == rows {
		for _, c := range args {
			c.Retain()
		}
		kept = slices.Clone(args)
	} else {
		ind := indexArray(a.alloc, idx, nil)
		defer ind.Release()
		var err error
		if kept, err = takeColumns(context.Background(), a.alloc, args, ind); err != nil {
			return err
		}
	}
	for _, c := range kept {
		a.held += vec.Size(c)
	}
	a.chunks = append(a.chunks, kept)
	return nil
}

func (a *orderedAcc) Merge([]arrow.Array, []uint32) error {
	return sqlerr.New(sqlerr.FeatureNotSupported, "an aggregate with ORDER BY cannot merge partial states")
}

func (a *orderedAcc) State(memory.Allocator, int, int) ([]arrow.Array, error) {
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "an aggregate with ORDER BY has no partial state")
}

func (a *orderedAcc) Result(alloc memory.Allocator, lo, hi int) (arrow.Array, error) {
	if !a.fed {
		if err := a.feed(); err != nil {
			return nil, err
		}
		a.fed = true
	}
	return a.inner.Result(alloc, lo, hi)
}

// feed sorts the kept rows and updates the aggregate with them in order.
func (a *orderedAcc) feed() error {
	n := len(a.groups)
	if n == 0 {
		return nil
	}
	perm := make([]int32, n)
	for i := range perm {
		perm[i] = int32(i)
	}
	key := func(i int32) []byte {
		start := 0
		if i > 0 {
			start = a.ends[i-1]
		}
		return a.keys[start:a.ends[i]]
	}
	slices.SortStableFunc(perm, func(x, y int32) int {
		if gx, gy := a.groups[x], a.groups[y]; gx != gy {
			if gx < gy {
				return -1
			}
			return 1
		}
		return bytes.Compare(key(x), key(y))
	})
	all := make([]arrow.Array, a.nargs)
	defer releaseArrays(all)
	for c := range all {
		parts := make([]arrow.Array, len(a.chunks))
		for i, ch := range a.chunks {
			parts[i] = ch[c]
		}
		var err error
		if all[c], err = array.Concatenate(parts, a.alloc); err != nil {
			return err
		}
	}
	a.releaseChunks()
	groups := make([]uint32, 0, BatchRows)
	for lo := 0; lo < n; lo += BatchRows {
		part := perm[lo:min(n, lo+BatchRows)]
		groups = groups[:0]
		for _, p := range part {
			groups = append(groups, a.groups[p])
		}
		ind := indexArray(a.alloc, part, nil)
		args, err := takeColumns(context.Background(), a.alloc, all, ind)
		ind.Release()
		if err != nil {
			return err
		}
		err = a.inner.Update(len(part), args, groups)
		releaseArrays(args)
		if err != nil {
			return err
		}
	}
	return nil
}

func (a *orderedAcc) releaseChunks() {
	for _, ch := range a.chunks {
		releaseArrays(ch)
	}
	a.chunks = nil
}

func (a *orderedAcc) Size() int64 {
	return a.inner.Size() + a.held + int64(cap(a.keys)) + int64(cap(a.ends))*8 + int64(cap(a.groups))*4
}

func (a *orderedAcc) Release() {
	a.releaseChunks()
	a.inner.Release()
}
