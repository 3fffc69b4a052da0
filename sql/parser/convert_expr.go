package parser

import (
	"fmt"
	"reflect"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/dormousedb/dormouse/sql/ast"
)

// expr converts an expression; a nil node gives a nil Expr.
func (c *converter) expr(n *pg.Node) ast.Expr {
	switch x := n.GetNode().(type) {
	case nil:
		return nil
	case *pg.Node_ColumnRef:
		return c.columnRef(x.ColumnRef)
	case *pg.Node_AConst:
		return c.constant(x.AConst)
	case *pg.Node_ParamRef:
		return &ast.Param{N: int(x.ParamRef.GetNumber()), Pos: loc(x.ParamRef.GetLocation())}
	case *pg.Node_AExpr:
		return c.aExpr(x.AExpr)
	case *pg.Node_BoolExpr:
		return c.boolExpr(x.BoolExpr)
	case *pg.Node_NullTest:
		t := x.NullTest
		return &ast.IsNull{X: c.operand(t.GetArg()), Not: t.GetNulltesttype() == pg.NullTestType_IS_NOT_NULL, Pos: loc(t.GetLocation())}
	case *pg.Node_BooleanTest:
		return c.booleanTest(x.BooleanTest)
	case *pg.Node_SubLink:
		return c.subLink(x.SubLink)
	case *pg.Node_CaseExpr:
		return c.caseExpr(x.CaseExpr)
	case *pg.Node_TypeCast:
		return c.typeCast(x.TypeCast)
	case *pg.Node_FuncCall:
		return c.funcCall(x.FuncCall)
	case *pg.Node_CoalesceExpr:
		e := x.CoalesceExpr
		return &ast.FuncCall{Name: []string{"coalesce"}, Args: c.exprs(e.GetArgs()), Pos: loc(e.GetLocation())}
	case *pg.Node_MinMaxExpr:
		e := x.MinMaxExpr
		name := "greatest"
		if e.GetOp() == pg.MinMaxOp_IS_LEAST {
			name = "least"
		}
		return &ast.FuncCall{Name: []string{name}, Args: c.exprs(e.GetArgs()), Pos: loc(e.GetLocation())}
	case *pg.Node_SqlvalueFunction:
		return c.sqlValueFunction(x.SqlvalueFunction)
	case *pg.Node_AArrayExpr:
		return &ast.ArrayExpr{Elems: c.exprs(x.AArrayExpr.GetElements()), Pos: loc(x.AArrayExpr.GetLocation())}
	case *pg.Node_AIndirection:
		return c.indirection(x.AIndirection)
	case *pg.Node_CollateClause:
		cc := x.CollateClause
		pos := loc(cc.GetLocation())
		return &ast.Collate{X: c.operand(cc.GetArg()), Collation: c.strings(cc.GetCollname(), c.at(cc.GetLocation())), Pos: pos}
	case *pg.Node_RowExpr:
		return &ast.Row{Elems: c.exprs(x.RowExpr.GetArgs()), Pos: loc(x.RowExpr.GetLocation())}
	case *pg.Node_SetToDefault:
		return &ast.Default{Pos: loc(x.SetToDefault.GetLocation())}
	}
	unsupported(c.exprPos(n), "%s is not supported", exprName(n))
	return nil
}

// operand converts an expression that must be present.
func (c *converter) operand(n *pg.Node) ast.Expr {
	e := c.expr(n)
	if e == nil {
		fail(CodeSyntaxError, c.stmtPos, "missing operand")
	}
	return e
}

func (c *converter) exprs(nodes []*pg.Node) []ast.Expr {
	if len(nodes) == 0 {
		return nil
	}
	out := make([]ast.Expr, len(nodes))
	for i, n := range nodes {
		out[i] = c.operand(n)
	}
	return out
}

// exprPos finds the location of any parse node that has one, for errors.
func (c *converter) exprPos(n *pg.Node) int {
	v := n.GetNode()
	if v == nil {
		return c.stmtPos
	}
	// Each oneof wrapper (Node_AExpr, ...) holds the node in its only field.
	inner := reflect.ValueOf(v).Elem().Field(0).Interface()
	if l, ok := inner.(interface{ GetLocation() int32 }); ok {
		return c.at(l.GetLocation())
	}
	return c.stmtPos
}

