package pgwire

import (
	"errors"
	"io"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/dormousedb/dormouse/sql"
)

// copy runs a COPY statement with the client: FROM STDIN takes CopyData
// until CopyDone, TO STDOUT sends rows as CopyData.
func (c *conn) copy(p *portal) error {
	from, ok := p.stmt.st.CopyDirection()
	if !ok {
		// COPY to or from a file: let the session explain why not.
		return c.run(p, 0)
	}
	// A context of its own: COPY FROM reads the data on a goroutine.
	c.portalContext(p, false)
	defer c.endStatement(c.statement(p.cancel))
	var err error
	if from {
		err = c.copyIn(p)
	} else {
		err = c.copyOut(p)
	}
	return stmtError(p.ctx, err)
}

// copyIn feeds CopyData to the session's COPY through a pipe. An error
// while the data is still arriving is reported with the client's next
// message (nothing reads the socket meanwhile, as in a PostgreSQL
// backend); the CopyData that follow are dropped by the loop, as
// PostgreSQL drops them.
func (c *conn) copyIn(p *portal) error {
	ci, err := c.sess.CopyIn(p.ctx, p.stmt.st)
	if err != nil {
		return err
	}
	format := byte(0)
	if ci.Binary() {
		format = 1
	}
	codes := make([]uint16, ci.NumColumns())
	for i := range codes {
		codes[i] = uint16(format)
	}
	c.w.send(&pgproto3.CopyInResponse{OverallFormat: format, ColumnFormatCodes: codes})
	if err := c.w.flush(); err != nil {
		return err
	}
	pr, pw := io.Pipe()
	type result struct {
		tag string
		err error
	}
	res := make(chan result, 1)
	go func() {
		tag, err := ci.Run(p.ctx, pr)
		pr.CloseWithError(errCopyEnded)
		res <- result{tag, err}
	}()
	finish := func(r result) error {
		if r.err != nil {
			return r.err
		}
		c.w.send(&pgproto3.CommandComplete{CommandTag: []byte(r.tag)})
		return nil
	}
	for {
		m, err := c.next()
		if err != nil {
			pw.CloseWithError(errClientGone)
			<-res
			return err
		}
		select {
		case r := <-res:
			// The COPY ended before the data did: it failed. A message
			// that is not COPY data is the loop's (a Sync, say).
			pw.Close()
			switch m.(type) {
			case *pgproto3.CopyData, *pgproto3.CopyDone, *pgproto3.CopyFail:
			default:
				c.pending = m
			}
			return finish(r)
		default:
		}
		switch m := m.(type) {
		case *pgproto3.CopyData:
			if _, err := pw.Write(m.Data); err != nil {
				return finish(<-res)
			}
		case *pgproto3.CopyDone:
			pw.Close()
			return finish(<-res)
		case *pgproto3.CopyFail:
			pw.CloseWithError(sql.CopyFailed(m.Message))
			return finish(<-res)
		case *pgproto3.Flush, *pgproto3.Sync:
			// Ignored during COPY, as PostgreSQL ignores them.
		default:
			pw.CloseWithError(errCopyProtocol)
			<-res
			return errorf("08P01", "unexpected message type %T during COPY from stdin", m)
		}
	}
}

var (
	errCopyEnded    = errors.New("COPY ended")
	errCopyProtocol = errors.New("unexpected message during COPY from stdin")
)

// copyOut sends the rows of COPY TO STDOUT, one CopyData per row as
// PostgreSQL does.
func (c *conn) copyOut(p *portal) error {
	co, err := c.sess.CopyOut(p.ctx, p.stmt.st)
	if err != nil {
		return err
	}
	format := byte(0)
	if co.Binary() {
		format = 1
	}
	codes := make([]uint16, co.NumColumns())
	for i := range codes {
		codes[i] = uint16(format)
	}
	c.w.send(&pgproto3.CopyOutResponse{OverallFormat: format, ColumnFormatCodes: codes})
	tag, err := co.Run(p.ctx, func(b []byte) error {
		at := c.w.begin('d')
		c.w.buf = append(c.w.buf, b...)
		c.w.end(at)
		c.w.maybeFlush()
		return c.w.err
	})
	if err != nil {
		return err
	}
	c.w.send(&pgproto3.CopyDone{})
	c.w.send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
	return nil
}
