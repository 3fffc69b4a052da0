//go:build linux

package pgwire

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// peekedConn is a connection that has already read the start of its
// input (as a PROXY-protocol header parser, a protocol sniffer or a
// bufio-based multiplexer does) and embeds *net.TCPConn for the rest,
// which promotes the TCP connection's SyscallConn.
type peekedConn struct {
	*net.TCPConn
	r *bufio.Reader
}

func (c *peekedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// TestRawIOWrapperBypassed: a net.Conn whose Read holds bytes of
// its own but which has a SyscallConn (by embedding *net.TCPConn) must
// be read through its Read. newRawIO reads the descriptor under it,
// skipping the bytes the wrapper holds.
func TestRawIOWrapperBypassed(t *testing.T) {
	server, client := tcpPair(t)
	if _, err := client.Write([]byte("held by the wrapper|on the socket")); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(server)
	if _, err := br.Peek(1); err != nil { // the wrapper buffers what came
		t.Fatal(err)
	}
	wrapped := &peekedConn{TCPConn: server.(*net.TCPConn), r: br}
	var rw io.Reader = wrapped
	if r := newRawIO(wrapped); r != nil {
		rw = r
	}
	client.Write([]byte("|more"))
	client.(*net.TCPConn).CloseWrite()
	got, err := io.ReadAll(rw)
	if err != nil {
		t.Fatal(err)
	}
	if want := "held by the wrapper|on the socket|more"; string(got) != want {
		t.Fatalf("read %q through the connection, want %q", got, want)
	}
}

// TestRawIOBlockingDescriptor: a TCPConn whose descriptor was made
// blocking (File().Fd() does so to the shared file description: os.File
// documents it) must not have a raw read park its thread in the kernel
// holding its P without the runtime knowing: a stop-the-world (GC) then
// waits for the read, that is for the client, and every goroutine of the
// process stops with it, timers included (so the check runs in a child
// process, which this test kills). The ordinary path (syscall.Read via
// the poller) enters the system call and lets the runtime go on.
func TestRawIOBlockingDescriptor(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // the client never writes
		}
	}()
	for _, way := range []string{"plain", "raw"} { // plain: the test's control
		t.Run(way, func(t *testing.T) { blockingChild(t, ln.Addr().String(), way) })
	}
}

func blockingChild(t *testing.T, addr, way string) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestRawIOBlockingChild$", "-test.v")
	cmd.Env = append(os.Environ(), "RAWIO_REVIEW_ADDR="+addr, "RAWIO_REVIEW_WAY="+way)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	gcDone := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "gc done") {
				gcDone <- true
				return
			}
		}
		gcDone <- false
	}()
	ok := false
	select {
	case ok = <-gcDone:
	case <-time.After(10 * time.Second):
	}
	cmd.Process.Kill()
	cmd.Wait()
	if !ok {
		t.Fatal("runtime.GC did not finish in 10 s while a read on a blocking descriptor waited for the client")
	}
}

// TestRawIOBlockingChild is TestRawIOBlockingDescriptor's
// child process.
func TestRawIOBlockingChild(t *testing.T) {
	addr := os.Getenv("RAWIO_REVIEW_ADDR")
	if addr == "" {
		t.Skip("run by TestRawIOBlockingDescriptor")
	}
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	f, err := nc.(*net.TCPConn).File()
	if err != nil {
		t.Fatal(err)
	}
	_ = f.Fd() // sets O_NONBLOCK off on the shared file description
	var rd io.Reader = nc
	if r := newRawIO(nc); r != nil && os.Getenv("RAWIO_REVIEW_WAY") == "raw" {
		rd = r
	}
	go rd.Read(make([]byte, 16))
	time.Sleep(100 * time.Millisecond) // the read waits for the peer
	runtime.GC()
	os.Stdout.WriteString("gc done\n")
}

