// Package slt runs sqllogictest files: SQL statements with the results
// they must give, the way DuckDB, DataFusion and SQLite test their SQL. It
// knows nothing of Dormouse's engine: a file runs against any Executor —
// a sql.Session (sql/sqllogic_test.go), a real PostgreSQL (package
// pgoracle, the oracle the expected results are taken from), or a fake.
//
// # Format
//
// A file is a sequence of records separated by blank lines. Lines starting
// with # between records are comments.
//
//	statement ok
//	CREATE TABLE t (a bigint, b text)
//
//	statement error 22012
//	SELECT 1 / 0
//
//	query IT rowsort
//	SELECT a, b FROM t
//	----
//	1	one
//	2	NULL
//
// statement ok: the statement must succeed (any rows are ignored).
//
// statement error [PATTERN]: it must fail. A PATTERN of five digits or
// capitals is a SQLSTATE the error must carry; any other PATTERN is a
// regular expression the error message must match; none accepts any
// error. DuckDB's form, the pattern on the lines after a ---- line, is
// read too.
//
// query TYPES [nosort|rowsort|valuesort] [LABEL]: the statement must
// succeed with one column per letter of TYPES and the rows after ----:
//
//	I  integer (smallint, integer, bigint, or a numeric with an integer value)
//	R  floating point or numeric: compared within 1e-9 relative (or 1e-12
//	   absolute) tolerance; written in Go's shortest round-trip form, with
//	   an exponent only below 1e-4 or from 1e15 on (1.5, 0.1, 42,
//	   1709214330.25, 1e-05, 1e+20, NaN, Infinity)
//	B  boolean, written true or false (t and f are read too)
//	T  anything else, compared as PostgreSQL's text output, exactly
//
// One row per line, values separated by a tab; NULL is written NULL, the
// empty string (empty); a tab, newline, carriage return or backslash in a
// value is written \t, \n, \r or \\. nosort (the default) compares rows in
// order — use it only with an ORDER BY that orders every row; rowsort
// sorts the rows, valuesort every value, of both sides before comparing.
// An absent ---- block means an empty result.
//
// skipif ENGINE / onlyif ENGINE before a record skip it on, or run it only
// on, the named engine (Runner.Engine: "dormouse", "postgresql"); halt
// ends the file; hash-threshold N is read and ignored.
//
// # Rewriting
//
// With Runner.Rewrite, a record whose outcome differs is rewritten in
// place from what the executor did: results, column types, ok/error and
// the SQLSTATE. Records that pass are left as written, so a file changes
// only where the behaviour did (Runner.RewriteAll re-writes the results
// of passing queries too, to re-format a file). Authoring a test is writing the SQL with
// an empty header (`query` or `statement error`) and rewriting the file
// against PostgreSQL (cmd/sltpg); review the diff.
package slt
