package flight_test

import (
	"context"
	gosql "database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-adbc/go/adbc"
	adbcflight "github.com/apache/arrow-adbc/go/adbc/driver/flightsql"
	_ "github.com/apache/arrow-adbc/go/adbc/sqldriver/flightsql"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// adbcConn opens an ADBC connection to s; with a user it logs in with
// basic auth (any user is accepted), which the driver follows with the
// bearer token the handshake answers.
func adbcConn(t testing.TB, s *server, user string) adbc.Connection {
	t.Helper()
	opts := map[string]string{adbc.OptionKeyURI: s.URI()}
	if user != "" {
		opts[adbc.OptionKeyUsername] = user
		opts[adbc.OptionKeyPassword] = "anything"
	}
	db, err := adbcflight.NewDriver(memory.DefaultAllocator).NewDatabase(opts)
	if err != nil {
		t.Fatal(err)
	}
	cn, err := db.Open(background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cn.Close(); db.Close() })
	return cn
}

// adbcQuery runs a query and returns its schema and rows, each row's
// values formatted with %v (NULL as "NULL").
func adbcQuery(t testing.TB, cn adbc.Connection, q string, params arrow.RecordBatch) (*arrow.Schema, []string) {
	t.Helper()
	st, err := cn.NewStatement()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.SetSqlQuery(q); err != nil {
		t.Fatal(err)
	}
	if params != nil {
		if err := st.Prepare(background()); err != nil {
			t.Fatalf("prepare %s: %v", q, err)
		}
		if err := st.Bind(background(), params); err != nil {
			t.Fatal(err)
		}
	}
	rdr, _, err := st.ExecuteQuery(background())
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rdr.Release()
	var rows []string
	for rdr.Next() {
		rows = append(rows, formatRows(rdr.RecordBatch())...)
	}
	if err := rdr.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return rdr.Schema(), rows
}

