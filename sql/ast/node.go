package ast

import "unicode/utf8"

// Node is any node of the syntax tree: a statement, a query body, a table
// expression or a scalar expression.
type Node interface {
	// String formats the node as SQL text that parses back into an equal
	// tree (positions aside). It is the same as Format(n).
	String() string
	node()
}

// Stmt is a statement: what one ';'-separated piece of input parses into.
type Stmt interface {
	Node
	// Span returns where the statement's text lies in the parsed input. It is
	// set on top-level statements only; a nested query (a subquery, the
	// statement under EXPLAIN) has the zero StmtInfo.
	Span() StmtInfo
	// SetSpan records the statement's text span; the parser calls it.
	SetSpan(StmtInfo)
	stmtNode()
}

// Expr is a scalar expression.
type Expr interface {
	Node
	// Position returns the expression's Pos: the byte offset in the input
	// that PostgreSQL would point at in an error about it, or -1.
	Position() int
	exprNode()
}

// TableExpr is an item of a FROM clause: *TableRef, *Subquery, *Join or
// *FuncTable.
type TableExpr interface {
	Node
	// Position returns the byte offset of the item in the input, or -1.
	Position() int
	tableExpr()
}

// QueryBody is the part of a query that produces rows before ORDER BY and
// LIMIT apply: *Select, *SetOp, *Values, or a parenthesised *Query that
// carries its own WITH, ORDER BY or LIMIT (as an operand of a set operation).
type QueryBody interface {
	Node
	queryBody()
}

// StmtInfo is the span of a top-level statement in the text given to the
// parser. Positions (the Pos fields of nodes) are offsets into that whole
// text, as in PostgreSQL, so Start is needed only to recover the statement's
// own text, not to interpret positions.
type StmtInfo struct {
	// Text is the statement's text without surrounding white space and
	// without the terminating ';'. Comments inside it are kept.
	Text string
	// Start is the byte offset of Text in the input.
	Start int
}

// Span returns s; statements embed StmtInfo to implement Stmt.
func (s StmtInfo) Span() StmtInfo { return s }

// SetSpan sets s to info.
func (s *StmtInfo) SetSpan(info StmtInfo) { *s = info }

// CharPosition converts pos, a byte offset into sql as carried by Pos fields
// and parser errors, into the 1-based character position that PostgreSQL
// reports in the P field of an error. It returns 0 (no position) when pos is
// negative, and counts to the end of sql when pos is past it.
func CharPosition(sql string, pos int) int {
	if pos < 0 {
		return 0
	}
	if pos > len(sql) {
		pos = len(sql)
	}
	return utf8.RuneCountInString(sql[:pos]) + 1
}
