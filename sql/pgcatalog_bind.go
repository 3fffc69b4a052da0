package sql

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/sql/ast"
)

// Binding of what catalog queries are made of: arrays (ARRAY[…],
// ARRAY(SELECT …), a[i], x = ANY(a)), records ((r).field), casts to the
// object identifier types (::regclass, ::regtype, ::regproc, ::oid) and
// the system information functions that read the catalog.

// bindCatalogExpr binds the expressions above; ok is false for any other
// expression, which the caller binds.
func (b *binder) bindCatalogExpr(sc *scope, e ast.Expr) (expr.Expr, bool, error) {
	switch e := e.(type) {
	case *ast.Cast:
		if !b.catalogCast(e.Type) {
			return nil, false, nil
		}
		x, err := b.expr(sc, e.X)
		if err != nil {
			return nil, true, err
		}
		c, err := b.castTo(x, e.Type)
		return c, true, errAt(e.Type.Pos, err)
	case *ast.ArrayExpr:
		elems := make([]expr.Expr, len(e.Elems))
		for i, el := range e.Elems {
			x, err := b.expr(sc, el)
			if err != nil {
				return nil, true, err
			}
			elems[i] = x
		}
		x, err := expr.ArrayOf(elems)
		return x, true, err
	case *ast.ArraySubquery:
		x, err := b.bindApply(sc, e.Query, applyArray, nil, e.String())
		return x, true, err
	case *ast.AnyAll:
		x, err := b.expr(sc, e.X)
		if err != nil {
			return nil, true, err
		}
		if e.Query != nil {
			return nil, true, sqlerr.New(sqlerr.FeatureNotSupported, "%s ANY/ALL (subquery) is not supported; use IN or EXISTS", e.Op)
		}
		arr, err := b.expr(sc, e.Array)
		if err != nil {
			return nil, true, err
		}
		r, err := expr.AnyAll(e.Op, x, arr, e.All)
		return r, true, err
	case *ast.Subscript:
		if e.Slice {
			return nil, true, sqlerr.New(sqlerr.FeatureNotSupported, "array slices are not supported")
		}
		x, err := b.expr(sc, e.X)
		if err != nil {
			return nil, true, err
		}
		i, err := b.expr(sc, e.Index)
		if err != nil {
			return nil, true, err
		}
		r, err := expr.Subscript(x, i)
		return r, true, err
	case *ast.FieldSelect:
		x, err := b.expr(sc, e.X)
		if err != nil {
			return nil, true, err
		}
		r, err := expr.Field(x, e.Field)
		return r, true, err
	case *ast.Binary:
		switch e.Op {
		case "&", "|", "#", "<<", ">>":
			l, err := b.expr(sc, e.L)
			if err != nil {
				return nil, true, err
			}
			r, err := b.expr(sc, e.R)
			if err != nil {
				return nil, true, err
			}
			x, err := expr.Bitwise(e.Op, l, r)
			return x, true, err
		}
	case *ast.Unary:
		if e.Op == "~" {
			x, err := b.expr(sc, e.X)
			if err != nil {
				return nil, true, err
			}
			r, err := expr.Bitwise("~", x, nil)
			return r, true, err
		}
	}
	return nil, false, nil
}

// regTypes are the object identifier types whose text is a name.
var regTypes = map[string]bool{
	"regclass": true, "regtype": true, "regproc": true, "regprocedure": true, "regnamespace": true,
	"regrole": true, "regoper": true, "regoperator": true, "regconfig": true, "regdictionary": true,
	"regcollation": true,
}

// typeBaseName is a type name without pg_catalog, lower case.
func typeBaseName(tn *ast.TypeName) string {
	names := tn.Names
	if len(names) == 2 && strings.EqualFold(names[0], "pg_catalog") {
		names = names[1:]
	}
	return strings.ToLower(strings.Join(names, " "))
}

// catalogCast reports whether a cast is one this file binds: to an
// array, to an object identifier type, or to a type the expression
// library does not name (oid, name's kin, int2vector, …).
func (b *binder) catalogCast(tn *ast.TypeName) bool {
	if tn.ArrayBounds > 0 || regTypes[typeBaseName(tn)] {
		return true
	}
	_, err := expr.ParseTypeName(tn.Names, tn.Mods)
	return err != nil && lookupPgType(tn.Names) != nil
}

