package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine/internal/vec"
	"github.com/dormousedb/dormouse/storage/ingest"
)

// Sort orders the rows of Input by Keys, stably (rows with equal keys keep
// their input order), NULLs placed as each key's NullsFirst says.
//
// Rows whose columns the storage sorter can carry (BIGINT, INTEGER,
// DOUBLE, BOOLEAN, VARCHAR, VARBINARY, TIMESTAMP, DATE) go through
// ingest.Sorter, an external sort: it works within a budget reserved from
// ec.Mem (up to ingest.DefaultSortMemory, less if the pool has less to
// give) and spills sorted runs to ec.TempDir past it. Rows with other
// column types are sorted in memory, reserved from ec.Mem, and fail with
// 53200 past the limit.
type Sort struct {
	Input Plan
	Keys  []SortKey
}

func (s *Sort) Schema() *arrow.Schema { return s.Input.Schema() }
func (s *Sort) Children() []Plan      { return []Plan{s.Input} }
func (s *Sort) WithChildren(c ...Plan) Plan {
	n := *s
	n.Input = c[0]
	return &n
}
func (s *Sort) Ordering() []SortKey { return s.Keys }
func (s *Sort) Describe() string {
	return fmt.Sprintf("Sort by %s", describeKeys(s.Input.Schema(), s.Keys))
}

func (s *Sort) Open(ec *ExecContext) (Operator, error) {
	in, err := OpenPlan(ec, s.Input)
	if err != nil {
		return nil, err
	}
	op, err := newSortOp(ec, in, s.Keys)
	if err != nil {
		return nil, errors.Join(err, in.Close())
	}
	return op, nil
}

// minSortBudget is the least memory a sort starts with.
const minSortBudget = 64 << 10

// newSortOp sorts the output of an open operator (which it closes).
func newSortOp(ec *ExecContext, in Operator, keys []SortKey) (*sortOp, error) {
	sch := in.Schema()
	enc, err := NewSortKeyEncoder(sch, keys)
	if err != nil {
		return nil, err
	}
	external := true
	for _, f := range sch.Fields() {
		if !ingest.SortableType(f.Type) {
			external = false
		}
	}
	return &sortOp{ec: ec, input: in, sch: sch, enc: enc, external: external}, nil
}

type sortOp struct {
	ec       *ExecContext
	input    Operator
	sch      *arrow.Schema
	enc      *SortKeyEncoder
	external bool
	held     int64

	read   bool
	sorter *ingest.Sorter
	sorted *ingest.Sorted
	// In memory: the rows, and their order.
	all  arrow.RecordBatch
	perm []int32
	pos  int

	stats ingest.SortStats // the sorter's, kept at Close
}

func (o *sortOp) Schema() *arrow.Schema { return o.sch }

func (o *sortOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !o.read {
		var err error
		if o.external {
			err = o.sortExternal(ctx)
		} else {
			err = o.sortInMemory(ctx)
		}
		if err != nil {
			return nil, err
		}
		o.read = true
	}
	if o.sorted != nil {
		b, err := o.sorted.Next()
		if err != nil {
			return nil, err
		}
		return withSchema(b.Rec, o.sch), nil
	}
	return o.nextInMemory(ctx)
}

// keyFunc adapts the encoder to the sorter's per-row KeyFunc, binding each
// batch once.
func (o *sortOp) keyFunc() ingest.KeyFunc {
	var bound arrow.RecordBatch
	return func(dst []byte, rec arrow.RecordBatch, row int) []byte {
		if rec != bound {
			o.enc.Bind(rec)
			bound = rec
		}
		return o.enc.Append(dst, row)
	}
}

