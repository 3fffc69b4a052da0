package sql

import (
	"context"

	"encoding/binary"
	"fmt"
	"github.com/apache/arrow-go/v18/arrow"
	"io"
	"strings"

	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/sql/ast"
	"github.com/dormousedb/dormouse/sql/parser"
	"github.com/dormousedb/dormouse/sql/pgtypes"
)

// CopyOut is a COPY … TO STDOUT: a query (COPY (query), or the table's
// columns for COPY t) whose rows it writes in a COPY format.
type CopyOut struct {
	s    *Session
	opts copyOptions
	rows Rows
	cols []Column
}

// CopyOut starts a COPY TO STDOUT statement: the query is planned and
// opened under ctx, which must live until Run returns.
func (s *Session) CopyOut(ctx context.Context, st *Statement) (*CopyOut, error) {
	c, err := s.copyOut(ctx, st)
	if err != nil {
		s.StatementFailed()
		return nil, positioned(st.text, err)
	}
	return c, nil
}

func (s *Session) copyOut(ctx context.Context, st *Statement) (*CopyOut, error) {
	if err := s.checkTxn(st.stmt); err != nil {
		return nil, err
	}
	c, opts, err := copyStmt(st)
	if err != nil {
		return nil, err
	}
	q := c.Query
	if q == nil {
		if q, err = s.copyQuery(ctx, c); err != nil {
			return nil, err
		}
	}
	rows, err := s.query(ctx, q)
	if err != nil {
		return nil, err
	}
	return &CopyOut{s: s, opts: opts, rows: rows, cols: ColumnsOf(rows)}, nil
}

// copyQuery is the query COPY t [(columns)] TO reads: the columns in the
// order given, else every column in declared order.
func (s *Session) copyQuery(ctx context.Context, c *ast.Copy) (*ast.Query, error) {
	snap, err := s.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	def, cols, err := s.copyTable(snap, c)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(cols))
	for i, p := range cols {
		names[i] = ast.QuoteIdent(def.Schema.Columns()[p].Name)
	}
	text := "SELECT " + strings.Join(names, ", ") + " FROM " + ast.QuoteIdent(def.Name)
	stmt, err := parser.ParseOne(text)
	if err != nil {
		return nil, err
	}
	return stmt.(*ast.Query), nil
}

// Binary reports whether the data is in the binary COPY format.
func (c *CopyOut) Binary() bool { return c.opts.format == CopyBinary }

// NumColumns is the number of fields in each row.
func (c *CopyOut) NumColumns() int { return len(c.cols) }

// Close stops the query; Run closes it too.
func (c *CopyOut) Close() error { return c.rows.Close() }

// Run writes the data: emit receives the header (CSV HEADER, the binary
// signature), then each row, then the binary trailer, one piece per call;
// the slice is only valid during the call. It returns the command tag,
// "COPY n".
func (c *CopyOut) Run(ctx context.Context, emit func([]byte) error) (string, error) {
	defer c.rows.Close()
	n, err := c.run(ctx, emit)
	if err != nil {
		c.s.StatementFailed()
		return "", err
	}
	return fmt.Sprintf("COPY %d", n), nil
}

func (c *CopyOut) run(ctx context.Context, emit func([]byte) error) (int64, error) {
	var buf []byte
	switch {
	case c.opts.format == CopyBinary:
		buf = append(buf, binarySignature...)
		buf = append(buf, 0, 0, 0, 0, 0, 0, 0, 0)
		if err := emit(buf); err != nil {
			return 0, err
		}
	case c.opts.header:
		for i, col := range c.cols {
			if i > 0 {
				buf = append(buf, c.opts.delimiter)
			}
			buf = c.appendText(buf, []byte(col.Name))
		}
		buf = append(buf, '\n')
		if err := emit(buf); err != nil {
			return 0, err
		}
	}
	tz, _ := c.s.Setting("timezone")
	loc := expr.Location(tz)
	format := pgtypes.TextFormat
	if c.opts.format == CopyBinary {
		format = pgtypes.BinaryFormat
	}
	encs := make([]pgtypes.Encoder, len(c.cols))
	var field []byte
	var rows int64
	for {
		rec, err := c.rows.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return rows, err
		}
		arrs := rec.Columns()
		for i, a := range arrs {
			encs[i] = pgtypes.NewEncoder(a, c.cols[i].OID, format, loc)
		}
		for r := 0; r < int(rec.NumRows()); r++ {
			buf = buf[:0]
			if format == pgtypes.BinaryFormat {
				buf = binary.BigEndian.AppendUint16(buf, uint16(len(arrs)))
			}
			for i, a := range arrs {
				null := a.IsNull(r) || a.DataType().ID() == arrow.NULL
				if format == pgtypes.BinaryFormat {
					if null {
						buf = binary.BigEndian.AppendUint32(buf, 0xFFFFFFFF)
						continue
					}
					at := len(buf)
					buf = append(buf, 0, 0, 0, 0)
					buf = encs[i](buf, r)
					binary.BigEndian.PutUint32(buf[at:], uint32(len(buf)-at-4))
					continue
				}
				if i > 0 {
					buf = append(buf, c.opts.delimiter)
				}
				if null {
					buf = append(buf, c.opts.null...)
					continue
				}
				field = encs[i](field[:0], r)
				buf = c.appendText(buf, field)
			}
			if format != pgtypes.BinaryFormat {
				buf = append(buf, '\n')
			}
			if err := emit(buf); err != nil {
				rec.Release()
				return rows, err
			}
			rows++
		}
		rec.Release()
		if err := ctx.Err(); err != nil {
			return rows, sqlerr.As(err)
		}
	}
	if format == pgtypes.BinaryFormat {
		if err := emit([]byte{0xFF, 0xFF}); err != nil {
			return rows, err
		}
	}
	return rows, nil
}

// appendText writes a value's text as the format wants it: in text
// format with backslash escapes for backslash, newline, carriage return,
// tab and the delimiter; in CSV as pgtypes.AppendCSVField quotes it.
func (c *CopyOut) appendText(b, v []byte) []byte {
	if c.opts.format == CopyText {
		for _, ch := range v {
			switch ch {
			case '\\':
				b = append(b, '\\', '\\')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\v':
				b = append(b, '\\', 'v')
			default:
				if ch == c.opts.delimiter {
					b = append(b, '\\')
				}
				b = append(b, ch)
			}
		}
		return b
	}
	return pgtypes.AppendCSVField(b, v, c.opts.delimiter, c.opts.null)
}
