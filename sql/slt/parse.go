package slt

import (
	"fmt"
	"os"
	"regexp"
	"strings"
)

// Kind is the kind of a record.
type Kind int

const (
	// Statement is a `statement ok` or `statement error` record.
	Statement Kind = iota
	// Query is a `query` record.
	Query
	// Halt ends the file.
	Halt
)

// SortMode says how rows are ordered before they are compared.
type SortMode int

const (
	NoSort    SortMode = iota // compare in the order returned
	RowSort                   // sort the rows
	ValueSort                 // sort every value
)

var sortModes = map[string]SortMode{"nosort": NoSort, "rowsort": RowSort, "valuesort": ValueSort}

func (m SortMode) String() string {
	switch m {
	case RowSort:
		return "rowsort"
	case ValueSort:
		return "valuesort"
	}
	return "nosort"
}

// Condition is a skipif or onlyif line before a record.
type Condition struct {
	Only   bool   // onlyif (else skipif)
	Engine string // lower case
}

// Record is one statement or query of a file.
type Record struct {
	Kind Kind
	Line int // 1-based line of the header
	SQL  string

	Conditions []Condition

	// Statement: whether it must fail, and how (SQLSTATE or regular
	// expression; "" for any error).
	ExpectError  bool
	ErrorPattern string

	// Query: the column type letters (may be "" while authoring), the sort
	// mode, an optional label, and the expected result lines as written.
	Types    string
	SortMode SortMode
	Label    string
	Expected []string

	// 0-based line indexes, for rewriting: the header; the ---- line (-1
	// if absent); one past the record's last line.
	header, sep, end int
}

// File is a parsed test file. Lines keep the source so that a rewrite
// changes only what must change.
type File struct {
	Name    string
	Lines   []string
	Records []*Record
}

// ParseFile reads and parses a file.
func ParseFile(path string) (*File, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, string(src))
}

var sqlstateRE = regexp.MustCompile(`^[0-9A-Z]{5}$`)

// Parse parses the text of a file; name is used in messages.
func Parse(name, src string) (*File, error) {
	src = strings.TrimSuffix(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
	f := &File{Name: name}
	if src != "" {
		f.Lines = strings.Split(src, "\n")
	}
	var conds []Condition
	for i := 0; i < len(f.Lines); {
		line := f.Lines[i]
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			i++
			continue
		}
		errf := func(format string, args ...any) error {
			return fmt.Errorf("%s:%d: %s", name, i+1, fmt.Sprintf(format, args...))
		}
		switch fields[0] {
		case "skipif", "onlyif":
			if len(fields) != 2 {
				return nil, errf("%s takes one engine name", fields[0])
			}
			conds = append(conds, Condition{Only: fields[0] == "onlyif", Engine: strings.ToLower(fields[1])})
			i++
			continue
		case "hash-threshold":
			i++
			continue
		case "halt":
			f.Records = append(f.Records, &Record{Kind: Halt, Line: i + 1, Conditions: conds, header: i, sep: -1, end: i + 1})
			conds = nil
			i++
			continue
		}
		rec := &Record{Line: i + 1, Conditions: conds, header: i, sep: -1}
		conds = nil
		if err := rec.parseHeader(fields); err != nil {
			return nil, errf("%v", err)
		}
		i = rec.parseBody(f.Lines, i+1)
		if rec.SQL == "" {
			return nil, errf("%s without SQL", fields[0])
		}
		if rec.Kind == Statement && rec.sep >= 0 {
			if !rec.ExpectError {
				return nil, errf("statement ok takes no ---- block")
			}
			// DuckDB's form: the expected error on the lines after ----.
			rec.ErrorPattern = strings.TrimSpace(strings.Join(rec.Expected, "\n"))
			rec.Expected = nil
		}
		if rec.ExpectError && rec.ErrorPattern != "" && !sqlstateRE.MatchString(rec.ErrorPattern) {
			if _, err := regexp.Compile(rec.ErrorPattern); err != nil {
				return nil, fmt.Errorf("%s:%d: error pattern: %v", name, rec.Line, err)
			}
		}
		f.Records = append(f.Records, rec)
	}
	if len(conds) > 0 {
		return nil, fmt.Errorf("%s: skipif/onlyif at the end of the file, before no record", name)
	}
	return f, nil
}

// parseHeader reads `statement ok|error [pattern]` or
// `query [types] [sortmode] [label]`.
func (r *Record) parseHeader(fields []string) error {
	switch fields[0] {
	case "statement":
		r.Kind = Statement
		if len(fields) < 2 {
			return fmt.Errorf("statement needs ok or error")
		}
		switch fields[1] {
		case "ok":
			if len(fields) > 2 {
				return fmt.Errorf("statement ok takes nothing more")
			}
		case "error":
			r.ExpectError = true
			r.ErrorPattern = strings.Join(fields[2:], " ")
		default:
			return fmt.Errorf("statement %s: want ok or error", fields[1])
		}
		return nil
	case "query":
		r.Kind = Query
		rest := fields[1:]
		if len(rest) > 0 && validTypes(rest[0]) {
			r.Types = rest[0]
			rest = rest[1:]
		}
		if len(rest) > 0 {
			m, ok := sortModes[rest[0]]
			if !ok {
				return fmt.Errorf("query: unknown sort mode %q (want nosort, rowsort or valuesort)", rest[0])
			}
			r.SortMode = m
			rest = rest[1:]
		}
		if len(rest) > 1 {
			return fmt.Errorf("query: too many words after the sort mode")
		}
		if len(rest) == 1 {
			r.Label = rest[0]
		}
		return nil
	}
	return fmt.Errorf("unknown record %q (want statement, query, skipif, onlyif, halt or hash-threshold)", fields[0])
}

func validTypes(s string) bool {
	for _, c := range s {
		if !strings.ContainsRune("IRTB", c) {
			return false
		}
	}
	return s != ""
}

// parseBody reads the SQL lines from line i, then the lines after ---- if
// present, up to a blank line or the end. It returns the index of the line
// after the record.
func (r *Record) parseBody(lines []string, i int) int {
	var sql []string
	for ; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
		if lines[i] == "----" {
			r.sep = i
			i++
			break
		}
		sql = append(sql, lines[i])
	}
	r.SQL = strings.TrimSpace(strings.Join(sql, "\n"))
	if r.sep >= 0 {
		for ; i < len(lines) && lines[i] != ""; i++ {
			r.Expected = append(r.Expected, lines[i])
		}
	}
	r.end = i
	return i
}

// Runs reports whether the record runs on an engine.
func (r *Record) Runs(engine string) bool {
	engine = strings.ToLower(engine)
	for _, c := range r.Conditions {
		if c.Only != (c.Engine == engine) {
			return false
		}
	}
	return true
}
