package sql_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/sql"
	"github.com/dormousedb/dormouse/sql/pgtypes"
	"github.com/dormousedb/dormouse/storage/storagetest"
)

func newSession(t testing.TB, setup ...string) *sql.Session {
	t.Helper()
	db := storagetest.NewDB(t, storagetest.LocalStore(t))
	s := sql.NewEngine(db, sql.Config{}).NewSession()
	for _, st := range setup {
		if err := s.Script(context.Background(), st, func(r sql.Rows) error { _, err := sql.Collect(context.Background(), r); return err }); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
	return s
}

// param makes a one-row parameter value from its text.
func param(t testing.TB, typ arrow.DataType, text string) arrow.Array {
	t.Helper()
	a, err := pgtypes.ParseText(&expr.Context{Alloc: memory.DefaultAllocator}, text, typ)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestPrepareInfersParameters(t *testing.T) {
	s := newSession(t, "CREATE TABLE p (k bigint PRIMARY KEY, n integer, s text, d date, f double precision)")
	ctx := context.Background()
	for _, c := range []struct {
		sql      string
		declared []arrow.DataType
		want     []string
		cols     []string
	}{
		{"SELECT s FROM p WHERE k = $1", nil, []string{"bigint"}, []string{"s:25"}},
		{"SELECT k FROM p WHERE n > $1 AND s LIKE $2 AND d = $3", nil, []string{"integer", "text", "date"}, []string{"k:20"}},
		{"SELECT $1", nil, []string{"text"}, []string{"?column?:25"}},
		{"SELECT $1::numeric * 2 AS x", nil, []string{"numeric"}, []string{"x:1700"}},
		{"SELECT $2 + f FROM p WHERE k = $1", nil, []string{"bigint", "double precision"}, []string{"?column?:701"}},
		{"SELECT k FROM p WHERE k = $1", []arrow.DataType{expr.Int4Type}, []string{"integer"}, []string{"k:20"}},
		{"INSERT INTO p (k, s) VALUES ($1, $2)", nil, []string{"bigint", "text"}, nil},
		{"SELECT k FROM p WHERE k IN ($1, $2) OR n = $1", nil, []string{"bigint", "bigint"}, []string{"k:20"}},
		{"SELECT (SELECT max(k) FROM p WHERE n = $1) AS m", nil, []string{"integer"}, []string{"m:20"}},
		{"SET application_name = 'x'", nil, nil, nil},
		{"SHOW work_mem", nil, nil, []string{"work_mem:25"}},
		{"", nil, nil, nil},
	} {
		st, err := s.Prepare(ctx, c.sql, c.declared)
		if err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		var got []string
		for _, p := range st.ParamTypes() {
			got = append(got, expr.TypeName(p))
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s: parameters %v, want %v", c.sql, got, c.want)
		}
		var cols []string
		for _, col := range st.Columns() {
			cols = append(cols, col.Name+":"+itoa(col.OID))
		}
		if strings.Join(cols, ",") != strings.Join(c.cols, ",") {
			t.Errorf("%s: columns %v, want %v", c.sql, cols, c.cols)
		}
	}
}

func itoa(v uint32) string {
	var b [10]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}

// TestExecutePrepared runs one prepared lookup with many values: each
// execution sees the data as it is then, and the parameter prunes as a
// literal does.
func TestExecutePrepared(t *testing.T) {
	s := newSession(t, "CREATE TABLE e (k bigint PRIMARY KEY, v text) WITH (split_points = '10, 20, 30')",
		"INSERT INTO e SELECT g, 'v' || g FROM generate_series(1, 40) AS g")
	ctx := context.Background()
	st, err := s.Prepare(ctx, "SELECT v FROM e WHERE k = $1", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"5", "15", "39", "99"} {
		rows, err := s.Execute(ctx, st, []arrow.Array{param(t, expr.Int8Type, k)})
		if err != nil {
			t.Fatal(err)
		}
		res, err := sql.Collect(ctx, rows)
		if err != nil {
			t.Fatal(err)
		}
		want := 1
		if k == "99" {
			want = 0
		}
		if len(res.Rows) != want || (want == 1 && *res.Rows[0][0] != "v"+k) {
			t.Errorf("k=%s: %v", k, res.Rows)
		}
	}
	ex, err := s.Prepare(ctx, "EXPLAIN ANALYZE SELECT v FROM e WHERE k = $1", nil)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := s.Execute(ctx, ex, []arrow.Array{param(t, expr.Int8Type, "25")})
	if err != nil {
		t.Fatal(err)
	}
	res, err := sql.Collect(ctx, rows)
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for _, r := range res.Rows {
		plan = append(plan, *r[0])
	}
	if text := strings.Join(plan, "\n"); !strings.Contains(text, "partitions 1/4") {
		t.Errorf("a parameter did not prune partitions:\n%s", text)
	}

	// A later insert shows in the next execution.
	ins, err := s.Prepare(ctx, "INSERT INTO e VALUES ($1, $2)", nil)
	if err != nil {
		t.Fatal(err)
	}
	rows, err = s.Execute(ctx, ins, []arrow.Array{param(t, expr.Int8Type, "99"), param(t, expr.TextType, "late")})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := sql.Collect(ctx, rows); err != nil || res.Tag != "INSERT 0 1" {
		t.Fatalf("insert: %v %v", res, err)
	}
	rows, err = s.Execute(ctx, st, []arrow.Array{param(t, expr.Int8Type, "99")})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := sql.Collect(ctx, rows); err != nil || len(res.Rows) != 1 || *res.Rows[0][0] != "late" {
		t.Errorf("after the insert: %v %v", res, err)
	}

	// Errors: a wrong number of values; $n without values.
	if _, err := s.Execute(ctx, st, nil); sqlerr.Code(err) != "08P01" {
		t.Errorf("no values: %v", err)
	}
	stmts, err := s.Parse("SELECT $1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Execute(ctx, stmts[0], nil); sqlerr.Code(err) != sqlerr.UndefinedParameter {
		t.Errorf("$1 in a simple query: %v", err)
	}
}

func TestCachedPlanChangedType(t *testing.T) {
	s := newSession(t, "CREATE TABLE c (k bigint PRIMARY KEY, v text)")
	ctx := context.Background()
	st, err := s.Prepare(ctx, "SELECT * FROM c", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"DROP TABLE c", "CREATE TABLE c (k bigint PRIMARY KEY, v bigint)"} {
		if err := s.Script(ctx, q, func(r sql.Rows) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Execute(ctx, st, nil); err == nil || !strings.Contains(err.Error(), "cached plan must not change result type") {
		t.Errorf("a changed table: %v", err)
	}
}

// TestTransactionBlocks walks the block states: open, failed (refusing
// statements until ROLLBACK), read-only (refusing writes), and SET undone
// by ROLLBACK and by a failed implicit transaction.
func TestTransactionBlocks(t *testing.T) {
	s := newSession(t, "CREATE TABLE tb (k bigint PRIMARY KEY)")
	ctx := context.Background()
	run := func(q string) (string, error) {
		stmts, err := s.Parse(q)
		if err != nil {
			return "", err
		}
		var tag string
		for _, st := range stmts {
			rows, err := s.Execute(ctx, st, nil)
			if err != nil {
				return "", err
			}
			for {
				rec, err := rows.Next(ctx)
				if err == io.EOF {
					break
				}
				if err != nil {
					rows.Close()
					s.StatementFailed()
					return "", err
				}
				rec.Release()
			}
			tag = rows.Tag()
			rows.Close()
		}
		return tag, nil
	}
	steps := []struct {
		sql, tag, code string
		status         sql.TxnStatus
	}{
		{"BEGIN", "BEGIN", "", sql.TxnOpen},
		{"SET application_name = 'in'", "SET", "", sql.TxnOpen},
		{"SELECT 1/0", "", "22012", sql.TxnFailed},
		{"SELECT 1", "", "25P02", sql.TxnFailed},
		{"COMMIT", "ROLLBACK", "", sql.TxnIdle},
		{"SHOW application_name", "SHOW", "", sql.TxnIdle},
		{"START TRANSACTION READ ONLY", "START TRANSACTION", "", sql.TxnOpen},
		{"INSERT INTO tb VALUES (1)", "", "25006", sql.TxnFailed},
		{"ROLLBACK", "ROLLBACK", "", sql.TxnIdle},
		{"SET default_transaction_read_only = on", "SET", "", sql.TxnIdle},
		{"INSERT INTO tb VALUES (1)", "", "25006", sql.TxnIdle},
		{"RESET default_transaction_read_only", "RESET", "", sql.TxnIdle},
		{"INSERT INTO tb VALUES (1)", "INSERT 0 1", "", sql.TxnIdle},
	}
	for _, st := range steps {
		tag, err := run(st.sql)
		if sqlerr.Code(err) != st.code || (err == nil && tag != st.tag) || s.TxnStatus() != st.status {
			t.Fatalf("%s: tag %q, error %v, status %c; want %q, %q, %c", st.sql, tag, err, s.TxnStatus(), st.tag, st.code, st.status)
		}
	}
	if v, _ := s.Setting("application_name"); v != "" {
		t.Errorf("application_name %q after the block rolled back, want it undone", v)
	}
	// An implicit transaction that fails undoes its SET.
	s.BeginImplicit()
	if _, err := run("SET application_name = 'implicit'"); err != nil {
		t.Fatal(err)
	}
	s.EndImplicit(context.Background(), true)
	if v, _ := s.Setting("application_name"); v != "" {
		t.Errorf("application_name %q after a failed implicit transaction", v)
	}
	s.BeginImplicit()
	if _, err := run("SET application_name = 'kept'"); err != nil {
		t.Fatal(err)
	}
	if err := s.EndImplicit(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Setting("application_name"); v != "kept" {
		t.Errorf("application_name %q after a good implicit transaction", v)
	}
}

// TestPreparedBindingReuse tries to make an execution of a prepared query
// answer from a binding kept from an earlier one (prepare_cache.go) when
// it must not: after another session's write, a table dropped and made
// again, a changed definition, and writes of an open transaction.
func TestPreparedBindingReuse(t *testing.T) {
	ctx := context.Background()
	db := storagetest.NewDB(t, storagetest.LocalStore(t))
	eng := sql.NewEngine(db, sql.Config{})
	s, other := eng.NewSession(), eng.NewSession()
	run := func(sess *sql.Session, q string) error {
		return sess.Script(ctx, q, func(r sql.Rows) error { _, err := sql.Collect(ctx, r); return err })
	}
	mustRun := func(sess *sql.Session, q string) {
		t.Helper()
		if err := run(sess, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mustRun(s, "CREATE TABLE r (k bigint PRIMARY KEY, v text) WITH (split_points = '100')")
	mustRun(s, "INSERT INTO r VALUES (1, 'one'), (200, 'two hundred')")
	st, err := s.Prepare(ctx, "SELECT v FROM r WHERE k = $1", nil)
	if err != nil {
		t.Fatal(err)
	}
	lookup := func(k string) ([]string, error) {
		t.Helper()
		p := array.MakeArrayOfNull(memory.DefaultAllocator, expr.Int8Type, 1) // k = NULL keeps no row
		if k != "NULL" {
			p = param(t, expr.Int8Type, k)
		}
		rows, err := s.Execute(ctx, st, []arrow.Array{p})
		if err != nil {
			return nil, err
		}
		res, err := sql.Collect(ctx, rows)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, r := range res.Rows {
			out = append(out, *r[0])
		}
		return out, nil
	}
	expect := func(step, k string, want ...string) {
		t.Helper()
		got, err := lookup(k)
		if err != nil {
			t.Fatalf("%s: k=%s: %v", step, k, err)
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: k=%s read %q, want %q", step, k, got, want)
		}
	}
	expect("first", "1", "one")
	expect("second, other partition", "200", "two hundred")
	expect("absent", "7")
	// A NULL key makes k = $1 a condition no scan range holds: it must
	// stay above the scan, and the next execution plan as before.
	expect("NULL", "NULL")
	expect("after NULL", "1", "one")

	mustRun(other, "INSERT INTO r VALUES (7, 'seven')")
	expect("after another session's insert", "7", "seven")

	mustRun(other, "ALTER TABLE r SET (split_threshold = 1000)")
	expect("after ALTER TABLE", "7", "seven")

	mustRun(other, "DROP TABLE r")
	if _, err := lookup("7"); sqlerr.Code(err) != sqlerr.UndefinedTable {
		t.Errorf("after DROP TABLE: %v, want 42P01", err)
	}
	mustRun(other, "CREATE TABLE r (k bigint PRIMARY KEY, v text, extra integer)")
	mustRun(other, "INSERT INTO r VALUES (7, 'new seven', 1)")
	expect("after the table was made again", "7", "new seven")
	expect("a row of the dropped table", "1")

	mustRun(s, "BEGIN")
	mustRun(s, "INSERT INTO r VALUES (1, 'pending one', 2)")
	expect("a write of the open transaction", "1", "pending one")
	mustRun(s, "ROLLBACK")
	expect("after ROLLBACK", "1")

	mustRun(other, "DROP TABLE r")
	mustRun(other, "CREATE TABLE r (k bigint PRIMARY KEY, v bigint)")
	if _, err := lookup("7"); err == nil || !strings.Contains(err.Error(), "cached plan must not change result type") {
		t.Errorf("a changed column type: %v", err)
	}
}

// TestPreparedPlanReuse runs prepared statements many times with random
// parameters (NULLs among them) while other sessions write, and compares
// each execution with the same statement prepared afresh: an execution
// that reuses the kept plan (boundCache.replan: the scan's spans from its
// own parameters, the table's newest state) must read what a new plan
// reads.
func TestPreparedPlanReuse(t *testing.T) {
	ctx := context.Background()
	db := storagetest.NewDB(t, storagetest.LocalStore(t))
	eng := sql.NewEngine(db, sql.Config{})
	s, other := eng.NewSession(), eng.NewSession()
	run := func(q string) {
		t.Helper()
		if err := other.Script(ctx, q, func(r sql.Rows) error { _, err := sql.Collect(ctx, r); return err }); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	run("CREATE TABLE pr (k bigint PRIMARY KEY, v text, n integer) WITH (split_points = '50,100,150')")
	run("INSERT INTO pr SELECT g, 'v' || g, g % 7 FROM generate_series(1, 200, 2) AS g")
	run("CREATE TABLE pa (k bigint PRIMARY KEY, n bigint) WITH (aggregations = 'sum(n)', split_points = '100')")
	run("INSERT INTO pa SELECT g % 150, 1 FROM generate_series(1, 300) AS g")

	types := func(n int) []arrow.DataType {
		ts := make([]arrow.DataType, n)
		for i := range ts {
			ts[i] = expr.Int8Type
		}
		return ts
	}
	cases := []struct {
		sql    string
		params int
	}{
		{"SELECT v, n FROM pr WHERE k = $1", 1},
		{"SELECT k, v FROM pr WHERE k BETWEEN $1 AND $2", 2},
		{"SELECT k FROM pr WHERE k >= $1 AND k < $2 LIMIT 3", 2},
		{"SELECT k FROM pr WHERE k IN ($1, $2) ORDER BY k DESC", 2},
		{"SELECT v || $2, k + $2 FROM pr WHERE k = $1", 2},
		{"SELECT k FROM pr WHERE k = $1 AND n = $2", 2}, // n = $2 stays above the scan
		{"SELECT k, n FROM pa WHERE k = $1 OR k = $2", 2},
		{"SELECT count(*) FROM pr WHERE k > $1", 1},
		{"SELECT k, n FROM pa ORDER BY k LIMIT 5", 0},
	}
	rng := rand.New(rand.NewPCG(7, 11))
	value := func() arrow.Array {
		if rng.IntN(6) == 0 {
			return array.MakeArrayOfNull(memory.DefaultAllocator, expr.Int8Type, 1)
		}
		return param(t, expr.Int8Type, strconv.Itoa(rng.IntN(220)-10))
	}
	exec := func(st *sql.Statement, ordered bool, ps []arrow.Array) string {
		t.Helper()
		rows, err := s.Execute(ctx, st, ps)
		if err != nil {
			t.Fatal(err)
		}
		res, err := sql.Collect(ctx, rows)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(rowsText(res.Rows), "\n")
		if !ordered {
			slices.Sort(lines) // in no particular order
		}
		return strings.Join(lines, "| ")
	}
	for _, c := range cases {
		st, err := s.Prepare(ctx, c.sql, types(c.params))
		if err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		for i := 0; i < 60; i++ {
			ps := make([]arrow.Array, c.params)
			for j := range ps {
				ps[j] = value()
			}
			if i%15 == 7 {
				run(fmt.Sprintf("INSERT INTO pr VALUES (%d, 'new', %d)", 2*rng.IntN(100)+2, i))
				run(fmt.Sprintf("INSERT INTO pa VALUES (%d, %d)", rng.IntN(150), i))
			}
			fresh, err := s.Prepare(ctx, c.sql, types(c.params))
			if err != nil {
				t.Fatal(err)
			}
			ordered := strings.Contains(c.sql, "ORDER BY")
			if got, want := exec(st, ordered, ps), exec(fresh, ordered, ps); got != want {
				t.Fatalf("%s, execution %d, params %v: reused statement read\n%s\nwant\n%s", c.sql, i, ps, got, want)
			}
		}
	}
}

// TestPreparedMatchesLiterals runs prepared statements of shapes that
// TestPreparedPlanReuse does not (filters above a limit, BETWEEN
// SYMMETRIC, IN lists mixing parameters and constants, casts, text keys
// and LIKE prefixes, a scalar subquery) and compares each execution with
// the same query written with its values as literals, run unprepared.
func TestPreparedMatchesLiterals(t *testing.T) {
	ctx := context.Background()
	db := storagetest.NewDB(t, storagetest.LocalStore(t))
	eng := sql.NewEngine(db, sql.Config{})
	s, other := eng.NewSession(), eng.NewSession()
	collect := func(sess *sql.Session, q string) string {
		t.Helper()
		var lines []string
		err := sess.Script(ctx, q, func(r sql.Rows) error {
			res, err := sql.Collect(ctx, r)
			if err != nil {
				return err
			}
			lines = append(lines, strings.Split(rowsText(res.Rows), "\n")...)
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		slices.Sort(lines)
		return strings.Join(lines, "| ")
	}
	collect(other, "CREATE TABLE rv (k bigint PRIMARY KEY, v text, n integer) WITH (split_points = '50,100,150')")
	collect(other, "INSERT INTO rv SELECT g, 'v' || g, g % 7 FROM generate_series(1, 200, 2) AS g")
	collect(other, "CREATE TABLE rt (s text PRIMARY KEY, n bigint) WITH (split_points = 'm')")
	collect(other, "INSERT INTO rt SELECT 'k' || g, g FROM generate_series(1, 120) AS g")

	type pv struct {
		typ  arrow.DataType
		text string // "NULL" for NULL
	}
	i8 := func(v string) pv { return pv{expr.Int8Type, v} }
	tx := func(v string) pv { return pv{arrow.BinaryTypes.String, v} }
	cases := []struct {
		sql    string
		values [][]pv
	}{
		{"SELECT * FROM (SELECT k, v FROM rv ORDER BY k LIMIT 20) s WHERE k > $1",
			[][]pv{{i8("10")}, {i8("30")}, {i8("NULL")}, {i8("0")}}},
		{"SELECT k FROM rv WHERE k BETWEEN SYMMETRIC $1 AND $2",
			[][]pv{{i8("11"), i8("21")}, {i8("21"), i8("11")}, {i8("151"), i8("99")}}},
		{"SELECT k FROM rv WHERE k IN ($1, 51, $2)",
			[][]pv{{i8("1"), i8("3")}, {i8("99"), i8("NULL")}, {i8("199"), i8("5")}}},
		{"SELECT k FROM rv WHERE k = $1::int",
			[][]pv{{tx("5")}, {tx("77")}, {tx("151")}}},
		{"SELECT n FROM rt WHERE s = $1",
			[][]pv{{tx("k1")}, {tx("k99")}, {tx("zz")}, {tx("NULL")}, {tx("k120")}}},
		{"SELECT n FROM rt WHERE s LIKE $1",
			[][]pv{{tx("k11%")}, {tx("k9%")}, {tx("k1_")}, {tx("k%")}, {tx("k11%")}}},
		{"SELECT n FROM rt WHERE s >= $1 AND s < $2 ORDER BY s LIMIT 4",
			[][]pv{{tx("k1"), tx("k2")}, {tx("k5"), tx("k9")}, {tx("a"), tx("z")}}},
		{"SELECT k, CASE WHEN k > $2 THEN 'big' ELSE v END FROM rv WHERE k < $1",
			[][]pv{{i8("10"), i8("5")}, {i8("30"), i8("20")}}},
		// An uncorrelated scalar subquery runs while binding and stands
		// in as a constant (binder.scalarSubquery): such a binding is not
		// kept, or it would hold stale data and the first execution's
		// parameters.
		{"SELECT k FROM rv WHERE k = (SELECT max(k) FROM rv)", [][]pv{{}, {}, {}}},
		{"SELECT k FROM rv WHERE k = (SELECT max(k) FROM rv WHERE k < $1)",
			[][]pv{{i8("10")}, {i8("100")}, {i8("30")}}},
	}
	literal := func(q string, vals []pv) string {
		for i := len(vals) - 1; i >= 0; i-- {
			v := vals[i]
			lit := "NULL"
			if v.text != "NULL" {
				lit = "'" + v.text + "'"
			}
			if v.typ.ID() == arrow.INT64 {
				lit = "(" + lit + "::bigint)"
			} else {
				lit = "(" + lit + "::text)"
			}
			q = strings.ReplaceAll(q, fmt.Sprintf("$%d", i+1), lit)
		}
		return q
	}
	next := 400
	for _, c := range cases {
		var types []arrow.DataType
		for _, v := range c.values[0] {
			types = append(types, v.typ)
		}
		st, err := s.Prepare(ctx, c.sql, types)
		if err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		for i, vals := range c.values {
			ps := make([]arrow.Array, len(vals))
			for j, v := range vals {
				if v.text == "NULL" {
					ps[j] = array.MakeArrayOfNull(memory.DefaultAllocator, v.typ, 1)
				} else {
					ps[j] = param(t, v.typ, v.text)
				}
			}
			rows, err := s.Execute(ctx, st, ps)
			if err != nil {
				t.Fatalf("%s %v: %v", c.sql, vals, err)
			}
			res, err := sql.Collect(ctx, rows)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Split(rowsText(res.Rows), "\n")
			slices.Sort(got)
			want := collect(s, literal(c.sql, vals))
			if strings.Join(got, "| ") != want {
				t.Errorf("%s, execution %d %v:\n got %s\nwant %s", c.sql, i, vals, strings.Join(got, "| "), want)
			}
			// Another session writes between executions.
			collect(other, fmt.Sprintf("INSERT INTO rv VALUES (%d, 'w', 1)", next))
			next += 2
		}
	}
}
