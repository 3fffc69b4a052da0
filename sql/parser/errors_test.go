package parser

import (
	"strings"
	"testing"

	"github.com/dormousedb/dormouse/sql/ast"
)

// TestSyntaxErrors checks PostgreSQL's messages and positions. Positions
// are byte offsets; charPos is what PostgreSQL itself reports (psql's
// "LINE 1: ... ^" and the P field), verified against PostgreSQL 15.
func TestSyntaxErrors(t *testing.T) {
	tests := []struct {
		sql, message string
		pos, charPos int
		code         string
	}{
		{"select 1 FORM t", `syntax error at or near "t"`, 14, 15, CodeSyntaxError},
		{"SELECT * FORM t", `syntax error at or near "FORM"`, 9, 10, CodeSyntaxError},
		{"SELECT 'é' FORM t", `syntax error at or near "t"`, 17, 17, CodeSyntaxError},
		{"SELECT 1; SELECT * FROM t WHERE", "syntax error at end of input", 31, 32, CodeSyntaxError},
		{"SELECT 'unterminated", `unterminated quoted string at or near "'unterminated"`, 7, 8, CodeSyntaxError},
		{`SELECT "" FROM t`, `zero-length delimited identifier at or near """"`, 7, 8, CodeSyntaxError},
		{"SELECT 1 LIMIT 1,2", "LIMIT #,# syntax is not supported", 9, 10, CodeSyntaxError},
		{"SELECT (1", "syntax error at end of input", 9, 10, CodeSyntaxError},
		{"SELECT /* unterminated", "unterminated /* comment at or near \"/* unterminated\"", 7, 8, CodeSyntaxError},
		{"SELECT rank() OVER (ROWS UNBOUNDED FOLLOWING)", "frame start cannot be UNBOUNDED FOLLOWING", 25, 26, CodeWindowingError},
		{"SELECT E'\\xff'", `invalid byte sequence for encoding "UTF8": 0xff`, -1, 0, CodeCharacterNotInRepertoire},
		{"EXPLAIN (ANALYZE maybe) SELECT 1", "analyze requires a Boolean value", 9, 10, CodeSyntaxError},
		{"CREATE TABLE t (a int, PRIMARY KEY (a), PRIMARY KEY (a))", `multiple primary keys for table "t" are not allowed`, 40, 41, "42P16"},
		{"SELECT 1\x00", `invalid byte sequence for encoding "UTF8": 0x00`, 8, 9, CodeCharacterNotInRepertoire},
		{"SELECT '\xc3\x28'", `invalid byte sequence for encoding "UTF8": 0xc3 0x28`, 8, 9, CodeCharacterNotInRepertoire},
	}
	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			e := parseError(t, tt.sql)
			if e.Message != tt.message || e.Position != tt.pos || e.SQLSTATE != tt.code {
				t.Errorf("got %q at %d (%s), want %q at %d (%s)", e.Message, e.Position, e.SQLSTATE, tt.message, tt.pos, tt.code)
			}
			if got := ast.CharPosition(tt.sql, e.Position); got != tt.charPos {
				t.Errorf("CharPosition = %d, want %d", got, tt.charPos)
			}
		})
	}
}

