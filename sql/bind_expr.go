package sql

import (
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/sql/ast"
)

// boolExpr binds a condition, which must be boolean (or an untyped NULL).
func (b *binder) boolExpr(sc *scope, e ast.Expr, clause string) (expr.Expr, error) {
	x, err := b.expr(sc, e)
	if err != nil {
		return nil, err
	}
	switch x.Type().ID() {
	case arrow.BOOL:
		return x, nil
	case arrow.NULL:
		return expr.ImplicitCast(x, arrow.FixedWidthTypes.Boolean)
	}
	if lit, ok := x.(*expr.Literal); ok && lit.Typ.ID() == arrow.STRING {
		if c, err := expr.Cast(x, arrow.FixedWidthTypes.Boolean); err == nil {
			return c, nil
		}
	}
	return nil, errAt(e.Position(), sqlerr.New(sqlerr.DatatypeMismatch, "argument of %s must be type boolean, not type %s", clause, expr.TypeName(x.Type())))
}

// expr binds a scalar expression in a scope.
func (b *binder) expr(sc *scope, e ast.Expr) (expr.Expr, error) {
	x, err := b.bindExpr(sc, e)
	if err == nil {
		b.s.params.note(x)
	}
	return x, errAt(e.Position(), err)
}

func (b *binder) bindExpr(sc *scope, e ast.Expr) (expr.Expr, error) {
	if sc.g != nil {
		text := e.String()
		if i, ok := sc.g.keys[text]; ok {
			return columnExpr(sc.g.cols, i), nil
		}
		if i, ok := sc.g.aggs[text]; ok {
			return columnExpr(sc.g.cols, i), nil
		}
		if i, ok := sc.g.windows[text]; ok {
			return columnExpr(sc.g.cols, i), nil
		}
	}
	if x, ok, err := b.bindCatalogExpr(sc, e); ok {
		return x, err
	}
	switch e := e.(type) {
	case *ast.ColumnRef:
		return b.column(sc, e)
	case *ast.Literal:
		return literal(e)
	case *ast.Param:
		return b.s.params.param(e.N)
	case *ast.Unary:
		x, err := b.expr(sc, e.X)
		if err != nil {
			return nil, err
		}
		switch e.Op {
		case ast.OpNot:
			return notExpr(x)
		case ast.OpNeg:
			return expr.Neg(x)
		case ast.OpPlus:
			return x, nil
		}
		return nil, sqlerr.New(sqlerr.UndefinedFunction, "operator does not exist: %s %s", e.Op, expr.TypeName(x.Type()))
	case *ast.Binary:
		return b.binary(sc, e)
	case *ast.IsNull:
		x, err := b.expr(sc, e.X)
		if err != nil {
			return nil, err
		}
		return expr.IsNull(x, e.Not), nil
	case *ast.IsBool:
		x, err := b.expr(sc, e.X)
		if err != nil {
			return nil, err
		}
		return expr.IsBool(x, boolTest(e.Test), e.Not)
	case *ast.Between:
		x, lo, hi, err := b.three(sc, e.X, e.Lo, e.Hi)
		if err != nil {
			return nil, err
		}
		return expr.Between(x, lo, hi, e.Not, e.Symmetric)
	case *ast.In:
		x, err := b.expr(sc, e.X)
		if err != nil {
			return nil, err
		}
		list := make([]expr.Expr, len(e.List))
		for i, it := range e.List {
			if list[i], err = b.expr(sc, it); err != nil {
				return nil, err
			}
		}
		return expr.In(x, list, e.Not)
	case *ast.Case:
		return b.caseExpr(sc, e)
	case *ast.Cast:
		x, err := b.expr(sc, e.X)
		if err != nil {
			return nil, err
		}
		t, err := expr.ParseTypeName(e.Type.Names, e.Type.Mods)
		if err != nil {
			return nil, errAt(e.Type.Pos, err)
		}
		return expr.Cast(x, t)
	case *ast.FuncCall:
		return b.call(sc, e)
	case *ast.ScalarSubquery:
		if i, ok := sc.subs[e.String()]; ok {
			return b.subqueryColumn(sc, i)
		}
		x, err := b.scalarSubquery(e)
		if code := sqlerr.Code(err); code == sqlerr.UndefinedColumn || code == sqlerr.UndefinedTable {
			// It reads the outer query: run it per outer row.
			return b.bindApply(sc, e.Query, applyScalar, nil, e.String())
		}
		return x, err
	case *ast.Collate:
		return b.expr(sc, e.X) // text compares byte-wise, as under C collation
	case *ast.Default:
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "DEFAULT is not allowed here")
	case *ast.Exists:
		return b.bindApply(sc, e.Query, applyExists, nil, e.String())
	case *ast.InSubquery:
		x, err := b.bindApply(sc, e.Query, applyAny, e.X, e.String())
		if err != nil || !e.Not {
			return x, err
		}
		return notExpr(x)
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "expression %s is not supported", e.String())
}

