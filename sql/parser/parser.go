package parser

import (
	"reflect"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/dormousedb/dormouse/sql/ast"
)

// Parse parses sql, which may hold several statements separated by ';', and
// returns one ast.Stmt per statement in order. Empty statements (";;", only
// comments, an empty string) produce nothing, so an empty input returns no
// statements and no error, as PostgreSQL answers it with EmptyQueryResponse.
//
// Each statement's Span gives its own text; positions in the tree are byte
// offsets into sql as a whole. Parse either converts every statement or
// returns an *Error and no statements: a syntax error anywhere rejects the
// whole input, as PostgreSQL does for a simple query, and so does a
// statement this engine does not support.
func Parse(sql string) (stmts []ast.Stmt, err error) {
	if err := checkEncoding(sql); err != nil {
		return nil, err
	}
	tree, err := pg_query.Parse(sql)
	if err != nil {
		return nil, convertError(sql, err)
	}
	defer func() {
		if err != nil {
			stmts = nil
		}
	}()
	defer recoverError(&err)
	for _, raw := range tree.GetStmts() {
		info := span(sql, raw)
		c := converter{stmtPos: firstToken(sql, info.Start)}
		s := c.stmt(raw.GetStmt())
		s.SetSpan(info)
		stmts = append(stmts, s)
	}
	return stmts, nil
}

// ParseOne parses sql as exactly one statement, as the extended query
// protocol's Parse message requires. It returns nil and no error for an
// empty statement, and PostgreSQL's error for more than one.
func ParseOne(sql string) (ast.Stmt, error) {
	stmts, err := Parse(sql)
	if err != nil {
		return nil, err
	}
	switch len(stmts) {
	case 0:
		return nil, nil
	case 1:
		return stmts[0], nil
	}
	return nil, &Error{
		Message:  "cannot insert multiple commands into a prepared statement",
		Position: -1,
		SQLSTATE: CodeSyntaxError,
	}
}

// ParseExpr parses a single scalar expression, such as a column default or
// a test's input. Positions are byte offsets into expr.
func ParseExpr(expr string) (ast.Expr, error) {
	const prefix = "SELECT "
	stmts, err := Parse(prefix + expr)
	if err != nil {
		if e, ok := err.(*Error); ok && e.Position >= len(prefix) {
			e.Position -= len(prefix)
		} else if ok && e.Position >= 0 {
			e.Position = 0
		}
		return nil, err
	}
	q, ok := only(stmts).(*ast.Query)
	if !ok || !q.Bare() {
		return nil, &Error{Message: "not a single expression", Position: 0, SQLSTATE: CodeSyntaxError}
	}
	sel, ok := q.Body.(*ast.Select)
	if !ok || len(sel.Items) != 1 || sel.Items[0].Expr == nil || sel.Items[0].Alias != "" ||
		len(sel.From) > 0 || sel.Where != nil || sel.Distinct || len(sel.GroupBy) > 0 || sel.Having != nil {
		return nil, &Error{Message: "not a single expression", Position: 0, SQLSTATE: CodeSyntaxError}
	}
	e := sel.Items[0].Expr
	shiftPositions(reflect.ValueOf(e), -len(prefix))
	return e, nil
}

func only(stmts []ast.Stmt) ast.Stmt {
	if len(stmts) != 1 {
		return nil
	}
	return stmts[0]
}

// SplitStatements splits sql into its statements with PostgreSQL's own
// lexer, without parsing them: a statement with a syntax error is still
// returned whole. Statements are trimmed of white space; empty ones and ones
// holding only comments are dropped. It fails only on input the lexer
// cannot read, such as an unterminated quoted string.
func SplitStatements(sql string) ([]string, error) {
	if err := checkEncoding(sql); err != nil {
		return nil, err
	}
	res, err := pg_query.Scan(sql)
	if err != nil {
		return nil, convertError(sql, err)
	}
	var out []string
	start, content := 0, false
	flush := func(end int) {
		if text := strings.TrimSpace(sql[clamp(start, end):end]); content && text != "" {
			out = append(out, text)
		}
	}
	for _, tok := range res.GetTokens() {
		switch tok.GetToken() {
		case pg_query.Token_ASCII_59:
			flush(clamp(int(tok.GetStart()), len(sql)))
			start, content = int(tok.GetEnd()), false
		case pg_query.Token_SQL_COMMENT, pg_query.Token_C_COMMENT:
		default:
			content = true
		}
	}
	flush(len(sql))
	return out, nil
}

// Normalize replaces the constants in sql with $n parameters, for grouping
// statistics by the shape of a query (as pg_stat_statements does).
func Normalize(sql string) (string, error) {
	if err := checkEncoding(sql); err != nil {
		return "", err
	}
	out, err := pg_query.Normalize(sql)
	if err != nil {
		return "", convertError(sql, err)
	}
	return out, nil
}

// span finds a statement's text: pg_query reports where it starts (just
// after the previous ';') and its length (0 for "to the end").
func span(sql string, raw *pg_query.RawStmt) ast.StmtInfo {
	start := clamp(int(raw.GetStmtLocation()), len(sql))
	end := len(sql)
	if n := int(raw.GetStmtLen()); n > 0 {
		end = clamp(start+n, len(sql))
	}
	text := sql[start:end]
	trimmed := strings.TrimLeft(text, " \t\n\r\f\v")
	start += len(text) - len(trimmed)
	trimmed = strings.TrimRight(trimmed, " \t\n\r\f\v")
	trimmed = strings.TrimRight(strings.TrimSuffix(trimmed, ";"), " \t\n\r\f\v")
	return ast.StmtInfo{Text: trimmed, Start: start}
}

func clamp(i, n int) int {
	return max(0, min(i, n))
}

// firstToken returns the offset of the first token at or after i, skipping
// white space and comments: the position reported for errors about a
// statement whose parse node has no location of its own.
func firstToken(sql string, i int) int {
	for i < len(sql) {
		switch {
		case strings.IndexByte(" \t\n\r\f\v", sql[i]) >= 0:
			i++
		case strings.HasPrefix(sql[i:], "--"):
			nl := strings.IndexByte(sql[i:], '\n')
			if nl < 0 {
				return len(sql)
			}
			i += nl + 1
		case strings.HasPrefix(sql[i:], "/*"):
			i = skipBlockComment(sql, i)
		default:
			return i
		}
	}
	return i
}

// skipBlockComment returns the offset after the (nestable) comment at i.
func skipBlockComment(sql string, i int) int {
	depth := 0
	for i < len(sql) {
		switch {
		case strings.HasPrefix(sql[i:], "/*"):
			depth++
			i += 2
		case strings.HasPrefix(sql[i:], "*/"):
			depth--
			i += 2
			if depth == 0 {
				return i
			}
		default:
			i++
		}
	}
	return i
}

// shiftPositions adds delta to every non-negative Pos field in the tree
// under v.
func shiftPositions(v reflect.Value, delta int) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			shiftPositions(v.Elem(), delta)
		}
	case reflect.Slice:
		for i := range v.Len() {
			shiftPositions(v.Index(i), delta)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Field(i)
			if v.Type().Field(i).Name == "Pos" && f.Kind() == reflect.Int {
				if f.Int() >= 0 && f.CanSet() {
					f.SetInt(f.Int() + int64(delta))
				}
				continue
			}
			shiftPositions(f, delta)
		}
	}
}
