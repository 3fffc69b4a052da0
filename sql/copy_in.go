package sql

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/sql/ast"
	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/ingest"
	"github.com/dormousedb/dormouse/storage/table"
)

// CopyIn is a COPY … FROM STDIN ready to receive its data. Its rows go
// through the ingest path: sorted, written one file per partition and
// committed in one transaction when the data ends (inside a transaction,
// when it commits), so a COPY that fails — a bad line, a cancelled
// statement, a client that gives up — commits nothing.
type CopyIn struct {
	s    *Session
	stmt *ast.Copy
	opts copyOptions
	def  *catalog.TableDef
	t    *table.Table
	cols []int // storage positions, in the order of the data's fields
	lc   *lineCounter
}

// CopyIn starts a COPY FROM STDIN statement: it resolves the table and
// the columns and checks the options, before the client sends any data.
func (s *Session) CopyIn(ctx context.Context, st *Statement) (*CopyIn, error) {
	c, err := s.copyIn(ctx, st)
	if err != nil {
		s.StatementFailed()
		return nil, positioned(st.text, err)
	}
	return c, nil
}

func (s *Session) copyIn(ctx context.Context, st *Statement) (*CopyIn, error) {
	if err := s.checkTxn(st.stmt); err != nil {
		return nil, err
	}
	c, opts, err := copyStmt(st)
	if err != nil {
		return nil, err
	}
	if !c.From {
		return nil, sqlerr.New(sqlerr.InternalError, "COPY TO is not COPY FROM")
	}
	if c.Query != nil {
		return nil, errAt(c.Pos, sqlerr.New(sqlerr.WrongObjectType, "COPY FROM needs a table, not a query"))
	}
	snap, err := s.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	def, cols, err := s.copyTable(snap, c)
	if err != nil {
		return nil, err
	}
	t, err := s.e.db.TableOf(ctx, def) // as the snapshot defines it
	if err != nil {
		return nil, err
	}
	return &CopyIn{s: s, stmt: c, opts: opts, def: def, t: t, cols: cols}, nil
}

// Binary reports whether the data is in the binary COPY format.
func (c *CopyIn) Binary() bool { return c.opts.format == CopyBinary }

// NumColumns is the number of fields in each row of the data.
func (c *CopyIn) NumColumns() int { return len(c.cols) }

// Run reads the data from r until EOF and ingests it in one commit, or
// reads and commits nothing on the first bad row. It returns the command
// tag, "COPY n". A read error of r (the client failed the COPY) fails it.
func (c *CopyIn) Run(ctx context.Context, r io.Reader) (string, error) {
	tag, err := c.run(ctx, r)
	if err != nil {
		c.s.StatementFailed()
	}
	return tag, err
}

func (c *CopyIn) run(ctx context.Context, r io.Reader) (string, error) {
	c.lc = &lineCounter{r: r}
	r = c.lc
	var (
		in    ingest.RecordReader
		lines lineMapper
		err   error
	)
	switch c.opts.format {
	case CopyBinary:
		in = newBinaryCopyReader(r, c.def, c.cols, c.s.e.cfg.Allocator)
	case CopyCSV:
		src := io.MultiReader(strings.NewReader(c.headerLine()), skipHeader(r, c.opts.header))
		lines = csvLines{header: c.opts.header}
		in, err = c.csvReader(src)
	case CopyText:
		tr := newTextToCSV(r, c.opts, c.headerLine())
		lines = tr
		in, err = c.csvReader(tr)
	}
	if err != nil {
		return "", err
	}
	defer in.Close()
	n, err := c.s.write(ctx, c.t, []ingest.RecordReader{in})
	if err != nil {
		return "", c.copyError(err, lines)
	}
	return fmt.Sprintf("COPY %d", n), nil
}

func (c *CopyIn) csvReader(src io.Reader) (ingest.RecordReader, error) {
	delim := rune(c.opts.delimiter)
	null := c.opts.null
	if c.opts.format == CopyText {
		delim, null = ',', "" // the translation's own CSV
	}
	r, err := ingest.NewCSVReader(src, "STDIN", c.def.Schema, ingest.CSVOptions{
		Delimiter: delim, Null: null, Allocator: c.s.e.cfg.Allocator})
	if err != nil {
		return nil, c.copyError(err, nil)
	}
	return r, nil
}

// headerLine names the copied columns, in order, as the CSV reader's
// header: it matches fields to columns by name, and makes the columns
// COPY leaves out NULL.
func (c *CopyIn) headerLine() string {
	delim := string(c.opts.delimiter)
	if c.opts.format == CopyText {
		delim = ","
	}
	cols := c.def.Schema.Columns()
	names := make([]string, len(c.cols))
	for i, p := range c.cols {
		names[i] = `"` + strings.ReplaceAll(cols[p].Name, `"`, `""`) + `"`
	}
	return strings.Join(names, delim) + "\n"
}

