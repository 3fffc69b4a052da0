package pgwire

import (
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/dormousedb/dormouse/sql"
)

// simpleQuery runs a Query message: each of its statements in turn, all
// results in text, stopping at the first error; then ReadyForQuery.
func (c *conn) simpleQuery(text string) {
	// A simple query ends the unnamed statement and portal.
	delete(c.stmts, "")
	if p, ok := c.portals[""]; ok {
		c.closePortal(p)
		delete(c.portals, "")
	}
	c.endImplicit()
	c.beginImplicit()
	stmts, err := c.sess.Parse(text)
	switch {
	case err != nil:
		c.sendError(err)
	case len(stmts) == 0:
		c.w.send(&pgproto3.EmptyQueryResponse{})
	}
	for _, st := range stmts {
		if err := c.simpleStatement(st); err != nil {
			c.sendError(err)
			break
		}
	}
	c.endImplicit()
	c.readyForQuery()
}

func (c *conn) simpleStatement(st *sql.Statement) error {
	if name, all, ok := st.Deallocate(); ok {
		return c.deallocate(name, all)
	}
	p := &portal{stmt: &prepared{st: st}}
	defer c.closePortal(p)
	if st.Command() == "COPY" {
		return c.copy(p)
	}
	c.portalContext(p, true)
	timeout := c.statement(p.cancel)
	err := c.start(p)
	c.endStatement(timeout)
	if err != nil {
		return err
	}
	if p.cols != nil {
		// Described once the first rows are in hand, so that an error the
		// statement meets at once comes alone, as PostgreSQL reports the
		// errors of planning (SELECT 1/0) before any RowDescription.
		p.describe = true
	}
	return c.run(p, 0)
}
