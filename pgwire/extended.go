package pgwire

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/sql"
	"github.com/dormousedb/dormouse/sql/pgtypes"
)

// The extended query protocol: Parse, Bind, Describe, Execute, Close.
// Each returns the error to report; the loop then skips to Sync.

func (c *conn) parse(m *pgproto3.Parse) error {
	if m.Name != "" {
		if _, exists := c.stmts[m.Name]; exists {
			return errorf("42P05", "prepared statement \"%s\" already exists", m.Name)
		}
	}
	declared := make([]arrow.DataType, len(m.ParameterOIDs))
	for i, oid := range m.ParameterOIDs {
		t, err := pgtypes.ParamType(oid)
		if err != nil {
			return err
		}
		declared[i] = t
	}
	ctx, cancel := context.WithCancelCause(c.ctx)
	timeout := c.statement(cancel)
	st, err := c.sess.Prepare(ctx, m.Query, declared)
	c.endStatement(timeout)
	cancel(nil)
	if err != nil {
		return stmtError(ctx, err)
	}
	p := &prepared{st: st}
	for i, t := range st.ParamTypes() {
		if i < len(m.ParameterOIDs) && m.ParameterOIDs[i] != 0 && m.ParameterOIDs[i] != pgtypes.Unknown {
			p.paramOIDs = append(p.paramOIDs, m.ParameterOIDs[i])
			continue
		}
		pt, err := pgtypes.ForArrow(t, t == expr.NumericType)
		if err != nil {
			return err
		}
		p.paramOIDs = append(p.paramOIDs, pt.OID)
	}
	c.stmts[m.Name] = p
	c.w.send(&pgproto3.ParseComplete{})
	return nil
}

func (c *conn) bind(m *pgproto3.Bind) error {
	stmt, ok := c.stmts[m.PreparedStatement]
	if !ok {
		return errorf("26000", "prepared statement \"%s\" does not exist", m.PreparedStatement)
	}
	if err := c.sess.Aborted(stmt.st); err != nil {
		return err
	}
	if m.DestinationPortal != "" {
		if _, exists := c.portals[m.DestinationPortal]; exists {
			return errorf("42P03", "portal \"%s\" already exists", m.DestinationPortal)
		}
	} else if old, ok := c.portals[""]; ok {
		old.close()
		delete(c.portals, "")
	}
	if len(m.Parameters) != len(stmt.paramOIDs) {
		return errorf("08P01", "bind message supplies %d parameters, but prepared statement \"%s\" requires %d",
			len(m.Parameters), m.PreparedStatement, len(stmt.paramOIDs))
	}
	params, err := c.decodeParams(stmt, m.DestinationPortal, m.ParameterFormatCodes, m.Parameters)
	if err != nil {
		return err
	}
	cols := stmt.st.Columns()
	formats, err := resultFormats(m.ResultFormatCodes, len(cols))
	if err != nil {
		release(params)
		return err
	}
	c.portals[m.DestinationPortal] = newPortal(c.ctx, stmt, params, cols, formats)
	c.w.send(&pgproto3.BindComplete{})
	return nil
}

// decodeParams reads Bind's parameter values, in text or binary, as one
// one-row array each of the statement's parameter types.
func (c *conn) decodeParams(stmt *prepared, portal string, codes []int16, values [][]byte) ([]arrow.Array, error) {
	if len(codes) > 1 && len(codes) != len(values) {
		return nil, errorf("08P01", "bind message has %d parameter formats but %d parameters", len(codes), len(values))
	}
	types := stmt.st.ParamTypes()
	tz, _ := c.sess.Setting("timezone")
	ec := &expr.Context{Ctx: c.ctx, Alloc: memory.DefaultAllocator, Now: time.Now().UnixMicro(), TimeZone: tz}
	out := make([]arrow.Array, 0, len(values))
	for i, v := range values {
		format := pgtypes.TextFormat
		switch {
		case len(codes) == 1:
			format = codes[0]
		case len(codes) > 1:
			format = codes[i]
		}
		a, err := decodeParam(ec, types[i], stmt.paramOIDs[i], format, v)
		if err != nil {
			release(out)
			return nil, paramError(err, portal, i+1, format)
		}
		out = append(out, a)
	}
	return out, nil
}

