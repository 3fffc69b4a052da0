package engine

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/engine/expr"
)

// batchesPlan replays prepared batches (retained per Next), so that
// benchmarks measure the operator, not the input.
type batchesPlan struct {
	sch  *arrow.Schema
	recs []arrow.RecordBatch
}

func (p *batchesPlan) Schema() *arrow.Schema     { return p.sch }
func (p *batchesPlan) Children() []Plan          { return nil }
func (p *batchesPlan) WithChildren(...Plan) Plan { return p }
func (p *batchesPlan) Ordering() []SortKey       { return nil }
func (p *batchesPlan) Describe() string          { return "Batches" }
func (p *batchesPlan) Open(*ExecContext) (Operator, error) {
	return &batchesOp{p: p}, nil
}

type batchesOp struct {
	p *batchesPlan
	i int
}

func (o *batchesOp) Schema() *arrow.Schema { return o.p.sch }
func (o *batchesOp) Next(context.Context) (arrow.RecordBatch, error) {
	if o.i >= len(o.p.recs) {
		return nil, io.EOF
	}
	r := o.p.recs[o.i]
	o.i++
	r.Retain()
	return r, nil
}
func (o *batchesOp) Close() error { return nil }

// benchInput makes rows of (k int64 in [0, groups), x int64, s string).
func benchInput(rows, groups int) *batchesPlan {
	sch := tSchema("k", tI64, "x", tI64, "f", tF64)
	rng := rand.New(rand.NewPCG(1, 1))
	p := &batchesPlan{sch: sch}
	for lo := 0; lo < rows; lo += BatchRows {
		n := min(BatchRows, rows-lo)
		kb, xb, fb := array.NewInt64Builder(memory.DefaultAllocator), array.NewInt64Builder(memory.DefaultAllocator), array.NewFloat64Builder(memory.DefaultAllocator)
		for range n {
			kb.Append(int64(rng.IntN(groups)))
			xb.Append(int64(rng.IntN(1000)))
			fb.Append(rng.Float64())
		}
		cols := []arrow.Array{kb.NewArray(), xb.NewArray(), fb.NewArray()}
		p.recs = append(p.recs, newBatch(sch, cols, n))
	}
	return p
}

func BenchmarkHashAggregate(b *testing.B) {
	const rows = 1 << 20
	for _, groups := range []int{0, 10, 100_000} {
		b.Run(fmt.Sprintf("groups=%d", groups), func(b *testing.B) {
			in := benchInput(rows, max(groups, 1))
			var keys []expr.Expr
			if groups > 0 {
				keys = []expr.Expr{tCol(0, "k", tI64)}
			}
			x, f := tCol(1, "x", tI64), tCol(2, "f", tF64)
			p := &HashAggregate{Input: in, GroupBy: keys, Aggs: []AggCall{call("count"), call("sum", x), call("avg", f), call("max", x)}}
			ec := &ExecContext{Ctx: context.Background(), Mem: NewMemoryPool(1 << 30)}
			b.ResetTimer()
			for range b.N {
				op, err := OpenPlan(ec, p)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := Drain(context.Background(), op); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func BenchmarkSort(b *testing.B) {
	const rows = 1 << 20
	in := benchInput(rows, rows)
	for _, c := range []struct {
		name  string
		limit int64
	}{{"in-memory", 1 << 30}, {"spilling", 32 << 20}} {
		b.Run(c.name, func(b *testing.B) {
			p := &Sort{Input: in, Keys: []SortKey{Asc(0), Desc(2)}}
			ec := &ExecContext{Ctx: context.Background(), Mem: NewMemoryPool(c.limit), TempDir: b.TempDir()}
			b.ResetTimer()
			for range b.N {
				op, err := OpenPlan(ec, p)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := Drain(context.Background(), op); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func BenchmarkTopN(b *testing.B) {
	const rows = 1 << 20
	in := benchInput(rows, rows)
	p := &TopN{Input: in, Keys: []SortKey{Asc(0)}, N: 100}
	ec := &ExecContext{Ctx: context.Background(), Mem: NewMemoryPool(1 << 30)}
	for range b.N {
		op, err := OpenPlan(ec, p)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Drain(context.Background(), op); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkHashJoin(b *testing.B) {
	const rows = 1 << 20
	probe := benchInput(rows, 100_000)
	build := benchInput(100_000, 100_000)
	k := []expr.Expr{tCol(0, "k", tI64)}
	p := &HashJoin{Left: probe, Right: build, Kind: JoinSemi, LeftKeys: k, RightKeys: k}
	ec := &ExecContext{Ctx: context.Background(), Mem: NewMemoryPool(1 << 30)}
	for range b.N {
		op, err := OpenPlan(ec, p)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Drain(context.Background(), op); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
