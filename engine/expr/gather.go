package expr

import (
	"fmt"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Lazy evaluation. PostgreSQL evaluates a CASE branch, a COALESCE argument
// or the right side of AND/OR only for the rows that need it, so that
// CASE WHEN x = 0 THEN 0 ELSE 1/x END never divides by zero. Vectorised,
// that is: gather the rows that take a branch into a smaller batch,
// evaluate the branch there, and gather the pieces back into one result.

// gather builds an array of len(pos) values of type dt whose row i is row
// pos[i] of parts[which[i]] — NULL where which[i] < 0. which nil means
// every row comes from parts[0].
func gather(alloc memory.Allocator, dt arrow.DataType, parts []arrow.Array, which, pos []int32) (arrow.Array, error) {
	n := len(pos)
	switch kindOf(dt) {
	case kBool:
		return gatherBool(alloc, parts, which, pos), nil
	case kInt2:
		return gatherFixed[int16](alloc, dt, parts, which, pos), nil
	case kInt4, kDate:
		return gatherFixed[int32](alloc, dt, parts, which, pos), nil
	case kInt8, kTimestamp, kTimestampTZ:
		return gatherFixed[int64](alloc, dt, parts, which, pos), nil
	case kFloat4:
		return gatherFixed[float32](alloc, dt, parts, which, pos), nil
	case kFloat8:
		return gatherFixed[float64](alloc, dt, parts, which, pos), nil
	case kInterval:
		return gatherFixed[arrow.MonthDayNanoInterval](alloc, dt, parts, which, pos), nil
	case kText, kBytea:
		return gatherBinary(alloc, dt, parts, which, pos), nil
	case kUnknown:
		return array.NewNull(n), nil
	}
	if isNested(dt) {
		return gatherNested(alloc, dt, parts, which, pos)
	}
	return nil, fmt.Errorf("expr: cannot gather values of type %s", dt)
}

// gatherValidity is the validity of a gathered result, nil when no row
// is NULL.
func gatherValidity(alloc memory.Allocator, parts []arrow.Array, which, pos []int32) *memory.Buffer {
	type src struct {
		bits []byte // nil: no NULLs
		off  int
		all  bool // every value NULL (type null)
	}
	srcs := make([]src, len(parts))
	nulls := false
	for k, p := range parts {
		if p.NullN() > 0 {
			srcs[k].bits, srcs[k].off = bitsOf(p, 0)
			srcs[k].all = srcs[k].bits == nil
			nulls = true
		}
	}
	if !nulls && which != nil {
		for _, w := range which {
			if w < 0 {
				nulls = true
				break
			}
		}
	}
	if !nulls {
		return nil
	}
	buf, vb := newBitmap(alloc, len(pos))
	for i, p := range pos {
		w := int32(0)
		if which != nil {
			w = which[i]
		}
		if w < 0 {
			continue
		}
		if s := srcs[w]; !s.all && (s.bits == nil || bitutil.BitIsSet(s.bits, s.off+int(p))) {
			bitutil.SetBit(vb, i)
		}
	}
	return buf
}

func gatherFixed[T fixed](alloc memory.Allocator, dt arrow.DataType, parts []arrow.Array, which, pos []int32) arrow.Array {
	buf, out := newFixed[T](alloc, len(pos))
	if which == nil {
		src := vals[T](parts[0])
		for i, p := range pos {
			out[i] = src[p]
		}
	} else {
		srcs := make([][]T, len(parts))
		for k, p := range parts {
			srcs[k] = vals[T](p)
		}
		var zero T
		for i, p := range pos {
			if w := which[i]; w >= 0 {
				out[i] = srcs[w][p]
			} else {
				out[i] = zero
			}
		}
	}
	return makeArray(dt, len(pos), gatherValidity(alloc, parts, which, pos), buf)
}

func gatherBool(alloc memory.Allocator, parts []arrow.Array, which, pos []int32) arrow.Array {
	buf, out := newBitmap(alloc, len(pos))
	type src struct {
		bits []byte
		off  int
	}
	srcs := make([]src, len(parts))
	for k, p := range parts {
		srcs[k].bits, srcs[k].off = bitsOf(p, 1)
	}
	for i, p := range pos {
		w := int32(0)
		if which != nil {
			w = which[i]
		}
		if w >= 0 && bitutil.BitIsSet(srcs[w].bits, srcs[w].off+int(p)) {
			bitutil.SetBit(out, i)
		}
	}
	return makeArray(BoolType, len(pos), gatherValidity(alloc, parts, which, pos), buf)
}

func gatherBinary(alloc memory.Allocator, dt arrow.DataType, parts []arrow.Array, which, pos []int32) arrow.Array {
	views := make([]binaryView, len(parts))
	for k, p := range parts {
		views[k] = viewOf(p)
	}
	n := len(pos)
	obuf, offs := newFixed[int32](alloc, n+1)
	total := int32(0)
	offs[0] = 0
	for i, p := range pos {
		w := int32(0)
		if which != nil {
			w = which[i]
		}
		if w >= 0 {
			v := views[w]
			total += v.offs[p+1] - v.offs[p]
		}
		offs[i+1] = total
	}
	dbuf := memory.NewResizableBuffer(alloc)
	dbuf.Resize(int(total))
	data := dbuf.Bytes()
	for i, p := range pos {
		w := int32(0)
		if which != nil {
			w = which[i]
		}
		if w >= 0 {
			copy(data[offs[i]:offs[i+1]], views[w].at(int(p)))
		}
	}
	return makeArray(dt, n, gatherValidity(alloc, parts, which, pos), obuf, dbuf)
}

// take returns the rows of a at the given indices.
func take(alloc memory.Allocator, a arrow.Array, rows []int32) (arrow.Array, error) {
	return gather(alloc, a.DataType(), []arrow.Array{a}, nil, rows)
}

// evalRows evaluates e on the rows of rec at the given ascending indices,
// returning len(rows) values. Only the columns e reads are gathered.
func evalRows(ctx *Context, e Expr, rec arrow.RecordBatch, rows []int32) (arrow.Array, error) {
	n := int(rec.NumRows())
	if len(rows) == n {
		return e.Eval(ctx, rec)
	}
	sub, err := subBatch(ctx.Alloc, rec, Columns(e), rows)
	if err != nil {
		return nil, err
	}
	defer sub.Release()
	return e.Eval(ctx, sub)
}

// subBatch is rec's rows at the given indices, with only the listed
// columns filled in; the others are all-NULL columns of type null.
func subBatch(alloc memory.Allocator, rec arrow.RecordBatch, cols []int, rows []int32) (arrow.RecordBatch, error) {
	m := len(rows)
	nc := int(rec.NumCols())
	fields := make([]arrow.Field, nc)
	arrs := make([]arrow.Array, nc)
	defer func() {
		for _, a := range arrs {
			if a != nil {
				a.Release()
			}
		}
	}()
	for i := 0; i < nc; i++ {
		fields[i] = arrow.Field{Name: rec.ColumnName(i), Type: arrow.Null, Nullable: true}
	}
	for _, c := range cols {
		if c >= nc {
			continue
		}
		t, err := take(alloc, rec.Column(c), rows)
		if err != nil {
			return nil, err
		}
		arrs[c] = t
		fields[c].Type = t.DataType()
	}
	for i := range arrs {
		if arrs[i] == nil {
			arrs[i] = array.NewNull(m)
		}
	}
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, int64(m)), nil
}

