package difftest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dormousedb/dormouse/sql"
	"github.com/dormousedb/dormouse/sql/slt/sltsession"
	"github.com/dormousedb/dormouse/storage/storagetest"
)

// TestDifferential loads the generated tables into PostgreSQL and into
// Dormouse, checks that both hold the same rows, then runs the corpus on
// both and compares, one subtest per query:
//
//	go test ./sql/difftest -run Differential                  the default corpus
//	go test ./sql/difftest -run Differential/gen-0042 -v      one query
//	go test ./sql/difftest -run Differential -seed 9 -queries 2000
func TestDifferential(t *testing.T) {
	ctx := context.Background()
	tbs := tables()
	pg := loadPostgres(t, tbs)
	dm := loadDormouse(t, tbs)

	// The loaded tables, row by row.
	for _, tb := range tbs {
		q := query{name: "load-" + tb.name, ordered: true,
			sql: fmt.Sprintf("SELECT * FROM %s ORDER BY %s", tb.name, strings.Join(tb.key, ", "))}
		if d := diff(q, run(ctx, pg, q.sql), run(ctx, dm, q.sql)); d != "" {
			t.Fatalf("table %s differs after loading: %s", tb.name, d)
		}
	}

	qs := corpus(*seedFlag, *queriesFlag)
	start := time.Now()
	defer func() { t.Logf("ran %d queries on both in %v", len(qs), time.Since(start).Round(time.Millisecond)) }()
	var failed []string
	for _, q := range qs {
		ok := t.Run(q.name, func(t *testing.T) {
			if d := diff(q, run(ctx, pg, q.sql), run(ctx, dm, q.sql)); d != "" {
				t.Errorf("%s\n  sql: %s", d, q.sql)
			}
		})
		if !ok {
			failed = append(failed, q.name)
		}
	}
	if len(failed) > 0 {
		t.Errorf("%d of %d queries differ from PostgreSQL (seed %d): %s", len(failed), len(qs), *seedFlag, strings.Join(failed, " "))
	}
}

// loadDormouse creates the tables, with their table options, in a fresh
// database and loads them with INSERT statements through a Session.
func loadDormouse(t *testing.T, tbs []*table) execer {
	t.Helper()
	ctx := context.Background()
	db := storagetest.NewDB(t, storagetest.LocalStore(t))
	ex := sltsession.New(sql.NewEngine(db, sql.Config{}).NewSession())
	start := time.Now()
	defer func() { t.Logf("loaded Dormouse in %v", time.Since(start).Round(time.Millisecond)) }()
	for _, tb := range tbs {
		if _, err := ex.Exec(ctx, tb.ddl(true)); err != nil {
			t.Fatalf("create %s in Dormouse: %v", tb.name, err)
		}
		for _, stmt := range tb.inserts(insertBatch) {
			if _, err := ex.Exec(ctx, stmt); err != nil {
				t.Fatalf("insert into %s in Dormouse: %v", tb.name, err)
			}
		}
	}
	return ex
}
