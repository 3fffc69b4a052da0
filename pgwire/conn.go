package pgwire

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/sql"
)

// conn is one client connection and its session.
type conn struct {
	srv  *Server
	nc   net.Conn
	be   *pgproto3.Backend // read side only
	w    writer
	sess *sql.Session

	pid, secret uint32
	user        string

	// ctx lives as long as the connection; it is cancelled when the client
	// goes away (found by watch while a statement runs), and every
	// statement runs under it.
	ctx    context.Context
	cancel context.CancelCauseFunc
	// watch checks, while a statement runs, that the client is still
	// there (checkClient).
	watch *time.Timer
	// pending is a message read and handed back, next's before the
	// socket's.
	pending pgproto3.FrontendMessage

	stmts   map[string]*prepared
	portals map[string]*portal
	// skipping is set after an error in the extended protocol: messages
	// are ignored until Sync.
	skipping bool
	// implicit is set while the session runs an implicit transaction (the
	// messages up to Sync); failed when one of them failed.
	implicit, failed bool
	tag              []byte // scratch: a CommandComplete's tag (sendComplete)
	complete         pgproto3.CommandComplete
	ready            pgproto3.ReadyForQuery // readyForQuery's message, sent at once
	spareRows        *rowWriter             // a row writer no portal holds, for the next one
	reported         map[string]string      // ParameterStatus values the client has
	reportedGen      uint64                 // the session's SettingsGeneration when they were reported

	// The settings each statement reads, read once per change of the
	// session's settings (settingsGen-1 is the SettingsGeneration they
	// were read at; 0: never): statement_timeout and timezone.
	settingsGen uint64
	timeout     time.Duration
	timeZone    string
	// stmtCtx is the context of the statements that run to their end in
	// one Execute without a statement_timeout (portalContext), made once
	// and again only after a cancellation ended it.
	stmtCtx    context.Context
	stmtCancel context.CancelCauseFunc
	// Bind's scratch: the expression context text parameters are parsed
	// in, and a parameter slice and one-value integer arrays no portal
	// holds (decodeParams, takeInt, putParams).
	paramCtx    expr.Context
	spareParams []arrow.Array
	spareInts   []arrow.Array

	mu      sync.Mutex
	running context.CancelCauseFunc // the statement running now, for CancelRequest
}

// Why a statement's context was cancelled.
var (
	errCancelRequest = errors.New("canceling statement due to user request")
	errTimeout       = errors.New("canceling statement due to statement timeout")
	errClientGone    = errors.New("client connection closed")
)

// errTerminate ends a connection normally.
var errTerminate = errors.New("terminate")

func newConn(s *Server, nc net.Conn) *conn {
	var rw io.ReadWriter = nc
	if r := newRawIO(nc); r != nil {
		rw = r
	}
	be := pgproto3.NewBackend(rw, nil)
	be.SetMaxBodyLen(s.maxMessage())
	return &conn{
		srv:     s,
		nc:      nc,
		be:      be,
		w:       writer{w: rw},
		stmts:   map[string]*prepared{},
		portals: map[string]*portal{},
	}
}

// serve runs the connection: startup, then messages until it ends.
func (c *conn) serve(ctx context.Context) error {
	c.ctx, c.cancel = context.WithCancelCause(ctx)
	defer c.cancel(errClientGone)
	ok, err := c.startup()
	if !ok || err != nil {
		return err
	}
	defer c.srv.unregister(c)
	// A transaction the client leaves open is rolled back: its writes go.
	defer c.sess.Close()
	defer c.closeAll()
	c.watch = time.AfterFunc(clientCheckInterval, c.checkClient)
	c.watch.Stop() // armed while a statement runs (statement)
	defer c.watch.Stop()
	err = c.loop()
	if errors.Is(err, errTerminate) {
		return nil
	}
	return err
}

// next reads the next message, or the error that ended the input. The
// loop reads on its own goroutine, as a PostgreSQL backend does, rather
// than through a reader goroutine handing messages over: a handover is
// two wake-ups per statement, which left the cores idle for a tenth of
// a point lookup's time. A client that goes away while a statement runs
// is found by the watch instead (checkClient).
func (c *conn) next() (pgproto3.FrontendMessage, error) {
	if m := c.pending; m != nil {
		c.pending = nil
		return m, nil
	}
	m, err := c.be.Receive()
	if err != nil {
		if isProtocolError(err) {
			c.fatal("08P01", "invalid frontend message: %v", err)
		}
		return nil, err
	}
	// The message, and the bytes it holds, are the reader's until the
	// next Receive: each is handled before that, and what outlives it
	// (a statement's parameter types, a portal's formats and parameter
	// values) is copied by its handler.
	return m, nil
}

// isProtocolError reports whether a read failed on a malformed message
// rather than on the connection.
func isProtocolError(err error) bool {
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return false
	}
	var ne net.Error
	return !errors.As(err, &ne)
}

