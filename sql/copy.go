package sql

import (
	"strings"

	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/sql/ast"
	"github.com/dormousedb/dormouse/storage/catalog"
)

// COPY between a table or query and the client (FROM STDIN, TO STDOUT),
// in PostgreSQL's text, CSV and binary formats. The front door moves the
// bytes (pgwire's CopyData); this file reads the statement, copy_in.go
// turns incoming bytes into rows and ingests them in one commit, and
// copy_out.go turns a query's rows into bytes.

// CopyFormat is a COPY data format.
type CopyFormat int

const (
	CopyText CopyFormat = iota
	CopyCSV
	CopyBinary
)

// copyOptions are a COPY statement's options, with PostgreSQL's defaults.
type copyOptions struct {
	format    CopyFormat
	header    bool
	delimiter byte
	null      string
}

// CopyDirection reports whether the statement is a COPY with the client —
// FROM STDIN (from true) or TO STDOUT — and ok false for any other
// statement.
func (st *Statement) CopyDirection() (from, ok bool) {
	c, isCopy := st.stmt.(*ast.Copy)
	if !isCopy || c.File != "" {
		return false, false
	}
	return c.From, true
}

// copyStmt checks a COPY with the client (STDIN, STDOUT): its options.
func copyStmt(st *Statement) (*ast.Copy, copyOptions, error) {
	c, ok := st.stmt.(*ast.Copy)
	if !ok {
		return nil, copyOptions{}, sqlerr.New(sqlerr.InternalError, "not a COPY statement")
	}
	if c.File != "" {
		// COPY to or from a file runs as a statement (export.go).
		return nil, copyOptions{}, sqlerr.New(sqlerr.InternalError, "COPY %s is not with the client", c.File)
	}
	opts, err := parseCopyOptions(c.Options)
	return c, opts, err
}

func parseCopyOptions(options []ast.Option) (copyOptions, error) {
	o := copyOptions{delimiter: '\t', null: `\N`}
	delimSet, nullSet := false, false
	for _, opt := range options {
		val := opt.Value
		switch opt.Name {
		case "format":
			switch strings.ToLower(val) {
			case "text":
				o.format = CopyText
			case "csv":
				o.format = CopyCSV
			case "binary":
				o.format = CopyBinary
			default:
				return o, errAt(opt.Pos, sqlerr.New(sqlerr.InvalidParameterValue, "COPY format \"%s\" not recognized", val))
			}
		case "header":
			if !opt.HasValue {
				o.header = true
				break
			}
			switch strings.ToLower(val) {
			case "match":
				return o, errAt(opt.Pos, sqlerr.New(sqlerr.FeatureNotSupported, "COPY HEADER MATCH is not supported"))
			default:
				o.header = isOn(val)
			}
		case "delimiter":
			if len(val) != 1 || val[0] >= 0x80 {
				return o, errAt(opt.Pos, sqlerr.New(sqlerr.FeatureNotSupported, "COPY delimiter must be a single one-byte character"))
			}
			o.delimiter, delimSet = val[0], true
		case "null":
			o.null, nullSet = val, true
		case "quote", "escape":
			if val != `"` {
				return o, errAt(opt.Pos, sqlerr.New(sqlerr.FeatureNotSupported, "COPY %s other than '\"' is not supported", strings.ToUpper(opt.Name)))
			}
		case "encoding":
			if e := strings.ToUpper(strings.ReplaceAll(val, "-", "")); e != "UTF8" && e != "UNICODE" {
				return o, errAt(opt.Pos, sqlerr.New(sqlerr.FeatureNotSupported, "COPY encoding \"%s\" is not supported: data is UTF8", val))
			}
		case "freeze":
		default:
			return o, errAt(opt.Pos, sqlerr.New(sqlerr.FeatureNotSupported, "COPY option \"%s\" is not supported", opt.Name))
		}
	}
	if o.format == CopyCSV {
		if !delimSet {
			o.delimiter = ','
		}
		if !nullSet {
			o.null = ""
		}
	}
	if o.format == CopyBinary && (delimSet || nullSet || o.header) {
		return o, sqlerr.New(sqlerr.SyntaxError, "cannot specify DELIMITER, NULL or HEADER in BINARY mode")
	}
	if o.delimiter == '\n' || o.delimiter == '\r' || (o.format == CopyCSV && o.delimiter == '"') {
		return o, sqlerr.New(sqlerr.InvalidParameterValue, "COPY delimiter cannot be newline, carriage return or quote")
	}
	if strings.ContainsAny(o.null, "\r\n") {
		return o, sqlerr.New(sqlerr.InvalidParameterValue, "COPY null representation cannot use newline or carriage return")
	}
	return o, nil
}

// copyTable resolves the table of COPY t and the columns it copies, as
// storage positions in the order given (the declared order when none are
// named).
func (s *Session) copyTable(snap *snapshot, c *ast.Copy) (*catalog.TableDef, []int, error) {
	name := c.Table
	if name.Schema != "" && !strings.EqualFold(name.Schema, "public") {
		return nil, nil, errAt(name.Pos, sqlerr.New(sqlerr.UndefinedTable, "relation \"%s.%s\" does not exist", name.Schema, name.Name))
	}
	def, ok := snap.def(name.Name)
	if !ok {
		return nil, nil, errAt(name.Pos, sqlerr.New(sqlerr.UndefinedTable, "relation \"%s\" does not exist", name.Name))
	}
	if c.Columns == nil {
		return def, def.DeclaredColumns(), nil
	}
	seen := map[int]bool{}
	var cols []int
	for _, n := range c.Columns {
		i := def.Schema.Index(n)
		if i < 0 {
			return nil, nil, sqlerr.New(sqlerr.UndefinedColumn, "column \"%s\" of relation \"%s\" does not exist", n, def.Name)
		}
		if seen[i] {
			return nil, nil, sqlerr.New(sqlerr.DuplicateColumn, "column \"%s\" specified more than once", n)
		}
		seen[i] = true
		cols = append(cols, i)
	}
	return def, cols, nil
}
