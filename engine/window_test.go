package engine

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"

	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// windowOracle computes a call for every row (by its seq, column 3) the
// slow way: sort stably by partition then order, then walk.
func windowOracle(rows [][]any, fn string, arg int, part []int, order []SortKey) map[int64]any {
	sorted := append([][]any{}, rows...)
	var keys []SortKey
	for _, p := range part {
		keys = append(keys, Asc(p))
	}
	keys = append(keys, order...)
	sort.SliceStable(sorted, func(i, j int) bool { return compareRows(sorted[i], sorted[j], keys) < 0 })
	out := map[int64]any{}
	samePart := func(a, b []any) bool { return compareRows(a, b, keys[:len(part)]) == 0 }
	peers := func(a, b []any) bool { return samePart(a, b) && compareRows(a, b, order) == 0 }
	n := len(sorted)
	psOf, gsOf, geOf := make([]int, n), make([]int, n), make([]int, n)
	for i := range n {
		switch {
		case i > 0 && samePart(sorted[i-1], sorted[i]):
			psOf[i] = psOf[i-1]
		default:
			psOf[i] = i
		}
		if i > 0 && peers(sorted[i-1], sorted[i]) {
			gsOf[i] = gsOf[i-1]
		} else {
			gsOf[i] = i
		}
	}
	for i := n - 1; i >= 0; i-- {
		if i < n-1 && peers(sorted[i+1], sorted[i]) {
			geOf[i] = geOf[i+1]
		} else {
			geOf[i] = i + 1
		}
	}
	// Running aggregates over sorted[ps..i], and dense ranks.
	type run struct {
		n, cnt, sum, mn, mx int64
	}
	runs := make([]run, n)
	dense := make([]int64, n)
	for i, r := range sorted {
		var cur run
		if psOf[i] != i {
			cur = runs[i-1]
			dense[i] = dense[i-1]
			if gsOf[i] == i {
				dense[i]++
			}
		} else {
			dense[i] = 1
		}
		cur.n++
		if arg >= 0 && r[arg] != nil {
			x := r[arg].(int64)
			if cur.cnt == 0 {
				cur.mn, cur.mx = x, x
			}
			cur.cnt++
			cur.sum += x
			cur.mn, cur.mx = min(cur.mn, x), max(cur.mx, x)
		}
		runs[i] = cur
	}
	for i, r := range sorted {
		ps, gs, ge := psOf[i], gsOf[i], geOf[i]
		fr := runs[ge-1]
		var v any
		switch fn {
		case "row_number":
			v = int64(i - ps + 1)
		case "rank":
			v = int64(gs - ps + 1)
		case "dense_rank":
			v = dense[i]
		case "count":
			v = fr.cnt
			if arg < 0 {
				v = fr.n
			}
		case "sum", "avg", "min", "max":
			if fr.cnt == 0 {
				break
			}
			v = map[string]any{"sum": fr.sum, "avg": float64(fr.sum) / float64(fr.cnt), "min": fr.mn, "max": fr.mx}[fn]
		}
		out[r[3].(int64)] = v
	}
	return out
}

