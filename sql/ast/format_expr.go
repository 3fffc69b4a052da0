package ast

import (
	"strconv"
	"strings"
)

// Operator precedence, lowest first, following the %left/%right/%nonassoc
// declarations of PostgreSQL's gram.y. An operand is parenthesised when its
// own precedence is below what its position needs.
const (
	precOr = iota + 1
	precAnd
	precNot
	precIs // IS NULL, IS TRUE, IS DISTINCT FROM
	precCmp
	precLike // LIKE, ILIKE, BETWEEN, IN
	precOp   // any other operator: ||, ~, @>, ...
	precAdd
	precMul
	precExp
	precAt
	precCollate
	precUnary
	precPostfix // subscripts and field selection
	precCast
	precAtom
)

func binaryPrec(op string) int {
	switch op {
	case OpOr:
		return precOr
	case OpAnd:
		return precAnd
	case OpIsDistinctFrom, OpIsNotDistinctFrom:
		return precIs
	case OpEq, OpNe, OpLt, OpLe, OpGt, OpGe:
		return precCmp
	case OpLike, OpNotLike, OpILike, OpNotILike:
		return precLike
	case OpAdd, OpSub:
		return precAdd
	case OpMul, OpDiv, OpMod:
		return precMul
	case OpPow:
		return precExp
	}
	return precOp
}

// nonAssoc reports whether operators of precedence prec cannot be chained
// without parentheses ("a = b = c" is a syntax error).
func nonAssoc(prec int) bool {
	return prec == precIs || prec == precCmp || prec == precLike
}

func exprPrec(e Expr) int {
	switch e := e.(type) {
	case *Binary:
		return binaryPrec(e.Op)
	case *Unary:
		switch e.Op {
		case OpNot:
			return precNot
		case OpNeg, OpPlus:
			return precUnary
		}
		return precOp
	case *IsNull, *IsBool:
		return precIs
	case *Between, *In, *InSubquery:
		return precLike
	case *AnyAll:
		return binaryPrec(e.Op)
	case *AtTimeZone:
		return precAt
	case *Collate:
		return precCollate
	case *Literal:
		if (e.Kind == LitInt && e.Int < 0) || (e.Kind == LitNumeric && strings.HasPrefix(e.Text, "-")) {
			return precUnary
		}
	case *Subscript, *FieldSelect:
		return precPostfix
	case *Cast:
		return precCast
	}
	return precAtom
}

func (p *printer) expr(e Expr) {
	switch e := e.(type) {
	case nil:
	case *ColumnRef:
		p.columnRef(e)
	case *Literal:
		p.literal(e)
	case *Param:
		p.WriteString("$" + strconv.Itoa(e.N))
	case *Unary:
		p.unary(e)
	case *Binary:
		p.binary(e)
	case *IsNull:
		p.operand(e.X, precIs+1)
		if e.Not {
			p.WriteString(" IS NOT NULL")
		} else {
			p.WriteString(" IS NULL")
		}
	case *IsBool:
		p.isBool(e)
	case *Between:
		p.between(e)
	case *In:
		p.operand(e.X, precLike+1)
		p.not(e.Not, " IN (")
		p.exprs(e.List)
		p.WriteByte(')')
	case *InSubquery:
		p.operand(e.X, precLike+1)
		p.not(e.Not, " IN (")
		p.query(e.Query)
		p.WriteByte(')')
	case *Exists:
		p.subquery("EXISTS (", e.Query)
	case *ScalarSubquery:
		p.subquery("(", e.Query)
	case *ArraySubquery:
		p.subquery("ARRAY(", e.Query)
	case *AnyAll:
		p.anyAll(e)
	case *Case:
		p.caseExpr(e)
	case *Cast:
		p.operand(e.X, precCast)
		p.WriteString("::")
		p.typeName(e.Type)
	case *FuncCall:
		p.funcCall(e)
	case *ArrayExpr:
		p.WriteString("ARRAY[")
		p.exprs(e.Elems)
		p.WriteByte(']')
	case *Subscript:
		p.subscript(e)
	case *FieldSelect:
		p.WriteByte('(')
		p.expr(e.X)
		p.WriteString(").")
		p.WriteString(quoteLabel(e.Field))
	case *Collate:
		p.operand(e.X, precCollate)
		p.WriteString(" COLLATE ")
		p.WriteString(qualifiedName(e.Collation, QuoteIdent))
	case *Row:
		p.WriteString("ROW(")
		p.exprs(e.Elems)
		p.WriteByte(')')
	case *AtTimeZone:
		p.operand(e.X, precAt)
		if e.Zone == nil {
			p.WriteString(" AT LOCAL")
			return
		}
		p.WriteString(" AT TIME ZONE ")
		p.operand(e.Zone, precAt+1)
	case *Default:
		p.WriteString("DEFAULT")
	}
}

// operand prints e, in parentheses when its precedence is below need.
func (p *printer) operand(e Expr, need int) {
	if e != nil && exprPrec(e) < need {
		p.WriteByte('(')
		p.expr(e)
		p.WriteByte(')')
		return
	}
	p.expr(e)
}

