package sql

import (
	"context"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/sql/ast"
	"github.com/dormousedb/dormouse/sql/parser"
)

// Prepared statements.
//
// A front door that runs a statement many times (the extended query
// protocol's Parse, Bind and Execute) prepares it once: Prepare parses it
// and binds it with parameters of undecided type, so that each $n takes the
// type its context asks for, as in PostgreSQL (k = $1 makes $1 a bigint
// when k is one; a parameter nothing decides is text), and the result's
// columns are known before it runs. Execute binds it again with those
// types and the values given, against a fresh snapshot, and plans it: the
// parameters are constants to the planner, so a key compared with $1
// prunes partitions, files and pages as a literal would.

// Statement is a parsed statement, ready to run any number of times. It is
// tied to the session that made it and, like the session, used by one
// goroutine at a time.
type Statement struct {
	text   string // the text it was parsed from; positions index into it
	stmt   ast.Stmt
	params []arrow.DataType
	cols   []Column
	// described is set by Prepare: params and cols are known.
	described bool
	// bound is the query as bound for its last execution (prepare_cache.go).
	bound boundCache
}

// Parse parses text, which may hold several statements separated by ';'
// (the simple query protocol), without binding them. Statements parsed
// this way take no parameters. An empty text gives no statements.
func (s *Session) Parse(text string) ([]*Statement, error) {
	stmts, err := parser.Parse(text)
	if err != nil {
		s.StatementFailed()
		return nil, parseError(text, err)
	}
	out := make([]*Statement, len(stmts))
	for i, st := range stmts {
		out[i] = &Statement{text: text, stmt: st}
	}
	return out, nil
}

// Prepare parses text as one statement (an empty one is allowed: Empty
// reports it) and describes it: the type of each parameter and the result
// columns. paramTypes gives the types a client declared for $1, $2, …;
// nil entries, and parameters past its end, are inferred. Binding errors
// (an unknown table, a type mismatch) are reported here, as PostgreSQL
// reports them at Parse.
func (s *Session) Prepare(ctx context.Context, text string, paramTypes []arrow.DataType) (*Statement, error) {
	stmt, err := parser.ParseOne(text)
	if err != nil {
		s.StatementFailed()
		return nil, parseError(text, err)
	}
	st := &Statement{text: text, stmt: stmt}
	if err := s.Aborted(st); err != nil {
		return nil, err
	}
	if err := s.describe(ctx, st, paramTypes); err != nil {
		s.StatementFailed()
		return nil, positioned(text, err)
	}
	return st, nil
}

// Empty reports whether the statement is empty (only white space or
// comments), which PostgreSQL answers with EmptyQueryResponse.
func (st *Statement) Empty() bool { return st.stmt == nil }

// SQL is the statement's own text.
func (st *Statement) SQL() string {
	if st.stmt == nil {
		return ""
	}
	return st.stmt.Span().Text
}

// ParamTypes are the types of the statement's parameters $1, $2, … as
// Prepare decided them; Execute expects one value of each type. A numeric
// parameter is expr.NumericType, whose values are double precision.
func (st *Statement) ParamTypes() []arrow.DataType { return st.params }

// Columns describes the rows the statement returns when it runs (nil for a
// statement that returns none). Parse does not describe statements: there
// Columns is nil, and ColumnsOf describes the rows Execute returned.
func (st *Statement) Columns() []Column { return st.cols }

