package engine

import (
	"fmt"
	"testing"

	"github.com/dormousedb/dormouse/engine/expr"
)

// TestWithExpressions runs operators over engine/expr's compiled
// expressions: SELECT k % 3, count(*), sum(v) FROM t JOIN u ON t.k = u.k
// AND v > u.w WHERE v >= 10 GROUP BY 1 ORDER BY 1 DESC LIMIT 2.
func TestWithExpressions(t *testing.T) {
	mem := tMem(t)
	ec := tEC(t, mem, 0)
	must := func(e expr.Expr, err error) expr.Expr {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	tsch := tSchema("k", tI64, "v", tI64)
	usch := tSchema("k", tI64, "w", tI64)
	var trows, urows [][]any
	for i := range 100 {
		trows = append(trows, []any{i % 10, i})
	}
	for i := range 10 {
		urows = append(urows, []any{i, 5 * i})
	}
	urows = append(urows, []any{nil, 0})
	k, v := tCol(0, "k", tI64), tCol(1, "v", tI64)
	where := &Filter{Input: tNewSource(tsch, 17, trows...), Cond: must(expr.Compare(">=", v, expr.Lit(int64(10), tI64)))}
	residual := must(expr.Compare(">", tCol(1, "v", tI64), tCol(3, "w", tI64)))
	join := &HashJoin{Left: where, Right: tNewSource(usch, 4, urows...), Kind: JoinInner,
		LeftKeys: []expr.Expr{k}, RightKeys: []expr.Expr{tCol(0, "k", tI64)}, Residual: residual}
	mod := must(expr.Arith("%", k, expr.Lit(int64(3), tI64)))
	agg := &HashAggregate{Input: join, GroupBy: []expr.Expr{mod}, Names: []string{"m"}, Aggs: []AggCall{call("count"), call("sum", v)}}
	top := &TopN{Input: agg, Keys: []SortKey{Desc(0)}, N: 2}
	got := tRun(t, ec, top)
	// Oracle.
	count, sum := map[int64]int64{}, map[int64]int64{}
	for _, r := range trows {
		kk, vv := int64(r[0].(int)), int64(r[1].(int))
		if vv >= 10 && vv > 5*kk {
			count[kk%3]++
			sum[kk%3] += vv
		}
	}
	want := fmt.Sprint([][]any{{int64(2), count[2], sum[2]}, {int64(1), count[1], sum[1]}})
	if fmt.Sprint(got) != want {
		t.Fatalf("got  %v\nwant %s", got, want)
	}
	t.Log("\n" + Explain(top))
}
