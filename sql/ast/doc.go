// Package ast is the syntax tree of Dormouse's PostgreSQL-dialect SQL: what
// the parser (sql/parser) produces and the binder (sql) consumes.
//
// # Place in the layers
//
// SQL text → sql/parser → ast → sql (bind, plan, rewrite) → engine. The
// parser is the only package that sees PostgreSQL's own parse tree (through
// pg_query_go); everything above it sees these plain Go types, which depend
// on nothing. ast imports nothing of ours.
//
// # The tree
//
// A Stmt is one statement: *Query (SELECT, VALUES, set operations), *Insert,
// *CreateTable, *DropTable, *AlterTableSet, *Explain, *Set, *SetTransaction,
// *Show, *Reset, *Begin, *Commit, *Rollback, *Copy, *Discard, *Deallocate.
// Statements the engine does not support never reach the tree: the parser
// refuses them with SQLSTATE 0A000.
//
// A Query is WITH + body + ORDER BY/LIMIT/OFFSET. Its body (QueryBody) is a
// *Select (the SELECT ... FROM ... WHERE ... GROUP BY ... HAVING ... WINDOW
// core), a *Values list, a *SetOp (UNION / INTERSECT / EXCEPT [ALL] of two
// bodies), or, as an operand of a set operation, a parenthesised *Query
// that has its own WITH, ORDER BY or LIMIT. Every subquery is a *Query:
// FROM (...) is a *Subquery, scalar, EXISTS, IN, ANY/ALL and ARRAY(...)
// subqueries are expressions holding one. FROM items (TableExpr) are
// *TableRef, *Subquery, *Join and *FuncTable.
//
// Expressions (Expr) follow PostgreSQL's raw parse tree with its
// normalisations made explicit: "!=" is "<>", "~~" is LIKE, OPERATOR
// (pg_catalog.op) is op, a minus sign before a number is part of the
// literal, AND/OR chains nest to the left, x NOT IN (subquery) is one
// InSubquery, typed literals (DATE '...', INTERVAL '1 day') are casts,
// COALESCE/NULLIF/GREATEST/LEAST and CURRENT_DATE-like keywords are
// FuncCalls. See FuncCall for the names of SQL-syntax functions.
//
// # Positions
//
// Every node an error can be about has a Pos: the byte offset into the text
// given to the parser that PostgreSQL would point at (the operator of a
// Binary, the keyword of IN or a function call's name), or -1 when
// PostgreSQL has none. Offsets are into the whole input, even when it holds
// several statements, because that is what PostgreSQL reports; a top-level
// statement's Span gives its own text and where it starts. CharPosition
// converts an offset into the 1-based character position of PostgreSQL's
// error field P.
//
// # Life cycle
//
// Trees are built by the parser and then owned by the caller; nothing in
// this package mutates them. The binder reads them and builds its own plan
// rather than annotating the tree, so a tree may be kept (for a prepared
// statement) and bound again. Walk and Inspect visit every node in source
// order. Format (and each node's String) prints a node back as SQL that
// parses into an equal tree, so it serves as a canonical form in tests,
// EXPLAIN output and error messages.
package ast