func adbcUpdate(t testing.TB, cn adbc.Connection, q string) int64 {
	t.Helper()
	st, err := cn.NewStatement()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.SetSqlQuery(q); err != nil {
		t.Fatal(err)
	}
	n, err := st.ExecuteUpdate(background())
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// formatRows renders a batch's rows as "v1|v2|…".
func formatRows(rec arrow.RecordBatch) []string {
	out := make([]string, rec.NumRows())
	for r := range out {
		cells := make([]string, rec.NumCols())
		for c, col := range rec.Columns() {
			if col.IsNull(r) {
				cells[c] = "NULL"
				continue
			}
			switch a := col.(type) {
			case *array.Binary:
				cells[c] = fmt.Sprintf("%x", a.Value(r))
			case *array.Timestamp:
				cells[c] = a.Value(r).ToTime(arrow.Microsecond).UTC().Format("2006-01-02 15:04:05.999999")
			case *array.Date32:
				cells[c] = a.Value(r).ToTime().Format("2006-01-02")
			default:
				cells[c] = a.ValueStr(r)
			}
		}
		out[r] = strings.Join(cells, "|")
	}
	return out
}

func int64Batch(name string, vals ...int64) arrow.RecordBatch {
	b := array.NewInt64Builder(memory.DefaultAllocator)
	b.AppendValues(vals, nil)
	col := b.NewArray()
	sch := arrow.NewSchema([]arrow.Field{{Name: name, Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	return array.NewRecordBatch(sch, []arrow.Array{col}, int64(len(vals)))
}

// TestADBC drives the server with the ADBC Go driver: logins, queries over
// many endpoints, every column type, prepared queries and updates, errors
// with their SQLSTATE, and the database/sql adapter.
func TestADBC(t *testing.T) {
	s := serve(t, localStore(t), nil, false)
	cn := adbcConn(t, s, "alice")
	anon := adbcConn(t, s, "")

	adbcUpdate(t, cn, "CREATE TABLE t (k bigint PRIMARY KEY, v bigint, note text) WITH (split_points = '100,200,300')")
	if n := adbcUpdate(t, anon, "INSERT INTO t SELECT x, x % 10, 'row ' || x FROM generate_series(0, 399) AS g(x)"); n != 400 {
		t.Fatalf("INSERT affected %d rows, want 400", n)
	}

	t.Run("query", func(t *testing.T) {
		sch, rows := adbcQuery(t, cn, "SELECT k, v, note FROM t", nil)
		if len(rows) != 400 {
			t.Fatalf("%d rows, want 400", len(rows))
		}
		want := arrow.NewSchema([]arrow.Field{
			{Name: "k", Type: arrow.PrimitiveTypes.Int64},
			{Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
			{Name: "note", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
		if !sch.Equal(want) {
			t.Fatalf("schema %s, want %s", sch, want)
		}
		_, rows = adbcQuery(t, anon, "SELECT k, note FROM t WHERE k BETWEEN 198 AND 201 ORDER BY k", nil)
		if got := strings.Join(rows, ","); got != "198|row 198,199|row 199,200|row 200,201|row 201" {
			t.Fatalf("got %s", got)
		}
	})

	t.Run("types", func(t *testing.T) {
		adbcUpdate(t, cn, `CREATE TABLE types (s varchar PRIMARY KEY, b bigint, i integer, d double precision,
			f boolean, ts timestamp, dt date, bin bytea)`)
		adbcUpdate(t, cn, `INSERT INTO types VALUES ('a', 9007199254740993, -7, 2.5, true, '2024-02-29 12:34:56.789012', '2024-02-29', '\xdeadbeef'),
			('b', NULL, NULL, NULL, NULL, NULL, NULL, NULL)`)
		sch, rows := adbcQuery(t, cn, "SELECT * FROM types ORDER BY s", nil)
		types := []arrow.DataType{arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Int32,
			arrow.PrimitiveTypes.Float64, arrow.FixedWidthTypes.Boolean, &arrow.TimestampType{Unit: arrow.Microsecond},
			arrow.FixedWidthTypes.Date32, arrow.BinaryTypes.Binary}
		for i, want := range types {
			if got := sch.Field(i).Type; !arrow.TypeEqual(got, want) {
				t.Errorf("column %s is %s, want %s", sch.Field(i).Name, got, want)
			}
		}
		want := []string{"a|9007199254740993|-7|2.5|true|2024-02-29 12:34:56.789012|2024-02-29|deadbeef",
			"b|NULL|NULL|NULL|NULL|NULL|NULL|NULL"}
		if !slices.Equal(rows, want) {
			t.Fatalf("rows %q, want %q", rows, want)
		}
	})

	t.Run("prepared", func(t *testing.T) {
		st, err := cn.NewStatement()
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		st.SetSqlQuery("SELECT k, note FROM t WHERE k = $1 OR k = $1 + 300 ORDER BY k")
		if err := st.Prepare(background()); err != nil {
			t.Fatal(err)
		}
		ps, err := st.GetParameterSchema()
		if err != nil || ps.NumFields() != 1 || !arrow.TypeEqual(ps.Field(0).Type, arrow.PrimitiveTypes.Int64) {
			t.Fatalf("parameter schema %v, %v; want one bigint", ps, err)
		}
		for _, k := range []int64{5, 17} {
			st.Bind(background(), int64Batch("p", k))
			rdr, _, err := st.ExecuteQuery(background())
			if err != nil {
				t.Fatal(err)
			}
			var rows []string
			for rdr.Next() {
				rows = append(rows, formatRows(rdr.RecordBatch())...)
			}
			rdr.Release()
			if want := []string{fmt.Sprintf("%d|row %d", k, k), fmt.Sprintf("%d|row %d", k+300, k+300)}; !slices.Equal(rows, want) {
				t.Fatalf("k=%d: rows %q, want %q", k, rows, want)
			}
		}
		// Many parameter rows: the query runs once per row.
		_, rows := adbcQuery(t, cn, "SELECT note FROM t WHERE k = $1", int64Batch("p", 1, 2, 3))
		if got := strings.Join(rows, ","); got != "row 1,row 2,row 3" {
			t.Fatalf("three parameter rows gave %s", got)
		}
		// JDBC-style markers work too.
		_, rows = adbcQuery(t, cn, "SELECT note FROM t WHERE k = ? AND note <> '?'", int64Batch("p", 42))
		if got := strings.Join(rows, ","); got != "row 42" {
			t.Fatalf("? marker gave %s", got)
		}
		// An update with many parameter rows: counts add up.
		adbcUpdate(t, cn, "CREATE TABLE pairs (a bigint PRIMARY KEY, b text)")
		up, _ := cn.NewStatement()
		defer up.Close()
		up.SetSqlQuery("INSERT INTO pairs VALUES ($1, 'x' || $1)")
		if err := up.Prepare(background()); err != nil {
			t.Fatal(err)
		}
		up.Bind(background(), int64Batch("a", 10, 20, 30))
		if n, err := up.ExecuteUpdate(background()); err != nil || n != 3 {
			t.Fatalf("prepared INSERT of three rows: %d, %v", n, err)
		}
		_, rows = adbcQuery(t, cn, "SELECT * FROM pairs ORDER BY a", nil)
		if got := strings.Join(rows, ","); got != "10|x10,20|x20,30|x30" {
			t.Fatalf("pairs hold %s", got)
		}
	})

	t.Run("updates", func(t *testing.T) {
		if n := adbcUpdate(t, cn, "ALTER TABLE t SET (split_threshold = 5000, gc_delay = '1h')"); n != 0 {
			t.Fatalf("ALTER TABLE affected %d rows", n)
		}
		_, rows := adbcQuery(t, cn, `SELECT properties LIKE '%"split_threshold","5000"%' AND properties LIKE '%"gc_delay","1h"%' FROM dormouse.tables WHERE table_name = 't'`, nil)
		if rows[0] != "true" {
			t.Fatalf("dormouse.tables does not show the altered properties")
		}
		adbcUpdate(t, cn, "CREATE TABLE gone (k bigint)")
		adbcUpdate(t, cn, "DROP TABLE gone")
		if _, rows := adbcQuery(t, cn, "SELECT count(*) FROM dormouse.tables WHERE table_name = 'gone'", nil); rows[0] != "0" {
			t.Fatalf("DROP TABLE left the table")
		}
		// A statement that returns no rows, sent as a query, runs and
		// answers an empty result (DB-API's cursor.execute does this).
		sch, rows := adbcQuery(t, cn, "CREATE TABLE viaquery (k bigint)", nil)
		if sch.NumFields() != 0 || len(rows) != 0 {
			t.Fatalf("CREATE TABLE as a query answered %s, %v", sch, rows)
		}
		if _, rows := adbcQuery(t, cn, "SELECT count(*) FROM viaquery", nil); rows[0] != "0" {
			t.Fatalf("the table created by a query: %v", rows)
		}
	})

	t.Run("errors", func(t *testing.T) {
		for _, c := range []struct {
			query    string
			status   adbc.Status
			sqlstate string
		}{
			{"SELEC 1", adbc.StatusInvalidArgument, "42601"},
			{"SELECT nope FROM t", adbc.StatusInvalidArgument, "42703"},
			{"SELECT * FROM missing", adbc.StatusNotFound, "42P01"},
			{"SELECT 1 / 0", adbc.StatusInvalidArgument, "22012"},
			{"SELECT k FROM t WHERE k = $1", adbc.StatusInvalidArgument, "08P01"},
		} {
			st, _ := cn.NewStatement()
			st.SetSqlQuery(c.query)
			rdr, _, err := st.ExecuteQuery(background())
			if err == nil {
				for rdr.Next() {
				}
				err = rdr.Err()
				rdr.Release()
			}
			st.Close()
			var ae adbc.Error
			if !errors.As(err, &ae) {
				t.Fatalf("%s: %v, want an adbc.Error", c.query, err)
			}
			if ae.Code != c.status || sqlstateOf(ae) != c.sqlstate {
				t.Errorf("%s: %v with SQLSTATE %q; want %v, %s", c.query, ae, sqlstateOf(ae), c.status, c.sqlstate)
			}
		}
		// The server is still there.
		if _, rows := adbcQuery(t, cn, "SELECT count(*) FROM t", nil); rows[0] != "400" {
			t.Fatalf("count after errors: %v", rows)
		}
	})

	t.Run("database/sql", func(t *testing.T) {
		db, err := gosql.Open("flightsql", "uri="+s.URI()+";username=bob;password=x")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(background(), time.Minute)
		defer cancel()
		if _, err := db.ExecContext(ctx, "CREATE TABLE viasql (id bigint PRIMARY KEY, name text)"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, "INSERT INTO viasql VALUES (1, 'one'), (2, 'two')"); err != nil {
			t.Fatal(err)
		}
		// The adapter binds arguments only to prepared statements.
		byID, err := db.PrepareContext(ctx, "SELECT name FROM viasql WHERE id = $1")
		if err != nil {
			t.Fatal(err)
		}
		defer byID.Close()
		var name string
		if err := byID.QueryRowContext(ctx, int64(2)).Scan(&name); err != nil || name != "two" {
			t.Fatalf("QueryRow: %q, %v", name, err)
		}
		rows, err := db.QueryContext(ctx, "SELECT k, note FROM t WHERE k < 3 ORDER BY k")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var k int64
			var note string
			if err := rows.Scan(&k, &note); err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprintf("%d %s", k, note))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, ",") != "0 row 0,1 row 1,2 row 2" {
			t.Fatalf("database/sql rows: %v", got)
		}
	})
}

// sqlstateOf finds the SQLSTATE in an ADBC error's gRPC status details.
func sqlstateOf(e adbc.Error) string {
	for _, d := range e.Details {
		if d.Key() != "grpc-status-details-bin" {
			continue
		}
		raw, err := d.Serialize()
		if err != nil {
			continue
		}
		var a anypb.Any
		if proto.Unmarshal(raw, &a) != nil {
			continue
		}
		var info errdetails.ErrorInfo
		if a.UnmarshalTo(&info) == nil && info.Domain == "dormouse" {
			return info.Reason
		}
	}
	return ""
}