// TestUnsupported checks that what the engine does not do is refused with
// 0A000 and the position of the offending part.
func TestUnsupported(t *testing.T) {
	tests := []struct {
		sql, message string
		pos          int
	}{
		{"UPDATE t SET a = 1", "UPDATE is not supported", 0},
		{"DELETE FROM t", "DELETE is not supported", 0},
		{"SELECT 1;\n  UPDATE t SET a = 1", "UPDATE is not supported", 12},
		{"SELECT 1; /* c */ -- d\n TRUNCATE t", "TRUNCATE is not supported", 24},
		{"CREATE INDEX i ON t (a)", "CREATE INDEX is not supported", 0},
		{"CREATE VIEW v AS SELECT 1", "CREATE VIEW is not supported", 0},
		{"CREATE TABLE t2 AS SELECT 1", "CREATE TABLE AS is not supported", 0},
		{"CREATE SCHEMA s", "CREATE SCHEMA is not supported", 0},
		{"PREPARE p AS SELECT 1", "PREPARE is not supported", 0},
		{"LISTEN x", "LISTEN is not supported", 0},
		{"DROP VIEW v", "DROP VIEW is not supported", 0},
		{"DROP MATERIALIZED VIEW v", "DROP MATERIALIZED VIEW is not supported", 0},
		{"ALTER INDEX i SET (fillfactor = 10)", "ALTER INDEX is not supported", 0},
		{"SELECT a FROM t GROUP BY DISTINCT a", "GROUP BY DISTINCT is not supported", 0},
		{"ALTER TABLE t ADD COLUMN b int", "ALTER TABLE is supported only as ALTER TABLE name SET (option = value, ...)", 0},
		{"SAVEPOINT x", "savepoints are not supported", 0},
		{"COMMIT AND CHAIN", "AND CHAIN is not supported", 0},
		{"SELECT * FROM t FOR UPDATE", "SELECT ... FOR UPDATE/SHARE is not supported", 0},
		{"SELECT a INTO x FROM t", "SELECT ... INTO is not supported; use CREATE TABLE and INSERT ... SELECT", 0},
		{"SELECT a SIMILAR TO 'x' FROM t", "SIMILAR TO is not supported; use a regular expression (~)", 9},
		{"SELECT b'101'", "bit-string constants are not supported", 7},
		{"SELECT * FROM t GROUP BY ROLLUP (a)", "GROUPING SETS, ROLLUP and CUBE are not supported", 25},
		{"SELECT count(VARIADIC a) FROM t", "VARIADIC arguments are not supported", 7},
		{"SELECT f(a => 1)", "a named function argument (name => value) is not supported", 9},
		{"SELECT * FROM t TABLESAMPLE SYSTEM (10)", "TABLESAMPLE is not supported", 28},
		{"SELECT (t.*).* FROM t", "(composite).* is not supported", 8},
		{"SELECT a OPERATOR(myschema.+) b", "operator OPERATOR(myschema.+) is not supported", 9},
		{"WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x", "data-modifying statements in WITH are not supported", 5},
		{"SELECT * FROM t ORDER BY a USING <", "ORDER BY ... USING is not supported", 33},
		{"SELECT * FROM ROWS FROM (f(), g())", "ROWS FROM (...) is not supported", 0},
		{"SELECT * FROM f() AS x(a int)", "a column definition list for a function in FROM is not supported", 14},
		{"SELECT * FROM (a JOIN b USING (c)) AS j", "an alias on a JOIN is not supported", 15},
		{"SELECT JSON_OBJECT('a': 1)", "SQL/JSON syntax is not supported", 7},
		{"SELECT a::mytype(x)", "type modifiers other than integers are not supported", 17},
		{"SELECT a::mytype('x')", "type modifiers other than integers are not supported", 17},
		{"CREATE TEMP TABLE t (a int)", "temporary tables are not supported", 0},
		{"CREATE UNLOGGED TABLE t (a int)", "unlogged tables are not supported", 0},
		{"CREATE TABLE t (a int DEFAULT 1)", "DEFAULT constraints are not supported", 22},
		{"CREATE TABLE t (a int CHECK (a > 0))", "CHECK constraints are not supported", 22},
		{"CREATE TABLE t (a int, UNIQUE (a))", "UNIQUE constraints are not supported", 23},
		{"CREATE TABLE t (a int REFERENCES u)", "FOREIGN KEY constraints are not supported", 22},
		{"CREATE TABLE t (a text COLLATE \"C\")", "COLLATE on a column is not supported", 23},
		{"CREATE TABLE t (LIKE u)", "CREATE TABLE ... LIKE is not supported", 0},
		{"CREATE TABLE t (a int) PARTITION BY RANGE (a)", "partitioned tables are not supported; rows are partitioned by their primary key", 13},
		{"CREATE TABLE t (a int) WITH (toast.x = 1)", "option toast.x: option namespaces are not supported", 29},
		{"CREATE TABLE t (a int) WITH (k = +)", `this value for option "k" is not supported; write it as a string`, 29},
		{"CREATE TABLE t (a int) WITH (k = varchar(3))", `this value for option "k" is not supported; write it as a string`, 29},
		{"INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING", "INSERT ... ON CONFLICT is not supported", 25},
		{"INSERT INTO t VALUES (1) RETURNING *", "INSERT ... RETURNING is not supported", 35},
		{"INSERT INTO t AS x VALUES (1)", "an alias for the target table of INSERT is not supported", 12},
		{"INSERT INTO t (a[1]) VALUES (1)", "assigning to a field or element of a column is not supported", 15},
		{"COPY t TO PROGRAM 'cat'", "COPY ... PROGRAM is not supported", 0},
		{"COPY t FROM STDIN WHERE a > 1", "COPY ... WHERE is not supported", 26},
		{"EXPLAIN UPDATE t SET a = 1", "EXPLAIN of UPDATE is not supported", 0},
		{"SET TIME ZONE INTERVAL '1' HOUR", "this value for SET timezone is not supported", 0},
		{"SET x FROM CURRENT", "SET ... FROM CURRENT is not supported", 0},
	}
	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			e := parseError(t, tt.sql)
			if e.Message != tt.message || e.Position != tt.pos || e.SQLSTATE != CodeFeatureNotSupported {
				t.Errorf("got %q at %d (%s), want %q at %d (0A000)", e.Message, e.Position, e.SQLSTATE, tt.message, tt.pos)
			}
		})
	}
}

