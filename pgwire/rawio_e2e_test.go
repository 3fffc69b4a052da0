package pgwire_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/dormousedb/dormouse/pgwire"
	"github.com/dormousedb/dormouse/sql"
	"github.com/dormousedb/dormouse/storage/storagetest"
)

// bigResult streams far more than a socket holds.
const bigResult = "SELECT g, g::text || '-padding-padding-padding-padding' FROM generate_series(1, 3000000) g"

// TestRawIOE2EShutdownWhileStreaming starts clients that stream large
// results, some reading, some stalled with the server's writes waiting
// on a full socket, then shuts the server down: Serve must return (every
// connection closed across its raw reads and writes) and every client
// must see its connection end.
func TestRawIOE2EShutdownWhileStreaming(t *testing.T) {
	db := storagetest.NewDB(t, storagetest.LocalStore(t))
	srv := &pgwire.Server{Engine: sql.NewEngine(db, sql.Config{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	url := fmt.Sprintf("postgres://tester@%s/x?sslmode=disable", ln.Addr())
	const clients = 8
	var started, wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		started.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := pgx.Connect(context.Background(), url)
			if err != nil {
				started.Done()
				errs <- err
				return
			}
			defer conn.Close(context.Background())
			rows, err := conn.Query(context.Background(), bigResult)
			if err != nil {
				started.Done()
				errs <- err
				return
			}
			n := 0
			for rows.Next() {
				n++
				if n == 1000 {
					started.Done()
					if i%2 == 1 {
						time.Sleep(time.Second) // stall: the server's writes fill the socket
					}
				}
			}
			rows.Close()
			if n < 1000 {
				started.Done()
			}
			if rows.Err() == nil {
				errs <- fmt.Errorf("client %d read all %d rows", i, n)
				return
			}
			errs <- nil
		}()
	}
	started.Wait()
	cancel()
	if err := <-served; err != nil {
		t.Fatalf("serve: %v", err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := srv.Sessions(); n != 0 {
		t.Errorf("%d sessions after shutdown", n)
	}
}

// TestRawIOE2EStalledReaderCancel: a client stops reading in the middle
// of a large result (the server's raw write waits on a full socket),
// sends a CancelRequest, then reads on: the stream must end with the
// cancellation (or complete) and the connection stay usable.
func TestRawIOE2EStalledReaderCancel(t *testing.T) {
	s := startServer(t)
	conn := s.connect(t)
	ctx := context.Background()
	rows, err := conn.Query(ctx, bigResult)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		n++
		if n == 10 {
			time.Sleep(300 * time.Millisecond) // the server fills the socket
			if err := conn.PgConn().CancelRequest(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	rows.Close()
	var pe *pgconn.PgError
	if err := rows.Err(); err != nil && !(errors.As(err, &pe) && pe.Code == "57014") {
		t.Fatalf("after %d rows: %v", n, err)
	}
	t.Logf("%d rows before the cancellation (err %v)", n, rows.Err())
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 after the cancellation: %d, %v", one, err)
	}
}

// TestRawIOE2ECopyBig sends a COPY … FROM STDIN of some 40 MB in large
// CopyData messages (the server's raw reads meet partial messages) and
// checks every row arrived.
func TestRawIOE2ECopyBig(t *testing.T) {
	s := startServer(t)
	conn := s.connect(t)
	ctx := context.Background()
	execSQL(t, conn, "CREATE TABLE big (k bigint PRIMARY KEY, s text)")
	var b strings.Builder
	const rows = 400_000
	pad := strings.Repeat("y", 90)
	for i := range rows {
		fmt.Fprintf(&b, "%d\t%s%d\n", i, pad, i)
	}
	tag, err := conn.PgConn().CopyFrom(ctx, strings.NewReader(b.String()), "COPY big FROM STDIN")
	if err != nil {
		t.Fatal(err)
	}
	if tag.RowsAffected() != rows {
		t.Fatalf("COPY: %s", tag)
	}
	var n, sum int64
	if err := conn.QueryRow(ctx, "SELECT count(*), sum(length(s)) FROM big").Scan(&n, &sum); err != nil {
		t.Fatal(err)
	}
	var want int64
	for i := range rows {
		want += int64(len(pad) + len(fmt.Sprint(i)))
	}
	if n != rows || sum != want {
		t.Fatalf("count %d sum %d, want %d %d", n, sum, rows, want)
	}
}

// TestRawIOE2ETinyWrites sends the startup and a few queries one byte
// per TCP segment (TCP_NODELAY, a write per byte), so that every raw
// read returns part of a message header or body.
func TestRawIOE2ETinyWrites(t *testing.T) {
	s := startServer(t)
	nc, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.(*net.TCPConn).SetNoDelay(true)
	var msg []byte
	startup := &pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "u"}}
	msg, _ = startup.Encode(msg)
	for i := range 5 {
		msg, _ = (&pgproto3.Query{String: fmt.Sprintf("SELECT %d + 1, '%s'", i, strings.Repeat("z", 300))}).Encode(msg)
	}
	msg, _ = (&pgproto3.Terminate{}).Encode(msg)
	go func() {
		for i := range msg {
			if _, err := nc.Write(msg[i : i+1]); err != nil {
				return
			}
			if i%64 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	fe := pgproto3.NewFrontend(nc, nc)
	nc.SetReadDeadline(time.Now().Add(time.Minute))
	var got []string
	ready := 0
	for ready < 6 {
		m, err := fe.Receive()
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		switch m := m.(type) {
		case *pgproto3.ErrorResponse:
			t.Fatalf("error: %s", m.Message)
		case *pgproto3.DataRow:
			got = append(got, string(m.Values[0]))
		case *pgproto3.ReadyForQuery:
			ready++
		}
	}
	if want := []string{"1", "2", "3", "4", "5"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("rows %v, want %v", got, want)
	}
}
