package pgwire_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// The pgx tests drive the server with pgx v5 as an application would:
// the extended protocol with statements described and cached, binary
// parameters and results, batches, transactions, CopyFrom.

func TestPgxRoundTrip(t *testing.T) {
	s := startServer(t)
	conn := s.connect(t)
	ctx := context.Background()
	day := time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
	ts := time.Date(2024, 2, 29, 13, 14, 15, 123456000, time.UTC)
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol} {
		t.Run(mode.String(), func(t *testing.T) {
			execSQL(t, conn, fmt.Sprintf(`CREATE TABLE typed_%d (k bigint PRIMARY KEY, i integer, d double precision, b boolean,
				s text, v varchar, by bytea, dt date, ts timestamp, tz timestamptz)`, int(mode)))
			_, err := conn.Exec(ctx, `INSERT INTO typed_`+fmt.Sprint(int(mode))+` VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10), (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
				mode, int64(1)<<40, int32(-7), 2.5, true, "zoë 'quoted'", "v", []byte{0, 1, 0xff}, day, ts, ts)
			if err != nil {
				t.Fatal(err)
			}
			var (
				k      int64
				i      *int32
				d      *float64
				b      *bool
				st, v  *string
				by     []byte
				dt     *time.Time
				tsv    *time.Time
				tzv    *time.Time
				nulls  int
				visits int
			)
			rows, err := conn.Query(ctx, "SELECT k, i, d, b, s, v, by, dt, ts, tz FROM typed_"+fmt.Sprint(int(mode))+" ORDER BY k", mode)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				if err := rows.Scan(&k, &i, &d, &b, &st, &v, &by, &dt, &tsv, &tzv); err != nil {
					t.Fatal(err)
				}
				visits++
				if k == 2 {
					if i == nil && d == nil && b == nil && st == nil && v == nil && by == nil && dt == nil && tsv == nil && tzv == nil {
						nulls++
					}
					continue
				}
				if k != 1<<40 || *i != -7 || *d != 2.5 || !*b || *st != "zoë 'quoted'" || *v != "v" ||
					!reflect.DeepEqual(by, []byte{0, 1, 0xff}) || !dt.Equal(day) || !tsv.Equal(ts) || !tzv.Equal(ts) {
					t.Errorf("row 1 read back as %v %v %v %v %v %v %v %v %v %v", k, *i, *d, *b, *st, *v, by, dt, tsv, tzv)
				}
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if visits != 2 || nulls != 1 {
				t.Fatalf("read %d rows, %d all-NULL; want 2, 1", visits, nulls)
			}
		})
	}
}

// TestPgxExpressionTypes reads values of every type the engine computes,
// in binary (pgx's choice for the types it knows) and in text.
func TestPgxExpressionTypes(t *testing.T) {
	s := startServer(t)
	conn := s.connect(t)
	ctx := context.Background()
	execSQL(t, conn, "CREATE TABLE a (k integer PRIMARY KEY)", "INSERT INTO a VALUES (3), (1), (2)")
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol} {
		t.Run(mode.String(), func(t *testing.T) {
			var (
				i2  int16
				f4  float32
				num pgtype.Numeric
				iv  pgtype.Interval
				tz  time.Time
				arr []int32
				txt []string
				nul *string
			)
			err := conn.QueryRow(ctx, `SELECT 7::smallint, 1.5::real, 12.25, interval '1 year 2 days 00:00:03.5',
				timestamptz '2024-01-02 03:04:05+00', array_agg(k ORDER BY k), array_agg(CAST(k AS text) || ' x' ORDER BY k), NULL
				FROM a`, mode).
				Scan(&i2, &f4, &num, &iv, &tz, &arr, &txt, &nul)
			if err != nil {
				t.Fatal(err)
			}
			f, _ := num.Float64Value()
			if i2 != 7 || f4 != 1.5 || f.Float64 != 12.25 || iv.Months != 12 || iv.Days != 2 || iv.Microseconds != 3_500_000 ||
				!tz.Equal(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)) || !reflect.DeepEqual(arr, []int32{1, 2, 3}) ||
				!reflect.DeepEqual(txt, []string{"1 x", "2 x", "3 x"}) || nul != nil {
				t.Fatalf("read %v %v %v %+v %v %v %q %v", i2, f4, f, iv, tz, arr, txt, nul)
			}
		})
	}
}

// TestPgxNumericBinary checks numeric's binary form against exact
// decimals: pgx asks for numeric results in binary.
func TestPgxNumericBinary(t *testing.T) {
	s := startServer(t)
	conn := s.connect(t)
	for _, c := range []struct {
		sql  string
		want string
	}{
		{"SELECT 0.1", "0.1"},
		{"SELECT 123456789.125", "123456789.125"},
		{"SELECT -0.000123", "-0.000123"},
		{"SELECT 1e20::numeric", "100000000000000000000"},
		{"SELECT 0::numeric", "0"},
		{"SELECT $1::numeric", "42.5"},
	} {
		var n pgtype.Numeric
		var args []any
		if c.want == "42.5" {
			args = append(args, 42.5)
		}
		if err := conn.QueryRow(context.Background(), c.sql, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		got, err := n.Value()
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%s: read %v, want %s", c.sql, got, c.want)
		}
	}
}

// TestPgxParameterInference checks the parameter types the server infers,
// as pgx reads them from ParameterDescription.
func TestPgxParameterInference(t *testing.T) {
	s := startServer(t)
	conn := s.connect(t)
	ctx := context.Background()
	execSQL(t, conn, "CREATE TABLE p (k bigint PRIMARY KEY, n text, d date, f double precision)")
	for _, c := range []struct {
		sql  string
		oids []uint32
	}{
		{"SELECT k FROM p WHERE k = $1", []uint32{20}},
		{"SELECT k FROM p WHERE k BETWEEN $1 AND $2 AND n IN ($3, $4)", []uint32{20, 20, 25, 25}},
		{"SELECT $1", []uint32{25}},
		{"SELECT $1::integer + 1", []uint32{23}},
		{"SELECT k FROM p WHERE d > $1 AND f < $2", []uint32{1082, 701}},
		{"INSERT INTO p VALUES ($1, $2, $3, $4)", []uint32{20, 25, 1082, 701}},
		{"SELECT k FROM p WHERE k = $2", []uint32{25, 20}},
	} {
		sd, err := conn.Prepare(ctx, "", c.sql)
		if err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		if !reflect.DeepEqual(sd.ParamOIDs, c.oids) {
			t.Errorf("%s: parameter OIDs %v, want %v", c.sql, sd.ParamOIDs, c.oids)
		}
	}
}

func TestPgxKeyLookups(t *testing.T) {
	s := startServer(t)
	conn := s.connect(t)
	ctx := context.Background()
	execSQL(t, conn, "CREATE TABLE kv (k bigint PRIMARY KEY, v text) WITH (split_points = '100, 200')")
	batch := &pgx.Batch{}
	for i := 0; i < 300; i++ {
		batch.Queue("INSERT INTO kv VALUES ($1, $2)", int64(i), fmt.Sprintf("v%d", i))
	}
	if err := conn.SendBatch(ctx, batch).Close(); err != nil {
		t.Fatal(err)
	}
	for _, k := range []int64{0, 99, 100, 150, 299} {
		var v string
		if err := conn.QueryRow(ctx, "SELECT v FROM kv WHERE k = $1", k).Scan(&v); err != nil {
			t.Fatal(err)
		}
		if v != fmt.Sprintf("v%d", k) {
			t.Errorf("k=%d: read %q", k, v)
		}
	}
	var n int64
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM kv WHERE k >= $1 AND k < $2", 50, 250).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 200 {
		t.Errorf("count %d, want 200", n)
	}
}

func TestPgxBatch(t *testing.T) {
	s := startServer(t)
	conn := s.connect(t)
	ctx := context.Background()
	execSQL(t, conn, "CREATE TABLE b (k bigint PRIMARY KEY, v text)")
	batch := &pgx.Batch{}
	batch.Queue("INSERT INTO b VALUES ($1, $2)", 1, "one")
	batch.Queue("INSERT INTO b VALUES ($1, $2)", 2, "two")
	batch.Queue("SELECT v FROM b ORDER BY k")
	batch.Queue("SELECT count(*) FROM b")
	br := conn.SendBatch(ctx, batch)
	for i := 0; i < 2; i++ {
		tag, err := br.Exec()
		if err != nil {
			t.Fatal(err)
		}
		if tag.String() != "INSERT 0 1" {
			t.Errorf("tag %q", tag)
		}
	}
	rows, err := br.Query()
	if err != nil {
		t.Fatal(err)
	}
	vals, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(vals, []string{"one", "two"}) {
		t.Errorf("read %q", vals)
	}
	var n int64
	if err := br.QueryRow().Scan(&n); err != nil || n != 2 {
		t.Errorf("count %d, %v", n, err)
	}
	if err := br.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestPgxErrors(t *testing.T) {
	s := startServer(t)
	conn := s.connect(t)
	ctx := context.Background()
	for _, c := range []struct {
		sql      string
		code     string
		position int32
	}{
		{"SELECT * FROM missing", "42P01", 15},
		{"SELEC 1", "42601", 1},
		{"SELECT 1/0", "22012", 0},
		{"SELECT nope FROM (SELECT 1 AS x) s", "42703", 8},
		{"SELECT $1::integer", "22P02", 0}, // 'abc' given below
	} {
		var args []any
		if c.code == "22P02" {
			args = append(args, "abc")
		}
		_, err := conn.Exec(ctx, c.sql, args...)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) {
			t.Fatalf("%s: error %v, want a PostgreSQL error", c.sql, err)
		}
		if pe.Code != c.code || pe.Position != c.position {
			t.Errorf("%s: %s at %d (%s), want %s at %d", c.sql, pe.Code, pe.Position, pe.Message, c.code, c.position)
		}
		// The connection is still good.
		var one int
		if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
			t.Fatalf("after %s: %v", c.sql, err)
		}
	}
}

func TestPgxTransactions(t *testing.T) {
	s := startServer(t)
	conn := s.connect(t)
	ctx := context.Background()
	execSQL(t, conn, "CREATE TABLE tx (k bigint PRIMARY KEY)")

	tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	if st := conn.PgConn().TxStatus(); st != 'T' {
		t.Errorf("status in block %c, want T", st)
	}
	_, err = tx.Exec(ctx, "INSERT INTO tx VALUES (1)")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "25006" {
		t.Fatalf("insert in a read-only block: %v, want 25006", err)
	}
	if st := conn.PgConn().TxStatus(); st != 'E' {
		t.Errorf("status after an error %c, want E", st)
	}
	_, err = tx.Exec(ctx, "SELECT 1")
	if !errors.As(err, &pe) || pe.Code != "25P02" {
		t.Fatalf("statement in a failed block: %v, want 25P02", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if st := conn.PgConn().TxStatus(); st != 'I' {
		t.Errorf("status after ROLLBACK %c, want I", st)
	}

	tx, err = conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO tx VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM tx").Scan(&n); err != nil || n != 1 {
		t.Fatalf("count %d, %v", n, err)
	}
}

// TestPgxSettings checks SET, SHOW and RESET and the ParameterStatus
// messages that report changes.
func TestPgxSettings(t *testing.T) {
	s := startServer(t)
	conn := s.connect(t)
	ctx := context.Background()
	pc := conn.PgConn()
	for name, want := range map[string]string{
		"server_encoding": "UTF8", "client_encoding": "UTF8", "standard_conforming_strings": "on",
		"integer_datetimes": "on", "DateStyle": "ISO, MDY", "TimeZone": "UTC", "session_authorization": "tester",
	} {
		if got := pc.ParameterStatus(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if v := pc.ParameterStatus("server_version"); len(v) < 3 || v[:3] != "15." {
		t.Errorf("server_version %q", v)
	}
	execSQL(t, conn, "SET application_name = 'mine'", "SET TIME ZONE 'Europe/Paris'")
	if got := pc.ParameterStatus("application_name"); got != "mine" {
		t.Errorf("application_name %q after SET", got)
	}
	if got := pc.ParameterStatus("TimeZone"); got != "Europe/Paris" {
		t.Errorf("TimeZone %q after SET", got)
	}
	var ts string
	if err := conn.QueryRow(ctx, "SELECT CAST(timestamptz '2024-07-01 12:00:00+00' AS text)").Scan(&ts); err != nil {
		t.Fatal(err)
	}
	if ts != "2024-07-01 14:00:00+02" {
		t.Errorf("timestamptz in Europe/Paris: %q", ts)
	}
	var show string
	if err := conn.QueryRow(ctx, "SHOW application_name").Scan(&show); err != nil || show != "mine" {
		t.Errorf("SHOW: %q, %v", show, err)
	}
	execSQL(t, conn, "RESET application_name")
	if got := pc.ParameterStatus("application_name"); got != "" {
		t.Errorf("application_name %q after RESET", got)
	}
	// A rollback restores the settings its transaction changed, and
	// reports them again.
	execSQL(t, conn, "BEGIN", "SET application_name = 'in a transaction'")
	if got := pc.ParameterStatus("application_name"); got != "in a transaction" {
		t.Errorf("application_name %q after SET in a transaction", got)
	}
	execSQL(t, conn, "SELECT 1", "ROLLBACK")
	if got := pc.ParameterStatus("application_name"); got != "" {
		t.Errorf("application_name %q after ROLLBACK", got)
	}
}

// TestPgxConcurrentSessions runs many sessions at once, each with its own
// settings.
func TestPgxConcurrentSessions(t *testing.T) {
	s := startServer(t)
	setup := s.connect(t)
	execSQL(t, setup, "CREATE TABLE c (k bigint PRIMARY KEY, v text)", "INSERT INTO c SELECT g, 'v' || g FROM generate_series(1, 1000) AS g")
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			conn, err := pgx.Connect(ctx, s.url())
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close(ctx)
			name := fmt.Sprintf("w%d", w)
			if _, err := conn.Exec(ctx, "SET application_name = '"+name+"'"); err != nil {
				errs <- err
				return
			}
			for i := 0; i < 50; i++ {
				k := int64(1 + (w*50+i)%1000)
				var v, app string
				if err := conn.QueryRow(ctx, "SELECT v, current_setting('application_name') FROM c WHERE k = $1", k).Scan(&v, &app); err != nil {
					// current_setting may be missing: fall back to the key alone.
					if err := conn.QueryRow(ctx, "SELECT v FROM c WHERE k = $1", k).Scan(&v); err != nil {
						errs <- err
						return
					}
					app = name
				}
				if v != fmt.Sprintf("v%d", k) || app != name {
					errs <- fmt.Errorf("worker %d read %q %q for k=%d", w, v, app, k)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// longQuery runs for a very long time unless it is cancelled.
const longQuery = "SELECT count(*) FROM generate_series(1, 3000) a, generate_series(1, 3000) b, generate_series(1, 3000) c"

func TestPgxCancelRequest(t *testing.T) {
	s := startServer(t)
	conn := s.connect(t)
	ctx := context.Background()
	errc := make(chan error, 1)
	go func() {
		_, err := conn.Exec(ctx, longQuery)
		errc <- err
	}()
	// Cancel until the query has been cancelled: a request that arrives
	// before the query starts cancels nothing.
	var err error
	for done := false; !done; {
		if cerr := conn.PgConn().CancelRequest(ctx); cerr != nil {
			t.Fatal(cerr)
		}
		select {
		case err = <-errc:
			done = true
		case <-time.After(20 * time.Millisecond):
		}
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "57014" || pe.Message != "canceling statement due to user request" {
		t.Fatalf("cancelled query: %v", err)
	}
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
}

func TestPgxStatementTimeout(t *testing.T) {
	s := startServer(t)
	conn := s.connect(t)
	ctx := context.Background()
	execSQL(t, conn, "SET statement_timeout = 50")
	_, err := conn.Exec(ctx, longQuery)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "57014" || pe.Message != "canceling statement due to statement timeout" {
		t.Fatalf("timed out query: %v", err)
	}
	execSQL(t, conn, "RESET statement_timeout", "SELECT 1")
}

// TestPgxEmptyAndManyStatements covers an empty query and a simple query
// of several statements.
func TestPgxEmptyAndManyStatements(t *testing.T) {
	s := startServer(t)
	conn := s.connect(t)
	ctx := context.Background()
	results, err := conn.PgConn().Exec(ctx, "CREATE TABLE m (k bigint PRIMARY KEY); INSERT INTO m VALUES (1), (2); SELECT k FROM m ORDER BY k; ;").ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, r := range results {
		tags = append(tags, r.CommandTag.String())
	}
	if !reflect.DeepEqual(tags, []string{"CREATE TABLE", "INSERT 0 2", "SELECT 2"}) {
		t.Errorf("tags %q", tags)
	}
	if _, err := conn.PgConn().Exec(ctx, "  -- nothing\n").ReadAll(); err != nil {
		t.Fatal(err)
	}
	// Float results keep their precision.
	var f float64
	tenth := 0.1
	if err := conn.QueryRow(ctx, "SELECT 0.1::double precision * 3").Scan(&f); err != nil || f != tenth*3 {
		t.Errorf("float %v %v", f, err)
	}
	if err := conn.QueryRow(ctx, "SELECT 'Infinity'::double precision").Scan(&f); err != nil || !math.IsInf(f, 1) {
		t.Errorf("infinity %v %v", f, err)
	}
}
