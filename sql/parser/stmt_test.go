package parser

import (
	"testing"
)

// TestStatements parses each statement form, checks its canonical format,
// and (through parseOne) that the format parses back into the same tree.
func TestStatements(t *testing.T) {
	tests := []struct {
		name, sql, want string
	}{
		// SELECT
		{"star", "SELECT * FROM t", "SELECT * FROM t"},
		{"qualified star", "SELECT t.*, s.t.* FROM s.t", "SELECT t.*, s.t.* FROM s.t"},
		{"aliases", `SELECT a AS "Name", b "x y", c AS select FROM "public"."events" AS e(x, y)`,
			`SELECT a AS "Name", b AS "x y", c AS "select" FROM public.events AS e(x, y)`},
		{"three-part name", `SELECT * FROM "db"."public"."events"`, `SELECT * FROM db.public.events`},
		{"no from", "SELECT 1", "SELECT 1"},
		{"empty target list", "SELECT FROM t", "SELECT FROM t"},
		{"distinct", "SELECT DISTINCT a FROM t", "SELECT DISTINCT a FROM t"},
		{"distinct on", "SELECT DISTINCT ON (a, b) a, b FROM t ORDER BY a, b DESC", "SELECT DISTINCT ON (a, b) a, b FROM t ORDER BY a, b DESC"},
		{"where group having", "SELECT a, count(*) FROM t WHERE b > 0 GROUP BY a HAVING count(*) > 1",
			"SELECT a, count(*) FROM t WHERE b > 0 GROUP BY a HAVING count(*) > 1"},
		{"order by nulls", "SELECT * FROM t ORDER BY a ASC NULLS FIRST, b DESC NULLS LAST, c",
			"SELECT * FROM t ORDER BY a NULLS FIRST, b DESC NULLS LAST, c"},
		{"limit offset", "SELECT * FROM t LIMIT 10 OFFSET 20", "SELECT * FROM t LIMIT 10 OFFSET 20"},
		{"limit all", "SELECT * FROM t LIMIT ALL", "SELECT * FROM t LIMIT NULL"},
		{"fetch first", "SELECT * FROM t OFFSET 5 ROWS FETCH FIRST 3 ROWS ONLY", "SELECT * FROM t LIMIT 3 OFFSET 5"},
		{"limit param", "SELECT * FROM t LIMIT $1", "SELECT * FROM t LIMIT $1"},
		{"table", "TABLE t", "SELECT * FROM t"},
		{"cte", "WITH x AS (SELECT 1), y(a, b) AS (SELECT 2, 3) SELECT * FROM x, y",
			"WITH x AS (SELECT 1), y(a, b) AS (SELECT 2, 3) SELECT * FROM x, y"},
		{"recursive cte", "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 10) SELECT * FROM r",
			"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 10) SELECT * FROM r"},
		{"materialized hint dropped", "WITH s AS MATERIALIZED (SELECT 2) SELECT * FROM s", "WITH s AS (SELECT 2) SELECT * FROM s"},
		{"joins", "SELECT * FROM a JOIN b ON a.x = b.x LEFT JOIN c USING (y) RIGHT OUTER JOIN d ON true FULL JOIN e ON false CROSS JOIN f NATURAL JOIN g",
			"SELECT * FROM a JOIN b ON a.x = b.x LEFT JOIN c USING (y) RIGHT JOIN d ON TRUE FULL JOIN e ON FALSE CROSS JOIN f NATURAL JOIN g"},
		{"inner join", "SELECT * FROM a INNER JOIN b ON a.x = b.x", "SELECT * FROM a JOIN b ON a.x = b.x"},
		{"nested join", "SELECT * FROM a JOIN (b JOIN c ON b.x = c.x) ON a.x = b.x",
			"SELECT * FROM a JOIN (b JOIN c ON b.x = c.x) ON a.x = b.x"},
		{"parenthesised left join", "SELECT * FROM (a JOIN b ON true) JOIN c ON true", "SELECT * FROM a JOIN b ON TRUE JOIN c ON TRUE"},
		{"comma and join", "SELECT * FROM a, b JOIN c ON b.x = c.x", "SELECT * FROM a, b JOIN c ON b.x = c.x"},
		{"subqueries in from", "SELECT * FROM (SELECT 1) s, LATERAL (SELECT 2) l, (VALUES (1, 2), (3, 4)) v(a, b), (SELECT 3)",
			"SELECT * FROM (SELECT 1) AS s, LATERAL (SELECT 2) AS l, (VALUES (1, 2), (3, 4)) AS v(a, b), (SELECT 3)"},
		{"function in from", "SELECT * FROM generate_series(1, 10) AS s(i), generate_series(1, 3) WITH ORDINALITY, pg_catalog.unnest(x) u",
			"SELECT * FROM generate_series(1, 10) AS s(i), generate_series(1, 3) WITH ORDINALITY, pg_catalog.unnest(x) AS u"},
		{"cast in from", "SELECT * FROM CAST(1 AS int) c, CURRENT_DATE d", "SELECT * FROM CAST(1 AS integer) AS c, CURRENT_DATE AS d"},
		{"row_number", "SELECT row_number() OVER (PARTITION BY a ORDER BY b) FROM t",
			"SELECT row_number() OVER (PARTITION BY a ORDER BY b) FROM t"},
		{"windows", "SELECT sum(x) OVER w, avg(x) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), max(x) OVER (ORDER BY y RANGE 5 PRECEDING EXCLUDE TIES) FROM t WINDOW w AS (PARTITION BY a), w2 AS (w ORDER BY c GROUPS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)",
			"SELECT sum(x) OVER w, avg(x) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), max(x) OVER (ORDER BY y RANGE BETWEEN 5 PRECEDING AND CURRENT ROW EXCLUDE TIES) FROM t WINDOW w AS (PARTITION BY a), w2 AS (w ORDER BY c GROUPS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)"},
		{"frame exclusions", "SELECT f() OVER (ROWS BETWEEN 2 PRECEDING AND 2 FOLLOWING EXCLUDE CURRENT ROW), f() OVER (ROWS CURRENT ROW EXCLUDE GROUP), f() OVER (ROWS UNBOUNDED PRECEDING EXCLUDE NO OTHERS)",
			"SELECT f() OVER (ROWS BETWEEN 2 PRECEDING AND 2 FOLLOWING EXCLUDE CURRENT ROW), f() OVER (ROWS BETWEEN CURRENT ROW AND CURRENT ROW EXCLUDE GROUP), f() OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"},

		// Set operations and VALUES
		{"union order limit", "SELECT a FROM t UNION SELECT b FROM u ORDER BY 1 LIMIT 5 OFFSET 2",
			"SELECT a FROM t UNION SELECT b FROM u ORDER BY 1 LIMIT 5 OFFSET 2"},
		{"union all of limited operands", "(SELECT a FROM t ORDER BY a LIMIT 1) UNION ALL (SELECT b FROM u LIMIT 2)",
			"(SELECT a FROM t ORDER BY a LIMIT 1) UNION ALL (SELECT b FROM u LIMIT 2)"},
		{"intersect binds tighter", "SELECT 1 UNION SELECT 2 INTERSECT SELECT 3", "SELECT 1 UNION SELECT 2 INTERSECT SELECT 3"},
		{"parenthesised union", "(SELECT 1 UNION SELECT 2) INTERSECT SELECT 3", "(SELECT 1 UNION SELECT 2) INTERSECT SELECT 3"},
		{"right nested union", "SELECT 1 UNION (SELECT 2 UNION SELECT 3)", "SELECT 1 UNION (SELECT 2 UNION SELECT 3)"},
		{"left nested union", "(SELECT 1 UNION SELECT 2) UNION SELECT 3", "SELECT 1 UNION SELECT 2 UNION SELECT 3"},
		{"except", "SELECT 1 EXCEPT ALL (SELECT 2 UNION SELECT 3)", "SELECT 1 EXCEPT ALL (SELECT 2 UNION SELECT 3)"},
		{"with on operand", "(WITH x AS (SELECT 1) SELECT * FROM x) UNION SELECT 2", "(WITH x AS (SELECT 1) SELECT * FROM x) UNION SELECT 2"},
		{"values", "VALUES (1, 'a'), (2, 'b') ORDER BY 1", "VALUES (1, 'a'), (2, 'b') ORDER BY 1"},
		{"values union", "VALUES (1) UNION VALUES (2)", "VALUES (1) UNION VALUES (2)"},

		// INSERT
		{"insert values", "INSERT INTO t VALUES (1, 2), (3, DEFAULT)", "INSERT INTO t VALUES (1, 2), (3, DEFAULT)"},
		{"insert select", "INSERT INTO s.t (a, b) SELECT x, y FROM u WHERE x > 0", "INSERT INTO s.t (a, b) SELECT x, y FROM u WHERE x > 0"},
		{"insert default values", "INSERT INTO t DEFAULT VALUES", "INSERT INTO t DEFAULT VALUES"},
		{"insert with", "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x"},
		{"insert params", "INSERT INTO t (a, b) VALUES ($1, $2)", "INSERT INTO t (a, b) VALUES ($1, $2)"},

		// DDL
		{"create table", "CREATE TABLE events (id bigint NOT NULL, ts timestamp with time zone, name varchar(10), amount numeric(10,2), PRIMARY KEY (id, ts)) WITH (sort_keys = 'ts', split_threshold = 1000000, aggregations = sum, age_off = '30 days', flag, ratio = 0.5, big = 99999999999, on_off = true)",
			"CREATE TABLE events (id bigint NOT NULL, ts timestamp with time zone, name varchar(10), amount numeric(10, 2), PRIMARY KEY (id, ts)) WITH (sort_keys = 'ts', split_threshold = '1000000', aggregations = 'sum', age_off = '30 days', flag, ratio = '0.5', big = '99999999999', on_off = 'true')"},
		{"create table types", "CREATE TABLE IF NOT EXISTS t (id int PRIMARY KEY, v double precision NULL, b boolean, d date, s text, c char(3), f float, r real, bs bytea, i2 smallint, i8 int8, ts timestamp(3), tt time with time zone, vb varbinary)",
			"CREATE TABLE IF NOT EXISTS t (id integer PRIMARY KEY, v double precision, b boolean, d date, s text, c char(3), f double precision, r real, bs bytea, i2 smallint, i8 int8, ts timestamp(3), tt time with time zone, vb varbinary)"},
		{"create table named pk", "CREATE TABLE t (a int, CONSTRAINT t_pk PRIMARY KEY (a))", "CREATE TABLE t (a integer, PRIMARY KEY (a))"},
		{"create table quoted", `CREATE TABLE "My Table" ("Key" int NOT NULL PRIMARY KEY)`, `CREATE TABLE "My Table" ("Key" integer NOT NULL PRIMARY KEY)`},
		{"drop table", "DROP TABLE t", "DROP TABLE t"},
		{"drop tables", "DROP TABLE IF EXISTS a, s.b CASCADE", "DROP TABLE IF EXISTS a, s.b CASCADE"},
		{"alter table set", "ALTER TABLE t SET (split_threshold = 10, sort_keys = 'a,b')", "ALTER TABLE t SET (split_threshold = '10', sort_keys = 'a,b')"},
		{"alter table if exists", "ALTER TABLE IF EXISTS s.t SET (k = v)", "ALTER TABLE IF EXISTS s.t SET (k = 'v')"},

		// EXPLAIN
		{"explain", "EXPLAIN SELECT 1", "EXPLAIN SELECT 1"},
		{"explain analyze", "EXPLAIN ANALYZE SELECT * FROM t WHERE k BETWEEN 1 AND 2", "EXPLAIN ANALYZE SELECT * FROM t WHERE k BETWEEN 1 AND 2"},
		{"explain analyse", "EXPLAIN ANALYSE VERBOSE SELECT 1", "EXPLAIN ANALYZE VERBOSE SELECT 1"},
		{"explain verbose", "EXPLAIN VERBOSE SELECT 1", "EXPLAIN VERBOSE SELECT 1"},
		{"explain options", "EXPLAIN (ANALYZE, FORMAT JSON, COSTS off) SELECT 1", "EXPLAIN (ANALYZE, format 'json', costs 'off') SELECT 1"},
		{"explain insert", "EXPLAIN (ANALYZE false, VERBOSE) INSERT INTO t VALUES (1)", "EXPLAIN VERBOSE INSERT INTO t VALUES (1)"},

		// SET, SHOW, RESET
		{"set number", "SET extra_float_digits = 3", "SET extra_float_digits TO 3"},
		{"set string", "SET application_name = 'PostgreSQL JDBC Driver'", "SET application_name TO 'PostgreSQL JDBC Driver'"},
		{"set list", `SET search_path TO "$user", public`, "SET search_path TO '$user', 'public'"},
		{"set local", "SET LOCAL statement_timeout = '5s'", "SET LOCAL statement_timeout TO '5s'"},
		{"set session dotted", "SET SESSION x.y = on", "SET x.y TO 'on'"},
		{"set default", "SET x = DEFAULT", "SET x TO DEFAULT"},
		{"set time zone", "SET TIME ZONE 'UTC'", "SET timezone TO 'UTC'"},
		{"set time zone local", "SET TIME ZONE LOCAL", "SET timezone TO DEFAULT"},
		{"set time zone number", "SET TIME ZONE -7", "SET timezone TO -7"},
		{"set names", "SET NAMES 'UTF8'", "SET client_encoding TO 'UTF8'"},
		{"set two values", "SET datestyle = 'ISO', 'MDY'", "SET datestyle TO 'ISO', 'MDY'"},
		{"set session characteristics", "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"},
		{"set transaction", "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ WRITE, NOT DEFERRABLE",
			"SET TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ WRITE, NOT DEFERRABLE"},
		{"show all", "SHOW ALL", "SHOW ALL"},
		{"show isolation", "SHOW TRANSACTION ISOLATION LEVEL", "SHOW transaction_isolation"},
		{"show time zone", "SHOW TIME ZONE", "SHOW timezone"},
		{"show", "SHOW search_path", "SHOW search_path"},
		{"reset all", "RESET ALL", "RESET ALL"},
		{"reset", "RESET search_path", "RESET search_path"},
		{"reset time zone", "RESET TIME ZONE", "RESET timezone"},

		// Transactions
		{"begin", "BEGIN", "BEGIN"},
		{"begin read only", "BEGIN READ ONLY", "BEGIN READ ONLY"},
		{"start transaction", "START TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY, DEFERRABLE",
			"BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY, DEFERRABLE"},
		{"begin transaction", "BEGIN TRANSACTION READ WRITE", "BEGIN READ WRITE"},
		{"commit", "COMMIT", "COMMIT"},
		{"end", "END", "COMMIT"},
		{"rollback", "ROLLBACK", "ROLLBACK"},
		{"abort", "ABORT", "ROLLBACK"},

		// COPY
		{"copy from stdin", "COPY t FROM STDIN", "COPY t FROM STDIN"},
		{"copy columns options", "COPY t (a, b) FROM STDIN WITH (FORMAT csv, HEADER)", "COPY t (a, b) FROM STDIN WITH (format 'csv', header)"},
		{"copy to stdout", "COPY t TO STDOUT", "COPY t TO STDOUT"},
		{"copy old options", "COPY t TO STDOUT WITH CSV HEADER", "COPY t TO STDOUT WITH (format 'csv', header 'true')"},
		{"copy query to s3", "COPY (SELECT * FROM t WHERE a > 1) TO 's3://bucket/key.parquet' WITH (FORMAT parquet, HEADER true)",
			"COPY (SELECT * FROM t WHERE a > 1) TO 's3://bucket/key.parquet' WITH (format 'parquet', header 'true')"},
		{"copy from file", "COPY t FROM '/tmp/x.csv' (DELIMITER ',', NULL '', FORCE_QUOTE *)",
			`COPY t FROM '/tmp/x.csv' WITH (delimiter ',', "null" '', force_quote '*')`},

		// Session housekeeping
		{"discard all", "DISCARD ALL", "DISCARD ALL"},
		{"discard plans", "DISCARD PLANS", "DISCARD PLANS"},
		{"deallocate", "DEALLOCATE foo", "DEALLOCATE foo"},
		{"deallocate prepare", `DEALLOCATE PREPARE "Foo"`, `DEALLOCATE "Foo"`},
		{"deallocate all", "DEALLOCATE ALL", "DEALLOCATE ALL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := parseOne(t, tt.sql)
			if got != tt.want {
				t.Errorf("Format(Parse(%q))\n got: %s\nwant: %s", tt.sql, got, tt.want)
			}
		})
	}
}