// typeOf resolves a type name to the Arrow type that carries it.
func (b *binder) typeOf(tn *ast.TypeName) (arrow.DataType, error) {
	var t arrow.DataType
	if regTypes[typeBaseName(tn)] {
		t = arrow.PrimitiveTypes.Int64
	} else if pt, err := expr.ParseTypeName(tn.Names, tn.Mods); err == nil {
		t = pt
	} else if p := lookupPgType(tn.Names); p != nil {
		at, ok := pgArrowType(p.oid)
		if !ok {
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "type %s is not supported", p.name)
		}
		t = at
	} else {
		return nil, err
	}
	if tn.ArrayBounds > 0 {
		if expr.IsList(t) {
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "multidimensional arrays are not supported")
		}
		t = expr.ListOf(t)
	}
	return t, nil
}

// castTo casts x to a type named as catalog queries name them.
func (b *binder) castTo(x expr.Expr, tn *ast.TypeName) (expr.Expr, error) {
	if reg := typeBaseName(tn); regTypes[reg] && tn.ArrayBounds == 0 {
		return b.regCast(x, reg)
	}
	t, err := b.typeOf(tn)
	if err != nil {
		return nil, err
	}
	return expr.Cast(x, t)
}

// regCast casts to an object identifier type. A name (text) becomes the
// object's OID, resolved now for a constant; an OID becomes the object's
// name as the type's output function writes it (so c.oid::regclass shows
// the relation's name).
func (b *binder) regCast(x expr.Expr, reg string) (expr.Expr, error) {
	c := b.pgCatalog(b.ctx)
	var toOID func(name string) (int64, error)
	var toName func(oid int64) string
	switch reg {
	case "regclass":
		toOID = func(name string) (int64, error) {
			parts := parseQualified(name)
			schemaName := ""
			if len(parts) == 2 {
				schemaName = parts[0]
			}
			if r := c.lookup(schemaName, parts[len(parts)-1]); r != nil && len(parts) <= 2 {
				return r.oid, nil
			}
			return 0, sqlerr.New(sqlerr.UndefinedTable, "relation \"%s\" does not exist", name)
		}
		toName = c.regclassName
	case "regtype":
		rowTypes := c.rowTypes()
		toOID = func(name string) (int64, error) {
			if oid, ok := c.typeByName(name); ok {
				return oid, nil
			}
			return 0, sqlerr.New(sqlerr.UndefinedObject, "type \"%s\" does not exist", name)
		}
		toName = func(oid int64) string { return formatType(oid, -1, rowTypes) }
	case "regproc", "regprocedure":
		// Kept as names (pg_type.typinput and its kin are text here), so
		// that typinput = 'array_in'::regproc compares names.
		return b.regprocCast(x, c)
	case "regnamespace":
		toOID = func(name string) (int64, error) {
			if oid := nspOID(strings.Trim(name, `"`)); oid != 0 {
				return oid, nil
			}
			return 0, sqlerr.New(sqlerr.UndefinedObject, "schema \"%s\" does not exist", name)
		}
		toName = func(oid int64) string {
			if n := nspName(oid); n != "" {
				return quoteIdentIfNeeded(n)
			}
			return fmt.Sprint(oid)
		}
	case "regrole":
		user := b.s.user()
		toOID = func(name string) (int64, error) {
			switch strings.Trim(name, `"`) {
			case user:
				return oidSuperuser, nil
			case "pg_database_owner":
				return oidDatabaseOwner, nil
			}
			return 0, sqlerr.New(sqlerr.UndefinedObject, "role \"%s\" does not exist", name)
		}
		toName = func(oid int64) string { return roleName(oid, user) }
	default:
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "type %s is not supported", reg)
	}
	return regConvert(x, reg, toOID, toName)
}

