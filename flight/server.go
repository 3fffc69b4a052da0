package flight

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/flight/ticket"
	"github.com/dormousedb/dormouse/sql"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// DefaultAddr is where `dormouse serve` listens for Flight SQL.
const DefaultAddr = "127.0.0.1:32010"

// DefaultTicketTTL is how long the tickets of a FlightInfo stay valid.
const DefaultTicketTTL = time.Hour

// maxMessageBytes bounds one message a client sends (a bulk ingest batch,
// bound parameters).
const maxMessageBytes = 256 << 20

// writeBufferBytes is how much a connection gathers before a write to the
// socket (gRPC's default is 32 KiB). A query's stream sends megabytes:
// at 32 KiB per write the server made a system call per two HTTP/2 frames
// and spent about a tenth of its CPU in them on loopback. The buffer is
// taken from a pool for each flush and given back after it (gRPC's shared
// write buffer), so idle connections do not hold it.
const writeBufferBytes = 1 << 20

// readBufferBytes is the read side's counterpart, for what clients send
// (bulk ingest batches).
const readBufferBytes = 256 << 10

// Options configures a Server. The zero value is usable.
type Options struct {
	// Advertise lists the addresses (host:port) endpoints name as their
	// locations, for when several serve processes share the store: the
	// i-th endpoint of a FlightInfo lists them starting from the i-th, so
	// readers spread over them. Empty: endpoints name no location, and
	// clients read them where they asked.
	Advertise []string
	// TicketTTL is how long tickets stay valid (DefaultTicketTTL if 0).
	TicketTTL time.Duration
	// Logger receives errors of calls; nil means slog.Default().
	Logger *slog.Logger
	// Allocator allocates what the server decodes (parameters, ingest
	// batches); nil means memory.DefaultAllocator.
	Allocator memory.Allocator
	// Version is the server version GetSqlInfo reports.
	Version string
}

// Server answers Arrow Flight SQL over a SQL engine. Build it with New;
// Serve runs it on a listener.
type Server struct {
	flightsql.BaseServer
	eng   *sql.Engine
	opts  Options
	log   *slog.Logger
	alloc memory.Allocator
	sign  ticket.Signer

	mu        sync.Mutex
	running   map[string]map[*runningStream]struct{} // by query id
	cancelled map[string]time.Time                   // query ids, until their tickets expire
	bound     boundParams                            // parameters bound by DoPut (prepared.go)
}

type runningStream struct{ cancel context.CancelFunc }

// New returns a server over eng, signing tickets with the key the store
// keeps (LoadSecret).
func New(ctx context.Context, eng *sql.Engine, opts Options) (*Server, error) {
	key, err := ticket.LoadSecret(ctx, eng.DB().Store)
	if err != nil {
		return nil, err
	}
	if opts.TicketTTL <= 0 {
		opts.TicketTTL = DefaultTicketTTL
	}
	if opts.Allocator == nil {
		opts.Allocator = memory.DefaultAllocator
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Server{eng: eng, opts: opts, log: log, alloc: opts.Allocator, sign: ticket.NewSigner(key),
		running: map[string]map[*runningStream]struct{}{}, cancelled: map[string]time.Time{}}
	s.bound.init()
	if err := s.registerSqlInfo(); err != nil {
		return nil, err
	}
	return s, nil
}

// Serve answers Flight SQL on ln until ctx is done, then stops accepting,
// cancels the calls under way and returns once they have ended. It returns
// nil after a shutdown by ctx.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	mw := s.authMiddleware()
	gs := grpc.NewServer(
		grpc.ChainUnaryInterceptor(recoverUnary(s.log), mw.Unary),
		grpc.ChainStreamInterceptor(recoverStream(s.log), mw.Stream),
		grpc.MaxRecvMsgSize(maxMessageBytes),
		grpc.MaxSendMsgSize(maxMessageBytes),
		grpc.WriteBufferSize(writeBufferBytes),
		grpc.ReadBufferSize(readBufferBytes),
		grpc.ForceServerCodecV2(newFlightCodec()), // query results sent without copies (send.go)
	)
	flight.RegisterFlightServiceServer(gs, &flightService{FlightServer: flightsql.NewFlightServerWithAllocator(s, s.alloc), s: s})
	done := make(chan error, 1)
	go func() { done <- gs.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	stopped := make(chan struct{})
	go func() {
		gs.GracefulStop()
		close(stopped)
	}()
	s.cancelAll()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		gs.Stop()
	}
	if err := <-done; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	return nil
}

// recoverUnary turns a panic in a call into an Internal error, so that a
// bug in one request never takes the server down.
func recoverUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if p := recover(); p != nil {
				log.Error("flight: panic", "method", info.FullMethod, "panic", p, "stack", string(debug.Stack()))
				err = status.Errorf(codes.Internal, "internal error: %v", p)
			}
		}()
		return handler(ctx, req)
	}
}

func recoverStream(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, stream grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		defer func() {
			if p := recover(); p != nil {
				log.Error("flight: panic", "method", info.FullMethod, "panic", p, "stack", string(debug.Stack()))
				err = status.Errorf(codes.Internal, "internal error: %v", p)
			}
		}()
		return handler(srv, stream)
	}
}

// newID returns a random id for a query or a prepared statement.
func newID() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("flight: random id: %v", err))
	}
	return hex.EncodeToString(b)
}

// locations are the locations of the i-th endpoint (see
// Options.Advertise).
func (s *Server) locations(i int) []*flight.Location {
	n := len(s.opts.Advertise)
	if n == 0 {
		return nil
	}
	out := make([]*flight.Location, n)
	for j := range n {
		addr := s.opts.Advertise[(i+j)%n]
		if !strings.Contains(addr, "://") {
			addr = "grpc+tcp://" + addr
		}
		out[j] = &flight.Location{Uri: addr}
	}
	return out
}

// track registers a running stream of a query and returns the context it
// runs under and a function that unregisters it. A cancelled query's
// streams do not start.
func (s *Server) track(ctx context.Context, query string) (context.Context, func(), error) {
	ctx, cancel := context.WithCancel(ctx)
	r := &runningStream{cancel: cancel}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.cancelled[query]; ok {
		cancel()
		return nil, nil, status.Error(codes.Canceled, "the query was cancelled")
	}
	if s.running[query] == nil {
		s.running[query] = map[*runningStream]struct{}{}
	}
	s.running[query][r] = struct{}{}
	return ctx, func() {
		cancel()
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.running[query], r)
		if len(s.running[query]) == 0 {
			delete(s.running, query)
		}
	}, nil
}

// cancelQuery stops the query's running streams and refuses its tickets
// from now on (in this process) until they expire.
func (s *Server) cancelQuery(query string, expires time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for q, exp := range s.cancelled {
		if now.After(exp) {
			delete(s.cancelled, q)
		}
	}
	s.cancelled[query] = expires
	n := 0
	for r := range s.running[query] {
		r.cancel()
		n++
	}
	return n
}

func (s *Server) cancelAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rs := range s.running {
		for r := range rs {
			r.cancel()
		}
	}
}
