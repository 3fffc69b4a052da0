package sql_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/dormousedb/dormouse/sql"
	"github.com/dormousedb/dormouse/storage/storagetest"
)

// TestExplainAnalyzePartitioned checks EXPLAIN ANALYZE of an aggregate run
// partition by partition: the one scan it shows counts the rows and the
// pruning of every partition read, and the answer is the same as without
// the split.
func TestExplainAnalyzePartitioned(t *testing.T) {
	ctx := context.Background()
	db := storagetest.NewDB(t, storagetest.LocalStore(t))
	s := sql.NewEngine(db, sql.Config{}).NewSession()
	run := func(q string) *sql.Result {
		t.Helper()
		rows, err := s.Run(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		res, err := sql.Collect(ctx, rows)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return res
	}
	run("CREATE TABLE m (k bigint PRIMARY KEY, v bigint) WITH (split_points = '100,200,300')")
	run("INSERT INTO m SELECT x, x % 7 FROM generate_series(0, 399) AS g(x)")
	run("INSERT INTO m SELECT x, 1 FROM generate_series(150, 249) AS g(x)")
	res := run("SELECT count(*), sum(v) FROM m WHERE k >= 120 AND k < 260")
	if got := *res.Rows[0][0] + " " + *res.Rows[0][1]; got != "240 520" {
		t.Fatalf("count, sum = %s, want 240 520 (20 cycles of k mod 7 summing 21, plus 100)", got)
	}
	plan := run("EXPLAIN ANALYZE SELECT count(*), sum(v) FROM m WHERE k >= 120 AND k < 260")
	var text []string
	for _, r := range plan.Rows {
		text = append(text, *r[0])
	}
	out := strings.Join(text, "\n")
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`HashAggregate .*\(partial per partition\)`),
		// Partitions [100,200) and [200,300) are read; each holds two files.
		regexp.MustCompile(`TableScan m .*actual rows=240 .*partitions 2/4 files 4/4`),
	} {
		if !want.MatchString(out) {
			t.Fatalf("EXPLAIN ANALYZE lacks %s:\n%s", want, out)
		}
	}
}