// regConvert applies a name-to-OID or OID-to-name conversion by the type
// of x.
func regConvert(x expr.Expr, reg string, byName func(string) (int64, error), toName func(int64) string) (expr.Expr, error) {
	toOID := func(s string) (int64, error) {
		if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
			return n, nil // the input functions take a number as the OID itself
		}
		return byName(s)
	}
	if isTextual(x) {
		if v, ok := constantText(x); ok {
			if v == nil {
				return expr.Null(arrow.PrimitiveTypes.Int64), nil
			}
			oid, err := toOID(*v)
			if err != nil {
				return nil, err
			}
			return expr.Lit(oid, arrow.PrimitiveTypes.Int64), nil
		}
		tx, err := expr.ImplicitCast(x, arrow.BinaryTypes.String)
		if err != nil {
			return nil, err
		}
		return expr.GoFunc(reg, []expr.Expr{tx}, arrow.PrimitiveTypes.Int64, true, func(_ *expr.Context, a []any) (any, error) {
			return toOID(a[0].(string))
		}), nil
	}
	ox, err := expr.ImplicitCast(x, arrow.PrimitiveTypes.Int64)
	if err != nil {
		return nil, sqlerr.New(sqlerr.CannotCoerce, "cannot cast type %s to %s", expr.TypeName(x.Type()), reg)
	}
	return expr.GoFunc(reg, []expr.Expr{ox}, arrow.BinaryTypes.String, true, func(_ *expr.Context, a []any) (any, error) {
		return toName(a[0].(int64)), nil
	}), nil
}

// regprocCast casts to regproc: a name stays a name (without its
// pg_catalog qualification), an OID becomes its function's name.
func (b *binder) regprocCast(x expr.Expr, c *pgCatalog) (expr.Expr, error) {
	find := func(name string) (string, error) {
		parts := parseQualified(strings.TrimSuffix(strings.SplitN(name, "(", 2)[0], " "))
		n := parts[len(parts)-1]
		if name == "-" {
			return "-", nil
		}
		for _, p := range c.procs {
			if p.name == n {
				return n, nil
			}
		}
		return "", sqlerr.New(sqlerr.UndefinedFunction, "function \"%s\" does not exist", name)
	}
	if isTextual(x) {
		if v, ok := constantText(x); ok {
			if v == nil {
				return expr.Null(arrow.BinaryTypes.String), nil
			}
			n, err := find(*v)
			if err != nil {
				return nil, err
			}
			return expr.Lit(n, arrow.BinaryTypes.String), nil
		}
		tx, err := expr.ImplicitCast(x, arrow.BinaryTypes.String)
		if err != nil {
			return nil, err
		}
		return expr.GoFunc("regproc", []expr.Expr{tx}, arrow.BinaryTypes.String, true, func(_ *expr.Context, a []any) (any, error) {
			return find(a[0].(string))
		}), nil
	}
	ox, err := expr.ImplicitCast(x, arrow.PrimitiveTypes.Int64)
	if err != nil {
		return nil, sqlerr.New(sqlerr.CannotCoerce, "cannot cast type %s to regproc", expr.TypeName(x.Type()))
	}
	return expr.GoFunc("regproc", []expr.Expr{ox}, arrow.BinaryTypes.String, true, func(_ *expr.Context, a []any) (any, error) {
		oid := a[0].(int64)
		if oid == 0 {
			return "-", nil
		}
		for _, p := range c.procs {
			if p.oid == oid {
				return p.name, nil
			}
		}
		return fmt.Sprint(oid), nil
	}), nil
}

// isTextual reports whether x is text or an untyped literal.
func isTextual(x expr.Expr) bool {
	if l, ok := x.(*expr.Literal); ok && l.Untyped() {
		return true
	}
	return x.Type().ID() == arrow.STRING
}

// constantText is the value of a constant text expression (nil for NULL).
func constantText(x expr.Expr) (*string, bool) {
	v, ok := expr.ConstantValue(x)
	if !ok {
		return nil, false
	}
	if v == nil {
		return nil, true
	}
	s, ok := v.(string)
	return &s, ok
}

// typeByName resolves a type name as regtype input reads it.
func (c *pgCatalog) typeByName(name string) (int64, bool) {
	s := strings.TrimSpace(strings.ToLower(name))
	arr := strings.HasSuffix(s, "[]")
	s = strings.TrimSpace(strings.TrimSuffix(s, "[]"))
	if i := strings.IndexByte(s, '('); i > 0 { // varchar(10)
		s = strings.TrimSpace(s[:i])
	}
	parts := parseQualified(s)
	var oid int64
	if t := lookupPgType(parts); t != nil {
		oid = t.oid
	} else {
		for _, r := range c.tables {
			if r.name == parts[len(parts)-1] {
				oid = r.rowType
			}
		}
	}
	if oid == 0 {
		return 0, false
	}
	if arr {
		t := pgTypeByOID[oid]
		if t == nil || t.array == 0 {
			return 0, false
		}
		oid = t.array
	}
	return oid, true
}