// sortExternal feeds the input to an external sorter.
func (o *sortOp) sortExternal(ctx context.Context) error {
	budget, err := reserveBudget(o.ec.Mem, ingest.DefaultSortMemory, minSortBudget, "sort")
	if err != nil {
		return err
	}
	o.held = budget
	// Every field nullable: the sorter keeps NULLs only where the schema
	// allows them, and a plan's nullability is a promise, not a check.
	sorterSch := arrow.NewSchema(nullableFields(o.sch), nil)
	o.sorter, err = ingest.NewArrowSorter(sorterSch, ingest.SortOptions{
		MemoryBytes: budget, TempDir: o.ec.TempDirOrDefault(), BatchRows: BatchRows, Allocator: o.ec.allocator(),
	}, o.keyFunc())
	if err != nil {
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := o.input.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		rec = withSchema(rec, sorterSch)
		err = o.sorter.Add(rec)
		rec.Release()
		if err != nil {
			return fmt.Errorf("sort: %w", err)
		}
	}
	if err := o.input.Close(); err != nil {
		return err
	}
	sorted, err := o.sorter.Finish()
	if err != nil {
		return fmt.Errorf("sort: %w", err)
	}
	o.sorted = sorted
	return nil
}

// reserveBudget reserves as much of want as the pool gives, halving down to
// least, or returns the pool's 53200 error.
func reserveBudget(mem *MemoryPool, want, least int64, what string) (int64, error) {
	if l := mem.Limit(); l > 0 {
		want = min(want, l)
	}
	for n := want; n >= least; n /= 2 {
		if mem.TryReserve(n) {
			return n, nil
		}
	}
	return 0, mem.Reserve(least, what)
}

// sortInMemory reads the input whole and orders it by encoded keys.
func (o *sortOp) sortInMemory(ctx context.Context) error {
	var recs []arrow.RecordBatch
	defer func() { releaseBatches(recs) }()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := o.input.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		recs = append(recs, rec)
		if err := o.reserve(2 * vec.BatchSize(rec)); err != nil { // the rows, and their copy
			return err
		}
	}
	if err := o.input.Close(); err != nil {
		return err
	}
	all, err := concatBatches(o.ec.allocator(), o.sch, recs)
	if err != nil {
		return err
	}
	o.all = all
	n := int(all.NumRows())
	o.enc.Bind(all)
	keys, ends := o.enc.AppendAll(nil, make([]int, 0, n), n)
	if err := o.reserve(int64(len(keys) + 12*n)); err != nil {
		return err
	}
	key := func(i int32) []byte {
		start := 0
		if i > 0 {
			start = ends[i-1]
		}
		return keys[start:ends[i]]
	}
	o.perm = make([]int32, n)
	for i := range o.perm {
		o.perm[i] = int32(i)
	}
	slices.SortStableFunc(o.perm, func(a, b int32) int { return bytes.Compare(key(a), key(b)) })
	return nil
}

func (o *sortOp) reserve(n int64) error {
	if err := o.ec.Mem.Reserve(n, "sort"); err != nil {
		return err
	}
	o.held += n
	return nil
}

func (o *sortOp) nextInMemory(ctx context.Context) (arrow.RecordBatch, error) {
	if o.all == nil || o.pos >= len(o.perm) {
		return nil, io.EOF
	}
	hi := min(len(o.perm), o.pos+BatchRows)
	alloc := o.ec.allocator()
	ind := indexArray(alloc, o.perm[o.pos:hi], nil)
	defer ind.Release()
	o.pos = hi
	return takeBatch(ctx, alloc, o.sch, o.all, ind)
}

func (o *sortOp) Close() error {
	var errs []error
	if o.sorted != nil {
		o.stats = o.sorted.Stats()
		errs = append(errs, o.sorted.Close())
		o.sorted = nil
	}
	if o.sorter != nil {
		errs = append(errs, o.sorter.Close())
		o.sorter = nil
	}
	if o.all != nil {
		o.all.Release()
		o.all = nil
	}
	o.perm = nil
	o.read = true
	o.ec.Mem.Release(o.held)
	o.held = 0
	errs = append(errs, o.input.Close())
	return errors.Join(errs...)
}

// sorterStats reports what the external sorter did (zero for an in-memory
// sort).
func (o *sortOp) sorterStats() ingest.SortStats {
	if o.sorted != nil {
		return o.sorted.Stats()
	}
	return o.stats
}