// TestRawIOErrors checks that raw reads and writes fail as the
// connection's own Read and Write do in the cases pgwire tells apart
// (isProtocolError, Serve's shutdown check): after a local Close
// (net.ErrClosed), past a deadline (a timeout net.Error), at EOF, and
// after the peer reset the connection (ECONNRESET/EPIPE, net.Error).
func TestRawIOErrors(t *testing.T) {
	type io2 struct {
		name string
		rw   func(net.Conn) io.ReadWriter
	}
	for _, way := range []io2{
		{"plain", func(c net.Conn) io.ReadWriter { return c }},
		{"raw", func(c net.Conn) io.ReadWriter { return newRawIO(c) }},
	} {
		t.Run(way.name+"/closed", func(t *testing.T) {
			server, _ := tcpPair(t)
			rw := way.rw(server)
			server.Close()
			_, rerr := rw.Read(make([]byte, 8))
			_, werr := rw.Write([]byte("x"))
			for _, err := range []error{rerr, werr} {
				if !errors.Is(err, net.ErrClosed) || isProtocolError(err) {
					t.Errorf("after Close: %v (ErrClosed %v, protocol error %v)", err, errors.Is(err, net.ErrClosed), isProtocolError(err))
				}
			}
		})
		t.Run(way.name+"/deadline", func(t *testing.T) {
			server, _ := tcpPair(t)
			rw := way.rw(server)
			server.SetReadDeadline(time.Now().Add(-time.Second))
			_, err := rw.Read(make([]byte, 8))
			var ne net.Error
			if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() || isProtocolError(err) {
				t.Errorf("past the deadline: %v", err)
			}
		})
		t.Run(way.name+"/eof", func(t *testing.T) {
			server, client := tcpPair(t)
			rw := way.rw(server)
			client.Write([]byte("ab"))
			client.Close()
			got, err := io.ReadAll(rw)
			if err != nil || string(got) != "ab" {
				t.Errorf("read %q, %v", got, err)
			}
			n, err := rw.Read(make([]byte, 8))
			if n != 0 || err != io.EOF {
				t.Errorf("read again: %d, %v", n, err)
			}
		})
		t.Run(way.name+"/reset", func(t *testing.T) {
			server, client := tcpPair(t)
			rw := way.rw(server)
			client.(*net.TCPConn).SetLinger(0)
			client.Close() // RST
			var err error
			for range 100 { // the first write may land before the RST is seen
				if _, err = rw.Write(make([]byte, 1<<10)); err != nil {
					break
				}
				time.Sleep(time.Millisecond)
			}
			var ne net.Error
			if !(errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)) || !errors.As(err, &ne) || isProtocolError(err) {
				t.Errorf("write to a reset peer: %v", err)
			}
		})
		t.Run(way.name+"/empty-write", func(t *testing.T) {
			server, _ := tcpPair(t)
			rw := way.rw(server)
			if n, err := rw.Write(nil); n != 0 || err != nil {
				t.Errorf("empty write: %d, %v", n, err)
			}
			if n, err := rw.Read(nil); n != 0 || err != nil {
				t.Errorf("empty read: %d, %v", n, err)
			}
		})
	}
}

// TestRawIOUnixSocket checks the raw path on a Unix-domain socket
// connection (a listener on a socket path), whose descriptor is
// non-blocking as a TCP one is: a write larger than the socket holds
// arrives whole.
func TestRawIOUnixSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".s.PGSQL.5432")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	acc := make(chan net.Conn, 1)
	go func() { c, _ := ln.Accept(); acc <- c }()
	client, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server := <-acc
	defer server.Close()
	r := newRawIO(server)
	if r == nil {
		t.Fatal("no raw path for a Unix socket")
	}
	want := make([]byte, 8<<20)
	for i := range want {
		want[i] = byte(i * 7)
	}
	got := make(chan []byte, 1)
	go func() { b, _ := io.ReadAll(client); got <- b }()
	if n, err := r.Write(want); n != len(want) || err != nil {
		t.Fatalf("wrote %d, %v", n, err)
	}
	server.Close()
	if b := <-got; string(b) != string(want) {
		t.Fatalf("read %d bytes, not what was written", len(b))
	}
}

// TestRawIOCloseDuringWrites closes the connection while several
// goroutines' raw writes wait on a full socket and a raw read waits for
// input (as server shutdown does, from context.AfterFunc): all must
// return, with net.ErrClosed, and nothing may race (run with -race).
func TestRawIOCloseDuringWrites(t *testing.T) {
	for range 20 {
		server, client := tcpPair(t)
		_ = client
		r := newRawIO(server)
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := r.Write(make([]byte, 8<<20))
				errs <- err
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := r.Read(make([]byte, 1024))
			errs <- err
		}()
		// Wait until the socket is full (the writers wait on the poller).
		for {
			var outq int
			rc, _ := rawConn(server)
			rc.Control(func(fd uintptr) { outq, _ = unix.IoctlGetInt(int(fd), unix.SIOCOUTQ) })
			if outq > 0 {
				break
			}
			runtime.Gosched()
		}
		time.Sleep(10 * time.Millisecond)
		server.Close()
		wg.Wait()
		close(errs)
		for err := range errs {
			if !errors.Is(err, net.ErrClosed) {
				t.Fatalf("after Close: %v", err)
			}
		}
	}
}
