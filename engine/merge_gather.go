package engine

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// mergeRun is rows [start, end) of a batch, which the run holds a
// reference to.
type mergeRun struct {
	rec        arrow.RecordBatch
	start, end int
}

// mergeGather builds one batch of rows rows from runs, column by column:
// fixed-width values are copied a run at a time, variable-width ones a
// value at a time into a builder sized up front. Each column of each
// source batch is looked at once, not once per run, since interleaved
// inputs give runs of a row or two. Types without a fast path are
// concatenated from slices.
func mergeGather(alloc memory.Allocator, sch *arrow.Schema, runs []mergeRun, rows int) (arrow.RecordBatch, error) {
	// Number the distinct source batches; there are few (about one per
	// input), so a linear search beats a map.
	var srcs []arrow.RecordBatch
	src := make([]int, len(runs))
	for i, r := range runs {
		j := len(srcs) - 1
		for j >= 0 && srcs[j] != r.rec {
			j--
		}
		if j < 0 {
			j = len(srcs)
			srcs = append(srcs, r.rec)
		}
		src[i] = j
	}
	g := mergeGatherer{alloc: alloc, runs: runs, src: src, srcs: srcs, rows: rows}
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
	runs  []mergeRun
	src   []int // runs[i] reads srcs[src[i]]
	srcs  []arrow.RecordBatch
	rows  int
}

func (g *mergeGatherer) column(dt arrow.DataType, c int) (arrow.Array, error) {
	switch dt.ID() {
	case arrow.INT64:
		return mergeGatherFixed(g, c, array.NewInt64Builder(g.alloc), (*array.Int64).Int64Values), nil
	case arrow.INT32:
		return mergeGatherFixed(g, c, array.NewInt32Builder(g.alloc), (*array.Int32).Int32Values), nil
	case arrow.FLOAT64:
		return mergeGatherFixed(g, c, array.NewFloat64Builder(g.alloc), (*array.Float64).Float64Values), nil
	case arrow.TIMESTAMP:
		return mergeGatherFixed(g, c, array.NewTimestampBuilder(g.alloc, dt.(*arrow.TimestampType)), (*array.Timestamp).TimestampValues), nil
	case arrow.DATE32:
		return mergeGatherFixed(g, c, array.NewDate32Builder(g.alloc), (*array.Date32).Date32Values), nil
	case arrow.STRING:
		b := array.NewStringBuilder(g.alloc)
		return mergeGatherVar(g, c, b, (*array.String).ValueOffsets, (*array.String).ValueBytes, b.BinaryBuilder.Append), nil
	case arrow.BINARY:
		b := array.NewBinaryBuilder(g.alloc, arrow.BinaryTypes.Binary)
		return mergeGatherVar(g, c, b, (*array.Binary).ValueOffsets, (*array.Binary).ValueBytes, b.Append), nil
	case arrow.BOOL:
		return g.bools(c), nil
	}
	slices := make([]arrow.Array, len(g.runs))
	for i, r := range g.runs {
		slices[i] = array.NewSlice(r.rec.Column(c), int64(r.start), int64(r.end))
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

// mergeFixedBuilder is the part of arrow's fixed-width builders that
// mergeGatherFixed uses.
type mergeFixedBuilder[T any] interface {
	array.Builder
	AppendValues(v []T, valid []bool)
	UnsafeAppend(v T)
}

// mergeGatherFixed copies fixed-width values a run at a time (a value at
// a time where a source holds NULLs).
func mergeGatherFixed[T any, A arrow.Array, B mergeFixedBuilder[T]](g *mergeGatherer, c int, b B, values func(A) []T) arrow.Array {
	defer b.Release()
	b.Reserve(g.rows)
	srcs := mergeSrcColumns[A](g, c)
	vals := make([][]T, len(srcs))
	for i, s := range srcs {
		vals[i] = values(s.arr)
	}
	for i, r := range g.runs {
		s, v := srcs[g.src[i]], vals[g.src[i]]
		if !s.nulls {
			if r.end-r.start == 1 {
				b.UnsafeAppend(v[r.start])
			} else {
				b.AppendValues(v[r.start:r.end], nil)
			}
			continue
		}
		for j := r.start; j < r.end; j++ {
			if s.arr.IsNull(j) {
				b.AppendNull()
			} else {
				b.UnsafeAppend(v[j])
			}
		}
	}
	return b.NewArray()
}

// mergeVarBuilder is the part of arrow's string and binary builders that
// mergeGatherVar uses.
type mergeVarBuilder interface {
	array.Builder
	ReserveData(n int)
}

// mergeGatherVar copies variable-width values one at a time into a
// builder whose data buffer is sized once.
func mergeGatherVar[A arrow.Array, O int32 | int64](g *mergeGatherer, c int, b mergeVarBuilder, offsets func(A) []O, data func(A) []byte, appendBytes func([]byte)) arrow.Array {
	defer b.Release()
	srcs := mergeSrcColumns[A](g, c)
	offs := make([][]O, len(srcs))
	datas := make([][]byte, len(srcs))
	size := 0
	for i, s := range srcs {
		offs[i], datas[i] = offsets(s.arr), data(s.arr)
	}
	for i, r := range g.runs {
		o := offs[g.src[i]]
		size += int(o[r.end] - o[r.start])
	}
	b.Reserve(g.rows)
	b.ReserveData(size)
	for i, r := range g.runs {
		s, o, d := srcs[g.src[i]], offs[g.src[i]], datas[g.src[i]]
		base := o[0] // ValueBytes starts at the array's first value
		for j := r.start; j < r.end; j++ {
			if s.nulls && s.arr.IsNull(j) {
				b.AppendNull()
				continue
			}
			appendBytes(d[o[j]-base : o[j+1]-base])
		}
	}
	return b.NewArray()
}

func (g *mergeGatherer) bools(c int) arrow.Array {
	b := array.NewBooleanBuilder(g.alloc)
	defer b.Release()
	b.Reserve(g.rows)
	srcs := mergeSrcColumns[*array.Boolean](g, c)
	for i, r := range g.runs {
		s := srcs[g.src[i]]
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