func (p *printer) exprs(list []Expr) {
	for i, e := range list {
		if i > 0 {
			p.WriteString(", ")
		}
		p.expr(e)
	}
}

func (p *printer) not(not bool, rest string) {
	if not {
		p.WriteString(" NOT")
	}
	p.WriteString(rest)
}

func (p *printer) subquery(open string, q *Query) {
	p.WriteString(open)
	p.query(q)
	p.WriteByte(')')
}

func (p *printer) columnRef(c *ColumnRef) {
	p.WriteString(qualifiedName(c.Parts, QuoteIdent))
	if c.Star {
		if len(c.Parts) > 0 {
			p.WriteByte('.')
		}
		p.WriteByte('*')
	}
}

func (p *printer) unary(u *Unary) {
	switch u.Op {
	case OpNot:
		p.WriteString("NOT ")
		p.operand(u.X, precNot)
		return
	case OpNeg, OpPlus:
		var sub printer
		sub.operand(u.X, precUnary)
		x := sub.String()
		p.WriteString(u.Op)
		// A space keeps "- -x" from reading as a comment and "-@x" from
		// reading as one operator.
		if x != "" && strings.ContainsRune("+-*/<>=~!@#%^&|`?", rune(x[0])) {
			p.WriteByte(' ')
		}
		p.WriteString(x)
		return
	}
	p.WriteString(u.Op)
	p.WriteByte(' ')
	p.operand(u.X, precOp+1)
}

func (p *printer) binary(b *Binary) {
	prec := binaryPrec(b.Op)
	left := prec
	if nonAssoc(prec) {
		left++
	}
	p.operand(b.L, left)
	p.WriteByte(' ')
	p.WriteString(b.Op)
	p.WriteByte(' ')
	if pattern, escape, ok := likeEscape(b); ok {
		p.operand(pattern, precLike+1)
		p.WriteString(" ESCAPE ")
		p.operand(escape, precLike+1)
		return
	}
	p.operand(b.R, prec+1)
}

// likeEscape recognises "x LIKE pattern ESCAPE e", which PostgreSQL parses as
// x LIKE pg_catalog.like_escape(pattern, e).
func likeEscape(b *Binary) (pattern, escape Expr, ok bool) {
	switch b.Op {
	case OpLike, OpNotLike, OpILike, OpNotILike:
	default:
		return nil, nil, false
	}
	f, isCall := b.R.(*FuncCall)
	if !isCall || !f.plain() || len(f.Args) != 2 || len(f.Name) != 2 || f.Name[0] != "pg_catalog" || f.Name[1] != "like_escape" {
		return nil, nil, false
	}
	return f.Args[0], f.Args[1], true
}

func (p *printer) isBool(e *IsBool) {
	p.operand(e.X, precIs+1)
	p.WriteString(" IS ")
	if e.Not {
		p.WriteString("NOT ")
	}
	switch e.Test {
	case IsTrue:
		p.WriteString("TRUE")
	case IsFalse:
		p.WriteString("FALSE")
	default:
		p.WriteString("UNKNOWN")
	}
}

func (p *printer) between(e *Between) {
	p.operand(e.X, precLike+1)
	p.not(e.Not, " BETWEEN ")
	if e.Symmetric {
		p.WriteString("SYMMETRIC ")
	}
	// The lower bound is a restricted expression (b_expr) in the grammar:
	// no AND, comparison, COLLATE or AT TIME ZONE without parentheses.
	p.operand(e.Lo, precUnary)
	p.WriteString(" AND ")
	p.operand(e.Hi, precUnary)
}

func (p *printer) anyAll(e *AnyAll) {
	p.operand(e.X, binaryPrec(e.Op)+1)
	p.WriteByte(' ')
	p.WriteString(e.Op)
	if e.All {
		p.WriteString(" ALL (")
	} else {
		p.WriteString(" ANY (")
	}
	if e.Query != nil {
		p.query(e.Query)
	} else {
		p.expr(e.Array)
	}
	p.WriteByte(')')
}

func (p *printer) caseExpr(c *Case) {
	p.WriteString("CASE")
	if c.Operand != nil {
		p.WriteByte(' ')
		p.expr(c.Operand)
	}
	for _, w := range c.Whens {
		p.WriteString(" WHEN ")
		p.expr(w.Cond)
		p.WriteString(" THEN ")
		p.expr(w.Result)
	}
	if c.Else != nil {
		p.WriteString(" ELSE ")
		p.expr(c.Else)
	}
	p.WriteString(" END")
}

func (p *printer) subscript(s *Subscript) {
	switch s.X.(type) {
	case *ColumnRef, *Param, *Subscript:
		if c, ok := s.X.(*ColumnRef); ok && c.Star {
			p.WriteByte('(')
			p.expr(s.X)
			p.WriteByte(')')
			break
		}
		p.expr(s.X)
	default:
		p.WriteByte('(')
		p.expr(s.X)
		p.WriteByte(')')
	}
	p.WriteByte('[')
	p.expr(s.Index)
	if s.Slice {
		p.WriteByte(':')
		p.expr(s.Upper)
	}
	p.WriteByte(']')
}
