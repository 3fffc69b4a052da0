package flight_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests run against a real `dormouse serve`: the first that needs it
// builds the binary (once; not in TestMain, which fuzzing workers run
// too), and serve starts it on free ports over a store.

var (
	buildOnce sync.Once
	binDir    string
	binary    string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// dormouse returns the path of the dormouse binary, built from this tree.
func dormouse(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "dormouse-flight-test"); buildErr != nil {
			return
		}
		binary = filepath.Join(binDir, "dormouse")
		build := exec.Command("go", "build", "-o", binary, "../cmd/dormouse")
		out, err := build.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("build dormouse: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

// server is a running `dormouse serve`.
type server struct {
	Flight string // host:port of Flight SQL
	PG     string // host:port of the PostgreSQL protocol, when asked
	Store  string // the store URL
	Env    []string
	cmd    *exec.Cmd
	stderr *syncBuffer
}

var (
	flightLine = regexp.MustCompile(`Flight SQL \(ADBC, JDBC\): grpc://(\S+)`)
	pgLine     = regexp.MustCompile(`connect with: psql -h (\S+) -p (\d+)`)
)

// serve starts `dormouse serve` on store (a URL; env carries what it
// needs, S3 credentials) with Flight SQL, and pgwire when pg is set, on
// free ports, no background work, and stops it when the test ends.
func serve(t testing.TB, store string, env []string, pg bool, extra ...string) *server {
	t.Helper()
	pgAddr := ""
	if pg {
		pgAddr = "127.0.0.1:0"
	}
	args := append([]string{"serve", "--store", store, "--flight-listen", "127.0.0.1:0", "--listen", pgAddr,
		"--compactor-workers", "0", "--split=false", "--gc=false"}, extra...)
	cmd := exec.Command(dormouse(t), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = t.TempDir() // what serve writes relative to its directory stays out of the tree
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{Store: store, Env: env, cmd: cmd, stderr: &syncBuffer{}}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("dormouse serve stderr:\n%s", s.stderr.String())
		}
	})
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			if m := flightLine.FindStringSubmatch(line); m != nil {
				s.setAddr(&s.Flight, m[1])
			}
			if m := pgLine.FindStringSubmatch(line); m != nil {
				s.setAddr(&s.PG, m[1]+":"+m[2])
			}
			if !signalled && s.addr(&s.Flight) != "" && (!pg || s.addr(&s.PG) != "") {
				signalled = true
				close(ready)
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(2 * time.Minute):
		t.Fatalf("dormouse serve did not start:\n%s", s.stderr.String())
	}
	return s
}

var addrMu sync.Mutex

func (s *server) setAddr(p *string, v string) {
	addrMu.Lock()
	defer addrMu.Unlock()
	*p = v
}

func (s *server) addr(p *string) string {
	addrMu.Lock()
	defer addrMu.Unlock()
	return *p
}

// URI is the Flight SQL URI ADBC drivers take.
func (s *server) URI() string { return "grpc://" + s.addr(&s.Flight) }

// cli runs the dormouse command on the server's store and returns its
// standard output.
func (s *server) cli(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command(dormouse(t), args...)
	cmd.Env = append(append(os.Environ(), s.Env...), "DORMOUSE_STORE="+s.Store)
	cmd.Dir = t.TempDir()
	var errOut strings.Builder
	cmd.Stderr = &errOut
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("dormouse %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return string(out)
}

// localStore returns the URL of a fresh store in a temporary directory.
func localStore(t testing.TB) string { return "file://" + t.TempDir() }

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func background() context.Context { return context.Background() }