// selectRows lists the rows of a boolean array that are true (when want)
// or not true — false or NULL — (when !want). When a covers only the rows
// listed in among, the result is in the original batch's positions.
func selectRows(a arrow.Array, among []int32, want bool) []int32 {
	n := a.Len()
	rows := make([]int32, 0, n)
	data, off := bitsOf(a, 1)
	valid, voff := bitsOf(a, 0)
	if a.NullN() == 0 {
		valid = nil
	}
	emit := func(r int) {
		if among != nil {
			rows = append(rows, among[r])
		} else {
			rows = append(rows, int32(r))
		}
	}
	if a.NullN() == n || data == nil {
		if !want {
			for r := 0; r < n; r++ {
				emit(r)
			}
		}
		return rows
	}
	if off%8 != 0 || (valid != nil && voff%8 != 0) {
		for r := 0; r < n; r++ {
			if (validAt(valid, voff, r) && bitutil.BitIsSet(data, off+r)) == want {
				emit(r)
			}
		}
		return rows
	}
	data = data[off/8:]
	if valid != nil {
		valid = valid[voff/8:]
	}
	for k := 0; k*8 < n; k++ {
		b := data[k]
		if valid != nil {
			b &= valid[k]
		}
		if !want {
			b = ^b
		}
		if rest := n - k*8; rest < 8 {
			b &= byte(1)<<rest - 1
		}
		for b != 0 {
			emit(k*8 + bits.TrailingZeros8(b))
			b &= b - 1
		}
	}
	return rows
}

// iota32 is 0, 1, …, n-1.
func iota32(n int) []int32 {
	r := make([]int32, n)
	for i := range r {
		r[i] = int32(i)
	}
	return r
}