// copyError turns an ingest error into PostgreSQL's: the message about
// the value, and where it was as the CONTEXT ("COPY t, line 3, column k").
func (c *CopyIn) copyError(err error, lines lineMapper) error {
	var ve *ingest.ValueError
	if !errors.As(err, &ve) {
		var cf *copyFailError
		switch {
		case errors.As(err, &cf):
			e := sqlerr.New(sqlerr.QueryCanceled, "COPY from stdin failed: %s", cf.msg)
			if c.lc != nil {
				e.Where = fmt.Sprintf("COPY %s, line %d", c.def.Name, c.lc.lines.Load()+1)
			}
			return e
		case strings.Contains(err.Error(), "header lacks"):
			// A key or NOT NULL column the COPY leaves out.
			return sqlerr.New(sqlerr.NullValueNotAllowed, "%s", strings.TrimPrefix(err.Error(), "STDIN: "))
		}
		return sqlerr.As(err)
	}
	line := ve.Line
	if lines != nil {
		line = lines.inputLine(line)
	}
	code := sqlerr.InvalidTextRepresentation
	msg := ve.Msg
	switch {
	case strings.HasPrefix(msg, "NULL in "):
		code = sqlerr.NullValueNotAllowed
		msg = fmt.Sprintf("null value in column \"%s\" of relation \"%s\" violates not-null constraint", ve.Column, c.def.Name)
	case ve.Column == "" || strings.Contains(msg, "field") || strings.Contains(msg, "quote"):
		code = badCopyFileFormat
	case strings.Contains(msg, "out of range"):
		code = sqlerr.NumericValueOutOfRange
	case strings.HasPrefix(msg, "value too long"):
		code = sqlerr.StringDataRightTruncation
	}
	where := fmt.Sprintf("COPY %s, line %d", c.def.Name, line)
	if ve.Column != "" {
		where += ", column " + ve.Column
		// PostgreSQL quotes the bad value too; the message ends with it.
		if i := strings.LastIndex(msg, `: "`); i >= 0 && strings.HasSuffix(msg, `"`) && code != sqlerr.NullValueNotAllowed {
			where += msg[i:]
			if code == sqlerr.StringDataRightTruncation {
				msg = msg[:i] // PostgreSQL's message leaves the value to the context
			}
		}
	}
	if ve.Row > 0 && ve.Line == 0 {
		where = fmt.Sprintf("COPY %s, line %d", c.def.Name, ve.Row)
		if ve.Column != "" {
			where += ", column " + ve.Column
		}
	}
	return &sqlerr.Error{Code: code, Message: msg, Where: where, Err: err}
}

// badCopyFileFormat is SQLSTATE bad_copy_file_format.
const badCopyFileFormat = "22P04"

// lineCounter counts the lines of the client's data as they are read,
// for the context of an error that is not about one line (CopyFail).
type lineCounter struct {
	r     io.Reader
	lines atomic.Int64
}

func (l *lineCounter) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.lines.Add(int64(bytes.Count(p[:n], []byte{'\n'})))
	return n, err
}

// copyFailError is a COPY the client abandoned (CopyFail).
type copyFailError struct{ msg string }

func (e *copyFailError) Error() string { return "COPY from stdin failed: " + e.msg }

// CopyFailed is the error a front door gives the data reader of Run when
// the client abandons the COPY with a message.
func CopyFailed(msg string) error { return &copyFailError{msg: msg} }

// lineMapper maps a line of the CSV the reader parsed back to the line of
// the client's data.
type lineMapper interface{ inputLine(csvLine int) int }

// csvLines maps lines of CSV data behind the header line that COPY adds:
// with HEADER it replaces the client's, without it shifts every line.
type csvLines struct{ header bool }

func (l csvLines) inputLine(n int) int {
	if l.header || n <= 1 {
		return n
	}
	return n - 1
}

// skipHeader drops the first line of r when header is set.
func skipHeader(r io.Reader, header bool) io.Reader {
	if !header {
		return r
	}
	br := bufio.NewReaderSize(r, 64<<10)
	return &headerSkipper{r: br}
}

type headerSkipper struct {
	r       *bufio.Reader
	skipped bool
}

func (h *headerSkipper) Read(p []byte) (int, error) {
	if !h.skipped {
		h.skipped = true
		for {
			_, err := h.r.ReadSlice('\n')
			if err == bufio.ErrBufferFull {
				continue
			}
			if err != nil {
				return 0, err
			}
			break
		}
	}
	return h.r.Read(p)
}

