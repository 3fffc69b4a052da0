package engine

import (
	"context"
	"errors"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/internal/vec"
)

// joinOp runs HashJoin and NestedLoopJoin: it reads the right side whole
// (build), then streams the left side (probe). A probe row's candidates are
// the build rows of its key's chain (hash join) or every build row (nested
// loop); candidate pairs are gathered into batches of up to BatchRows rows
// and filtered by the residual condition.
type joinOp struct {
	ec          *ExecContext
	kind        JoinKind
	leftKeys    []expr.Expr
	rightKeys   []expr.Expr
	residual    expr.Expr
	sch         *arrow.Schema // output
	pairSch     *arrow.Schema // left then right columns, for the residual
	left, right Operator

	// Build side.
	built        bool
	build        arrow.RecordBatch
	nbuild       int
	table        *keyTable // nil for a nested loop
	head         []int32   // per key id: 1 + first build row, 0 for none
	next         []int32   // per build row: 1 + next build row of its key
	buildNull    bool      // some build key is NULL
	rightMatched []bool
	held         int64

	// Probe side.
	probe       arrow.RecordBatch
	ids         []uint32
	nullKey     []bool
	row         int   // next probe row
	cur         int32 // 1 + next candidate of row, when inChain
	inChain     bool
	leftMatched []bool
	probeDone   bool
	rightTail   int // next build row to check for the unmatched-right output
}

func openJoin(ec *ExecContext, l, r Plan, kind JoinKind, lk, rk []expr.Expr, residual expr.Expr, sch *arrow.Schema) (Operator, error) {
	left, err := OpenPlan(ec, l)
	if err != nil {
		return nil, err
	}
	right, err := OpenPlan(ec, r)
	if err != nil {
		return nil, errors.Join(err, left.Close())
	}
	return &joinOp{
		ec: ec, kind: kind, leftKeys: lk, rightKeys: rk, residual: residual, sch: sch,
		pairSch: joinSchema(JoinInner, l.Schema(), r.Schema()), left: left, right: right,
	}, nil
}

func (o *joinOp) Schema() *arrow.Schema { return o.sch }

