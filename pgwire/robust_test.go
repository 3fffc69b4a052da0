package pgwire_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/dormousedb/dormouse/pgwire"
	"github.com/dormousedb/dormouse/sql"
	"github.com/dormousedb/dormouse/storage/storagetest"
)

// TestDisconnectFreesQuery checks that a client that goes away while its
// query runs frees the query: the session ends although the query would
// run for hours.
func TestDisconnectFreesQuery(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	pc, err := pgconn.Connect(ctx, s.url())
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "one session", func() bool { return s.srv.Sessions() == 1 })
	pc.Exec(ctx, longQuery) // sends the query; its results are never read
	waitFor(t, "the query to run", func() bool { return s.srv.Running() == 1 })
	// Close the socket under pgconn, as a client that dies does.
	pc.Conn().Close()
	waitFor(t, "the session to end", func() bool { return s.srv.Sessions() == 0 })
}

// waitFor waits until cond holds, failing the test if it never does.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// startupPacket is a StartupMessage for user fuzz.
func startupPacket() []byte {
	b, _ := (&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30,
		Parameters: map[string]string{"user": "fuzz", "database": "x"}}).Encode(nil)
	return b
}

func encode(msgs ...pgproto3.FrontendMessage) []byte {
	var b []byte
	for _, m := range msgs {
		b, _ = m.Encode(b)
	}
	return b
}

// FuzzMessages feeds arbitrary bytes after a valid startup to the message
// loop: garbage, truncated messages and huge lengths must end in an error
// and a closed session, never a panic, a hang or an unbounded allocation
// (messages are capped at MaxMessageBytes).
//
//	go test ./pgwire/ -run '^$' -fuzz FuzzMessages -fuzztime 60s
func FuzzMessages(f *testing.F) {
	seeds := [][]byte{
		encode(&pgproto3.Query{String: "SELECT 1"}),
		encode(&pgproto3.Parse{Name: "s", Query: "SELECT $1::int"}, &pgproto3.Bind{PreparedStatement: "s", Parameters: [][]byte{[]byte("1")}},
			&pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{MaxRows: 1}, &pgproto3.Sync{}),
		encode(&pgproto3.Bind{PreparedStatement: "nope", ParameterFormatCodes: []int16{1}, Parameters: [][]byte{{1, 2}}}, &pgproto3.Sync{}),
		encode(&pgproto3.Query{String: "CREATE TABLE f (k bigint PRIMARY KEY); COPY f FROM STDIN"}, &pgproto3.CopyData{Data: []byte("1\n2\nx\n")}, &pgproto3.CopyDone{}),
		{'Q', 0x7f, 0xff, 0xff, 0xff, 'S'},
		{'B', 0, 0, 0, 4},
		{'Z', 0, 0, 0, 3},
		encode(&pgproto3.Execute{Portal: "none"}, &pgproto3.Flush{}, &pgproto3.Terminate{}),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	db := storagetest.NewDB(f, storagetest.LocalStore(f))
	srv := &pgwire.Server{Engine: sql.NewEngine(db, sql.Config{}), MaxMessageBytes: 1 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		client, server := net.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			srv.ServeConn(context.Background(), server)
		}()
		go io.Copy(io.Discard, client)
		client.Write(append(startupPacket(), data...))
		client.Close()
		<-done
	})
}

// TestHugeMessage checks that a message longer than the cap is refused
// with a FATAL error before the server reads (or allocates) its body.
func TestHugeMessage(t *testing.T) {
	s := startServer(t)
	nc, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var msg []byte
	msg = append(msg, startupPacket()...)
	msg = append(msg, 'Q')
	msg = binary.BigEndian.AppendUint32(msg, 1<<30)
	if _, err := nc.Write(msg); err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(time.Minute))
	all, _ := io.ReadAll(nc)
	fe := pgproto3.NewFrontend(bytes.NewReader(all), io.Discard)
	var last pgproto3.BackendMessage
	for {
		m, err := fe.Receive()
		if err != nil {
			break
		}
		if e, ok := m.(*pgproto3.ErrorResponse); ok {
			c := *e
			last = &c
		}
	}
	e, ok := last.(*pgproto3.ErrorResponse)
	if !ok || e.Severity != "FATAL" || e.Code != "08P01" {
		t.Fatalf("a 1 GiB message was answered %#v, want a FATAL protocol violation", last)
	}
}

// TestEncryptionRequests sends GSSENCRequest and SSLRequest before the
// startup message: each is answered 'N' and the session starts in the
// clear.
func TestEncryptionRequests(t *testing.T) {
	s := startServer(t)
	nc, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(time.Minute))
	for _, req := range []pgproto3.FrontendMessage{&pgproto3.GSSEncRequest{}, &pgproto3.SSLRequest{}} {
		b, _ := req.Encode(nil)
		if _, err := nc.Write(b); err != nil {
			t.Fatal(err)
		}
		var answer [1]byte
		if _, err := io.ReadFull(nc, answer[:]); err != nil || answer[0] != 'N' {
			t.Fatalf("%T answered %q, %v", req, answer[:], err)
		}
	}
	fe := pgproto3.NewFrontend(nc, nc)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "u"}})
	fe.Send(&pgproto3.Query{String: "SELECT 1"})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	var types []string
	for len(types) == 0 || types[len(types)-1] != "ReadyForQuery" || len(types) < 3 || types[len(types)-2] != "CommandComplete" {
		m, err := fe.Receive()
		if err != nil {
			t.Fatalf("after %v: %v", types, err)
		}
		types = append(types, fmt.Sprintf("%T", m)[len("*pgproto3."):])
	}
	if types[0] != "AuthenticationOk" {
		t.Errorf("startup answered %v", types)
	}
}
