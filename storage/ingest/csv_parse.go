package ingest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/storage/schema"
)

// csvPlan is what every parser of one file shares: which column each field
// of a record fills, and the columns the file lacks.
type csvPlan struct {
	file    string
	delim   byte
	null    []byte
	fields  []csvField
	missing []int // storage positions of nullable columns absent from the file
	arrow   *arrow.Schema
	alloc   memory.Allocator
}

// csvField is one field of a record and the column it fills.
type csvField struct {
	col     int // storage position
	name    string
	typ     schema.Type
	notNull string // why NULL is refused ("key column", ...), or ""
	maxLen  int    // a VARCHAR's limit in characters (schema.Column.Length), 0 for none
}

func newCSVPlan(sp *splitter, name string, sch *schema.Schema, opts CSVOptions) (*csvPlan, error) {
	p := &csvPlan{
		file: name, delim: byte(opts.Delimiter), null: []byte(opts.Null),
		arrow: sch.Arrow(), alloc: opts.Allocator,
	}
	cols := sch.Columns()
	field := func(i int) csvField {
		f := csvField{col: i, name: cols[i].Name, typ: cols[i].Type, maxLen: cols[i].Length}
		switch {
		case i < sch.NumKeys():
			f.notNull = "key column"
		case !cols[i].Nullable:
			f.notNull = "NOT NULL column"
		}
		return f
	}
	if opts.NoHeader {
		for i := range cols {
			p.fields = append(p.fields, field(i))
		}
		return p, nil
	}
	names, err := readHeader(sp, name, p.delim)
	if err != nil {
		return nil, err
	}
	seen := make([]bool, len(cols))
	for _, n := range names {
		i := sch.Index(strings.TrimSpace(n))
		if i < 0 {
			return nil, fmt.Errorf("%s: header column %q is not in the table (%s)", name, n, sch)
		}
		if seen[i] {
			return nil, fmt.Errorf("%s: header names column %q twice", name, cols[i].Name)
		}
		seen[i] = true
		p.fields = append(p.fields, field(i))
	}
	for i, ok := range seen {
		if ok {
			continue
		}
		if f := field(i); f.notNull != "" {
			return nil, fmt.Errorf("%s: header lacks %s %q", name, f.notNull, f.name)
		}
		p.missing = append(p.missing, i)
	}
	return p, nil
}

func readHeader(sp *splitter, name string, delim byte) ([]string, error) {
	var buf []byte
	data, _, err := sp.cut(&buf, 1)
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty file: no header line", name)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	var fs fieldSet
	if _, _, msg := fs.split(data, delim); msg != "" {
		return nil, &ValueError{File: name, Line: 1, Msg: "header: " + msg}
	}
	names := make([]string, fs.len())
	for i := range names {
		names[i] = string(fs.field(i))
	}
	return names, nil
}

// csvParser turns chunks of records into record batches. Each parsing
// goroutine has its own.
type csvParser struct {
	plan  *csvPlan
	cols  []column // per storage column
	conv  []csvCol // per field of a record
	fs    fieldSet
	ascii bool // the chunk being parsed is all ASCII
}

func newCSVParser(plan *csvPlan) *csvParser {
	p := &csvParser{plan: plan, cols: make([]column, plan.arrow.NumFields())}
	for i, f := range plan.arrow.Fields() {
		k, ok := kindOf(f.Type)
		if !ok {
			panic(fmt.Sprintf("ingest: no CSV conversion to %s", f.Type))
		}
		p.cols[i].kind = k
	}
	p.conv = make([]csvCol, len(plan.fields))
	for i, f := range plan.fields {
		p.conv[i] = newCSVCol(f, plan.null, &p.cols[f.col], &p.ascii)
	}
	return p
}

// parseChunk parses whole records that start on the given line.
func (p *csvParser) parseChunk(data []byte, line int) (arrow.RecordBatch, error) {
	for i := range p.cols {
		p.cols[i].reset()
	}
	p.ascii = isASCII(data)
	rows, err := p.parseRecords(data, line)
	if err != nil {
		return nil, err
	}
	for _, c := range p.plan.missing {
		p.cols[c].appendNulls(rows)
	}
	return newBatch(p.plan.alloc, p.plan.arrow, p.cols, rows), nil
}

// isASCII says whether b has no byte above 0x7F, eight bytes at a time.
func isASCII(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b)&0x8080808080808080 != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// parseRecords appends the records of data to the builders. A record
// without quotes is split in place; one with quotes goes through fieldSet,
// which unescapes it and follows quoted newlines. Blank lines are skipped.
func (p *csvParser) parseRecords(data []byte, line int) (rows int, err error) {
	quotes := bytes.IndexByte(data, '"') >= 0
	for pos := 0; pos < len(data); {
		rest := data[pos:]
		end := bytes.IndexByte(rest, '\n')
		next := end + 1
		if end < 0 {
			end, next = len(rest), len(rest)
		}
		if l := rest[:end]; !quotes || bytes.IndexByte(l, '"') < 0 {
			if len(l) > 0 && l[len(l)-1] == '\r' {
				l = l[:len(l)-1]
			}
			if len(l) > 0 {
				if err := p.appendLine(l, line); err != nil {
					return rows, err
				}
				rows++
			}
			pos += next
			line++
			continue
		}
		n, lines, msg := p.fs.split(rest, p.plan.delim)
		if msg != "" {
			f := p.fs.len()
			return rows, p.errAt(line+p.fs.fieldLine(f), f, msg)
		}
		if err := p.appendFields(line); err != nil {
			return rows, err
		}
		rows++
		pos += n
		line += lines
	}
	return rows, nil
}