// exprNames spells the expression nodes this engine does not take.
var exprNames = map[string]string{
	"GroupingFunc": "GROUPING()", "NamedArgExpr": "a named function argument (name => value)",
	"XmlExpr": "XML functions", "XmlSerialize": "XMLSERIALIZE", "CurrentOfExpr": "WHERE CURRENT OF",
	"MultiAssignRef": "multiple assignment", "AStar": "* in this place",
	"MergeSupportFunc": "MERGE_ACTION()", "BitString": "a bit-string constant",
}

func exprName(n *pg.Node) string {
	typ := strings.TrimPrefix(fmt.Sprintf("%T", n.GetNode()), "*pg_query.Node_")
	if name, ok := exprNames[typ]; ok {
		return name
	}
	if strings.HasPrefix(typ, "Json") {
		return "SQL/JSON syntax"
	}
	return "expression " + typ
}

func (c *converter) columnRef(r *pg.ColumnRef) *ast.ColumnRef {
	ref := &ast.ColumnRef{Pos: loc(r.GetLocation())}
	fields := r.GetFields()
	for i, f := range fields {
		switch v := f.GetNode().(type) {
		case *pg.Node_String_:
			ref.Parts = append(ref.Parts, v.String_.GetSval())
		case *pg.Node_AStar:
			if i != len(fields)-1 {
				fail(CodeSyntaxError, c.at(r.GetLocation()), "improper use of \"*\"")
			}
			ref.Star = true
		default:
			fail(CodeSyntaxError, c.at(r.GetLocation()), "improper column reference")
		}
	}
	return ref
}

// normalOps maps PostgreSQL's operator names for LIKE and ILIKE to the
// keywords.
var normalOps = map[string]string{
	"~~": ast.OpLike, "!~~": ast.OpNotLike, "~~*": ast.OpILike, "!~~*": ast.OpNotILike,
}

// operator converts an operator name: "+" or OPERATOR(pg_catalog.+).
func (c *converter) operator(name []*pg.Node, pos int) string {
	parts := c.strings(name, pos)
	switch {
	case len(parts) == 1:
	case len(parts) == 2 && parts[0] == "pg_catalog":
		parts = parts[1:]
	default:
		unsupported(pos, "operator OPERATOR(%s) is not supported", strings.Join(parts, "."))
	}
	return parts[0]
}

// binaryOperator is operator for an infix use, where "~~" and its kin are
// LIKE and ILIKE. (As prefix operators they are just names.)
func (c *converter) binaryOperator(name []*pg.Node, pos int) string {
	op := c.operator(name, pos)
	if like, ok := normalOps[op]; ok {
		return like
	}
	return op
}

