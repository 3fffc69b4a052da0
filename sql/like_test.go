package sql_test

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/sql"
)

// TestBadFoldedPattern: a LIKE or regular expression pattern that becomes
// a constant only when the planner folds it (a parameter's value, a
// concatenation) and does not compile is the statement's error, with
// PostgreSQL's SQLSTATE, and the session goes on; it once panicked in
// the fold and took the server down.
func TestBadFoldedPattern(t *testing.T) {
	ctx := context.Background()
	s := newSession(t, "CREATE TABLE lk (s text PRIMARY KEY, n bigint)", "INSERT INTO lk VALUES ('a', 1), ('ab', 2)")
	st, err := s.Prepare(ctx, "SELECT n FROM lk WHERE s LIKE $1", []arrow.DataType{arrow.BinaryTypes.String})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		pattern string
		code    string // "" for none
		rows    int
	}{
		{"a%", "", 2},
		{`a\`, sqlerr.InvalidEscapeSequence, 0},
		{"a_", "", 1},
	} {
		rows, err := s.Execute(ctx, st, []arrow.Array{param(t, arrow.BinaryTypes.String, c.pattern)})
		var res *sql.Result
		if err == nil {
			res, err = sql.Collect(ctx, rows)
		}
		if got := sqlerr.Code(err); (c.code == "" && err != nil) || got != c.code {
			t.Errorf("pattern %q: %v (%s), want SQLSTATE %q", c.pattern, err, got, c.code)
			continue
		}
		if err == nil && len(res.Rows) != c.rows {
			t.Errorf("pattern %q: %d rows, want %d", c.pattern, len(res.Rows), c.rows)
		}
	}
	for _, c := range []struct{ sql, code string }{
		{`SELECT n FROM lk WHERE s LIKE 'a' || '\'`, sqlerr.InvalidEscapeSequence},
		{`SELECT n FROM lk WHERE s ~ ('(' || 'a')`, sqlerr.InvalidRegularExpression},
	} {
		err := s.Script(ctx, c.sql, func(r sql.Rows) error { _, err := sql.Collect(ctx, r); return err })
		if got := sqlerr.Code(err); got != c.code {
			t.Errorf("%s: %v (%s), want SQLSTATE %s", c.sql, err, got, c.code)
		}
	}
}
