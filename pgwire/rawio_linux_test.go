package pgwire

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"testing"
	"time"
)

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

// TestRawIOLargeWriteSlowReader writes more than the socket holds to a
// client that reads slowly, so that raw writes meet a full socket
// (EAGAIN) and wait for the poller; every byte must arrive, in order.
func TestRawIOLargeWriteSlowReader(t *testing.T) {
	server, client := tcpPair(t)
	r := newRawIO(server)
	if r == nil {
		t.Fatal("no raw path for a TCP connection")
	}
	want := make([]byte, 16<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range want {
		want[i] = byte(rng.Uint32())
	}
	got := make(chan []byte, 1)
	go func() {
		var buf bytes.Buffer
		chunk := make([]byte, 64<<10)
		for {
			time.Sleep(time.Millisecond) // slower than the writer
			n, err := client.Read(chunk)
			buf.Write(chunk[:n])
			if err != nil {
				got <- buf.Bytes()
				return
			}
		}
	}()
	// Several writes, one of them the bulk, as the writer flushes.
	for _, part := range [][]byte{want[:5], want[5 : 12<<20], want[12<<20:]} {
		n, err := r.Write(part)
		if err != nil || n != len(part) {
			t.Fatalf("wrote %d of %d: %v", n, len(part), err)
		}
	}
	server.Close()
	if b := <-got; !bytes.Equal(b, want) {
		t.Fatalf("the client read %d bytes, not the %d written", len(b), len(want))
	}
}

// TestRawIORead checks reads: one that must wait for data (EAGAIN, then
// the poller), short reads of what is there, io.EOF once the client
// closes, and a deadline honoured.
func TestRawIORead(t *testing.T) {
	server, client := tcpPair(t)
	r := newRawIO(server)
	go func() {
		time.Sleep(20 * time.Millisecond) // the read below waits first
		client.Write([]byte("hello, "))
		time.Sleep(20 * time.Millisecond)
		client.Write([]byte("world"))
		client.Close()
	}()
	all, err := io.ReadAll(r)
	if err != nil || string(all) != "hello, world" {
		t.Fatalf("read %q, %v", all, err)
	}
	if n, err := r.Read(make([]byte, 8)); n != 0 || err != io.EOF {
		t.Fatalf("after EOF: %d, %v", n, err)
	}

	server2, _ := tcpPair(t)
	r2 := newRawIO(server2)
	server2.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := r2.Read(make([]byte, 8)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v", err)
	}
}

// TestRawIOClose checks that a read waiting when the connection is
// closed returns an error, and that reads and writes after Close fail
// rather than use a descriptor number the process may have reused.
func TestRawIOClose(t *testing.T) {
	server, _ := tcpPair(t)
	r := newRawIO(server)
	done := make(chan error, 1)
	go func() {
		_, err := r.Read(make([]byte, 8))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	server.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read across Close: %v", err)
	}
	// A new file likely takes the closed descriptor's number.
	f, err := os.CreateTemp(t.TempDir(), "fd")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := r.Write([]byte("must not land in the file")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after Close: %v", err)
	}
	if _, err := r.Read(make([]byte, 8)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after Close: %v", err)
	}
	if st, _ := f.Stat(); st.Size() != 0 {
		t.Fatalf("the write after Close reached another file (%d bytes)", st.Size())
	}
}

// TestRawIOPeerReset checks that a write to a client that has gone
// reports an error rather than succeeding or hanging.
func TestRawIOPeerReset(t *testing.T) {
	server, client := tcpPair(t)
	r := newRawIO(server)
	client.(*net.TCPConn).SetLinger(0) // close with a reset
	client.Close()
	time.Sleep(20 * time.Millisecond)
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		_, err = r.Write(make([]byte, 64<<10))
	}
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "write" {
		t.Fatalf("writes to a reset connection: %v", err)
	}
}
