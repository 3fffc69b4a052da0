// Package difftest is the differential test of the SQL engine against a
// real PostgreSQL 15: the same deterministically generated tables are
// loaded into both (PostgreSQL by COPY, Dormouse by INSERT through a
// Session), a few hundred hand-written and generated queries run on both,
// and their results are compared — as multisets unless the query has an
// ORDER BY (which the corpus always makes a total order), floats within
// 1e-9 relative, timestamps and dates by value, NULL equal to NULL, and
// errors by SQLSTATE.
//
// The package holds only tests. TestOracleCorpus runs the corpus on
// PostgreSQL alone (it must answer every query the way the corpus says,
// the same under two planner configurations), which proves the corpus and
// the plumbing; TestDifferential compares with Dormouse. Both need
// DORMOUSE_TEST_PG_URL (scripts/with-pg.sh; make test) and fail without
// it, unless DORMOUSE_SKIP_PG=1 skips them, loudly.
//
//	go test ./sql/difftest -run Differential -seed 7 -queries 1000 -v
package difftest