func (c *converter) aExpr(a *pg.A_Expr) ast.Expr {
	pos := loc(a.GetLocation())
	errPos := c.at(a.GetLocation())
	switch a.GetKind() {
	case pg.A_Expr_Kind_AEXPR_OP:
		if a.GetLexpr() == nil {
			return &ast.Unary{Op: c.operator(a.GetName(), errPos), X: c.operand(a.GetRexpr()), Pos: pos}
		}
		op := c.binaryOperator(a.GetName(), errPos)
		return &ast.Binary{Op: op, L: c.operand(a.GetLexpr()), R: c.operand(a.GetRexpr()), Pos: pos}
	case pg.A_Expr_Kind_AEXPR_OP_ANY, pg.A_Expr_Kind_AEXPR_OP_ALL:
		return &ast.AnyAll{
			X:     c.operand(a.GetLexpr()),
			Op:    c.binaryOperator(a.GetName(), errPos),
			All:   a.GetKind() == pg.A_Expr_Kind_AEXPR_OP_ALL,
			Array: c.operand(a.GetRexpr()),
			Pos:   pos,
		}
	case pg.A_Expr_Kind_AEXPR_DISTINCT:
		return &ast.Binary{Op: ast.OpIsDistinctFrom, L: c.operand(a.GetLexpr()), R: c.operand(a.GetRexpr()), Pos: pos}
	case pg.A_Expr_Kind_AEXPR_NOT_DISTINCT:
		return &ast.Binary{Op: ast.OpIsNotDistinctFrom, L: c.operand(a.GetLexpr()), R: c.operand(a.GetRexpr()), Pos: pos}
	case pg.A_Expr_Kind_AEXPR_NULLIF:
		return &ast.FuncCall{Name: []string{"nullif"}, Args: []ast.Expr{c.operand(a.GetLexpr()), c.operand(a.GetRexpr())}, Pos: pos}
	case pg.A_Expr_Kind_AEXPR_IN:
		list := a.GetRexpr().GetList()
		if list == nil {
			fail(CodeSyntaxError, errPos, "malformed IN list")
		}
		not := c.operator(a.GetName(), errPos) == ast.OpNe
		return &ast.In{X: c.operand(a.GetLexpr()), List: c.exprs(list.GetItems()), Not: not, Pos: pos}
	case pg.A_Expr_Kind_AEXPR_LIKE, pg.A_Expr_Kind_AEXPR_ILIKE:
		return &ast.Binary{Op: c.binaryOperator(a.GetName(), errPos), L: c.operand(a.GetLexpr()), R: c.operand(a.GetRexpr()), Pos: pos}
	case pg.A_Expr_Kind_AEXPR_SIMILAR:
		unsupported(errPos, "SIMILAR TO is not supported; use a regular expression (~)")
	case pg.A_Expr_Kind_AEXPR_BETWEEN, pg.A_Expr_Kind_AEXPR_NOT_BETWEEN,
		pg.A_Expr_Kind_AEXPR_BETWEEN_SYM, pg.A_Expr_Kind_AEXPR_NOT_BETWEEN_SYM:
		bounds := a.GetRexpr().GetList().GetItems()
		if len(bounds) != 2 {
			fail(CodeSyntaxError, errPos, "malformed BETWEEN")
		}
		k := a.GetKind()
		return &ast.Between{
			X:         c.operand(a.GetLexpr()),
			Lo:        c.operand(bounds[0]),
			Hi:        c.operand(bounds[1]),
			Not:       k == pg.A_Expr_Kind_AEXPR_NOT_BETWEEN || k == pg.A_Expr_Kind_AEXPR_NOT_BETWEEN_SYM,
			Symmetric: k == pg.A_Expr_Kind_AEXPR_BETWEEN_SYM || k == pg.A_Expr_Kind_AEXPR_NOT_BETWEEN_SYM,
			Pos:       pos,
		}
	}
	unsupported(errPos, "this operator expression is not supported")
	return nil
}

func (c *converter) boolExpr(b *pg.BoolExpr) ast.Expr {
	pos := loc(b.GetLocation())
	args := b.GetArgs()
	if len(args) == 0 {
		fail(CodeSyntaxError, c.at(b.GetLocation()), "malformed boolean expression")
	}
	switch b.GetBoolop() {
	case pg.BoolExprType_NOT_EXPR:
		// x NOT IN (SELECT ...) arrives as NOT (x IN (SELECT ...)).
		if sl := args[0].GetSubLink(); sl != nil && sl.GetSubLinkType() == pg.SubLinkType_ANY_SUBLINK && len(sl.GetOperName()) == 0 {
			in := c.subLink(sl).(*ast.InSubquery)
			in.Not = true
			return in
		}
		return &ast.Unary{Op: ast.OpNot, X: c.operand(args[0]), Pos: pos}
	case pg.BoolExprType_AND_EXPR, pg.BoolExprType_OR_EXPR:
		op := ast.OpAnd
		if b.GetBoolop() == pg.BoolExprType_OR_EXPR {
			op = ast.OpOr
		}
		e := c.operand(args[0])
		for _, arg := range args[1:] {
			e = &ast.Binary{Op: op, L: e, R: c.operand(arg), Pos: pos}
		}
		return e
	}
	fail(CodeSyntaxError, c.at(b.GetLocation()), "malformed boolean expression")
	return nil
}

