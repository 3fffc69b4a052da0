package parser

import (
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/dormousedb/dormouse/sql/ast"
)

func (c *converter) funcCall(f *pg.FuncCall) ast.Expr {
	pos := loc(f.GetLocation())
	errPos := c.at(f.GetLocation())
	name := c.strings(f.GetFuncname(), errPos)
	if f.GetFuncVariadic() {
		unsupported(errPos, "VARIADIC arguments are not supported")
	}
	if f.GetFuncformat() == pg.CoercionForm_COERCE_SQL_SYNTAX && len(name) == 2 && name[0] == "pg_catalog" && name[1] == "timezone" {
		// x AT TIME ZONE z is pg_catalog.timezone(z, x); x AT LOCAL is
		// pg_catalog.timezone(x).
		switch args := f.GetArgs(); len(args) {
		case 2:
			return &ast.AtTimeZone{X: c.operand(args[1]), Zone: c.operand(args[0]), Pos: pos}
		case 1:
			return &ast.AtTimeZone{X: c.operand(args[0]), Pos: pos}
		}
	}
	return &ast.FuncCall{
		Name:        name,
		Args:        c.exprs(f.GetArgs()),
		Star:        f.GetAggStar(),
		Distinct:    f.GetAggDistinct(),
		OrderBy:     c.orderItems(f.GetAggOrder()),
		WithinGroup: f.GetAggWithinGroup(),
		Filter:      c.expr(f.GetAggFilter()),
		Over:        c.windowDef(f.GetOver()),
		Pos:         pos,
	}
}

// sqlValueFunctions names the SQL value functions (CURRENT_DATE, USER, ...)
// by their keywords.
var sqlValueFunctions = map[pg.SQLValueFunctionOp]string{
	pg.SQLValueFunctionOp_SVFOP_CURRENT_DATE:        "current_date",
	pg.SQLValueFunctionOp_SVFOP_CURRENT_TIME:        "current_time",
	pg.SQLValueFunctionOp_SVFOP_CURRENT_TIME_N:      "current_time",
	pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP:   "current_timestamp",
	pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP_N: "current_timestamp",
	pg.SQLValueFunctionOp_SVFOP_LOCALTIME:           "localtime",
	pg.SQLValueFunctionOp_SVFOP_LOCALTIME_N:         "localtime",
	pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP:      "localtimestamp",
	pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP_N:    "localtimestamp",
	pg.SQLValueFunctionOp_SVFOP_CURRENT_ROLE:        "current_role",
	pg.SQLValueFunctionOp_SVFOP_CURRENT_USER:        "current_user",
	pg.SQLValueFunctionOp_SVFOP_USER:                "user",
	pg.SQLValueFunctionOp_SVFOP_SESSION_USER:        "session_user",
	pg.SQLValueFunctionOp_SVFOP_CURRENT_CATALOG:     "current_catalog",
	pg.SQLValueFunctionOp_SVFOP_CURRENT_SCHEMA:      "current_schema",
}

func (c *converter) sqlValueFunction(f *pg.SQLValueFunction) *ast.FuncCall {
	name, ok := sqlValueFunctions[f.GetOp()]
	if !ok {
		fail(CodeSyntaxError, c.at(f.GetLocation()), "unknown SQL value function")
	}
	call := &ast.FuncCall{Name: []string{name}, Pos: loc(f.GetLocation())}
	if strings.HasSuffix(f.GetOp().String(), "_N") && f.GetTypmod() >= 0 {
		p := int64(f.GetTypmod())
		call.Args = []ast.Expr{&ast.Literal{Kind: ast.LitInt, Text: strconv.FormatInt(p, 10), Int: p, Pos: -1}}
	}
	return call
}

func (c *converter) typeName(t *pg.TypeName) *ast.TypeName {
	if t == nil {
		fail(CodeSyntaxError, c.stmtPos, "missing type name")
	}
	errPos := c.at(t.GetLocation())
	switch {
	case t.GetSetof():
		unsupported(errPos, "SETOF is not supported")
	case t.GetPctType():
		unsupported(errPos, "%%TYPE is not supported")
	}
	tn := &ast.TypeName{Names: c.strings(t.GetNames(), errPos), ArrayBounds: len(t.GetArrayBounds()), Pos: loc(t.GetLocation())}
	for _, m := range t.GetTypmods() {
		iv, ok := m.GetAConst().GetVal().(*pg.A_Const_Ival)
		if !ok {
			switch m.GetNode().(type) {
			case *pg.Node_AConst, *pg.Node_ColumnRef:
				unsupported(c.exprPos(m), "type modifiers other than integers are not supported")
			}
			fail(CodeSyntaxError, c.exprPos(m), "type modifiers must be simple constants or identifiers")
		}
		tn.Mods = append(tn.Mods, int(iv.Ival.GetIval()))
	}
	return tn
}

func (c *converter) constant(a *pg.A_Const) *ast.Literal {
	pos := loc(a.GetLocation())
	if a.GetIsnull() {
		return &ast.Literal{Kind: ast.LitNull, Text: "NULL", Pos: pos}
	}
	switch v := a.GetVal().(type) {
	case *pg.A_Const_Ival:
		n := int64(v.Ival.GetIval())
		return &ast.Literal{Kind: ast.LitInt, Text: strconv.FormatInt(n, 10), Int: n, Pos: pos}
	case *pg.A_Const_Fval:
		return numericLiteral(v.Fval.GetFval(), pos)
	case *pg.A_Const_Sval:
		return &ast.Literal{Kind: ast.LitString, Text: v.Sval.GetSval(), Pos: pos}
	case *pg.A_Const_Boolval:
		b := v.Boolval.GetBoolval()
		return &ast.Literal{Kind: ast.LitBool, Text: strconv.FormatBool(b), Bool: b, Pos: pos}
	case *pg.A_Const_Bsval:
		unsupported(c.at(a.GetLocation()), "bit-string constants are not supported")
	}
	fail(CodeSyntaxError, c.at(a.GetLocation()), "malformed constant")
	return nil
}

// numericLiteral makes a literal of a number PostgreSQL did not read as an
// int4: an integer that fits int64 becomes LitInt, anything else (decimals,
// exponents, huge integers) LitNumeric. Underscores between digits (1_000)
// are dropped; hexadecimal, octal and binary integers (0x1F) are read.
func numericLiteral(text string, pos int) *ast.Literal {
	clean := strings.ReplaceAll(text, "_", "")
	if n, ok := parseInteger(clean); ok {
		return &ast.Literal{Kind: ast.LitInt, Text: strconv.FormatInt(n, 10), Int: n, Pos: pos}
	}
	return &ast.Literal{Kind: ast.LitNumeric, Text: clean, Pos: pos}
}

// parseInteger reads PostgreSQL integer syntax into an int64.
func parseInteger(s string) (int64, bool) {
	digits := strings.TrimPrefix(s, "-")
	if len(digits) > 1 && digits[0] == '0' && strings.ContainsRune("xXoObB", rune(digits[1])) {
		n, err := strconv.ParseInt(s, 0, 64)
		return n, err == nil
	}
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}
