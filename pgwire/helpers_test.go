package pgwire_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/dormousedb/dormouse/pgwire"
	"github.com/dormousedb/dormouse/sql"
	"github.com/dormousedb/dormouse/storage/storagetest"
)

// testServer is a Dormouse server over a fresh local store, listening on
// a free port of 127.0.0.1 until the test ends.
type testServer struct {
	addr string
	eng  *sql.Engine
	srv  *pgwire.Server
}

func startServer(t testing.TB) *testServer { return startServerWith(t, nil) }

// startServerWith starts a server whose connections wrap makes, for tests
// that watch the bytes a server sends.
func startServerWith(t testing.TB, wrap func(net.Conn) net.Conn) *testServer {
	t.Helper()
	db := storagetest.NewDB(t, storagetest.LocalStore(t))
	eng := sql.NewEngine(db, sql.Config{})
	var ln net.Listener
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if wrap != nil {
		ln = &wrapListener{Listener: ln, wrap: wrap}
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv := &pgwire.Server{Engine: eng}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return &testServer{addr: ln.Addr().String(), eng: eng, srv: srv}
}

// url is a connection string for the server (any user and database do).
func (s *testServer) url() string {
	return fmt.Sprintf("postgres://tester@%s/whatever?sslmode=disable", s.addr)
}

func (s *testServer) connect(t testing.TB) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), s.url())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// rawConn is a connection that speaks the protocol message by message,
// for tests that send what pgx would not (several portals of one
// statement, a Bind that fails).
type rawConn struct {
	*pgproto3.Frontend
	nc net.Conn
}

// rawConnect connects to the server as user u, without SSL, and reads
// the startup's answers up to ReadyForQuery. The connection closes when
// the test ends.
func (s *testServer) rawConnect(t testing.TB) *rawConn {
	t.Helper()
	nc, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	c := &rawConn{Frontend: pgproto3.NewFrontend(nc, nc), nc: nc}
	c.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "u"}})
	for {
		switch m := c.next(t, nil).(type) {
		case *pgproto3.ErrorResponse:
			t.Fatalf("startup: %s", m.Message)
		case *pgproto3.ReadyForQuery:
			return c
		}
	}
}

// next flushes what was sent and returns the next message, failing the
// test (after got, the answers read so far) if none comes within a
// minute.
func (c *rawConn) next(t testing.TB, got []string) pgproto3.BackendMessage {
	t.Helper()
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	c.nc.SetReadDeadline(time.Now().Add(time.Minute))
	m, err := c.Receive()
	if err != nil {
		t.Fatalf("after %v: %v", got, err)
	}
	return m
}

// exec runs statements through a connection, failing the test on error.
func execSQL(t testing.TB, conn *pgx.Conn, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := conn.Exec(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

type wrapListener struct {
	net.Listener
	wrap func(net.Conn) net.Conn
}

func (l *wrapListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return l.wrap(c), nil
}

// messageCounts counts the backend messages of each type that a server's
// connections write. The stream must start with typed messages: clients
// must not ask for SSL (whose answer is one bare byte).
type messageCounts struct {
	mu     sync.Mutex
	counts map[byte]int
}

func (m *messageCounts) get(typ byte) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.counts[typ]
}

func (m *messageCounts) wrap(c net.Conn) net.Conn { return &countingConn{Conn: c, m: m} }

type countingConn struct {
	net.Conn
	m    *messageCounts
	skip int    // bytes of the current message body still to pass
	hdr  []byte // a header split across writes
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.m.mu.Lock()
	for rest := p; len(rest) > 0; {
		if c.skip > 0 {
			n := min(c.skip, len(rest))
			c.skip -= n
			rest = rest[n:]
			continue
		}
		need := 5 - len(c.hdr)
		n := min(need, len(rest))
		c.hdr = append(c.hdr, rest[:n]...)
		rest = rest[n:]
		if len(c.hdr) == 5 {
			if c.m.counts == nil {
				c.m.counts = map[byte]int{}
			}
			c.m.counts[c.hdr[0]]++
			c.skip = int(binary.BigEndian.Uint32(c.hdr[1:])) - 4
			c.hdr = c.hdr[:0]
		}
	}
	c.m.mu.Unlock()
	return c.Conn.Write(p)
}
