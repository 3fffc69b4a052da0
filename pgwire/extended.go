package pgwire

import (
	"context"
	"encoding/binary"
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
		c.closePortal(old)
		delete(c.portals, "")
	}
	if len(m.Parameters) != len(stmt.paramOIDs) {
		return errorf("08P01", "bind message supplies %d parameters, but prepared statement \"%s\" requires %d",
			len(m.Parameters), m.PreparedStatement, len(stmt.paramOIDs))
	}
	params, owned, err := c.decodeParams(stmt, m.DestinationPortal, m.ParameterFormatCodes, m.Parameters)
	if err != nil {
		return err
	}
	cols := stmt.st.Columns()
	formats, err := resultFormats(m.ResultFormatCodes, len(cols))
	if err != nil {
		c.putParams(params, owned)
		return err
	}
	c.portals[m.DestinationPortal] = &portal{stmt: stmt, params: params, owned: owned, cols: cols, formats: formats}
	c.w.send(&pgproto3.BindComplete{})
	return nil
}

// decodeParams reads Bind's parameter values, in text or binary, as one
// one-row array each of the statement's parameter types, in a slice that
// goes back to the connection with putParams. owned marks the arrays
// that are the connection's (takeInt): a BIGINT or INTEGER written
// plainly (pgtypes.PlainInt, BinaryInt), a point lookup's key, is put in
// one of those rather than in a new array.
func (c *conn) decodeParams(stmt *prepared, portal string, codes []int16, values [][]byte) (out []arrow.Array, owned uint64, err error) {
	if len(codes) > 1 && len(codes) != len(values) {
		return nil, 0, errorf("08P01", "bind message has %d parameter formats but %d parameters", len(codes), len(values))
	}
	types := stmt.st.ParamTypes()
	var ec *expr.Context // made for the first value read the general way
	out, c.spareParams = c.spareParams[:0], nil
	for i, v := range values {
		format := pgtypes.TextFormat
		switch {
		case len(codes) == 1:
			format = codes[0]
		case len(codes) > 1:
			format = codes[i]
		}
		if n, ok := plainInt(types[i], stmt.paramOIDs[i], format, v); ok && i < 64 {
			out = append(out, c.takeInt(types[i], n))
			owned |= 1 << i
			continue
		}
		if ec == nil {
			c.paramCtx = expr.Context{Ctx: c.ctx, Alloc: memory.DefaultAllocator, Now: time.Now().UnixMicro(), TimeZone: c.sessionTimeZone()}
			ec = &c.paramCtx
		}
		a, err := decodeParam(ec, types[i], stmt.paramOIDs[i], format, v)
		if err != nil {
			c.putParams(out, owned)
			return nil, 0, paramError(err, portal, i+1, format)
		}
		out = append(out, a)
	}
	return out, owned, nil
}

// plainInt reads a parameter value that is a BIGINT or INTEGER written
// plainly, as decodeParam would read it; false for any other value, which
// decodeParam reads.
func plainInt(t arrow.DataType, oid uint32, format int16, v []byte) (int64, bool) {
	switch {
	case v == nil:
		return 0, false
	case format == pgtypes.TextFormat:
		return pgtypes.PlainInt(v, t)
	case format == pgtypes.BinaryFormat:
		return pgtypes.BinaryInt(oid, v, t)
	}
	return 0, false
}

// takeInt returns a one-value array of t (BIGINT or INTEGER) holding v,
// one of the connection's: nothing but the portal it goes to reads it,
// and only until the portal closes (its rows close first), so the next
// Bind may write it again.
func (c *conn) takeInt(t arrow.DataType, v int64) arrow.Array {
	var a arrow.Array
	for i, s := range c.spareInts {
		if arrow.TypeEqual(s.DataType(), t) {
			a = s
			last := len(c.spareInts) - 1
			c.spareInts[i], c.spareInts[last] = c.spareInts[last], nil
			c.spareInts = c.spareInts[:last]
			break
		}
	}
	if a == nil {
		size := 8
		if t.ID() == arrow.INT32 {
			size = 4
		}
		d := array.NewData(t, 1, []*memory.Buffer{nil, memory.NewBufferBytes(make([]byte, size))}, nil, 0, 0)
		a = array.MakeFromData(d)
		d.Release()
	}
	// The array reads its value from this buffer (Arrow's layout: little
	// endian on the platforms Go's arrow supports).
	buf := a.Data().Buffers()[1].Bytes()
	if len(buf) == 4 {
		binary.LittleEndian.PutUint32(buf, uint32(int32(v)))
	} else {
		binary.LittleEndian.PutUint64(buf, uint64(v))
	}
	return a
}

// putParams takes back a portal's parameters: the connection's own
// arrays (owned) for takeInt, the others released, and the slice for the
// next Bind.
func (c *conn) putParams(params []arrow.Array, owned uint64) {
	for i, a := range params {
		switch {
		case a == nil:
		case i < 64 && owned&(1<<i) != 0:
			c.spareInts = append(c.spareInts, a)
		default:
			a.Release()
		}
	}
	clear(params)
	if cap(params) > cap(c.spareParams) {
		c.spareParams = params[:0]
	}
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
			c.closePortal(p)
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
