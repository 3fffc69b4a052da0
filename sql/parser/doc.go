// Package parser turns PostgreSQL-dialect SQL text into sql/ast trees.
//
// # Place in the layers
//
// Front doors (pgwire, Flight SQL, the CLI, the connectors) hand SQL text to
// sql, which calls Parse and binds the result. This package is the only
// importer of github.com/pganalyze/pg_query_go: it runs PostgreSQL's own
// grammar (PostgreSQL 17's scanner and gram.y, compiled in through cgo), so
// what psql, pgx, pgJDBC and Trino's PostgreSQL connector send parses
// exactly as a PostgreSQL server would parse it, with the same syntax error
// messages and positions. Nothing else in the project sees pg_query's
// protobuf tree; replacing the parser means replacing this package only.
//
// # Life cycle of a parse
//
//  1. Parse checks that the text is valid UTF-8 without NUL bytes (what
//     PostgreSQL would accept over the wire), then hands it to pg_query,
//     which returns the raw parse tree of every ';'-separated statement or
//     the first syntax error.
//  2. Each statement is converted by a converter (convert_stmt.go for
//     statements, convert_query.go for SELECT, FROM, WITH and windows,
//     convert_expr.go and convert_func.go for expressions, types and
//     constants) into ast nodes, keeping PostgreSQL's locations as byte
//     offsets into the whole input.
//  3. Anything the engine does not support — other statements (UPDATE,
//     DELETE, CREATE INDEX, ...), clauses (FOR UPDATE, ON CONFLICT,
//     RETURNING, GROUPING SETS, TABLESAMPLE, ...) or expressions (SIMILAR TO,
//     bit strings, SQL/JSON, named arguments, ...) — is refused during
//     conversion with SQLSTATE 0A000 and the position of the offending part,
//     so the binder never meets a construct it has to ignore.
//
// Errors are *Error values: PostgreSQL's message, a 0-based byte Position
// (-1 if none) and a SQLSTATE (42601 for syntax errors, 0A000 for what is
// not supported, 22021 for bad encoding, a few others for errors the
// grammar itself raises). The whole input fails if any statement does.
//
// Internally the converter abandons a tree by panicking with a private
// bailout value that Parse recovers (as encoding/json and go/parser do):
// conversion is deeply recursive and an error can only end it. Any other
// panic is a bug and is not recovered; FuzzParse checks there are none.
package parser