// loop handles messages until the connection ends.
func (c *conn) loop() error {
	for {
		m, err := c.next()
		if err != nil {
			return err
		}
		if err := c.handle(m); err != nil {
			return err
		}
		if c.w.err != nil {
			return c.w.err
		}
	}
}

func (c *conn) handle(m pgproto3.FrontendMessage) error {
	if c.skipping {
		switch m.(type) {
		case *pgproto3.Sync:
		case *pgproto3.Terminate:
			return errTerminate
		default:
			return nil
		}
	}
	switch m.(type) {
	case *pgproto3.Parse, *pgproto3.Bind, *pgproto3.Describe, *pgproto3.Execute, *pgproto3.Close:
		c.beginImplicit()
	}
	switch m := m.(type) {
	case *pgproto3.Query:
		c.simpleQuery(m.String)
	case *pgproto3.Parse:
		c.extended(c.parse(m))
	case *pgproto3.Bind:
		c.extended(c.bind(m))
	case *pgproto3.Describe:
		c.extended(c.describe(m))
	case *pgproto3.Execute:
		c.extended(c.execute(m))
	case *pgproto3.Close:
		c.extended(c.closeObject(m))
	case *pgproto3.Sync:
		c.sync()
	case *pgproto3.Flush:
		c.w.flush()
	case *pgproto3.Terminate:
		return errTerminate
	case *pgproto3.CopyData, *pgproto3.CopyDone, *pgproto3.CopyFail:
		// Left over from a COPY that failed: ignored, as PostgreSQL does.
	case *pgproto3.FunctionCall:
		c.extended(sqlerr.New(sqlerr.FeatureNotSupported, "the function call protocol is not supported"))
	default:
		c.fatal("08P01", "unexpected message %T", m)
		return fmt.Errorf("unexpected message %T", m)
	}
	return nil
}

// extended finishes an extended-protocol message: after an error, the
// messages up to Sync are skipped.
func (c *conn) extended(err error) {
	if err != nil {
		c.sendError(err)
		c.skipping = true
	}
}

// beginImplicit starts the implicit transaction of the messages up to
// the next Sync, unless one is running.
func (c *conn) beginImplicit() {
	if !c.implicit {
		c.implicit, c.failed = true, false
		c.sess.BeginImplicit()
	}
}

// endImplicit ends it: its writes commit, or a failed one deletes them
// and undoes its SETs, as in PostgreSQL. A commit that fails is reported
// as an error after the statements' results, as PostgreSQL reports a
// failure at commit.
func (c *conn) endImplicit() {
	if c.implicit {
		err := c.sess.EndImplicit(c.ctx, c.failed)
		c.implicit, c.failed = false, false
		if err != nil {
			c.w.send(errorResponse(err, "ERROR"))
		}
	}
}

func (c *conn) sync() {
	c.endImplicit()
	c.skipping = false
	if c.sess.TxnStatus() == sql.TxnIdle {
		// Portals live in a transaction; outside a block, each Sync ends
		// the implicit one.
		c.closePortals()
	}
	c.readyForQuery()
}

// readyForQuery reports the settings that changed, as PostgreSQL reports
// them at the end of each transaction's statements, and the transaction
// status.
func (c *conn) readyForQuery() {
	c.reportSettings()
	c.ready.TxStatus = byte(c.sess.TxnStatus())
	c.w.send(&c.ready)
	c.w.flush()
}

// sendError sends err as an ErrorResponse, and fails the transaction
// block if one is open.
func (c *conn) sendError(err error) {
	c.sess.StatementFailed()
	c.failed = true
	c.w.send(errorResponse(err, "ERROR"))
}

// fatal sends a FATAL error; the caller then closes the connection.
func (c *conn) fatal(code, format string, args ...any) {
	c.w.send(errorResponse(sqlerr.New(code, format, args...), "FATAL"))
	c.w.flush()
}

func errorResponse(err error, severity string) *pgproto3.ErrorResponse {
	e := sqlerr.As(err)
	return &pgproto3.ErrorResponse{
		Severity:            severity,
		SeverityUnlocalized: severity,
		Code:                e.Code,
		Message:             e.Message,
		Detail:              e.Detail,
		Hint:                e.Hint,
		Where:               e.Where,
		Position:            int32(e.Position),
	}
}

func noticeResponse(n *sql.Notice) *pgproto3.NoticeResponse {
	return &pgproto3.NoticeResponse{Severity: "WARNING", SeverityUnlocalized: "WARNING", Code: n.Code, Message: n.Message}
}

// statement starts running a statement: CancelRequest and
// statement_timeout call cancel, which cancels the statement's context.
// endStatement, given what statement returns, ends the statement's run.
func (c *conn) statement(cancel context.CancelCauseFunc) (timeout *time.Timer) {
	if d := c.statementTimeout(); d > 0 {
		timeout = time.AfterFunc(d, func() { cancel(errTimeout) })
	}
	c.mu.Lock()
	c.running = cancel
	c.mu.Unlock()
	c.watch.Reset(clientCheckInterval)
	c.srv.running.Add(1)
	return timeout
}