func (o *joinOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if !o.built {
		if err := o.buildSide(ctx); err != nil {
			return nil, err
		}
		o.built = true
		if o.nbuild == 0 && (o.kind == JoinInner || o.kind == JoinSemi || o.kind == JoinRight) {
			o.probeDone = true // nothing on the left can match
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if o.probeDone {
			return o.unmatchedRight()
		}
		if o.probe == nil {
			rec, err := o.left.Next(ctx)
			if err == io.EOF {
				o.probeDone = true
				continue
			}
			if err != nil {
				return nil, err
			}
			if err := o.startProbe(ctx, rec); err != nil {
				return nil, err
			}
		}
		out, err := o.step(ctx)
		if err != nil {
			return nil, err
		}
		if out != nil {
			if out.NumRows() > 0 {
				return out, nil
			}
			out.Release()
		}
	}
}

// buildSide reads the right input whole and indexes it.
func (o *joinOp) buildSide(ctx context.Context) error {
	var recs []arrow.RecordBatch
	defer func() { releaseBatches(recs) }()
	var size int64
	for {
		rec, err := o.right.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		recs = append(recs, rec)
		n := vec.BatchSize(rec)
		if err := o.reserve(n); err != nil {
			return err
		}
		size += n
	}
	if err := o.right.Close(); err != nil {
		return err
	}
	if len(recs) != 1 {
		if err := o.reserve(size); err != nil { // the concatenation, until recs go
			return err
		}
		defer o.unreserve(size)
	}
	build, err := concatBatches(o.ec.allocator(), o.right.Schema(), recs)
	if err != nil {
		return err
	}
	o.build, o.nbuild = build, int(build.NumRows())
	if o.kind.keepsRight() {
		o.rightMatched = make([]bool, o.nbuild)
	}
	if o.leftKeys == nil {
		return nil
	}
	return o.index(ctx)
}

// index builds the hash table over the build side's keys and the chains of
// rows per key; rows with a NULL key join no chain.
func (o *joinOp) index(ctx context.Context) error {
	types := make([]arrow.DataType, len(o.rightKeys))
	for i, k := range o.rightKeys {
		types[i] = k.Type()
	}
	t, err := newKeyTable(types)
	if err != nil {
		return err
	}
	o.table = t
	ids := make([]uint32, o.nbuild)
	nullRow := make([]bool, o.nbuild)
	ectx := o.ec.evalContext(ctx)
	for lo := 0; lo < o.nbuild; lo += BatchRows {
		hi := min(o.nbuild, lo+BatchRows)
		part := o.build.NewSlice(int64(lo), int64(hi))
		keys, err := evalAll(ectx, o.rightKeys, part)
		part.Release()
		if err != nil {
			return err
		}
		t.insert(keys, hi-lo, ids[lo:hi])
		markNulls(keys, nullRow[lo:hi])
		releaseArrays(keys)
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	o.head = make([]int32, t.Len())
	o.next = make([]int32, o.nbuild)
	for b := o.nbuild - 1; b >= 0; b-- {
		if nullRow[b] {
			o.buildNull = true
			continue
		}
		id := ids[b]
		o.next[b] = o.head[id]
		o.head[id] = int32(b + 1)
	}
	return o.reserve(t.size() + int64(len(o.head)+len(o.next))*4)
}

// markNulls sets null[i] where any key of row i is NULL.
func markNulls(keys []arrow.Array, null []bool) {
	for _, k := range keys {
		if k.NullN() == 0 {
			continue
		}
		valid := vec.Validity(k)
		for i := range null {
			if !valid.Valid(i) {
				null[i] = true
			}
		}
	}
}

func (o *joinOp) reserve(n int64) error {
	if err := o.ec.Mem.Reserve(n, "hash join build side"); err != nil {
		return err
	}
	o.held += n
	return nil
}

func (o *joinOp) unreserve(n int64) {
	o.ec.Mem.Release(n)
	o.held -= n
}

// startProbe takes up a probe batch: looks up its keys.
func (o *joinOp) startProbe(ctx context.Context, rec arrow.RecordBatch) error {
	o.probe, o.row, o.inChain = rec, 0, false
	n := int(rec.NumRows())
	if o.table != nil {
		keys, err := evalAll(o.ec.evalContext(ctx), o.leftKeys, rec)
		if err != nil {
			return err
		}
		o.ids = grow32(o.ids, n)
		o.table.lookup(keys, n, o.ids)
		o.nullKey = growBool(o.nullKey, n)
		markNulls(keys, o.nullKey)
		releaseArrays(keys)
	}
	if o.residual != nil {
		o.leftMatched = growBool(o.leftMatched, n)
	}
	return nil
}

func grow32(s []uint32, n int) []uint32 {
	if cap(s) < n {
		return make([]uint32, n)
	}
	return s[:n]
}

func growBool(s []bool, n int) []bool {
	if cap(s) < n {
		s = make([]bool, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// endProbe lets go of the probe batch.
func (o *joinOp) endProbe() {
	o.probe.Release()
	o.probe = nil
}

// first is 1 + the first candidate of probe row i, 0 for none.
func (o *joinOp) first(i int) int32 {
	if o.table == nil {
		if o.nbuild > 0 {
			return 1
		}
		return 0
	}
	if o.nullKey[i] || o.ids[i] == noID {
		return 0
	}
	return o.head[o.ids[i]]
}

// after is 1 + the candidate after build row b, 0 at the end.
func (o *joinOp) after(b int32) int32 {
	if o.table == nil {
		if int(b)+1 < o.nbuild {
			return b + 2
		}
		return 0
	}
	return o.next[b]
}

// step makes the next output of the probe batch, or nil when it is done
// with it.
func (o *joinOp) step(ctx context.Context) (arrow.RecordBatch, error) {
	if o.kind.leftOnly() && o.residual == nil {
		defer o.endProbe()
		return o.semiAnti(ctx)
	}
	n := int(o.probe.NumRows())
	if o.row >= n {
		defer o.endProbe()
		return o.probeTail(ctx)
	}
	pi, bi, valid := o.pairs(n)
	return o.emitPairs(ctx, pi, bi, valid)
}

// semiAnti filters a probe batch for semi and anti joins without a
// residual: only whether a row has a candidate counts.
func (o *joinOp) semiAnti(ctx context.Context) (arrow.RecordBatch, error) {
	n := int(o.probe.NumRows())
	keep := make([]int32, 0, n)
	for i := range n {
		found := o.first(i) != 0
		var k bool
		switch o.kind {
		case JoinSemi:
			k = found
		case JoinAnti:
			k = !found
		case JoinNullAwareAnti:
			k = o.nbuild == 0 || (!o.buildNull && !o.nullKey[i] && !found)
		}
		if k {
			keep = append(keep, int32(i))
		}
	}
	return o.takeProbe(ctx, keep)
}

// takeProbe returns the probe rows keep (nil if none).
func (o *joinOp) takeProbe(ctx context.Context, keep []int32) (arrow.RecordBatch, error) {
	switch len(keep) {
	case 0:
		return nil, nil
	case int(o.probe.NumRows()):
		o.probe.Retain()
		return withSchema(o.probe, o.sch), nil
	}
	alloc := o.ec.allocator()
	ind := indexArray(alloc, keep, nil)
	defer ind.Release()
	return takeBatch(ctx, alloc, o.sch, o.probe, ind)
}

// pairs gathers up to BatchRows candidate pairs from where the probe batch
// was left; valid is false for a left row without match in a left join
// without residual, which comes out in its place.
func (o *joinOp) pairs(n int) (pi, bi []int32, valid []bool) {
	inline := o.kind.keepsLeft() && o.residual == nil
	for o.row < n && len(pi) < BatchRows {
		i := o.row
		if !o.inChain {
			c := o.first(i)
			if c == 0 {
				if inline {
					pi, bi, valid = append(pi, int32(i)), append(bi, 0), append(valid, false)
				}
				o.row++
				continue
			}
			o.cur, o.inChain = c, true
		}
		for o.cur != 0 && len(pi) < BatchRows {
			b := o.cur - 1
			pi, bi, valid = append(pi, int32(i)), append(bi, b), append(valid, true)
			o.cur = o.after(b)
		}
		if o.cur == 0 {
			o.inChain = false
			o.row++
		}
	}
	return pi, bi, valid
}

// emitPairs joins candidate pairs, applies the residual and notes matches.
func (o *joinOp) emitPairs(ctx context.Context, pi, bi []int32, valid []bool) (arrow.RecordBatch, error) {
	if len(pi) == 0 {
		return nil, nil
	}
	joined, err := o.joinRows(ctx, pi, bi, valid)
	if err != nil {
		return nil, err
	}
	if o.residual == nil {
		if o.rightMatched != nil {
			for k, b := range bi {
				if valid[k] {
					o.rightMatched[b] = true
				}
			}
		}
		return withSchema(joined, o.sch), nil
	}
	defer joined.Release()
	mask, err := o.residual.Eval(o.ec.evalContext(ctx), joined)
	if err != nil {
		return nil, err
	}
	defer mask.Release()
	if mask.DataType().ID() == arrow.NULL {
		return nil, nil
	}
	vals, mvalid := vec.Bools(mask), vec.Validity(mask)
	for k := range pi {
		if mvalid.Valid(k) && vals.Get(k) {
			o.leftMatched[pi[k]] = true
			if o.rightMatched != nil {
				o.rightMatched[bi[k]] = true
			}
		}
	}
	if o.kind.leftOnly() {
		return nil, nil
	}
	out, err := compute.FilterRecordBatch(computeContext(ctx, o.ec.allocator()), joined, mask,
		&compute.FilterOptions{NullSelection: compute.SelectionDropNulls})
	if err != nil {
		return nil, err
	}
	return withSchema(out, o.sch), nil
}

// joinRows gathers left rows pi and right rows bi (NULL where !valid) into
// a batch of pairSch.
func (o *joinOp) joinRows(ctx context.Context, pi, bi []int32, valid []bool) (arrow.RecordBatch, error) {
	alloc := o.ec.allocator()
	lind := indexArray(alloc, pi, nil)
	defer lind.Release()
	lcols, err := takeColumns(ctx, alloc, o.probe.Columns(), lind)
	if err != nil {
		return nil, err
	}
	rcols, err := o.buildColumns(ctx, bi, valid)
	if err != nil {
		releaseArrays(lcols)
		return nil, err
	}
	return newBatch(o.pairSch, append(lcols, rcols...), len(pi)), nil
}

// buildColumns gathers build rows bi (NULL where !valid).
func (o *joinOp) buildColumns(ctx context.Context, bi []int32, valid []bool) ([]arrow.Array, error) {
	alloc := o.ec.allocator()
	if o.nbuild == 0 {
		cols := make([]arrow.Array, o.build.NumCols())
		for c, f := range o.build.Schema().Fields() {
			cols[c] = array.MakeArrayOfNull(alloc, f.Type, len(bi))
		}
		return cols, nil
	}
	ind := indexArray(alloc, bi, valid)
	defer ind.Release()
	return takeColumns(ctx, alloc, o.build.Columns(), ind)
}

// probeTail is what comes out once every pair of the probe batch has been
// seen: its unmatched rows (left and full joins with a residual), or its
// matched or unmatched rows (semi and anti joins with a residual).
func (o *joinOp) probeTail(ctx context.Context) (arrow.RecordBatch, error) {
	if o.residual == nil || !(o.kind.keepsLeft() || o.kind.leftOnly()) {
		return nil, nil
	}
	var keep []int32
	for i, m := range o.leftMatched {
		if m == (o.kind == JoinSemi) {
			keep = append(keep, int32(i))
		}
	}
	if o.kind.leftOnly() {
		return o.takeProbe(ctx, keep)
	}
	if len(keep) == 0 {
		return nil, nil
	}
	joined, err := o.joinRows(ctx, keep, make([]int32, len(keep)), make([]bool, len(keep)))
	if err != nil {
		return nil, err
	}
	return withSchema(joined, o.sch), nil
}

// unmatchedRight returns the next batch of build rows that matched nothing,
// with NULL left columns (right and full joins), then io.EOF.
func (o *joinOp) unmatchedRight() (arrow.RecordBatch, error) {
	if !o.kind.keepsRight() {
		return nil, io.EOF
	}
	var rows []int32
	for o.rightTail < o.nbuild && len(rows) < BatchRows {
		if !o.rightMatched[o.rightTail] {
			rows = append(rows, int32(o.rightTail))
		}
		o.rightTail++
	}
	if len(rows) == 0 {
		return nil, io.EOF
	}
	alloc := o.ec.allocator()
	cols := make([]arrow.Array, 0, o.sch.NumFields())
	for _, f := range o.left.Schema().Fields() {
		cols = append(cols, array.MakeArrayOfNull(alloc, f.Type, len(rows)))
	}
	ind := indexArray(alloc, rows, nil)
	defer ind.Release()
	rcols, err := takeColumns(context.Background(), alloc, o.build.Columns(), ind)
	if err != nil {
		releaseArrays(cols)
		return nil, err
	}
	return newBatch(o.sch, append(cols, rcols...), len(rows)), nil
}

func (o *joinOp) Close() error {
	if o.probe != nil {
		o.endProbe()
	}
	if o.build != nil {
		o.build.Release()
		o.build = nil
	}
	o.table, o.head, o.next = nil, nil, nil
	o.ec.Mem.Release(o.held)
	o.held = 0
	o.built, o.probeDone, o.nbuild = true, true, 0
	o.rightMatched = nil
	return errors.Join(o.left.Close(), o.right.Close())
}
