package pgwire_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// sendCancel sends a CancelRequest for conn and returns once the
// server closed the request's connection, which it does after acting on
// it: a statement that starts after that must not be cancelled.
func sendCancel(t *testing.T, nc net.Conn, pid uint32, key []byte) {
	defer nc.Close()
	fe := pgproto3.NewFrontend(nc, nc)
	fe.Send(&pgproto3.CancelRequest{ProcessID: pid, SecretKey: key})
	if err := fe.Flush(); err != nil {
		t.Error(err)
		return
	}
	nc.SetReadDeadline(time.Now().Add(time.Minute))
	if _, err := io.ReadAll(nc); err != nil {
		t.Error(err)
	}
}

// TestCancelRacesStatementEnd sends CancelRequests racing with the
// end of prepared lookups (which run in the connection's shared statement
// context when no statement_timeout is set, and in one of their own
// when it is): the statement the request races with may fail as
// cancelled, but the next one, started after the server acted on the
// request, must run to its end with its own answer.
func TestCancelRacesStatementEnd(t *testing.T) {
	s := startServer(t)
	conn := s.connect(t)
	execSQL(t, conn, "CREATE TABLE cr (k bigint PRIMARY KEY, v text) WITH (split_points = '50')",
		"INSERT INTO cr SELECT g, 'v' || g FROM generate_series(1, 99) AS g")
	ctx := context.Background()
	pc := conn.PgConn()
	lookup := func(k int) (string, error) {
		var v string
		err := conn.QueryRow(ctx, "SELECT v FROM cr WHERE k = $1", k).Scan(&v)
		return v, err
	}
	// long runs long enough for some requests to land while it runs.
	long := func(n int) error {
		var got int64
		err := conn.QueryRow(ctx, "SELECT count(*) FROM generate_series(1, $1::bigint)", n).Scan(&got)
		if err == nil && got != int64(n) {
			return fmt.Errorf("counted %d of %d", got, n)
		}
		return err
	}
	cancelled := 0
	for i := 0; i < 200; i++ {
		switch i % 50 {
		case 25:
			execSQL(t, conn, "SET statement_timeout = '1h'")
		case 0:
			execSQL(t, conn, "SET statement_timeout = 0")
		}
		cc, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			sendCancel(t, cc, pc.PID(), pc.SecretKey())
		}()
		k := i%99 + 1
		var v string
		if i%2 == 0 {
			err = long(1000 * (i % 300))
			v = "v" + strconv.Itoa(k)
		} else {
			v, err = lookup(k)
		}
		var pgErr *pgconn.PgError
		switch {
		case err == nil:
			if v != "v"+strconv.Itoa(k) {
				t.Fatalf("lookup %d read %q", k, v)
			}
		case errors.As(err, &pgErr) && pgErr.Code == "57014":
			cancelled++
		default:
			t.Fatalf("lookup %d: %v", k, err)
		}
		wg.Wait()
		// The request was served: nothing may cancel what runs now.
		for j := 0; j < 3; j++ {
			k2 := (i*7+j)%99 + 1
			if v, err := lookup(k2); err != nil || v != "v"+strconv.Itoa(k2) {
				t.Fatalf("round %d: the lookup after a served cancel read %q, %v", i, v, err)
			}
			if err := long(1000 + j); err != nil {
				t.Fatalf("round %d: the query after a served cancel: %v", i, err)
			}
		}
	}
	t.Logf("%d of 200 lookups cancelled", cancelled)
}

// TestParamsOutliveBind writes rows whose values are BIGINT and
// INTEGER parameters (Bind puts plain integers in one-value arrays the
// connection reuses once the portal closes) inside a transaction, then
// binds other values: the rows written, pending and then committed, must
// keep their own values.
func TestParamsOutliveBind(t *testing.T) {
	s := startServer(t)
	conn := s.connect(t)
	ctx := context.Background()
	execSQL(t, conn, "CREATE TABLE po (k bigint PRIMARY KEY, n integer, m bigint)")
	check := func(what, want string) {
		t.Helper()
		rows, err := conn.Query(ctx, "SELECT k, n, m FROM po ORDER BY k")
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for rows.Next() {
			var k, m int64
			var n int32
			if err := rows.Scan(&k, &n, &m); err != nil {
				t.Fatal(err)
			}
			got += fmt.Sprintf("%d,%d,%d ", k, n, m)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s: read %q, want %q", what, got, want)
		}
	}
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeExec} {
		execSQL(t, conn, "BEGIN")
		want := ""
		for i := int64(1); i <= 4; i++ {
			if _, err := conn.Exec(ctx, "INSERT INTO po VALUES ($1, $2, $3)", mode, i, int32(i*10), i*100); err != nil {
				t.Fatal(err)
			}
			want += fmt.Sprintf("%d,%d,%d ", i, i*10, i*100)
			check(fmt.Sprintf("mode %v, pending after %d", mode, i), want)
		}
		execSQL(t, conn, "COMMIT")
		check(fmt.Sprintf("mode %v, committed", mode), want)
		execSQL(t, conn, "CREATE TABLE IF NOT EXISTS po2 (k bigint PRIMARY KEY)", "DROP TABLE po", "CREATE TABLE po (k bigint PRIMARY KEY, n integer, m bigint)")
	}
}

