package expr

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

const benchRows = 1 << 20

// benchBatch is a batch of benchRows rows: c0, c1 bigint, c2 double, c3
// text (one row in eight NULL in c1).
func benchBatch(b *testing.B) arrow.RecordBatch {
	b.Helper()
	alloc := memory.NewGoAllocator()
	r := rand.New(rand.NewPCG(1, 2))
	i0 := array.NewInt64Builder(alloc)
	i1 := array.NewInt64Builder(alloc)
	f2 := array.NewFloat64Builder(alloc)
	s3 := array.NewStringBuilder(alloc)
	for i := 0; i < benchRows; i++ {
		i0.Append(r.Int64N(1_000_000))
		if i%8 == 0 {
			i1.AppendNull()
		} else {
			i1.Append(r.Int64N(1_000_000))
		}
		f2.Append(r.Float64())
		s3.Append(fmt.Sprintf("%03x-%d", r.IntN(4096), i))
	}
	return batch(i0.NewArray(), i1.NewArray(), f2.NewArray(), s3.NewArray())
}

func runBench(b *testing.B, e Expr) {
	rec := benchBatch(b)
	defer rec.Release()
	ctx := &Context{Alloc: memory.NewGoAllocator()}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		a, err := e.Eval(ctx, rec)
		if err != nil {
			b.Fatal(err)
		}
		a.Release()
	}
	cpu = cpuTime() - cpu
	rows := float64(benchRows) * float64(b.N)
	b.ReportMetric(rows/b.Elapsed().Seconds(), "rows/s")
	if cpu > 0 {
		// CPU time per row: steadier than wall time on a shared machine.
		b.ReportMetric(float64(cpu.Nanoseconds())/rows, "cpu-ns/row")
	}
}

func BenchmarkCompare(b *testing.B) {
	b.Run("bigint>const", func(b *testing.B) { runBench(b, mk(Compare(">", B0, i8(500_000)))) })
	b.Run("bigint<bigint", func(b *testing.B) { runBench(b, mk(Compare("<", B0, B1))) })
	b.Run("double<=const", func(b *testing.B) { runBench(b, mk(Compare("<=", col(2, Float8Type), f8(0.5)))) })
	b.Run("text=const", func(b *testing.B) { runBench(b, mk(Compare("=", col(3, TextType), u("abc-17")))) })
	b.Run("bigint IN 5 consts", func(b *testing.B) {
		runBench(b, mk(In(B0, []Expr{i8(1), i8(10), i8(100), i8(1000), i8(10000)}, false)))
	})
	b.Run("BETWEEN", func(b *testing.B) { runBench(b, mk(Between(B0, i8(1000), i8(200_000), false, false))) })
}

func BenchmarkArith(b *testing.B) {
	b.Run("bigint+bigint", func(b *testing.B) { runBench(b, mk(Arith("+", B0, B1))) })
	b.Run("bigint*const", func(b *testing.B) { runBench(b, mk(Arith("*", B0, i8(3)))) })
	b.Run("bigint/const", func(b *testing.B) { runBench(b, mk(Arith("/", B0, i8(7)))) })
	b.Run("double*double", func(b *testing.B) { runBench(b, mk(Arith("*", col(2, Float8Type), col(2, Float8Type)))) })
	b.Run("(a+1)>b", func(b *testing.B) { runBench(b, mk(Compare(">", mk(Arith("+", B0, i8(1))), B1))) })
}

func BenchmarkLikePrefix(b *testing.B) {
	b.Run("LIKE 'abc%'", func(b *testing.B) { runBench(b, mk(Like(col(3, TextType), u("abc%"), false, false))) })
	b.Run("LIKE '%-17%'", func(b *testing.B) { runBench(b, mk(Like(col(3, TextType), u("%-17%"), false, false))) })
	b.Run("LIKE 'a_c%'", func(b *testing.B) { runBench(b, mk(Like(col(3, TextType), u("a_c%"), false, false))) })
}

func BenchmarkCase(b *testing.B) {
	b.Run("CASE WHEN b=0 THEN 0 ELSE a/b END", func(b *testing.B) {
		runBench(b, mk(Case(nil, []When{{Cond: mk(Compare("=", B1, i8(0))), Result: i8(0)}}, mk(Arith("/", B0, B1)))))
	})
}