// endStatement ends the run that statement started.
func (c *conn) endStatement(timeout *time.Timer) {
	c.srv.running.Add(-1)
	if timeout != nil {
		timeout.Stop()
	}
	c.watch.Stop()
	c.mu.Lock()
	c.running = nil
	c.mu.Unlock()
}

// clientCheckInterval is how often a running statement's connection is
// checked for a client that went away (PostgreSQL's
// client_connection_check_interval).
const clientCheckInterval = 200 * time.Millisecond

// checkClient cancels the connection, and so its running statement, when
// the client has closed or lost its end; else it looks again later while
// the statement runs. Nothing reads the socket while a statement runs, so
// this is how a query whose client died stops (one with rows to send
// stops at its next write anyway).
func (c *conn) checkClient() {
	c.mu.Lock()
	running := c.running != nil
	c.mu.Unlock()
	if !running {
		return
	}
	if clientGone(c.nc) {
		c.cancel(errClientGone)
		return
	}
	c.watch.Reset(clientCheckInterval)
}

// cancelRunning cancels the running statement (CancelRequest). It
// cancels while holding c.mu, so that the cancellation lands before
// endStatement: statements that run in the connection's shared context
// (portalContext) renew it once cancelled, and one that starts after
// this one ended must not be cancelled in its place.
func (c *conn) cancelRunning() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running != nil {
		c.running(errCancelRequest)
	}
}

// readSettings reads the settings each statement needs, when they
// changed since it last did.
func (c *conn) readSettings() {
	if gen := c.sess.SettingsGeneration(); c.settingsGen != gen+1 {
		c.timeout = statementTimeout(c.sess)
		c.timeZone, _ = c.sess.Setting("timezone")
		c.settingsGen = gen + 1
	}
}

// statementTimeout is the session's statement_timeout (0: none).
func (c *conn) statementTimeout() time.Duration {
	c.readSettings()
	return c.timeout
}

// sessionTimeZone is the session's timezone setting.
func (c *conn) sessionTimeZone() string {
	c.readSettings()
	return c.timeZone
}

// stmtError turns the error of a statement run under ctx into what the
// client should read: a cancellation says why it happened.
func stmtError(ctx context.Context, err error) error {
	if ctx.Err() == nil {
		return err
	}
	switch cause := context.Cause(ctx); cause {
	case errCancelRequest, errTimeout:
		return sqlerr.New(sqlerr.QueryCanceled, "%s", cause.Error())
	}
	return err
}

// closeAll closes every portal when the connection ends.
func (c *conn) closeAll() {
	c.closePortals()
	for k := range c.stmts {
		delete(c.stmts, k)
	}
}

func (c *conn) closePortals() {
	for name, p := range c.portals {
		c.closePortal(p)
		delete(c.portals, name)
	}
}

// writer buffers backend messages and writes them in large pieces; after
// a failed write it drops everything (the client is gone).
type writer struct {
	w   io.Writer
	buf []byte
	err error
}

// flushAt is how much a writer buffers before it writes on its own.
const flushAt = 64 << 10

func (w *writer) send(m pgproto3.BackendMessage) {
	if w.err != nil {
		return
	}
	buf, err := m.Encode(w.buf)
	if err != nil {
		// Only an oversized message fails to encode; send an error instead.
		buf, _ = errorResponse(sqlerr.New(sqlerr.ProgramLimitExceeded, "message too large: %v", err), "ERROR").Encode(w.buf)
	}
	w.buf = buf
	w.maybeFlush()
}

// maybeFlush writes once enough is buffered.
func (w *writer) maybeFlush() {
	if len(w.buf) >= flushAt {
		w.flush()
	}
}

func (w *writer) flush() error {
	if w.err != nil || len(w.buf) == 0 {
		return w.err
	}
	_, w.err = w.w.Write(w.buf)
	if cap(w.buf) > 4*flushAt {
		w.buf = nil
	} else {
		w.buf = w.buf[:0]
	}
	return w.err
}

// begin starts a message built by hand in the buffer (a DataRow, a
// CopyData): its type and a length that end fills in once the body is
// appended. It returns where the length goes.
func (w *writer) begin(typ byte) int {
	w.buf = append(w.buf, typ, 0, 0, 0, 0)
	return len(w.buf) - 4
}

// end sets the length of the message begin started at at.
func (w *writer) end(at int) {
	binary.BigEndian.PutUint32(w.buf[at:], uint32(len(w.buf)-at))
}

// errorf is an error with a SQLSTATE.
func errorf(code, format string, args ...any) error { return sqlerr.New(code, format, args...) }
