package parser

import (
	"errors"
	"testing"
)

// fuzzSeeds are hand-written inputs beyond the fixture queries: every
// statement kind, and the corners of the expression printer.
var fuzzSeeds = []string{
	"SELECT DISTINCT ON (a) a, -b, 1 + 2 * 3, (1 + 2) * 3 FROM t WHERE a IS NOT NULL AND NOT b ORDER BY 1 DESC NULLS LAST LIMIT 5 OFFSET 1",
	"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT * FROM r, LATERAL (SELECT 1) s JOIN u USING (n)",
	"(SELECT 1 LIMIT 1) UNION (SELECT 2 INTERSECT SELECT 3) EXCEPT ALL VALUES (4)",
	"SELECT sum(x) OVER (PARTITION BY a ORDER BY b ROWS BETWEEN 1 PRECEDING AND CURRENT ROW EXCLUDE TIES) FROM t WINDOW w AS (ORDER BY c)",
	"SELECT a = ANY($1), a LIKE b ESCAPE '!', x BETWEEN SYMMETRIC 1 AND 2, y NOT IN (SELECT 1), EXISTS (SELECT), ARRAY(SELECT 1)",
	"SELECT CASE a WHEN 1 THEN 'x' ELSE NULL END, a::numeric(10,2)[], INTERVAL '1' DAY TO SECOND(3), DATE '2024-01-01', x AT TIME ZONE 'UTC'",
	"SELECT count(*) FILTER (WHERE a), string_agg(a, ',' ORDER BY b), percentile_cont(0.5) WITHIN GROUP (ORDER BY a), EXTRACT(epoch FROM t)",
	"SELECT (current_schemas(true))[1], (x).f, a[1:2], a COLLATE \"C\", ROW(1, 2), - -1, -5 ^ 2, (-5)::text, 0x1F, 1_000, 1e10",
	"SELECT CURRENT_TIMESTAMP(3), LOCALTIME, USER, CURRENT_SCHEMA, coalesce(a, b), nullif(a, b), greatest(1, 2), SYSTEM_USER",
	"INSERT INTO t (a, b) VALUES (1, DEFAULT), ($1, $2); INSERT INTO t SELECT * FROM u; INSERT INTO t DEFAULT VALUES",
	"CREATE TABLE IF NOT EXISTS s.t (k bigint NOT NULL PRIMARY KEY, v text) WITH (sort_keys = 'v', split_threshold = 1000000, flag)",
	"DROP TABLE IF EXISTS a, b CASCADE; ALTER TABLE t SET (k = v); EXPLAIN ANALYZE VERBOSE SELECT 1; EXPLAIN (FORMAT json) INSERT INTO t VALUES (1)",
	"SET x TO 1, 'a'; SET LOCAL y = DEFAULT; SET TIME ZONE 'UTC'; SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY; SHOW ALL; RESET ALL",
	"BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY; COMMIT; ROLLBACK; START TRANSACTION; END; ABORT",
	"COPY t (a) FROM STDIN WITH (FORMAT csv, HEADER); COPY (SELECT 1) TO 's3://b/k' (FORMAT parquet); DISCARD ALL; DEALLOCATE ALL",
	"select 1 FORM t",
	"UPDATE t SET a = 1",
	"SELECT 'é', \"É\" FROM \"Ü\".t -- comment\n/* nested /* comment */ */",
}

// FuzzParse checks that no input makes the parser panic, that failures are
// *Error values with a sane position, and that whatever parses formats into
// text that parses back into the same tree.
func FuzzParse(f *testing.F) {
	for _, q := range fixtureQueries(f) {
		f.Add(q)
	}
	for _, q := range fuzzSeeds {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		stmts, err := Parse(sql)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v is not an *Error", err, err)
			}
			if stmts != nil || pe.Position < -1 || pe.Position > len(sql) || pe.SQLSTATE == "" || pe.Message == "" {
				t.Fatalf("bad error %+v for input of %d bytes", pe, len(sql))
			}
			return
		}
		for _, s := range stmts {
			checkRoundTrip(t, s)
		}
	})
}
