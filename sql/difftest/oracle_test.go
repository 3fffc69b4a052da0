package difftest

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/dormousedb/dormouse/sql/slt"
	"github.com/dormousedb/dormouse/sql/slt/pgoracle"
)

var (
	seedFlag    = flag.Uint64("seed", 1, "seed of the query generator")
	queriesFlag = flag.Int("queries", 300, "number of generated queries (besides the hand-written ones)")
)

// insertBatch is the number of rows per INSERT statement.
const insertBatch = 500

// execer runs one statement; pgoracle.Conn and the Dormouse session
// adapter both are.
type execer interface {
	Exec(ctx context.Context, sql string) (*slt.Result, error)
}

// run runs a query and returns what happened.
func run(ctx context.Context, ex execer, sql string) outcome {
	res, err := ex.Exec(ctx, sql)
	return outcome{res: res, err: err, code: slt.SQLState(err)}
}

// TestOracleCorpus proves the corpus and the oracle's plumbing on
// PostgreSQL alone: the data loads by COPY and, identically, by the INSERT
// statements Dormouse is given; every query succeeds, or fails with the
// SQLSTATE the corpus says; and every result is the same under a second
// planner configuration (no hash aggregation or hash joins, so rows come
// in another order), which checks that the comparison ignores the order
// of unordered results and that ordered queries have no ties.
func TestOracleCorpus(t *testing.T) {
	ctx := context.Background()
	tbs := tables()
	pg := loadPostgres(t, tbs)
	checkInserts(t, pg, tbs)

	qs := corpus(*seedFlag, *queriesFlag)
	first := make([]outcome, len(qs))
	var ordered, failing, empty, rows int
	for i, q := range qs {
		o := run(ctx, pg, q.sql)
		first[i] = o
		switch {
		case o.err != nil && q.wantErr == "":
			t.Errorf("%s: PostgreSQL fails with %s: %v\n  sql: %s", q.name, o.code, o.err, q.sql)
		case o.err == nil && q.wantErr != "":
			t.Errorf("%s: PostgreSQL succeeds, the corpus expects %s\n  sql: %s", q.name, q.wantErr, q.sql)
		case o.err != nil && o.code != q.wantErr:
			t.Errorf("%s: PostgreSQL fails with %s (%v), the corpus expects %s\n  sql: %s", q.name, o.code, o.err, q.wantErr, q.sql)
		}
		if q.ordered {
			ordered++
		}
		if o.err != nil {
			failing++
		} else if len(o.res.Rows) == 0 {
			empty++
		} else {
			rows += len(o.res.Rows)
		}
	}
	for _, set := range []string{"enable_hashagg = off", "enable_hashjoin = off", "enable_bitmapscan = off"} {
		if _, err := pg.Exec(ctx, "SET "+set); err != nil {
			t.Fatal(err)
		}
	}
	for i, q := range qs {
		if d := diff(q, first[i], run(ctx, pg, q.sql)); d != "" {
			t.Errorf("%s: PostgreSQL disagrees with itself under another plan: %s\n  sql: %s", q.name, d, q.sql)
		}
	}
	t.Logf("corpus: %d queries (%d hand-written, %d generated with seed %d): %d ordered, %d expected errors, %d empty results, %d rows in all",
		len(qs), len(handWritten), *queriesFlag, *seedFlag, ordered, failing, empty, rows)
}

// checkInserts loads the tables again, into another schema, with the
// INSERT statements that Dormouse is given, and checks that the two
// copies hold the same rows.
func checkInserts(t *testing.T, pg *pgoracle.Conn, tbs []*table) {
	t.Helper()
	ctx := context.Background()
	ins := pgoracle.Open(t)
	for _, tb := range tbs {
		if _, err := ins.Exec(ctx, tb.ddl(false)); err != nil {
			t.Fatal(err)
		}
		for _, stmt := range tb.inserts(insertBatch) {
			if _, err := ins.Exec(ctx, stmt); err != nil {
				t.Fatalf("insert into %s: %v", tb.name, err)
			}
		}
		fp := func(schema string) string {
			return fmt.Sprintf("(SELECT count(*) || ':' || md5(string_agg(x::text, '|' ORDER BY %s)) FROM %s.%s x)",
				strings.Join(tb.key, ", "), schema, tb.name)
		}
		r, err := pg.Exec(ctx, "SELECT "+fp(pg.Schema())+", "+fp(ins.Schema()))
		if err != nil {
			t.Fatal(err)
		}
		a, b := *r.Rows[0][0], *r.Rows[0][1]
		if a != b {
			t.Errorf("table %s: loaded by COPY %s, by INSERT %s", tb.name, a, b)
		}
		if want := fmt.Sprintf("%d:", len(tb.rows)); !strings.HasPrefix(a, want) {
			t.Errorf("table %s: %s rows, want %d", tb.name, a, len(tb.rows))
		}
	}
}
