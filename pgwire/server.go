package pgwire

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/sql"
)

// DefaultMaxMessageBytes caps the size of one client message unless
// Server.MaxMessageBytes says otherwise: large enough for any statement
// text or COPY chunk a client sends, small enough that a forged length
// cannot make the server allocate without bound.
const DefaultMaxMessageBytes = 64 << 20

// DatabaseName is the one database a Dormouse store is, whatever name a
// client asks for.
const DatabaseName = "dormouse"

// Server answers the PostgreSQL wire protocol over an engine. Its fields
// are read when Serve starts.
type Server struct {
	Engine *sql.Engine
	// Logger receives connection errors; nil means slog.Default().
	Logger *slog.Logger
	// MaxMessageBytes caps one client message (DefaultMaxMessageBytes when
	// zero). A longer one is a protocol violation that closes the session.
	MaxMessageBytes int

	mu      sync.Mutex
	conns   map[uint32]*conn // by process id, for CancelRequest
	pid     atomic.Uint32
	wg      sync.WaitGroup
	running atomic.Int64
}

// Serve accepts connections on ln and serves each on its own goroutine
// until ctx is done, then closes ln and every connection (cancelling what
// they run) and returns once they have ended. It returns nil after a
// shutdown by ctx, else the error that stopped Accept.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	var err error
	for {
		var nc net.Conn
		nc, err = ln.Accept()
		if err != nil {
			break
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.ServeConn(ctx, nc)
		}()
	}
	cancel()
	s.wg.Wait()
	if ctx.Err() != nil && errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// ServeConn serves one client connection until it ends, and closes it. A
// connection ends at Terminate, when the client goes away, after a
// protocol violation, or when ctx is done.
func (s *Server) ServeConn(ctx context.Context, nc net.Conn) {
	c := newConn(s, nc)
	defer nc.Close()
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	defer func() {
		// A bug in one statement ends its connection (its transaction
		// rolled back on the way out), never the server.
		if p := recover(); p != nil {
			s.logger().Error("pgwire: panic", "remote", nc.RemoteAddr(), "panic", p, "stack", string(debug.Stack()))
			c.fatal(sqlerr.InternalError, "internal error: %v", p)
		}
	}()
	if err := c.serve(ctx); err != nil {
		s.logger().Debug("pgwire connection ended", "remote", nc.RemoteAddr(), "err", err)
	}
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *Server) maxMessage() int {
	if s.MaxMessageBytes > 0 {
		return s.MaxMessageBytes
	}
	return DefaultMaxMessageBytes
}

// register gives c a process id and a secret key, the BackendKeyData a
// client quotes to cancel c's statements.
func (s *Server) register(c *conn) {
	var key [4]byte
	rand.Read(key[:])
	c.secret = binary.BigEndian.Uint32(key[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns == nil {
		s.conns = map[uint32]*conn{}
	}
	for {
		c.pid = s.pid.Add(1)
		if _, taken := s.conns[c.pid]; !taken && c.pid != 0 {
			break
		}
	}
	s.conns[c.pid] = c
}

// Sessions is the number of client sessions open now: connections past
// startup that have not ended (a session ends once its statement has
// stopped, so a client that disconnects mid-query leaves when its query
// does).
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Running is the number of statements running now (a suspended portal
// is not running).
func (s *Server) Running() int { return int(s.running.Load()) }

func (s *Server) unregister(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns[c.pid] == c {
		delete(s.conns, c.pid)
	}
}

// cancelRequest cancels the statement running on the connection with this
// process id, if the secret key matches; as in PostgreSQL, a request that
// matches nothing is ignored without a word.
func (s *Server) cancelRequest(pid uint32, secret []byte) {
	if len(secret) != 4 {
		return
	}
	s.mu.Lock()
	c := s.conns[pid]
	s.mu.Unlock()
	if c != nil && c.secret == binary.BigEndian.Uint32(secret) {
		c.cancelRunning()
	}
}