// textToCSV translates COPY's text format into CSV for the ingest CSV
// reader, line by line as it is read: fields split on the delimiter,
// backslash escapes decoded, the NULL string (\N) left an unquoted empty
// field and every other value quoted. A value with an escaped newline
// becomes a quoted field over several CSV lines; the checkpoints record
// where that shifts the line numbers.
type textToCSV struct {
	src    *bufio.Reader
	opts   copyOptions
	out    bytes.Buffer
	header string
	done   bool
	err    error

	inLine, outLine int
	mu              sync.Mutex
	marks           []lineMark
	skipFirst       bool
	line            []byte
}

// lineMark says that CSV line out is input line in; multi marks a record
// that spans several CSV lines, all of which are that input line.
type lineMark struct {
	out, in int
	multi   bool
}

func newTextToCSV(r io.Reader, opts copyOptions, header string) *textToCSV {
	t := &textToCSV{src: bufio.NewReaderSize(r, 64<<10), opts: opts, header: header, skipFirst: opts.header}
	t.out.WriteString(header)
	t.outLine = 2 // the header is CSV line 1
	t.inLine = 1
	t.marks = []lineMark{{out: 2, in: 1}}
	return t
}

func (t *textToCSV) Read(p []byte) (int, error) {
	for t.out.Len() == 0 {
		if t.done {
			return 0, io.EOF
		}
		if t.err != nil {
			return 0, t.err
		}
		t.next()
	}
	return t.out.Read(p)
}

// next translates one input line.
func (t *textToCSV) next() {
	t.line = t.line[:0]
	for {
		chunk, err := t.src.ReadSlice('\n')
		t.line = append(t.line, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			if len(t.line) == 0 {
				t.done = true
				return
			}
			break
		}
		if err != nil {
			t.err = err
			return
		}
		break
	}
	line := bytes.TrimSuffix(t.line, []byte{'\n'})
	line = bytes.TrimSuffix(line, []byte{'\r'})
	if t.skipFirst {
		t.skipFirst = false
		t.inLine++
		t.mark(lineMark{out: t.outLine, in: t.inLine})
		return
	}
	if string(line) == `\.` {
		t.done = true
		return
	}
	newlines := 0
	field := 0
	for start := 0; ; field++ {
		end := start
		for end < len(line) && line[end] != t.opts.delimiter {
			if line[end] == '\\' && end+1 < len(line) {
				end++
			}
			end++
		}
		if field > 0 {
			t.out.WriteByte(',')
		}
		raw := line[start:end]
		if string(raw) != t.opts.null {
			newlines += t.writeField(raw)
		}
		if end >= len(line) {
			break
		}
		start = end + 1
	}
	t.out.WriteByte('\n')
	if newlines > 0 {
		t.mark(lineMark{out: t.outLine, in: t.inLine, multi: true})
		t.mark(lineMark{out: t.outLine + 1 + newlines, in: t.inLine + 1})
	}
	t.outLine += 1 + newlines
	t.inLine++
}

// writeField writes a value unescaped and quoted; it returns how many
// newlines the value holds.
func (t *textToCSV) writeField(raw []byte) int {
	nl := 0
	t.out.WriteByte('"')
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '\\' && i+1 < len(raw) {
			i++
			c = raw[i]
			switch c {
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'v':
				c = '\v'
			case 'x':
				if i+1 < len(raw) && isHex(raw[i+1]) {
					v := unhexDigit(raw[i+1])
					i++
					if i+1 < len(raw) && isHex(raw[i+1]) {
						v = v<<4 | unhexDigit(raw[i+1])
						i++
					}
					c = v
				}
			default:
				if c >= '0' && c <= '7' {
					v := c - '0'
					for k := 0; k < 2 && i+1 < len(raw) && raw[i+1] >= '0' && raw[i+1] <= '7'; k++ {
						i++
						v = v<<3 | (raw[i] - '0')
					}
					c = v
				}
			}
		}
		switch c {
		case '"':
			t.out.WriteByte('"')
		case '\n':
			nl++
		}
		t.out.WriteByte(c)
	}
	t.out.WriteByte('"')
	return nl
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhexDigit(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

func (t *textToCSV) mark(m lineMark) {
	t.mu.Lock()
	t.marks = append(t.marks, m)
	t.mu.Unlock()
}

func (t *textToCSV) inputLine(n int) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	i := sort.Search(len(t.marks), func(i int) bool { return t.marks[i].out > n }) - 1
	if i < 0 {
		return n
	}
	m := t.marks[i]
	if m.multi {
		return m.in
	}
	return m.in + n - m.out
}
