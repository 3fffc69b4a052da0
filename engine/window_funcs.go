package engine

import (
	"bytes"
	"context"
	"math"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/engine/internal/vec"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// compute computes the stage's calls over a batch of whole partitions,
// sorted; it returns the stage's input columns with the results appended.
func (s *windowStage) compute(ctx context.Context, chunk arrow.RecordBatch) (arrow.RecordBatch, error) {
	n := int(chunk.NumRows())
	partStart, peerStart := s.boundaries(chunk)
	cols := make([]arrow.Array, 0, s.sch.NumFields())
	for _, c := range chunk.Columns()[:s.width] {
		c.Retain()
		cols = append(cols, c)
	}
	for _, call := range s.calls {
		a, err := s.computeCall(ctx, call, chunk, partStart, peerStart)
		if err != nil {
			releaseArrays(cols)
			return nil, err
		}
		cols = append(cols, a)
	}
	return newBatch(s.sch, cols, n), nil
}

// boundaries marks the rows that start a partition and the rows that start
// a peer group (all of a partition is one peer group without ORDER BY).
func (s *windowStage) boundaries(chunk arrow.RecordBatch) (partStart, peerStart []bool) {
	n := int(chunk.NumRows())
	s.partEnc.Bind(chunk)
	pkeys, pends := s.partEnc.AppendAll(nil, make([]int, 0, n), n)
	partStart, peerStart = make([]bool, n), make([]bool, n)
	var okeys []byte
	var oends []int
	ordered := len(s.calls[0].OrderBy) > 0
	if ordered {
		s.ordEnc.Bind(chunk)
		okeys, oends = s.ordEnc.AppendAll(nil, make([]int, 0, n), n)
	}
	for i := range n {
		partStart[i] = i == 0 || !bytes.Equal(pkeys[keyStart(pends, i):pends[i]], pkeys[keyStart(pends, i-1):pends[i-1]])
		peerStart[i] = partStart[i] ||
			(ordered && !bytes.Equal(okeys[keyStart(oends, i):oends[i]], okeys[keyStart(oends, i-1):oends[i-1]]))
	}
	return partStart, peerStart
}

func (s *windowStage) computeCall(ctx context.Context, c WindowCall, chunk arrow.RecordBatch, partStart, peerStart []bool) (arrow.Array, error) {
	alloc := s.ec.allocator()
	n := len(partStart)
	switch fn := strings.ToLower(c.Func); fn {
	case "row_number", "rank", "dense_rank":
		out := make([]int64, n)
		var ps, rank, dense int64
		for i := range n {
			if partStart[i] {
				ps, dense = int64(i), 0
			}
			if peerStart[i] {
				rank = int64(i) - ps + 1
				dense++
			}
			switch fn {
			case "row_number":
				out[i] = int64(i) - ps + 1
			case "rank":
				out[i] = rank
			default:
				out[i] = dense
			}
		}
		return vec.NewFixed(alloc, arrow.PrimitiveTypes.Int64, out, nil), nil
	}
	args, err := evalAll(s.ec.evalContext(ctx), c.Args, chunk)
	if err != nil {
		return nil, err
	}
	defer releaseArrays(args)
	dt, _, err := windowResult(c)
	if err != nil {
		return nil, err
	}
	agg, err := newWindowAgg(strings.ToLower(c.Func), args, dt, n)
	if err != nil {
		return nil, err
	}
	if err := runFrames(agg, partStart, peerStart); err != nil {
		return nil, err
	}
	return agg.result(ctx, alloc)
}

// runFrames folds each peer group into the running state, reset at each
// partition, and gives every row of the group the state after it.
func runFrames(a windowAgg, partStart, peerStart []bool) error {
	n := len(partStart)
	for gs := 0; gs < n; {
		if partStart[gs] {
			a.reset()
		}
		ge := gs + 1
		for ge < n && !peerStart[ge] {
			ge++
		}
		for i := gs; i < ge; i++ {
			if err := a.add(i); err != nil {
				return err
			}
		}
		for i := gs; i < ge; i++ {
			a.set(i)
		}
		gs = ge
	}
	return nil
}

// windowAgg is a running aggregate over the rows of a chunk.
type windowAgg interface {
	reset()
	add(i int) error
	set(i int)
	result(ctx context.Context, alloc memory.Allocator) (arrow.Array, error)
}

func windowAggType(dt arrow.DataType) bool {
	_, err := keyEncoderFor(dt)
	return err == nil
}

func newWindowAgg(fn string, args []arrow.Array, result arrow.DataType, n int) (windowAgg, error) {
	if fn == "count" {
		a := &windowCount{out: make([]int64, n)}
		if len(args) > 0 {
			a.valid = vec.Validity(args[0])
		}
		return a, nil
	}
	arg := args[0]
	switch fn {
	case "min", "max":
		enc, err := newKeyEncoder([]arrow.DataType{arg.DataType()}, []SortKey{{}})
		if err != nil {
			return nil, err
		}
		enc.BindColumns(args)
		keys, ends := enc.AppendAll(nil, make([]int, 0, n), n)
		return &windowMinMax{arg: arg, max: fn == "max", keys: keys, ends: ends, valid: vec.Validity(arg),
			idx: make([]int32, n), has: make([]bool, n)}, nil
	}
	a := &windowSum{avg: fn == "avg", resultType: result, valid: vec.Validity(arg),
		out: make([]float64, n), iout: make([]int64, n), has: make([]bool, n)}
	if isIntegerType(arg.DataType()) {
		a.ints = int64Values(arg)
	} else {
		a.floats = float64Values(arg)
	}
	return a, nil
}

type windowCount struct {
	valid vec.Bitmap
	n     int64
	out   []int64
}

func (a *windowCount) reset() { a.n = 0 }
func (a *windowCount) add(i int) error {
	if a.valid.Valid(i) {
		a.n++
	}
	return nil
}
func (a *windowCount) set(i int) { a.out[i] = a.n }
func (a *windowCount) result(_ context.Context, alloc memory.Allocator) (arrow.Array, error) {
	return vec.NewFixed(alloc, arrow.PrimitiveTypes.Int64, a.out, nil), nil
}

// windowSum is sum and avg: integers add exactly in int64 (sum fails with
// 22003 past its range; avg carries on in float64), floats in float64.
type windowSum struct {
	avg        bool
	resultType arrow.DataType
	valid      vec.Bitmap
	ints       []int64
	floats     []float64
	isum       int64
	fsum       float64
	inFloat    bool // an integer avg that left the int64 range
	n          int64
	out        []float64
	iout       []int64
	has        []bool
}

func (a *windowSum) reset() { a.isum, a.fsum, a.n, a.inFloat = 0, 0, 0, false }

func (a *windowSum) add(i int) error {
	if !a.valid.Valid(i) {
		return nil
	}
	a.n++
	if a.floats != nil || a.inFloat {
		if a.floats != nil {
			a.fsum += a.floats[i]
		} else {
			a.fsum += float64(a.ints[i])
		}
		return nil
	}
	v := a.ints[i]
	s := a.isum + v
	if (s > a.isum) != (v > 0) && v != 0 {
		if !a.avg {
			return sqlerr.New(sqlerr.NumericValueOutOfRange, "bigint out of range")
		}
		a.inFloat, a.fsum = true, float64(a.isum)+float64(v)
		return nil
	}
	a.isum = s
	return nil
}

func (a *windowSum) set(i int) {
	a.has[i] = a.n > 0
	if a.n == 0 {
		return
	}
	sum := a.fsum
	if a.floats == nil && !a.inFloat {
		sum = float64(a.isum)
	}
	switch {
	case a.avg:
		a.out[i] = sum / float64(a.n)
	case a.floats == nil:
		a.iout[i] = a.isum
	default:
		a.out[i] = sum
	}
}

func (a *windowSum) result(_ context.Context, alloc memory.Allocator) (arrow.Array, error) {
	switch a.resultType.ID() {
	case arrow.INT64:
		return vec.NewFixed(alloc, a.resultType, a.iout, a.has), nil
	case arrow.FLOAT32:
		f := make([]float32, len(a.out))
		for i, v := range a.out {
			f[i] = float32(v)
		}
		return vec.NewFixed(alloc, a.resultType, f, a.has), nil
	}
	return vec.NewFixed(alloc, a.resultType, a.out, a.has), nil
}

// windowMinMax tracks the row of the least (greatest) value by its encoded
// sort key, and takes the values of those rows at the end.
type windowMinMax struct {
	arg   arrow.Array
	max   bool
	keys  []byte
	ends  []int
	valid vec.Bitmap
	best  int
	idx   []int32
	has   []bool
}

func (a *windowMinMax) key(i int) []byte { return a.keys[keyStart(a.ends, i):a.ends[i]] }
func (a *windowMinMax) reset()           { a.best = -1 }
func (a *windowMinMax) add(i int) error {
	if !a.valid.Valid(i) {
		return nil
	}
	if a.best < 0 {
		a.best = i
		return nil
	}
	c := bytes.Compare(a.key(i), a.key(a.best))
	if (a.max && c > 0) || (!a.max && c < 0) {
		a.best = i
	}
	return nil
}
func (a *windowMinMax) set(i int) {
	a.has[i] = a.best >= 0
	if a.best >= 0 {
		a.idx[i] = int32(a.best)
	}
}
func (a *windowMinMax) result(ctx context.Context, alloc memory.Allocator) (arrow.Array, error) {
	ind := indexArray(alloc, a.idx, a.has)
	defer ind.Release()
	cols, err := takeColumns(ctx, alloc, []arrow.Array{a.arg}, ind)
	if err != nil {
		return nil, err
	}
	return cols[0], nil
}

func isIntegerType(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		return true
	}
	return false
}

