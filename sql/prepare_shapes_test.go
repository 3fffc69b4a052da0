package sql_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/sql"
	"github.com/dormousedb/dormouse/storage/storagetest"
)

// scriptLines runs q on s and returns its rows, one sorted line each
// (resultLines).
func scriptLines(t *testing.T, s *sql.Session, q string) string {
	t.Helper()
	var lines []string
	err := s.Script(context.Background(), q, func(r sql.Rows) error {
		res, err := sql.Collect(context.Background(), r)
		if err != nil {
			return err
		}
		lines = append(lines, resultLines(res, false)...)
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// textParams makes one-row parameters of the types given from their
// text ("NULL" for a NULL).
func textParams(t *testing.T, types []arrow.DataType, args ...string) []arrow.Array {
	t.Helper()
	params := make([]arrow.Array, len(args))
	for i, a := range args {
		if a == "NULL" {
			params[i] = array.MakeArrayOfNull(memory.DefaultAllocator, types[i], 1)
		} else {
			params[i] = param(t, types[i], a)
		}
	}
	return params
}

// execLines executes st with params given as text ("NULL" for a NULL)
// and returns its rows, one sorted line each (resultLines).
func execLines(t *testing.T, s *sql.Session, st *sql.Statement, args ...string) (string, error) {
	t.Helper()
	rows, err := s.Execute(context.Background(), st, textParams(t, st.ParamTypes(), args...))
	if err != nil {
		return "", err
	}
	res, err := sql.Collect(context.Background(), rows)
	if err != nil {
		return "", err
	}
	return strings.Join(resultLines(res, true), "\n"), nil
}

// TestPreparedShapesMatchLiterals executes prepared lookups of many
// shapes (those the span template reads and those it declines: <>, IN,
// OR, NOT, expressions on the column, casts, a parameter used twice)
// with random parameters, extremes and NULLs among them, execution after
// execution on one statement, and checks each answer against the same
// query with the values written in as literals.
func TestPreparedShapesMatchLiterals(t *testing.T) {
	s := newSession(t,
		"CREATE TABLE rv (k bigint PRIMARY KEY, i integer, d date, ts timestamp, v text) WITH (split_points = '-5, 0, 5')",
		"INSERT INTO rv SELECT g, g::integer, DATE '2020-01-01' + g::integer, TIMESTAMP '2020-01-01 00:00:00' + g * INTERVAL '1 hour', 'v' || g FROM generate_series(-12, 12) AS g",
		"INSERT INTO rv VALUES (-9223372036854775808, -2147483648, NULL, NULL, 'min'), (-9223372036854775807, NULL, NULL, NULL, 'min1'), (9223372036854775807, 2147483647, NULL, NULL, 'max'), (9223372036854775806, NULL, NULL, NULL, 'max1')",
		"CREATE TABLE rv4 (k integer PRIMARY KEY, v text) WITH (split_points = '0')",
		"INSERT INTO rv4 SELECT g, 'w' || g FROM generate_series(-6, 6) AS g",
		"INSERT INTO rv4 VALUES (-2147483648, 'min'), (2147483647, 'max')",
		"CREATE TABLE rvd (d date PRIMARY KEY, v text) WITH (split_points = '2020-01-05')",
		"INSERT INTO rvd SELECT DATE '2020-01-01' + g, 'd' || g FROM generate_series(0, 9) AS g",
		"CREATE TABLE rvt (ts timestamp PRIMARY KEY, v text)",
		"INSERT INTO rvt SELECT TIMESTAMP '2020-01-01 00:00:00' + g * INTERVAL '1 minute', 't' || g FROM generate_series(0, 9) AS g",
		"CREATE TABLE rvk (k bigint PRIMARY KEY, v text) WITH (split_points = '0')",
		"INSERT INTO rvk SELECT g, 'x' || g FROM generate_series(-12, 12) AS g",
		"CREATE TABLE rvs (s text PRIMARY KEY, v bigint) WITH (split_points = 'm')",
		"INSERT INTO rvs SELECT chr(97 + g), g FROM generate_series(0, 25) AS g",
	)
	int8s := []string{"-9223372036854775808", "-9223372036854775807", "9223372036854775807", "9223372036854775806", "-12", "-6", "-5", "-1", "0", "1", "4", "5", "6", "12", "13", "NULL"}
	int4s := []string{"-2147483648", "2147483647", "-7", "-6", "-1", "0", "1", "5", "6", "7", "NULL"}
	dates := []string{"2020-01-01", "2020-01-04", "2020-01-05", "2020-01-06", "2020-01-10", "2020-01-11", "2019-12-31", "NULL"}
	tss := []string{"2020-01-01 00:00:00", "2020-01-01 00:03:00", "2020-01-01 00:09:00", "2020-01-01 00:03:30", "2019-01-01 00:00:00", "NULL"}
	texts := []string{"a", "m", "ma", "z", "", "zz", "NULL"}
	cases := []struct {
		q    string
		vals [][]string // per parameter
		typ  []string   // per parameter, the cast of its literal
	}{
		{"SELECT v FROM rv WHERE k = $1", [][]string{int8s}, []string{"bigint"}},
		{"SELECT v FROM rv WHERE k >= $1 AND k < $2", [][]string{int8s, int8s}, []string{"bigint", "bigint"}},
		{"SELECT v FROM rv WHERE k BETWEEN $1 AND $2", [][]string{int8s, int8s}, []string{"bigint", "bigint"}},
		{"SELECT v FROM rv WHERE k > $1 AND k <= $2", [][]string{int8s, int8s}, []string{"bigint", "bigint"}},
		{"SELECT v FROM rv WHERE k > $1", [][]string{int8s}, []string{"bigint"}},
		{"SELECT v FROM rv WHERE $1 >= k", [][]string{int8s}, []string{"bigint"}},
		{"SELECT v FROM rv WHERE k = $1 AND k = $2", [][]string{int8s, int8s}, []string{"bigint", "bigint"}},
		{"SELECT v FROM rv WHERE k >= $1 AND k <= $1", [][]string{int8s}, []string{"bigint"}},
		{"SELECT v FROM rv WHERE k <> $1 AND k > -3 AND k < 3", [][]string{int8s}, []string{"bigint"}},
		{"SELECT v FROM rv WHERE k IN ($1, $2)", [][]string{int8s, int8s}, []string{"bigint", "bigint"}},
		{"SELECT v FROM rv WHERE k = $1 OR k = $2", [][]string{int8s, int8s}, []string{"bigint", "bigint"}},
		{"SELECT v FROM rv WHERE NOT (k > $1) AND k > -3", [][]string{int8s}, []string{"bigint"}},
		{"SELECT v FROM rvk WHERE k + 1 = $1", [][]string{int8s[4:]}, []string{"bigint"}},
		{"SELECT v FROM rvk WHERE -k = $1", [][]string{int8s[4:]}, []string{"bigint"}},
		{"SELECT v FROM rv WHERE k = $1::integer", [][]string{int4s}, []string{"integer"}},
		{"SELECT v FROM rv WHERE i = $1", [][]string{int4s}, []string{"integer"}},
		{"SELECT v FROM rv WHERE i BETWEEN $1 AND $2 AND k > $3", [][]string{int4s, int4s, int8s}, []string{"integer", "integer", "bigint"}},
		{"SELECT v FROM rv WHERE k BETWEEN SYMMETRIC $1 AND $2", [][]string{int8s, int8s}, []string{"bigint", "bigint"}},
		{"SELECT v FROM rv WHERE k NOT BETWEEN $1 AND $2 AND k > -3 AND k < 3", [][]string{int8s, int8s}, []string{"bigint", "bigint"}},
		{"SELECT v FROM rv WHERE k = (SELECT $1::bigint)", [][]string{int8s}, []string{"bigint"}},
		{"SELECT v FROM rv WHERE k = (SELECT max(k) FROM rv WHERE k < $1)", [][]string{int8s}, []string{"bigint"}},
		{"SELECT v FROM rv WHERE k = $1 AND v = $2", [][]string{int8s, {"v1", "v-1", "max", "NULL"}}, []string{"bigint", "text"}},
		{"SELECT v, $1::bigint AS p FROM rv WHERE k = $1", [][]string{int8s}, []string{"bigint"}},
		{"SELECT v FROM rv WHERE d = $1", [][]string{dates}, []string{"date"}},
		{"SELECT v FROM rv WHERE ts >= $1 AND k < $2", [][]string{tss, int8s}, []string{"timestamp", "bigint"}},
		{"SELECT v FROM rv4 WHERE k = $1", [][]string{int4s}, []string{"integer"}},
		{"SELECT v FROM rv4 WHERE k >= $1 AND k < $2", [][]string{int4s, int4s}, []string{"integer", "integer"}},
		{"SELECT v FROM rv4 WHERE k BETWEEN $1 AND $2", [][]string{int4s, int4s}, []string{"integer", "integer"}},
		{"SELECT v FROM rvd WHERE d = $1", [][]string{dates}, []string{"date"}},
		{"SELECT v FROM rvd WHERE d >= $1 AND d < $2", [][]string{dates, dates}, []string{"date", "date"}},
		{"SELECT v FROM rvt WHERE ts = $1", [][]string{tss}, []string{"timestamp"}},
		{"SELECT v FROM rvt WHERE ts BETWEEN $1 AND $2", [][]string{tss, tss}, []string{"timestamp", "timestamp"}},
		{"SELECT v FROM rvs WHERE s = $1", [][]string{texts}, []string{"text"}},
		{"SELECT v FROM rvs WHERE s >= $1 AND s < $2", [][]string{texts, texts}, []string{"text", "text"}},
		{"SELECT k, v FROM rv WHERE k = $1 ORDER BY k LIMIT 1", [][]string{int8s}, []string{"bigint"}},
		{"SELECT count(*) FROM rv WHERE k >= $1 AND k < $2", [][]string{int8s, int8s}, []string{"bigint", "bigint"}},
	}
	rng := rand.New(rand.NewPCG(7, 11))
	literal := func(v, typ string) string {
		if v == "NULL" {
			return "NULL::" + typ
		}
		return "'" + v + "'::" + typ
	}
	for _, c := range cases {
		st, err := s.Prepare(context.Background(), c.q, nil)
		if err != nil {
			t.Fatalf("%s: %v", c.q, err)
		}
		for n := 0; n < 60; n++ {
			args := make([]string, len(c.vals))
			for i, vs := range c.vals {
				args[i] = vs[rng.IntN(len(vs))]
			}
			lit := c.q
			for i := len(args) - 1; i >= 0; i-- { // $10 before $1
				lit = strings.ReplaceAll(lit, "$"+strconv.Itoa(i+1), literal(args[i], c.typ[i]))
			}
			want := scriptLines(t, s, lit)
			got, err := execLines(t, s, st, args...)
			if err != nil {
				t.Fatalf("%s %v: %v", c.q, args, err)
			}
			if got != want {
				t.Errorf("%s %v: prepared read\n%s\nliterals (%s) read\n%s", c.q, args, got, lit, want)
			}
		}
	}
}

// TestPreparedSeesChanges executes one prepared lookup between
// another session's writes and DDL, and this session's own transaction:
// each execution must see every commit finished before it began, the
// transaction's uncommitted writes, and the table as now defined.
func TestPreparedSeesChanges(t *testing.T) {
	ctx := context.Background()
	eng := sql.NewEngine(storagetest.NewDB(t, storagetest.LocalStore(t)), sql.Config{})
	s, other := eng.NewSession(), eng.NewSession()
	scriptLines(t, other, "CREATE TABLE sc (k bigint PRIMARY KEY, v text) WITH (split_points = '10')")
	st, err := s.Prepare(ctx, "SELECT * FROM sc WHERE k = $1", nil)
	if err != nil {
		t.Fatal(err)
	}
	st2, err := s.Prepare(ctx, "SELECT v FROM sc WHERE k >= $1 AND k < $2", nil)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what, want string, args ...string) {
		t.Helper()
		for range 2 { // the second through the run the first gave back
			stmt := st
			if len(args) == 2 {
				stmt = st2
			}
			got, err := execLines(t, s, stmt, args...)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if got != want {
				t.Errorf("%s: read %q, want %q", what, got, want)
			}
		}
	}
	check("empty", "", "1")
	check("empty range", "", "0", "20")
	scriptLines(t, other, "INSERT INTO sc VALUES (1, 'a'), (11, 'b')")
	check("another session's insert", "1|a", "1")
	check("another session's insert, range", "a\nb", "0", "20")
	scriptLines(t, other, "INSERT INTO sc VALUES (1, 'a2')")
	check("another session's second row", "1|a\n1|a2", "1")

	// The session's own transaction: its pending writes, then rollback.
	scriptLines(t, s, "BEGIN")
	scriptLines(t, s, "INSERT INTO sc VALUES (1, 'mine')")
	check("own pending insert", "1|a\n1|a2\n1|mine", "1")
	check("own pending insert, range", "a\na2\nb\nmine", "0", "20")
	scriptLines(t, other, "INSERT INTO sc VALUES (12, 'c')")
	check("another's commit during the transaction", "a\na2\nb\nc\nmine", "0", "20")
	scriptLines(t, s, "ROLLBACK")
	check("after rollback", "1|a\n1|a2", "1")
	check("after rollback, range", "a\na2\nb\nc", "0", "20")

	// DDL: the table dropped and made again with an
	// integer key, properties changed (aggregations: an iterator).
	scriptLines(t, other, "DROP TABLE sc")
	if _, err := execLines(t, s, st, "2"); err == nil {
		t.Error("a dropped table read")
	}
	scriptLines(t, other, "CREATE TABLE sc (k integer PRIMARY KEY, v text)")
	scriptLines(t, other, "INSERT INTO sc VALUES (2, 'new')")
	if got, err := execLines(t, s, st, "2"); err != nil || got != "2|new" {
		// PostgreSQL reports "cached plan must not change result type"
		// where the columns changed; reading the old table's rows or
		// none is wrong either way.
		if err == nil {
			t.Errorf("after DROP and CREATE: read %q, want 2|new", got)
		}
	}
	scriptLines(t, other, "DROP TABLE sc")
	scriptLines(t, other, "CREATE TABLE sc (k bigint PRIMARY KEY, n bigint)")
	scriptLines(t, other, "INSERT INTO sc VALUES (2, 1), (2, 2)")
	if _, err := execLines(t, s, st, "2"); err == nil {
		t.Error("SELECT * read after its columns changed type")
	}
	// The same name prepared again, as a client does then.
	if st, err = s.Prepare(ctx, "SELECT * FROM sc WHERE k = $1", nil); err != nil {
		t.Fatal(err)
	}
	check("made again", "2|1\n2|2", "2")
	scriptLines(t, other, "ALTER TABLE sc SET (aggregations = 'sum(n)')")
	check("aggregated", "2|3", "2")
	scriptLines(t, other, "INSERT INTO sc VALUES (2, 4)")
	check("aggregated, one more", "2|7", "2")
	scriptLines(t, other, "ALTER TABLE sc SET (aggregations = '')")
	check("aggregations removed", "2|1\n2|2\n2|4", "2")
}

// TestReviewPreparedRecurse runs a prepared lookup inside a rows stream of
// the same statement: a second execution while the first's rows are open
// takes no run from under it, even when the first's rows end between.
func TestPreparedInterleavedNulls(t *testing.T) {
	ctx := context.Background()
	s := newSession(t, "CREATE TABLE ri (k bigint PRIMARY KEY, v text) WITH (split_points = '5')",
		"INSERT INTO ri SELECT g, 'v' || g FROM generate_series(1, 9) AS g")
	st, err := s.Prepare(ctx, "SELECT v FROM ri WHERE k >= $1 AND k < $2", nil)
	if err != nil {
		t.Fatal(err)
	}
	var open []sql.Rows
	var wants []string
	rng := rand.New(rand.NewPCG(1, 1))
	for n := 0; n < 200; n++ {
		lo, hi := rng.IntN(12)-1, rng.IntN(12)-1
		args := []string{strconv.Itoa(lo), strconv.Itoa(hi)}
		if rng.IntN(6) == 0 {
			args[rng.IntN(2)] = "NULL"
		}
		var want []string
		if args[0] != "NULL" && args[1] != "NULL" {
			for k := max(lo, 1); k < min(hi, 10); k++ {
				want = append(want, "v"+strconv.Itoa(k))
			}
		}
		slices.Sort(want)
		rows, err := s.Execute(ctx, st, textParams(t, []arrow.DataType{expr.Int8Type, expr.Int8Type}, args...))
		if err != nil {
			t.Fatal(err)
		}
		open, wants = append(open, rows), append(wants, strings.Join(want, "\n"))
		// Close some at random, reading them to their end.
		for len(open) > 0 && rng.IntN(3) > 0 {
			i := rng.IntN(len(open))
			res, err := sql.Collect(ctx, open[i])
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(resultLines(res, true), "\n"); got != wants[i] {
				t.Fatalf("execution %d: read %q, want %q", n, got, wants[i])
			}
			open, wants = slices.Delete(open, i, i+1), slices.Delete(wants, i, i+1)
		}
	}
	for _, r := range open {
		r.Close()
	}
}
