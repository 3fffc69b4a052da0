package pgwire

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/dormousedb/dormouse/sql"
)

// prepared is a statement of the extended protocol (Parse).
type prepared struct {
	st *sql.Statement
	// paramOIDs are the parameter types as the client sees them: those it
	// declared, else those the statement inferred.
	paramOIDs []uint32
	// desc is the RowDescription last sent for the statement or one of
	// its portals, for columns descCols in formats descFormats: libpq
	// describes every portal it executes (PQexecPrepared), the same each
	// time.
	desc        *pgproto3.RowDescription
	descCols    []sql.Column
	descFormats []int16
}

// description returns the RowDescription of the statement or one of its
// portals, with columns cols in the given formats.
func (st *prepared) description(cols []sql.Column, formats []int16) *pgproto3.RowDescription {
	same := st.desc != nil && len(cols) == len(st.descCols) && (len(cols) == 0 || &cols[0] == &st.descCols[0]) &&
		slices.Equal(formats, st.descFormats)
	if !same {
		st.desc, st.descCols, st.descFormats = rowDescription(cols, formats), cols, formats
	}
	return st.desc
}

// portal is a statement ready to run with its parameters (Bind), and once
// it runs, its open result: a portal left suspended by a row limit keeps
// its operators, and its place in the current batch, for the next
// Execute.
type portal struct {
	stmt   *prepared
	params []arrow.Array
	// owned has bit i set when params[i] is one of the connection's
	// one-value integer arrays (takeInt), which go back to it at close.
	owned   uint64
	formats []int16 // result formats, one per column
	cols    []sql.Column

	// ctx is the portal's, given at its first run (portalContext):
	// CancelRequest and statement_timeout cancel it. shared says that it
	// is the connection's statement context, which outlives the portal.
	ctx    context.Context
	cancel context.CancelCauseFunc
	shared bool

	rows sql.Rows
	rw   *rowWriter
	cur  arrow.RecordBatch
	pos  int
	done bool
	tag  string
	// describe asks run to send the RowDescription before the first row
	// or the completion (the simple protocol's).
	describe bool
}

// closePortal stops the portal's statement and releases what it holds,
// giving its parameters' room back to the connection.
func (c *conn) closePortal(p *portal) {
	p.finish()
	c.putParams(p.params, p.owned)
	p.params, p.owned = nil, 0
	if p.cancel != nil && !p.shared {
		p.cancel(context.Canceled)
	}
}

// portalContext gives p its context before its first run. A run that
// takes the portal to its end (whole: an Execute without a row limit, a
// simple query's statement) with no statement_timeout runs in the
// connection's statement context, which serves statement after statement
// until a CancelRequest ends it: the portal's rows are closed before the
// Execute returns, so that nothing but the running statement can be
// cancelled with it, and a context per statement (a cancelCtx and its
// registration with the connection's) is saved. Otherwise the portal gets
// a context of its own, which a suspended portal keeps from Execute to
// Execute and a timeout cancels.
func (c *conn) portalContext(p *portal, whole bool) {
	if p.ctx != nil {
		return
	}
	if whole && c.statementTimeout() == 0 {
		if c.stmtCtx == nil || c.stmtCtx.Err() != nil {
			c.stmtCtx, c.stmtCancel = context.WithCancelCause(c.ctx)
		}
		p.ctx, p.cancel, p.shared = c.stmtCtx, c.stmtCancel, true
		return
	}
	p.ctx, p.cancel = context.WithCancelCause(c.ctx)
}

// finish closes the result, keeping the portal (a finished portal
// executed again returns nothing).
func (p *portal) finish() {
	if p.cur != nil {
		p.cur.Release()
		p.cur = nil
	}
	if p.rows != nil {
		p.rows.Close()
		p.rows = nil
	}
	p.done = true
}

// start runs the portal's statement, if it has not run yet: the rows then
// stream from p.rows. Notices go to the client.
func (c *conn) start(p *portal) error {
	if p.rows != nil || p.done {
		return nil
	}
	rows, err := c.sess.Execute(p.ctx, p.stmt.st, p.params)
	if err != nil {
		p.done = true
		return stmtError(p.ctx, err)
	}
	p.rows = rows
	for _, n := range sql.NoticesOf(rows) {
		c.w.send(noticeResponse(n))
	}
	if p.cols == nil {
		p.cols = sql.ColumnsOf(rows)
	}
	return nil
}

// run streams up to max rows of the portal (all when max is 0) as
// DataRows, then CommandComplete, or PortalSuspended when it stopped at
// max: as in PostgreSQL, reaching max suspends the portal even if no row
// is left, and the next Execute completes it.
func (c *conn) run(p *portal, max int) error {
	c.portalContext(p, max == 0)
	defer c.endStatement(c.statement(p.cancel))
	if err := c.start(p); err != nil {
		return err
	}
	if p.done {
		c.sendComplete(p.tag, 0)
		return nil
	}
	if p.rw == nil {
		p.rw, c.spareRows = c.spareRows, nil
		if p.rw == nil {
			p.rw = &rowWriter{}
		}
		p.rw.start(p.cols, p.formats, c.sessionTimeZone())
	}
	n := 0
	for {
		if max > 0 && n >= max {
			c.w.send(&pgproto3.PortalSuspended{})
			return nil
		}
		if p.cur == nil || p.pos >= int(p.cur.NumRows()) {
			if p.cur != nil {
				p.cur.Release()
				p.cur = nil
			}
			rec, err := p.rows.Next(p.ctx)
			if p.describe && (err == nil || err == io.EOF) {
				c.w.send(rowDescription(p.cols, nil))
				p.describe = false
			}
			if err == io.EOF {
				p.tag = p.rows.Tag()
				p.finish()
				// Done with rows: the next portal writes with it.
				c.spareRows, p.rw = p.rw, nil
				c.sendComplete(p.tag, n)
				return nil
			}
			if err != nil {
				p.finish()
				return stmtError(p.ctx, err)
			}
			if p.rows.Schema() != nil && len(p.cols) != int(rec.NumCols()) {
				rec.Release()
				p.finish()
				return fmt.Errorf("result has %d columns, described %d", rec.NumCols(), len(p.cols))
			}
			p.cur, p.pos = rec, 0
			p.rw.reset(rec)
			continue
		}
		p.rw.write(&c.w, p.pos)
		p.pos++
		n++
		if c.w.err != nil {
			p.finish()
			return c.w.err
		}
	}
}

// sendComplete sends CommandComplete for a portal's statement with tag,
// a SELECT's with the rows this Execute returned: a portal read in
// several Executes reports the last one's rows, as PostgreSQL does. Other
// tags are kept. The message and its tag are the connection's scratch:
// send encodes it at once.
func (c *conn) sendComplete(tag string, n int) {
	if tag == "SELECT" || strings.HasPrefix(tag, "SELECT ") {
		c.tag = strconv.AppendInt(append(c.tag[:0], "SELECT "...), int64(n), 10)
	} else {
		c.tag = append(c.tag[:0], tag...)
	}
	c.complete.CommandTag = c.tag
	c.w.send(&c.complete)
}