// TestSpans checks statement splitting: each statement's own text and
// start, and that positions inside are offsets into the whole input.
func TestSpans(t *testing.T) {
	sql := "SELECT 1;\n  -- comment\n  select a FROM t WHERE a = 'é' ;;  INSERT INTO t VALUES (2)"
	stmts, err := Parse(sql)
	if err != nil {
		t.Fatal(err)
	}
	want := []ast.StmtInfo{
		{Text: "SELECT 1", Start: 0},
		{Text: "-- comment\n  select a FROM t WHERE a = 'é'", Start: 12},
		{Text: "INSERT INTO t VALUES (2)", Start: len(sql) - len("INSERT INTO t VALUES (2)")},
	}
	if len(stmts) != len(want) {
		t.Fatalf("got %d statements, want %d", len(stmts), len(want))
	}
	for i, s := range stmts {
		if got := s.Span(); got != want[i] {
			t.Errorf("statement %d: span %+v, want %+v", i, got, want[i])
		}
		if sql[s.Span().Start:s.Span().Start+len(s.Span().Text)] != s.Span().Text {
			t.Errorf("statement %d: span does not index the input", i)
		}
	}
	q := stmts[1].(*ast.Query)
	if q.Pos != strings.Index(sql, "select") {
		t.Errorf("query Pos = %d, want the first token's offset %d", q.Pos, strings.Index(sql, "select"))
	}
	where := q.Body.(*ast.Select).Where.(*ast.Binary)
	if where.Pos != strings.Index(sql, "= 'é'") || where.R.Position() != strings.Index(sql, "'é'") {
		t.Errorf("positions %d, %d are not offsets into the whole input", where.Pos, where.R.Position())
	}
	if got := ast.CharPosition(sql, where.R.Position()+len("'é'")); got != strings.Index(sql, "'é'")+4 {
		t.Errorf("CharPosition counts bytes, not characters: %d", got)
	}

	for _, empty := range []string{"", "  ", ";", " ; ;", "-- only a comment", "/* c */ ;"} {
		stmts, err := Parse(empty)
		if err != nil || len(stmts) != 0 {
			t.Errorf("Parse(%q) = %v, %v; want nothing", empty, stmts, err)
		}
	}
}

func TestParseOne(t *testing.T) {
	if s, err := ParseOne("  "); s != nil || err != nil {
		t.Errorf("ParseOne(empty) = %v, %v; want nil, nil", s, err)
	}
	e := func() *Error {
		_, err := ParseOne("SELECT 1; SELECT 2")
		pe, _ := err.(*Error)
		return pe
	}()
	if e == nil || e.Message != "cannot insert multiple commands into a prepared statement" || e.SQLSTATE != CodeSyntaxError || e.Position != -1 {
		t.Errorf("ParseOne(two statements) error = %+v", e)
	}
}

func TestParseExprErrors(t *testing.T) {
	for _, expr := range []string{"1 FROM t", "a, b", "*", "x AS y"} {
		if e, err := ParseExpr(expr); err == nil {
			t.Errorf("ParseExpr(%q) = %v, want an error", expr, e)
		}
	}
	_, err := ParseExpr("1 +")
	if e, ok := err.(*Error); !ok || e.Position != 3 || e.Message != "syntax error at end of input" {
		t.Errorf("ParseExpr(\"1 +\") error = %+v, want end of input at 3", err)
	}
}

func TestSplitAndNormalize(t *testing.T) {
	parts, err := SplitStatements("SELECT 1; SELEC 2 ;; -- c\n; SELECT ';' /* ; */")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"SELECT 1", "SELEC 2", "SELECT ';' /* ; */"}
	if strings.Join(parts, "|") != strings.Join(want, "|") {
		t.Errorf("SplitStatements = %q, want %q", parts, want)
	}
	norm, err := Normalize("SELECT * FROM t WHERE a = 5 AND b = 'x'")
	if err != nil {
		t.Fatal(err)
	}
	if norm != "SELECT * FROM t WHERE a = $1 AND b = $2" {
		t.Errorf("Normalize = %q", norm)
	}
}