func TestWindow(t *testing.T) {
	mem := tMem(t)
	ec := tEC(t, mem, 0)
	sch := tSchema("p", tStr, "o", tI64, "v", tI64, "seq", tI64)
	rng := rand.New(rand.NewPCG(19, 20))
	var rows [][]any
	for i := range 1500 {
		var p, o, v any = fmt.Sprint(rng.IntN(5)), int64(rng.IntN(10)), int64(rng.IntN(100) - 50)
		if rng.IntN(10) == 0 {
			p = nil
		}
		if rng.IntN(10) == 0 {
			o = nil
		}
		if rng.IntN(10) == 0 {
			v = nil
		}
		rows = append(rows, []any{p, o, v, int64(i)})
	}
	pcol, vcol := tCol(0, "p", tStr), tCol(2, "v", tI64)
	specs := []struct {
		part  []int
		order []SortKey
	}{
		{[]int{0}, []SortKey{Asc(1)}},
		{[]int{0}, []SortKey{Desc(1)}},
		{[]int{0}, nil},
		{nil, []SortKey{Asc(1)}},
		{nil, nil},
	}
	fns := []struct {
		name string
		arg  int
	}{{"row_number", -1}, {"rank", -1}, {"dense_rank", -1}, {"count", -1}, {"count", 2}, {"sum", 2}, {"avg", 2}, {"min", 2}, {"max", 2}}
	for _, spec := range specs {
		var calls []WindowCall
		for _, f := range fns {
			c := WindowCall{Func: f.name, OrderBy: spec.order}
			if f.arg >= 0 {
				c.Args = []expr.Expr{vcol}
			}
			if len(spec.part) > 0 {
				c.PartitionBy = []expr.Expr{pcol}
			}
			calls = append(calls, c)
		}
		t.Run(calls[0].spec(sch), func(t *testing.T) {
			got := tRun(t, ec, &Window{Input: tNewSource(sch, 400, rows...), Funcs: calls})
			if len(got) != len(rows) {
				t.Fatalf("%d rows, want %d", len(got), len(rows))
			}
			for fi, f := range fns {
				if (f.name == "row_number" || f.name == "rank") && len(spec.order) == 0 && f.name == "row_number" {
					continue // row_number without ORDER BY: any numbering
				}
				want := windowOracle(rows, f.name, f.arg, spec.part, spec.order)
				for _, r := range got {
					if w := want[r[3].(int64)]; !approxRow([]any{r[4+fi]}, []any{w}) {
						t.Fatalf("%s: row %v: got %v, want %v", calls[fi], r[:4], r[4+fi], w)
					}
				}
			}
		})
	}
	t.Run("several windows", func(t *testing.T) {
		calls := []WindowCall{
			{Func: "row_number", PartitionBy: []expr.Expr{pcol}, OrderBy: []SortKey{Asc(1), Asc(3)}},
			{Func: "sum", Args: []expr.Expr{vcol}, OrderBy: []SortKey{Asc(3)}},
			{Func: "rank", PartitionBy: []expr.Expr{pcol}, OrderBy: []SortKey{Asc(1), Asc(3)}},
		}
		w := &Window{Input: tNewSource(sch, 400, rows...), Funcs: calls}
		got := tRun(t, ec, w)
		rn := windowOracle(rows, "row_number", -1, []int{0}, []SortKey{Asc(1), Asc(3)})
		sum := windowOracle(rows, "sum", 2, nil, []SortKey{Asc(3)})
		for _, r := range got {
			seq := r[3].(int64)
			if r[4] != rn[seq] || r[5] != sum[seq] || r[6] != rn[seq] {
				t.Fatalf("row %v: want %v %v %v", r, rn[seq], sum[seq], rn[seq])
			}
		}
		if names := w.Schema().Field(5).Name; names != "sum(v) OVER (ORDER BY seq)" {
			t.Fatalf("name %q", names)
		}
	})
	t.Run("input already ordered", func(t *testing.T) {
		sorted := sortOracle(rows, []SortKey{Asc(0), Asc(1)})
		src := tNewSource(sch, 400, sorted...)
		src.order = []SortKey{Asc(0), Asc(1)}
		w := &Window{Input: src, Funcs: []WindowCall{{Func: "rank", PartitionBy: []expr.Expr{pcol}, OrderBy: []SortKey{Asc(1)}}}}
		if !reflect.DeepEqual(w.Ordering(), src.order) {
			t.Fatalf("ordering %v", w.Ordering())
		}
		got := tRun(t, ec, w)
		want := windowOracle(rows, "rank", -1, []int{0}, []SortKey{Asc(1)})
		for i, r := range got {
			if r[4] != want[r[3].(int64)] || r[3] != sorted[i][3] {
				t.Fatalf("row %v: want rank %v", r, want[r[3].(int64)])
			}
		}
	})
	t.Run("partition past the memory limit", func(t *testing.T) {
		ec := tEC(t, mem, 128<<10)
		var big [][]any
		for i := range 20000 {
			big = append(big, []any{"one", int64(i), int64(i), int64(i)})
		}
		err := tRunErr(t, ec, &Window{Input: tNewSource(sch, 1000, big...), Funcs: []WindowCall{{Func: "count", PartitionBy: []expr.Expr{pcol}}}})
		if sqlerr.Code(err) != sqlerr.OutOfMemory {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("unknown function", func(t *testing.T) {
		if _, err := (&Window{Input: tNewSource(sch, 1), Funcs: []WindowCall{{Func: "ntile"}}}).Open(ec); sqlerr.Code(err) != sqlerr.UndefinedFunction {
			t.Fatalf("err = %v", err)
		}
	})
}
