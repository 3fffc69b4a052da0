package engine

import (
	"fmt"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// mergeRun is rows [start, end) of srcs[src], the source batches of the
// runs gathered together. It holds no pointer: the merge appends one a
// run, a row or two, and a pointer stored in the heap costs a write
// barrier while the GC runs.
type mergeRun struct {
	start, end int
	src        int
}

// mergeGather builds one batch of rows rows from runs of srcs, column by
// column, into buffers sized up front: fixed-width values are copied a
// run at a time, variable-width ones a run's bytes at a time with their
// offsets rebased. Each column of each source batch is looked at once,
// not once per run, since interleaved inputs give runs of a row or two.
// Types without a fast path are concatenated from slices.
func mergeGather(alloc memory.Allocator, sch *arrow.Schema, srcs []arrow.RecordBatch, runs []mergeRun, rows int) (arrow.RecordBatch, error) {
	g := mergeGatherer{alloc: alloc, runs: runs, srcs: srcs, rows: rows}
	cols := make([]arrow.Array, sch.NumFields())
	for c := range cols {
		col, err := g.column(sch.Field(c).Type, c)
		if err != nil {
			for _, done := range cols[:c] {
				done.Release()
			}
			return nil, fmt.Errorf("merge column %s: %w", sch.Field(c).Name, err)
		}
		cols[c] = col
	}
	rec := array.NewRecordBatch(sch, cols, int64(rows))
	for _, col := range cols {
		col.Release()
	}
	return rec, nil
}

type mergeGatherer struct {
	alloc memory.Allocator
	runs  []mergeRun // run i reads srcs[runs[i].src]
	srcs  []arrow.RecordBatch
	rows  int
}

func (g *mergeGatherer) column(dt arrow.DataType, c int) (arrow.Array, error) {
	switch dt.ID() {
	case arrow.INT64:
		return mergeGatherFixed(g, c, dt, (*array.Int64).Int64Values), nil
	case arrow.INT32:
		return mergeGatherFixed(g, c, dt, (*array.Int32).Int32Values), nil
	case arrow.FLOAT64:
		return mergeGatherFixed(g, c, dt, (*array.Float64).Float64Values), nil
	case arrow.TIMESTAMP:
		return mergeGatherFixed(g, c, dt, (*array.Timestamp).TimestampValues), nil
	case arrow.DATE32:
		return mergeGatherFixed(g, c, dt, (*array.Date32).Date32Values), nil
	case arrow.STRING:
		return mergeGatherVar(g, c, dt, (*array.String).ValueOffsets, (*array.String).ValueBytes), nil
	case arrow.BINARY:
		return mergeGatherVar(g, c, dt, (*array.Binary).ValueOffsets, (*array.Binary).ValueBytes), nil
	case arrow.BOOL:
		return g.bools(c), nil
	}
	slices := make([]arrow.Array, len(g.runs))
	for i, r := range g.runs {
		slices[i] = array.NewSlice(g.srcs[r.src].Column(c), int64(r.start), int64(r.end))
	}
	defer func() {
		for _, s := range slices {
			s.Release()
		}
	}()
	return array.Concatenate(slices, g.alloc)
}

// mergeSrcColumn is column c of one source batch, looked at once.
type mergeSrcColumn[A arrow.Array] struct {
	arr   A
	nulls bool
}

func mergeSrcColumns[A arrow.Array](g *mergeGatherer, c int) []mergeSrcColumn[A] {
	out := make([]mergeSrcColumn[A], len(g.srcs))
	for i, rec := range g.srcs {
		col := rec.Column(c)
		out[i] = mergeSrcColumn[A]{arr: col.(A), nulls: col.NullN() > 0}
	}
	return out
}

// newBuffer returns a buffer of n bytes from alloc.
func (g *mergeGatherer) newBuffer(n int) *memory.Buffer {
	b := memory.NewResizableBuffer(g.alloc)
	b.Resize(n)
	return b
}

// validity gathers the validity bitmap of column c when a source holds
// NULLs, returning the buffer and the null count, or nil and 0.
func (g *mergeGatherer) validity(c int) (*memory.Buffer, int) {
	type src struct {
		bitmap []byte // nil when the source has no NULL
		offset int
	}
	srcs := make([]src, len(g.srcs))
	has := false
	for i, rec := range g.srcs {
		if col := rec.Column(c); col.NullN() > 0 {
			srcs[i] = src{bitmap: col.NullBitmapBytes(), offset: col.Data().Offset()}
			has = true
		}
	}
	if !has {
		return nil, 0
	}
	buf := g.newBuffer(int(bitutil.BytesForBits(int64(g.rows))))
	bits := buf.Bytes()
	clear(bits)
	pos := 0
	for _, r := range g.runs {
		s := srcs[r.src]
		if s.bitmap == nil {
			bitutil.SetBitsTo(bits, int64(pos), int64(r.end-r.start), true)
			pos += r.end - r.start
			continue
		}
		for j := r.start; j < r.end; j++ {
			if bitutil.BitIsSet(s.bitmap, s.offset+j) {
				bitutil.SetBit(bits, pos)
			}
			pos++
		}
	}
	return buf, g.rows - bitutil.CountSetBits(bits, 0, g.rows)
}

// mergeGatherFixed copies fixed-width values into one buffer, a run at a
// time (a single value by assignment: interleaved inputs give runs of a
// row or two); a NULL's slot keeps whatever value its source had.
func mergeGatherFixed[T arrow.FixedWidthType, A arrow.Array](g *mergeGatherer, c int, dt arrow.DataType, values func(A) []T) arrow.Array {
	vals := make([][]T, len(g.srcs))
	for i, rec := range g.srcs {
		vals[i] = values(rec.Column(c).(A))
	}
	valid, nulls := g.validity(c)
	buf := g.newBuffer(g.rows * int(unsafe.Sizeof(*new(T))))
	out := arrow.GetData[T](buf.Bytes())[:g.rows]
	pos := 0
	for _, r := range g.runs {
		v := vals[r.src]
		if r.end-r.start == 1 {
			out[pos] = v[r.start]
			pos++
			continue
		}
		pos += copy(out[pos:], v[r.start:r.end])
	}
	return mergeNewArray(dt, g.rows, nulls, valid, buf)
}

// mergeGatherVar copies variable-width values into one data buffer, the
// bytes of each run in one copy, and rebases their offsets. Interleaved
// inputs give runs of a row or two of short values, so a run of at most
// mergeShortCopy bytes is copied as one fixed-size block (a few moves,
// where copy calls memmove): the data buffer has that much slack, and
// what the block writes past the run is overwritten by the next one.
func mergeGatherVar[A arrow.Array](g *mergeGatherer, c int, dt arrow.DataType, offsets func(A) []int32, data func(A) []byte) arrow.Array {
	// A source's offsets and bytes side by side: a run looks them up
	// with one index.
	type varSrc struct {
		offs []int32
		data []byte // from the first value: value i starts at offs[i]-base
		base int32
	}
	srcs := make([]varSrc, len(g.srcs))
	for i, rec := range g.srcs {
		a := rec.Column(c).(A)
		o := offsets(a)
		srcs[i] = varSrc{offs: o, data: data(a), base: o[0]}
	}
	size := 0
	for _, r := range g.runs {
		o := srcs[r.src].offs
		size += int(o[r.end] - o[r.start])
	}
	valid, nulls := g.validity(c)
	offBuf := g.newBuffer((g.rows + 1) * 4)
	outOffs := arrow.GetData[int32](offBuf.Bytes())[:g.rows+1]
	dataBuf := g.newBuffer(size + mergeShortCopy)
	outData := dataBuf.Bytes()
	pos, at := 0, int32(0)
	for _, r := range g.runs {
		s := &srcs[r.src]
		start, end := s.offs[r.start], s.offs[r.end]
		if src := s.data[start-s.base:]; end-start <= mergeShortCopy && len(src) >= mergeShortCopy {
			// Two 16-byte moves, loaded first: a 32-byte array
			// assignment compiles to a call of memmove.
			lo, hi := *(*[16]byte)(src), *(*[16]byte)(src[16:])
			dst := outData[at : at+mergeShortCopy : at+mergeShortCopy]
			*(*[16]byte)(dst), *(*[16]byte)(dst[16:]) = lo, hi
		} else {
			copy(outData[at:], src[:end-start])
		}
		if r.end-r.start == 1 {
			outOffs[pos] = at
			pos++
		} else {
			shift := at - start
			for j := r.start; j < r.end; j++ {
				outOffs[pos] = s.offs[j] + shift
				pos++
			}
		}
		at += end - start
	}
	outOffs[g.rows] = at
	dataBuf.ResizeNoShrink(size)
	return mergeNewArray(dt, g.rows, nulls, valid, offBuf, dataBuf)
}

// mergeShortCopy is the largest run of variable-width bytes that
// mergeGatherVar copies as a block.
const mergeShortCopy = 32

// mergeNewArray makes an array of the given buffers after the validity
// bitmap (nil when no NULLs), which it takes over.
func mergeNewArray(dt arrow.DataType, rows, nulls int, valid *memory.Buffer, bufs ...*memory.Buffer) arrow.Array {
	data := array.NewData(dt, rows, append([]*memory.Buffer{valid}, bufs...), nil, nulls, 0)
	arr := array.MakeFromData(data)
	data.Release()
	if valid != nil {
		valid.Release()
	}
	for _, b := range bufs {
		b.Release()
	}
	return arr
}

func (g *mergeGatherer) bools(c int) arrow.Array {
	b := array.NewBooleanBuilder(g.alloc)
	defer b.Release()
	b.Reserve(g.rows)
	srcs := mergeSrcColumns[*array.Boolean](g, c)
	for _, r := range g.runs {
		s := srcs[r.src]
		for j := r.start; j < r.end; j++ {
			if s.nulls && s.arr.IsNull(j) {
				b.AppendNull()
			} else {
				b.UnsafeAppend(s.arr.Value(j))
			}
		}
	}
	return b.NewArray()
}
