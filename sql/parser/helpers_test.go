package parser

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/dormousedb/dormouse/sql/ast"
)

// stripPositions zeroes every Pos field and statement span under v, so that
// trees parsed from different texts can be compared.
func stripPositions(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			stripPositions(v.Elem())
		}
	case reflect.Slice:
		for i := range v.Len() {
			stripPositions(v.Index(i))
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(ast.StmtInfo{}) {
			v.Set(reflect.Zero(v.Type()))
			return
		}
		for i := range v.NumField() {
			name := v.Type().Field(i).Name
			if (name == "Pos" || name == "PrimaryKeyPos") && v.Field(i).Kind() == reflect.Int {
				v.Field(i).SetInt(0)
				continue
			}
			stripPositions(v.Field(i))
		}
	}
}

// checkRoundTrip checks that stmt formats into text that parses back into
// an equal tree which formats into the same text.
func checkRoundTrip(t testing.TB, stmt ast.Stmt) string {
	t.Helper()
	text := ast.Format(stmt)
	again, err := ParseOne(text)
	if err != nil {
		t.Fatalf("formatted text does not parse: %v\n%s", err, text)
	}
	if text2 := ast.Format(again); text2 != text {
		t.Fatalf("format is not stable:\nfirst:  %s\nsecond: %s", text, text2)
	}
	stripPositions(reflect.ValueOf(stmt))
	stripPositions(reflect.ValueOf(again))
	if !reflect.DeepEqual(stmt, again) {
		t.Fatalf("tree changed by format and parse:\ntext: %s\nbefore: %s\nafter:  %s", text, dump(stmt), dump(again))
	}
	return text
}

// dump prints a tree with field names, for failure messages.
func dump(n any) string {
	return fmt.Sprintf("%+v", deref(reflect.ValueOf(n)))
}

func deref(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return deref(v.Elem())
	case reflect.Slice:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = deref(v.Index(i))
		}
		return out
	case reflect.Struct:
		var b strings.Builder
		b.WriteString(v.Type().Name() + "{")
		for i := range v.NumField() {
			if i > 0 {
				b.WriteString(" ")
			}
			fmt.Fprintf(&b, "%s:%v", v.Type().Field(i).Name, deref(v.Field(i)))
		}
		b.WriteString("}")
		return b.String()
	}
	if v.CanInterface() {
		return v.Interface()
	}
	return v.String()
}

// parseOne parses sql, which must be one statement, and checks its round
// trip; it returns the statement and its formatted text.
func parseOne(t testing.TB, sql string) (ast.Stmt, string) {
	t.Helper()
	stmt, err := ParseOne(sql)
	if err != nil {
		t.Fatalf("Parse(%q): %v", sql, err)
	}
	if stmt == nil {
		t.Fatalf("Parse(%q): no statement", sql)
	}
	// Round-trip a second parse, so that stmt keeps its positions.
	copyStmt, _ := ParseOne(sql)
	return stmt, checkRoundTrip(t, copyStmt)
}

// parseError parses sql and returns the *Error it must fail with.
func parseError(t testing.TB, sql string) *Error {
	t.Helper()
	stmts, err := Parse(sql)
	if err == nil {
		t.Fatalf("Parse(%q) = %v, want an error", sql, stmts)
	}
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("Parse(%q) error %T %v, want *Error", sql, err, err)
	}
	if stmts != nil {
		t.Fatalf("Parse(%q) returned statements with its error", sql)
	}
	return pe
}

// fixtureQueries returns every query text the client fixtures hold, keyed
// by a name for t.Run.
func fixtureQueries(t testing.TB) map[string]string {
	t.Helper()
	out := map[string]string{}
	data, err := os.ReadFile(filepath.Join("testdata", "psql15-meta-commands.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var block []string
	in := false
	n := 0
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(line, "*********") && strings.Contains(line, "QUERY"):
			in, block = true, nil
		case in && strings.HasPrefix(line, "*********"):
			in = false
			n++
			out[fmt.Sprintf("psql15-%02d", n)] = strings.Join(block, "\n")
		case in:
			block = append(block, line)
		}
	}
	for _, log := range []string{"wire-psql.log", "wire-pgx.log", "wire-pgjdbc.log"} {
		data, err := os.ReadFile(filepath.Join("testdata", log))
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			var lit string
			switch {
			case strings.HasPrefix(line, "F Query "):
				lit = strings.TrimPrefix(line, "F Query ")
			case strings.HasPrefix(line, "F Parse ") && strings.Contains(line, " query="):
				lit = line[strings.Index(line, " query=")+len(" query="):]
			default:
				continue
			}
			q, err := pythonString(lit)
			if err != nil {
				t.Fatalf("%s:%d: %v", log, i+1, err)
			}
			out[fmt.Sprintf("%s:%d", strings.TrimSuffix(log, ".log"), i+1)] = q
		}
	}
	return out
}

// pythonString decodes a Python string literal as the proxy logged it:
// '...' or "..." with backslash escapes.
func pythonString(lit string) (string, error) {
	if len(lit) < 2 || (lit[0] != '\'' && lit[0] != '"') || lit[len(lit)-1] != lit[0] {
		return "", fmt.Errorf("not a quoted string: %.40s", lit)
	}
	body := lit[1 : len(lit)-1]
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		if body[i] != '\\' || i+1 == len(body) {
			b.WriteByte(body[i])
			continue
		}
		i++
		switch c := body[i]; c {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'x':
			if i+2 >= len(body) {
				return "", fmt.Errorf("short \\x escape")
			}
			v, err := strconv.ParseUint(body[i+1:i+3], 16, 8)
			if err != nil {
				return "", err
			}
			b.WriteByte(byte(v))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}