// paramError says which parameter a value error is about, as PostgreSQL's
// context line does (it shows text values as '...' by default).
func paramError(err error, portal string, n int, format int16) error {
	e := *sqlerr.As(err)
	if e.Code == "22P03" {
		e.Message = fmt.Sprintf("incorrect binary data format in bind parameter %d", n)
	}
	where := fmt.Sprintf("unnamed portal parameter $%d", n)
	if portal != "" {
		where = fmt.Sprintf("portal \"%s\" parameter $%d", portal, n)
	}
	if format == pgtypes.TextFormat {
		where += " = '...'"
	}
	e.Where = where
	return &e
}

func decodeParam(ec *expr.Context, t arrow.DataType, oid uint32, format int16, v []byte) (arrow.Array, error) {
	switch {
	case v == nil:
		return pgtypes.NullArray(t, ec.Alloc)
	case format == pgtypes.TextFormat:
		return pgtypes.ParseText(ec, string(v), t)
	case format == pgtypes.BinaryFormat:
		b := array.NewBuilder(ec.Alloc, t)
		defer b.Release()
		if err := pgtypes.AppendBinary(b, oid, v); err != nil {
			return nil, err
		}
		return b.NewArray(), nil
	}
	return nil, errorf("08P01", "unsupported format code: %d", format)
}

func release(arrs []arrow.Array) {
	for _, a := range arrs {
		if a != nil {
			a.Release()
		}
	}
}

func (c *conn) describe(m *pgproto3.Describe) error {
	switch m.ObjectType {
	case 'S':
		stmt, ok := c.stmts[m.Name]
		if !ok {
			return errorf("26000", "prepared statement \"%s\" does not exist", m.Name)
		}
		c.w.send(&pgproto3.ParameterDescription{ParameterOIDs: stmt.paramOIDs})
		c.sendRowDescription(stmt, stmt.st.Columns(), nil)
	case 'P':
		p, ok := c.portals[m.Name]
		if !ok {
			return errorf("34000", "portal \"%s\" does not exist", m.Name)
		}
		c.sendRowDescription(p.stmt, p.cols, p.formats)
	default:
		return errorf("08P01", "invalid DESCRIBE message subtype %d", m.ObjectType)
	}
	return nil
}

// sendRowDescription describes the rows of a statement or of one of its
// portals: columns cols in the given formats, or NoData.
func (c *conn) sendRowDescription(st *prepared, cols []sql.Column, formats []int16) {
	if cols == nil {
		c.w.send(&pgproto3.NoData{})
		return
	}
	c.w.send(st.description(cols, formats))
}

func (c *conn) execute(m *pgproto3.Execute) error {
	p, ok := c.portals[m.Portal]
	if !ok {
		return errorf("34000", "portal \"%s\" does not exist", m.Portal)
	}
	st := p.stmt.st
	if st.Empty() {
		c.w.send(&pgproto3.EmptyQueryResponse{})
		return nil
	}
	if name, all, ok := st.Deallocate(); ok {
		return c.deallocate(name, all)
	}
	if st.Command() == "COPY" {
		return c.copy(p)
	}
	max := int(m.MaxRows)
	if m.MaxRows > 1<<31-1 {
		max = 0
	}
	return c.run(p, max)
}

func (c *conn) closeObject(m *pgproto3.Close) error {
	switch m.ObjectType {
	case 'S':
		delete(c.stmts, m.Name)
	case 'P':
		if p, ok := c.portals[m.Name]; ok {
			p.close()
			delete(c.portals, m.Name)
		}
	default:
		return errorf("08P01", "invalid CLOSE message subtype %d", m.ObjectType)
	}
	c.w.send(&pgproto3.CloseComplete{})
	return nil
}

// deallocate runs DEALLOCATE, which removes prepared statements.
func (c *conn) deallocate(name string, all bool) error {
	tag := "DEALLOCATE"
	if all {
		tag = "DEALLOCATE ALL"
		for k := range c.stmts {
			if k != "" {
				delete(c.stmts, k)
			}
		}
	} else {
		if _, ok := c.stmts[name]; !ok || name == "" {
			return errorf("26000", "prepared statement \"%s\" does not exist", name)
		}
		delete(c.stmts, name)
	}
	c.w.send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
	return nil
}