func (c *converter) booleanTest(t *pg.BooleanTest) *ast.IsBool {
	e := &ast.IsBool{X: c.operand(t.GetArg()), Pos: loc(t.GetLocation())}
	switch t.GetBooltesttype() {
	case pg.BoolTestType_IS_TRUE:
		e.Test = ast.IsTrue
	case pg.BoolTestType_IS_NOT_TRUE:
		e.Test, e.Not = ast.IsTrue, true
	case pg.BoolTestType_IS_FALSE:
		e.Test = ast.IsFalse
	case pg.BoolTestType_IS_NOT_FALSE:
		e.Test, e.Not = ast.IsFalse, true
	case pg.BoolTestType_IS_UNKNOWN:
		e.Test = ast.IsUnknown
	default:
		e.Test, e.Not = ast.IsUnknown, true
	}
	return e
}

func (c *converter) subLink(s *pg.SubLink) ast.Expr {
	pos := loc(s.GetLocation())
	errPos := c.at(s.GetLocation())
	sel := s.GetSubselect().GetSelectStmt()
	if sel == nil {
		fail(CodeSyntaxError, errPos, "malformed subquery")
	}
	q := c.query(sel, pos)
	switch s.GetSubLinkType() {
	case pg.SubLinkType_EXISTS_SUBLINK:
		return &ast.Exists{Query: q, Pos: pos}
	case pg.SubLinkType_EXPR_SUBLINK:
		return &ast.ScalarSubquery{Query: q, Pos: pos}
	case pg.SubLinkType_ARRAY_SUBLINK:
		return &ast.ArraySubquery{Query: q, Pos: pos}
	case pg.SubLinkType_ANY_SUBLINK, pg.SubLinkType_ALL_SUBLINK:
		x := c.operand(s.GetTestexpr())
		if len(s.GetOperName()) == 0 {
			return &ast.InSubquery{X: x, Query: q, Pos: pos}
		}
		op := c.binaryOperator(s.GetOperName(), errPos)
		return &ast.AnyAll{X: x, Op: op, All: s.GetSubLinkType() == pg.SubLinkType_ALL_SUBLINK, Query: q, Pos: pos}
	}
	unsupported(errPos, "this kind of subquery is not supported")
	return nil
}

func (c *converter) caseExpr(e *pg.CaseExpr) *ast.Case {
	out := &ast.Case{Operand: c.expr(e.GetArg()), Else: c.expr(e.GetDefresult()), Pos: loc(e.GetLocation())}
	for _, n := range e.GetArgs() {
		w := n.GetCaseWhen()
		if w == nil {
			fail(CodeSyntaxError, c.at(e.GetLocation()), "malformed CASE")
		}
		out.Whens = append(out.Whens, ast.When{Cond: c.operand(w.GetExpr()), Result: c.operand(w.GetResult()), Pos: loc(w.GetLocation())})
	}
	return out
}

func (c *converter) typeCast(t *pg.TypeCast) *ast.Cast {
	typ := c.typeName(t.GetTypeName())
	pos := loc(t.GetLocation())
	if pos < 0 {
		// A typed literal (DATE '...') has no cast location; its type
		// name starts it.
		pos = typ.Pos
	}
	return &ast.Cast{X: c.operand(t.GetArg()), Type: typ, Pos: pos}
}

// indirection converts subscripts and field selections, applied left to
// right: a.b[1].c is FieldSelect(Subscript(ColumnRef a.b, 1), c).
func (c *converter) indirection(ind *pg.A_Indirection) ast.Expr {
	x := c.operand(ind.GetArg())
	for _, step := range ind.GetIndirection() {
		pos := x.Position()
		switch s := step.GetNode().(type) {
		case *pg.Node_AIndices:
			sub := &ast.Subscript{X: x, Slice: s.AIndices.GetIsSlice(), Pos: pos}
			if sub.Slice {
				sub.Index, sub.Upper = c.expr(s.AIndices.GetLidx()), c.expr(s.AIndices.GetUidx())
			} else {
				sub.Index = c.operand(s.AIndices.GetUidx())
			}
			x = sub
		case *pg.Node_String_:
			x = &ast.FieldSelect{X: x, Field: s.String_.GetSval(), Pos: pos}
		case *pg.Node_AStar:
			unsupported(c.at(int32(pos)), "(composite).* is not supported")
		default:
			fail(CodeSyntaxError, c.at(int32(pos)), "malformed indirection")
		}
	}
	return x
}