func notExpr(x expr.Expr) (expr.Expr, error) {
	if x.Type().ID() != arrow.BOOL && x.Type().ID() != arrow.NULL {
		return nil, sqlerr.New(sqlerr.DatatypeMismatch, "argument of NOT must be type boolean, not type %s", expr.TypeName(x.Type()))
	}
	return expr.Not(x)
}

func (b *binder) three(sc *scope, a, c, d ast.Expr) (expr.Expr, expr.Expr, expr.Expr, error) {
	x, err := b.expr(sc, a)
	if err != nil {
		return nil, nil, nil, err
	}
	y, err := b.expr(sc, c)
	if err != nil {
		return nil, nil, nil, err
	}
	z, err := b.expr(sc, d)
	if err != nil {
		return nil, nil, nil, err
	}
	return x, y, z, nil
}

func boolTest(t ast.BoolTest) string {
	switch t {
	case ast.IsTrue:
		return "TRUE"
	case ast.IsFalse:
		return "FALSE"
	}
	return "UNKNOWN"
}

// literal types a constant as PostgreSQL does: integers that fit int4 are
// integer, larger ones bigint; other numbers numeric (double precision
// here); strings are untyped until their context types them.
func literal(l *ast.Literal) (expr.Expr, error) {
	switch l.Kind {
	case ast.LitNull:
		return expr.Null(arrow.Null), nil
	case ast.LitBool:
		return expr.Lit(l.Bool, arrow.FixedWidthTypes.Boolean), nil
	case ast.LitInt:
		if l.Int >= -1<<31 && l.Int < 1<<31 {
			return expr.Lit(int32(l.Int), arrow.PrimitiveTypes.Int32), nil
		}
		return expr.Lit(l.Int, arrow.PrimitiveTypes.Int64), nil
	case ast.LitNumeric:
		f, err := strconv.ParseFloat(l.Text, 64)
		if err != nil {
			return nil, sqlerr.New(sqlerr.InvalidTextRepresentation, "invalid input syntax for type numeric: \"%s\"", l.Text)
		}
		// A numeric literal is numeric: a double that rounds (and casts to
		// integers) half away from zero, as PostgreSQL's numeric does.
		return expr.Lit(f, expr.NumericType), nil
	case ast.LitString:
		return expr.Unknown(l.Text), nil
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "unsupported literal %s", l.String())
}

// column resolves a column reference.
func (b *binder) column(sc *scope, c *ast.ColumnRef) (expr.Expr, error) {
	if c.Star {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "* is not allowed here")
	}
	i := b.resolveIndex(sc, c)
	switch {
	case i == -2:
		return nil, sqlerr.New(sqlerr.AmbiguousColumn, "column reference \"%s\" is ambiguous", strings.Join(c.Parts, "."))
	case i < 0:
		if x, ok, err := b.tableOID(sc, c); ok {
			return x, err
		}
		if x, ok, err := b.outerColumn(c); ok {
			return x, err
		}
		name := strings.Join(c.Parts, ".")
		if len(c.Parts) > 1 && !b.hasQualifier(sc, c.Parts[len(c.Parts)-2]) {
			return nil, sqlerr.New(sqlerr.UndefinedTable, "missing FROM-clause entry for table \"%s\"", c.Parts[len(c.Parts)-2])
		}
		e := sqlerr.New(sqlerr.UndefinedColumn, "column \"%s\" does not exist", name)
		var names []string
		for _, c := range sc.cols {
			if !strings.HasPrefix(c.name, "?") {
				names = append(names, c.name)
			}
		}
		if hint := closest(c.Parts[len(c.Parts)-1], names); hint != "" {
			e = e.WithHint("Perhaps you meant to reference the column \"%s\".", hint)
		}
		return nil, e
	}
	if sc.g != nil && sc.g.grouped {
		cc := sc.cols[i]
		name := cc.name
		if cc.qual != "" {
			name = cc.qual + "." + cc.name
		}
		return nil, sqlerr.New(sqlerr.GroupingError, "column \"%s\" must appear in the GROUP BY clause or be used in an aggregate function", name)
	}
	return columnExpr(sc.cols, i), nil
}