// appendLine appends a record that holds no quote.
func (p *csvParser) appendLine(l []byte, line int) error {
	last := len(p.conv) - 1
	rest := l
	for f := range last {
		i := bytes.IndexByte(rest, p.plan.delim)
		if i < 0 {
			return p.countErr(bytes.Count(l, []byte{p.plan.delim})+1, line)
		}
		if err := p.conv[f].append(rest[:i], false); err != nil {
			return p.errAt(line, f, err.Error())
		}
		rest = rest[i+1:]
	}
	if bytes.IndexByte(rest, p.plan.delim) >= 0 {
		return p.countErr(bytes.Count(l, []byte{p.plan.delim})+1, line)
	}
	if err := p.conv[last].append(rest, false); err != nil {
		return p.errAt(line, last, err.Error())
	}
	return nil
}

// appendFields appends the record held by p.fs.
func (p *csvParser) appendFields(line int) error {
	if n := p.fs.len(); n != len(p.conv) {
		return p.countErr(n, line)
	}
	for f := range p.conv {
		if err := p.conv[f].append(p.fs.field(f), p.fs.quoted[f]); err != nil {
			return p.errAt(line+p.fs.fieldLine(f), f, err.Error())
		}
	}
	return nil
}

func (p *csvParser) errAt(line, field int, msg string) error {
	e := &ValueError{File: p.plan.file, Line: line, Msg: msg}
	if field < len(p.conv) {
		e.Column = p.conv[field].name
	}
	return e
}

func (p *csvParser) countErr(n, line int) error {
	want := len(p.conv)
	what := "extra data after last expected column"
	if n < want {
		what = fmt.Sprintf("missing data for column %q", p.conv[n].name)
	}
	return &ValueError{File: p.plan.file, Line: line,
		Msg: fmt.Sprintf("record has %d fields, want %d (%s)", n, want, what)}
}

// fieldSet holds the fields of one record that contains quotes, unescaped.
type fieldSet struct {
	buf    []byte
	ends   []int
	quoted []bool
	lines  []int // newlines before the start of each field, within the record
}

func (fs *fieldSet) len() int { return len(fs.ends) }
func (fs *fieldSet) field(i int) []byte {
	start := 0
	if i > 0 {
		start = fs.ends[i-1]
	}
	return fs.buf[start:fs.ends[i]]
}

func (fs *fieldSet) fieldLine(i int) int {
	if i < len(fs.lines) {
		return fs.lines[i]
	}
	if len(fs.lines) > 0 {
		return fs.lines[len(fs.lines)-1]
	}
	return 0
}

// split parses one record from the start of data: fields end at the
// delimiter, the record at a newline outside quotes or at the end of data. A
// quote anywhere opens a quoted section, in which "" is a quote and the
// delimiter and newlines are data (PostgreSQL CSV). It returns the bytes
// consumed, the newlines among them, and a message if the record is bad.
func (fs *fieldSet) split(data []byte, delim byte) (n, lines int, msg string) {
	fs.buf, fs.ends, fs.quoted, fs.lines = fs.buf[:0], fs.ends[:0], fs.quoted[:0], fs.lines[:0]
	quoted, nl := false, 0
	fs.lines = append(fs.lines, 0)
	endField := func() {
		fs.ends = append(fs.ends, len(fs.buf))
		fs.quoted = append(fs.quoted, quoted)
		quoted = false
	}
	i := 0
	for i < len(data) {
		switch c := data[i]; {
		case c == '"':
			quoted = true
			i++
			for {
				j := bytes.IndexByte(data[i:], '"')
				if j < 0 {
					return len(data), nl, "unterminated quoted field"
				}
				seg := data[i : i+j]
				nl += bytes.Count(seg, []byte{'\n'})
				fs.buf = append(fs.buf, seg...)
				i += j + 1
				if i < len(data) && data[i] == '"' {
					fs.buf = append(fs.buf, '"')
					i++
					continue
				}
				break
			}
		case c == delim:
			endField()
			fs.lines = append(fs.lines, nl)
			i++
		case c == '\n':
			endField()
			return i + 1, nl + 1, ""
		case c == '\r' && (i+1 == len(data) || data[i+1] == '\n'):
			i++
		default:
			j := i + 1
			for j < len(data) && data[j] != '"' && data[j] != delim && data[j] != '\n' && data[j] != '\r' {
				j++
			}
			fs.buf = append(fs.buf, data[i:j]...)
			i = j
		}
	}
	endField()
	return i, nl, ""
}
