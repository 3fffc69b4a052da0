package engine

import (
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine/expr"
)

// Unnest expands each row by its longest array, in lockstep, NULL past
// the end of a shorter one; rows with no elements vanish; a row that
// expands past a batch continues in the next.
func TestUnnest(t *testing.T) {
	mem := tMem(t)
	ec := tEC(t, mem, 1<<30)
	sch := tSchema("k", arrow.PrimitiveTypes.Int64)
	src := tNewSource(sch, 2, []any{int64(2)}, []any{nil}, []any{int64(0)}, []any{int64(3)}, []any{int64(BatchRows + 5)})
	k := tCol(0, "k", arrow.PrimitiveTypes.Int64)
	series, err := expr.SetFunc("generate_series", []expr.Expr{tLit(int64(1), arrow.PrimitiveTypes.Int64), k})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := expr.ArrayOf([]expr.Expr{k, k})
	if err != nil {
		t.Fatal(err)
	}
	u := &Unnest{Input: src, Exprs: []expr.Expr{series, pair}, Names: []string{"n", "kk"}}
	rows := tRun(t, ec, u)
	// k=2: 2 rows; NULL: the pair [NULL, NULL] gives 2 rows; k=0: the
	// pair; k=3: 3 rows; the last: BatchRows+5.
	if want := 2 + 2 + 2 + 3 + BatchRows + 5; len(rows) != want {
		t.Fatalf("%d rows, want %d", len(rows), want)
	}
	got := fmt.Sprint(rows[:9])
	want := "[[2 1 2] [2 2 2] [<nil> <nil> <nil>] [<nil> <nil> <nil>] [0 <nil> 0] [0 <nil> 0] [3 1 3] [3 2 3] [3 3 <nil>]]"
	if got != want {
		t.Fatalf("rows %s,\nwant %s", got, want)
	}
	if last := rows[len(rows)-1]; last[1] != int64(BatchRows+5) || last[2] != nil {
		t.Fatalf("last row %v", last)
	}
}