// tableOID binds the system column tableoid of a table or catalog
// relation in sc (psql's \dd and \dL join pg_description on it): the
// relation's OID, a constant, as every row of a Dormouse relation is in
// the relation itself (there is no inheritance). ok is false when c is not
// tableoid or no relation in sc matches.
func (b *binder) tableOID(sc *scope, c *ast.ColumnRef) (x expr.Expr, ok bool, err error) {
	if c.Parts[len(c.Parts)-1] != "tableoid" {
		return nil, false, nil
	}
	qual := ""
	if len(c.Parts) > 1 {
		qual = c.Parts[len(c.Parts)-2]
	}
	var from *scanRel
	for _, cc := range sc.cols {
		if cc.from == nil || (qual != "" && cc.qual != qual) || cc.from == from {
			continue
		}
		if from != nil {
			return nil, true, sqlerr.New(sqlerr.AmbiguousColumn, "column reference \"tableoid\" is ambiguous")
		}
		from = cc.from
	}
	if from == nil {
		return nil, false, nil
	}
	oid, found := b.pgCatalog(b.ctx).relOID(from)
	if !found {
		return nil, false, nil
	}
	return expr.Lit(oid, arrow.PrimitiveTypes.Int64), true, nil
}

// resolveIndex finds the column c names in sc: its index, -1 if none, -2
// if ambiguous.
func (b *binder) resolveIndex(sc *scope, c *ast.ColumnRef) int {
	name := c.Parts[len(c.Parts)-1]
	qual := ""
	if len(c.Parts) > 1 {
		qual = c.Parts[len(c.Parts)-2]
	}
	// Names match exactly: the parser has already folded unquoted names to
	// lower case, and quoted ones keep theirs, as in PostgreSQL.
	found := -1
	for i, cc := range sc.cols {
		if cc.name != name || (qual != "" && cc.qual != qual) {
			continue
		}
		if found >= 0 {
			return -2
		}
		found = i
	}
	return found
}

func (b *binder) hasQualifier(sc *scope, q string) bool {
	for _, c := range sc.cols {
		if strings.EqualFold(c.qual, q) {
			return true
		}
	}
	return false
}

func (b *binder) binary(sc *scope, e *ast.Binary) (expr.Expr, error) {
	if e.Op == ast.OpAnd || e.Op == ast.OpOr {
		// Flatten the chain so that a long AND/OR list binds as one.
		parts := splitOp(e, e.Op)
		xs := make([]expr.Expr, len(parts))
		for i, p := range parts {
			x, err := b.boolExpr(sc, p, e.Op)
			if err != nil {
				return nil, err
			}
			xs[i] = x
		}
		if e.Op == ast.OpAnd {
			return expr.And(xs...)
		}
		return expr.Or(xs...)
	}
	l, err := b.expr(sc, e.L)
	if err != nil {
		return nil, err
	}
	r, err := b.expr(sc, e.R)
	if err != nil {
		return nil, err
	}
	switch e.Op {
	case ast.OpEq, ast.OpNe, ast.OpLt, ast.OpLe, ast.OpGt, ast.OpGe:
		return expr.Compare(e.Op, l, r)
	case ast.OpAdd, ast.OpSub, ast.OpMul, ast.OpDiv, ast.OpMod, ast.OpPow, ast.OpConcat:
		return expr.Arith(e.Op, l, r)
	case ast.OpLike, ast.OpNotLike, ast.OpILike, ast.OpNotILike:
		return expr.Like(l, r, e.Op == ast.OpILike || e.Op == ast.OpNotILike, e.Op == ast.OpNotLike || e.Op == ast.OpNotILike)
	case ast.OpRegexMatch, ast.OpRegexIMatch, ast.OpRegexNotMatch, ast.OpRegexNotIMatch:
		return expr.Regex(l, r, e.Op)
	case ast.OpIsDistinctFrom:
		return expr.IsDistinctFrom(l, r, false)
	case ast.OpIsNotDistinctFrom:
		return expr.IsDistinctFrom(l, r, true)
	}
	return nil, sqlerr.New(sqlerr.UndefinedFunction, "operator does not exist: %s %s %s", expr.TypeName(l.Type()), e.Op, expr.TypeName(r.Type())).
		WithHint("No operator matches the given name and argument types. You might need to add explicit type casts.")
}