// int64Values returns an integer array's values as int64 (NULL slots
// unspecified); UINT64 values past the int64 range wrap.
func int64Values(arr arrow.Array) []int64 {
	switch arr.DataType().ID() {
	case arrow.INT64:
		return vec.Values[int64](arr)
	case arrow.INT8:
		return widen[int8, int64](vec.Values[int8](arr))
	case arrow.INT16:
		return widen[int16, int64](vec.Values[int16](arr))
	case arrow.INT32:
		return widen[int32, int64](vec.Values[int32](arr))
	case arrow.UINT8:
		return widen[uint8, int64](vec.Values[uint8](arr))
	case arrow.UINT16:
		return widen[uint16, int64](vec.Values[uint16](arr))
	case arrow.UINT32:
		return widen[uint32, int64](vec.Values[uint32](arr))
	case arrow.UINT64:
		return widen[uint64, int64](vec.Values[uint64](arr))
	}
	return make([]int64, arr.Len())
}

// float64Values returns a float array's values as float64.
func float64Values(arr arrow.Array) []float64 {
	switch arr.DataType().ID() {
	case arrow.FLOAT64:
		return vec.Values[float64](arr)
	case arrow.FLOAT32:
		return widen[float32, float64](vec.Values[float32](arr))
	}
	out := make([]float64, arr.Len())
	for i := range out {
		out[i] = math.NaN()
	}
	return out
}

func widen[S integer | float32, D int64 | float64](src []S) []D {
	out := make([]D, len(src))
	for i, v := range src {
		out[i] = D(v)
	}
	return out
}