// TestPortalsAcrossErrors binds a statement into two portals of a
// transaction with different parameters, reads them interleaved across
// Sync, fails a Bind (a bad parameter after a plain integer one, which
// Bind took into one of its arrays) and an Execute in other blocks, and
// checks every portal reads its own rows.
func TestPortalsAcrossErrors(t *testing.T) {
	s := startServer(t)
	execSQL(t, s.connect(t),
		"CREATE TABLE pe (k bigint PRIMARY KEY, v text) WITH (split_points = '10')",
		"INSERT INTO pe SELECT g, 'v' || g FROM generate_series(1, 19) AS g")
	fe := s.rawConnect(t)
	receive := func() []string {
		t.Helper()
		var out []string
		for {
			switch m := fe.next(t, out).(type) {
			case *pgproto3.DataRow:
				out = append(out, string(m.Values[0]))
			case *pgproto3.ErrorResponse:
				out = append(out, "error "+m.Code)
			case *pgproto3.CommandComplete:
				out = append(out, string(m.CommandTag))
			case *pgproto3.PortalSuspended:
				out = append(out, "suspended")
			case *pgproto3.ReadyForQuery:
				return append(out, "ready "+string(m.TxStatus))
			}
		}
	}
	check := func(what string, want string) {
		t.Helper()
		if got := fmt.Sprint(receive()); got != want {
			t.Errorf("%s:\n got %s\nwant %s", what, got, want)
		}
	}
	fe.Send(&pgproto3.Parse{Name: "q", Query: "SELECT v FROM pe WHERE k >= $1 AND k < $2"})
	fe.Send(&pgproto3.Parse{Name: "bad", Query: "SELECT 1 / ($1::bigint - k) FROM pe WHERE k = $1"})
	fe.Send(&pgproto3.Sync{})
	check("parse", "[ready I]")
	bind := func(stmt, portal string, params ...string) {
		var ps [][]byte
		for _, p := range params {
			ps = append(ps, []byte(p))
		}
		fe.Send(&pgproto3.Bind{DestinationPortal: portal, PreparedStatement: stmt, Parameters: ps})
	}
	exec := func(portal string, max uint32) { fe.Send(&pgproto3.Execute{Portal: portal, MaxRows: max}) }

	for round := 0; round < 3; round++ {
		fe.Send(&pgproto3.Query{String: "BEGIN"})
		check("begin", "[BEGIN ready T]")
		bind("q", "p1", "8", "12")
		bind("q", "p2", "1", "3")
		exec("p1", 1)
		exec("p2", 0)
		exec("p1", 1)
		fe.Send(&pgproto3.Sync{})
		check("p1 and p2", "[v8 suspended v1 v2 SELECT 2 v9 suspended ready T]")
		// A Bind that fails on its second value, after a plain integer
		// the connection took for its first.
		bind("q", "p3", "5", "x")
		exec("p3", 0)
		fe.Send(&pgproto3.Sync{})
		check("bad bind", "[error 22P02 ready E]")
		fe.Send(&pgproto3.Query{String: "ROLLBACK"})
		check("rollback", "[ROLLBACK ready I]")

		// Outside a block: an Execute that fails mid-statement, then the
		// same statements bound again.
		bind("bad", "", "3")
		exec("", 0)
		fe.Send(&pgproto3.Sync{})
		check("division by zero", "[error 22012 ready I]")
		bind("q", "p4", "17", "30")
		bind("q", "p5", "5", "x")
		exec("p4", 0)
		fe.Send(&pgproto3.Sync{})
		check("after errors", "[error 22P02 ready I]")
		bind("q", "p4", "17", "30")
		bind("q", "p5", "-5", "2")
		exec("p4", 1)
		exec("p5", 0)
		exec("p4", 0)
		fe.Send(&pgproto3.Sync{})
		check("after errors, again", "[v17 suspended v1 SELECT 1 v18 v19 SELECT 2 ready I]")
	}
}
