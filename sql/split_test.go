package sql_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/sql"
	"github.com/dormousedb/dormouse/storage"
	"github.com/dormousedb/dormouse/storage/storagetest"
)

// TestSplits plans queries as splits and checks the number of splits (one
// per leaf read when the result is a concatenation of per-partition
// results, else one), the order, and that the splits' rows together are
// exactly the query's rows — from the planning process, after the table
// changed, and from another process on the same store.
func TestSplits(t *testing.T) {
	ctx := context.Background()
	store := storagetest.LocalStore(t)
	db := storagetest.NewDB(t, store)
	s := sql.NewEngine(db, sql.Config{}).NewSession()
	mustRun(t, s, "CREATE TABLE m (k bigint PRIMARY KEY, v bigint, note text) WITH (split_points = '100,200,300')")
	mustRun(t, s, "INSERT INTO m SELECT x, x % 7, 'n' || x FROM generate_series(0, 399) AS g(x)")
	mustRun(t, s, "INSERT INTO m SELECT x, 1, NULL FROM generate_series(150, 249) AS g(x)")

	cases := []struct {
		query   string
		splits  int
		ordered bool
	}{
		{"SELECT * FROM m", 4, false},
		{"SELECT k, v FROM m WHERE k >= 120 AND k < 260", 2, false},
		{"SELECT k + 1 AS k1, note FROM m WHERE v = 3", 4, false},
		{"SELECT k, count(*), sum(v) FROM m GROUP BY k", 4, false},
		{"SELECT k, count(*) FROM m WHERE k < 150 GROUP BY k HAVING count(*) > 0", 2, false},
		{"SELECT v, count(*) FROM m GROUP BY v", 1, false},
		{"SELECT * FROM m ORDER BY k", 4, true},
		{"SELECT k FROM m WHERE k >= 250 ORDER BY k", 2, true},
		{"SELECT * FROM m ORDER BY v, k", 1, true},
		{"SELECT * FROM m ORDER BY k LIMIT 5", 1, true},
		{"SELECT count(*) FROM m", 1, false},
		{"SELECT * FROM m WHERE k = 1000", 1, false},
		{"SELECT a.k FROM m a JOIN m b ON a.k = b.k", 1, false},
		{"SELECT * FROM m WHERE k = $1", 1, false},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			st, err := s.Prepare(ctx, c.query, nil)
			if err != nil {
				t.Fatal(err)
			}
			var params []arrow.Array
			if len(st.ParamTypes()) == 1 {
				b := array.NewInt64Builder(memory.DefaultAllocator)
				b.Append(170)
				params = []arrow.Array{b.NewArray()}
			}
			plan, err := s.PlanSplits(ctx, st, params)
			if err != nil {
				t.Fatal(err)
			}
			if len(plan.Splits) != c.splits || plan.Ordered != c.ordered {
				t.Fatalf("%d splits, ordered %v; want %d, %v", len(plan.Splits), plan.Ordered, c.splits, c.ordered)
			}
			want := queryLines(t, s, c.query, params, !c.ordered)
			if got := splitLines(t, s, plan, !c.ordered); !slices.Equal(got, want) {
				t.Fatalf("splits gave %d rows:\n%s\nthe query %d:\n%s", len(got), strings.Join(got, "\n"), len(want), strings.Join(want, "\n"))
			}
		})
	}

	// The splits of a plan read the snapshot it was planned at, here and
	// in another process, however the table changed since.
	st, err := s.Prepare(ctx, "SELECT k, v FROM m", nil)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := s.PlanSplits(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	before := queryLines(t, s, "SELECT k, v FROM m", nil, true)
	mustRun(t, s, "INSERT INTO m SELECT x, 2, NULL FROM generate_series(0, 399) AS g(x)")
	if got := splitLines(t, s, plan, true); !slices.Equal(got, before) {
		t.Fatalf("after an insert the splits gave %d rows, want the %d planned", len(got), len(before))
	}
	other, err := storage.OpenDB(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	s2 := sql.NewEngine(other, sql.Config{}).NewSession()
	if got := splitLines(t, s2, plan, true); !slices.Equal(got, before) {
		t.Fatalf("another process's splits gave %d rows, want the %d planned", len(got), len(before))
	}
	mustRun(t, s, "DROP TABLE m")
	if _, err := s2.RunSplit(ctx, &plan.Splits[0]); sqlerr.Code(err) != sqlerr.UndefinedTable {
		t.Fatalf("split of a dropped table: %v, want %s", err, sqlerr.UndefinedTable)
	}
}

func mustRun(t *testing.T, s *sql.Session, q string) *sql.Result {
	t.Helper()
	rows, err := s.Run(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	res, err := sql.Collect(context.Background(), rows)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return res
}

// queryLines runs q and returns its rows as text lines, sorted unless the
// order matters.
func queryLines(t *testing.T, s *sql.Session, q string, params []arrow.Array, sorted bool) []string {
	t.Helper()
	ctx := context.Background()
	st, err := s.Prepare(ctx, q, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := s.Execute(ctx, st, params)
	if err != nil {
		t.Fatal(err)
	}
	return lines(t, rows, nil, sorted)
}

// splitLines runs every split of a plan and returns their rows as text.
func splitLines(t *testing.T, s *sql.Session, plan *sql.SplitPlan, sorted bool) []string {
	t.Helper()
	var out []string
	for i := range plan.Splits {
		rows, err := s.RunSplit(context.Background(), &plan.Splits[i])
		if err != nil {
			t.Fatalf("split %d: %v", i, err)
		}
		out = append(out, lines(t, rows, plan.Schema, false)...)
	}
	if sorted {
		slices.Sort(out)
	}
	return out
}

// lines renders rows as text, checking the schema of every batch when
// one is given.
func lines(t *testing.T, rows sql.Rows, sch *arrow.Schema, sorted bool) []string {
	t.Helper()
	if sch != nil && !rows.Schema().Equal(sch) {
		t.Fatalf("rows have schema %s, want %s", rows.Schema(), sch)
	}
	res, err := sql.Collect(context.Background(), rows)
	if err != nil {
		t.Fatal(err)
	}
	return resultLines(res, sorted)
}

// resultLines renders a result's rows as text lines, values separated by
// |, NULL as NULL, sorted unless the order matters.
func resultLines(res *sql.Result, sorted bool) []string {
	var out []string
	for _, r := range res.Rows {
		var cells []string
		for _, v := range r {
			if v == nil {
				cells = append(cells, "NULL")
			} else {
				cells = append(cells, *v)
			}
		}
		out = append(out, strings.Join(cells, "|"))
	}
	if sorted {
		slices.Sort(out)
	}
	return out
}