// Command is the statement's command as its tag begins: SELECT, INSERT,
// CREATE TABLE, SET, BEGIN, COPY, … ("" for an empty statement).
func (st *Statement) Command() string {
	switch st.stmt.(type) {
	case nil:
		return ""
	case *ast.Query:
		return "SELECT"
	case *ast.Insert:
		return "INSERT"
	case *ast.CreateTable:
		return "CREATE TABLE"
	case *ast.DropTable:
		return "DROP TABLE"
	case *ast.AlterTableSet:
		return "ALTER TABLE"
	case *ast.Explain:
		return "EXPLAIN"
	case *ast.Set, *ast.SetTransaction:
		return "SET"
	case *ast.Show:
		return "SHOW"
	case *ast.Reset:
		return "RESET"
	case *ast.Begin:
		return "BEGIN"
	case *ast.Commit:
		return "COMMIT"
	case *ast.Rollback:
		return "ROLLBACK"
	case *ast.Copy:
		return "COPY"
	case *ast.Discard:
		return "DISCARD"
	case *ast.Deallocate:
		return "DEALLOCATE"
	}
	return strings.ToUpper(strings.SplitN(st.SQL(), " ", 2)[0])
}

// Deallocate reports, for DEALLOCATE, the prepared statement it names ("" and
// all true for DEALLOCATE ALL); ok is false for other statements.
func (st *Statement) Deallocate() (name string, all, ok bool) {
	d, ok := st.stmt.(*ast.Deallocate)
	if !ok {
		return "", false, false
	}
	return d.Name, d.All, true
}

// Execute runs the statement with parameter values, one one-row array per
// parameter of the type ParamTypes gives (a NULL array for NULL). It binds
// and plans the statement against a fresh snapshot; the rows stream from
// the returned Rows, which the caller reads and closes. ctx must stay alive
// until Rows are closed: the engine runs under it.
func (s *Session) Execute(ctx context.Context, st *Statement, params []arrow.Array) (Rows, error) {
	if st.stmt == nil {
		return tagOnly("EMPTY"), nil
	}
	if len(params) != len(st.params) {
		s.StatementFailed()
		return nil, sqlerr.New("08P01", "bind message supplies %d parameters, but prepared statement requires %d", len(params), len(st.params))
	}
	for i, p := range params {
		if p == nil || p.Len() != 1 {
			s.StatementFailed()
			return nil, sqlerr.New("08P01", "parameter $%d has no value", i+1)
		}
	}
	if len(params) > 0 {
		s.execParams = paramState{types: st.params, values: params}
		s.params = &s.execParams
		defer func() { s.params, s.execParams = nil, paramState{} }()
	}
	s.running = st
	rows, err := s.execute(ctx, st.text, st.stmt)
	s.running = nil
	if err != nil {
		return nil, err
	}
	if st.described && st.cols != nil && !sameColumns(st.cols, ColumnsOf(rows)) {
		rows.Close()
		s.StatementFailed()
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "cached plan must not change result type")
	}
	return rows, nil
}

// describe binds st to find its parameters' types and its result columns.
func (s *Session) describe(ctx context.Context, st *Statement, declared []arrow.DataType) error {
	ps := &paramState{types: append([]arrow.DataType(nil), declared...), infer: true}
	s.params = ps
	defer func() { s.params = nil }()
	var err error
	switch x := st.stmt.(type) {
	case *ast.Query:
		var r rel
		if r, err = s.bindOnly(ctx, x); err == nil {
			st.cols = describeRel(r)
		}
	case *ast.Explain:
		if q, ok := x.Stmt.(*ast.Query); ok {
			_, err = s.bindOnly(ctx, q)
		}
		st.cols = textColumns1("QUERY PLAN")
	case *ast.Insert:
		_, err = s.bindInsert(ctx, x)
	case *ast.Show:
		if strings.EqualFold(x.Name, "all") {
			st.cols = textColumns1("name", "setting", "description")
		} else {
			st.cols = textColumns1(strings.ToLower(x.Name))
		}
	}
	if err != nil {
		return err
	}
	st.params = ps.resolved()
	st.described = true
	return nil
}

// bindOnly binds a query against a fresh snapshot without planning it.
func (s *Session) bindOnly(ctx context.Context, q *ast.Query) (rel, error) {
	snap, err := s.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	b := &binder{s: s, ctx: ctx, snap: snap}
	return b.bindQuery(q)
}