func (b *binder) caseExpr(sc *scope, e *ast.Case) (expr.Expr, error) {
	var operand expr.Expr
	var err error
	if e.Operand != nil {
		if operand, err = b.expr(sc, e.Operand); err != nil {
			return nil, err
		}
	}
	whens := make([]expr.When, len(e.Whens))
	for i, w := range e.Whens {
		var cond expr.Expr
		if operand != nil {
			v, err := b.expr(sc, w.Cond)
			if err != nil {
				return nil, err
			}
			if cond, err = expr.Compare("=", operand, v); err != nil {
				return nil, errAt(w.Pos, err)
			}
		} else if cond, err = b.boolExpr(sc, w.Cond, "CASE/WHEN"); err != nil {
			return nil, err
		}
		res, err := b.expr(sc, w.Result)
		if err != nil {
			return nil, err
		}
		whens[i] = expr.When{Cond: cond, Result: res}
	}
	var els expr.Expr
	if e.Else != nil {
		if els, err = b.expr(sc, e.Else); err != nil {
			return nil, err
		}
	}
	return expr.Case(nil, whens, els)
}

// call binds a function call. Aggregates and window calls reach here only
// where they are not allowed: above their operator they were matched by
// the scope's grouping.
func (b *binder) call(sc *scope, fc *ast.FuncCall) (expr.Expr, error) {
	name := strings.ToLower(fc.Name[len(fc.Name)-1])
	if fc.Over != nil {
		return nil, sqlerr.New(sqlerr.WindowingError, "window function %s is not allowed here", name)
	}
	if isAggregate(fc) {
		return nil, sqlerr.New(sqlerr.GroupingError, "aggregate function %s is not allowed here", name)
	}
	switch name {
	case "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead", "first_value", "last_value", "nth_value":
		return nil, sqlerr.New(sqlerr.WrongObjectType, "window function %s requires an OVER clause", name)
	}
	if fc.Star || fc.Distinct || fc.Filter != nil || len(fc.OrderBy) > 0 {
		return nil, sqlerr.New(sqlerr.WrongObjectType, "%s is not an aggregate function", name)
	}
	args := make([]expr.Expr, len(fc.Args))
	for i, a := range fc.Args {
		x, err := b.expr(sc, a)
		if err != nil {
			return nil, err
		}
		args[i] = x
	}
	switch name {
	case "coalesce":
		return expr.Coalesce(args...)
	case "nullif":
		if len(args) != 2 {
			return nil, sqlerr.New(sqlerr.UndefinedFunction, "function nullif takes two arguments")
		}
		return expr.NullIf(args[0], args[1])
	case "greatest":
		return expr.Greatest(args...)
	case "least":
		return expr.Least(args...)
	case "current_database", "current_catalog":
		return expr.Lit("dormouse", arrow.BinaryTypes.String), nil
	case "current_schema":
		return expr.Lit("public", arrow.BinaryTypes.String), nil
	case "current_user", "session_user", "user", "current_role":
		return expr.Lit(b.s.user(), arrow.BinaryTypes.String), nil
	case "version":
		return expr.Lit("PostgreSQL 15.0 (Dormouse)", arrow.BinaryTypes.String), nil
	}
	if x, ok, err := b.catalogCall(name, args); ok {
		return x, err
	}
	return expr.Call(name, args)
}
