package sql

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// The system information functions that read the catalog or the session:
// visibility, names of OIDs, definitions, sizes, settings. (Those that
// need only their arguments — has_table_privilege, pg_encoding_to_char,
// pg_get_expr — are in engine/expr.)

// roleName is pg_get_userbyid.
func roleName(oid int64, user string) string {
	switch oid {
	case oidSuperuser:
		return user
	case oidDatabaseOwner:
		return "pg_database_owner"
	}
	return fmt.Sprintf("unknown (OID=%d)", oid)
}

// oidArg casts a function's OID argument.
func oidArg(x expr.Expr) (expr.Expr, error) {
	if isTextual(x) {
		if v, ok := constantText(x); ok && v != nil {
			// A relation name where a regclass is expected:
			// pg_relation_is_publishable('16384') is an OID in text.
			return expr.Cast(x, arrow.PrimitiveTypes.Int64)
		}
	}
	return expr.ImplicitCast(x, arrow.PrimitiveTypes.Int64)
}

// catalogCall binds the system information functions that read the
// catalog or the session; ok is false for other names.
func (b *binder) catalogCall(name string, args []expr.Expr) (expr.Expr, bool, error) {
	text, i8, i4, boolean := arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Int32, arrow.FixedWidthTypes.Boolean
	nargs := func(lo, hi int) error {
		if len(args) < lo || len(args) > hi {
			return sqlerr.New(sqlerr.UndefinedFunction, "function %s with %d arguments does not exist", name, len(args))
		}
		return nil
	}
	// oidFunc is a function of an OID (and arguments it ignores).
	oidFunc := func(lo, hi int, ret arrow.DataType, fn func(c *pgCatalog, oid int64, rest []any) any) (expr.Expr, bool, error) {
		if err := nargs(lo, hi); err != nil {
			return nil, true, err
		}
		cast := append([]expr.Expr(nil), args...)
		o, err := oidArg(args[0])
		if err != nil {
			return nil, true, err
		}
		cast[0] = o
		c := b.pgCatalog(b.ctx)
		return expr.GoFunc(name, cast, ret, false, func(_ *expr.Context, a []any) (any, error) {
			if a[0] == nil {
				return nil, nil
			}
			return fn(c, a[0].(int64), a[1:]), nil
		}), true, nil
	}
	switch name {
	case "current_schemas":
		if err := nargs(1, 1); err != nil {
			return nil, true, err
		}
		arg, err := expr.ImplicitCast(args[0], boolean)
		if err != nil {
			return nil, true, err
		}
		return expr.GoFunc(name, []expr.Expr{arg}, expr.ListOf(text), true, func(_ *expr.Context, a []any) (any, error) {
			if a[0].(bool) {
				return []any{"pg_catalog", "public"}, nil
			}
			return []any{"public"}, nil
		}), true, nil
	case "pg_table_is_visible":
		return oidFunc(1, 1, boolean, func(c *pgCatalog, oid int64, _ []any) any {
			if r := c.byOID[oid]; r != nil {
				return c.visible(r)
			}
			return nil
		})
	case "pg_type_is_visible":
		return oidFunc(1, 1, boolean, func(c *pgCatalog, oid int64, _ []any) any {
			if pgTypeByOID[oid] != nil {
				return true
			}
			if _, ok := c.rowTypes()[oid]; ok {
				return true
			}
			return nil
		})
	case "pg_function_is_visible":
		return oidFunc(1, 1, boolean, func(c *pgCatalog, oid int64, _ []any) any {
			for _, p := range c.procs {
				if p.oid == oid {
					return true
				}
			}
			return nil
		})
	case "pg_operator_is_visible", "pg_conversion_is_visible", "pg_ts_config_is_visible", "pg_ts_dict_is_visible",
		"pg_ts_parser_is_visible", "pg_ts_template_is_visible", "pg_collation_is_visible", "pg_opclass_is_visible",
		"pg_opfamily_is_visible", "pg_statistics_obj_is_visible":
		// Objects of kinds Dormouse has none of, or only in pg_catalog.
		return oidFunc(1, 1, boolean, func(*pgCatalog, int64, []any) any { return true })
	case "pg_get_userbyid":
		user := b.s.user()
		return oidFunc(1, 1, text, func(_ *pgCatalog, oid int64, _ []any) any { return roleName(oid, user) })
	case "format_type":
		if err := nargs(2, 2); err != nil {
			return nil, true, err
		}
		o, err := oidArg(args[0])
		if err != nil {
			return nil, true, err
		}
		mod, err := expr.ImplicitCast(args[1], i4)
		if err != nil {
			return nil, true, err
		}
		rowTypes := b.pgCatalog(b.ctx).rowTypes()
		return expr.GoFunc(name, []expr.Expr{o, mod}, text, false, func(_ *expr.Context, a []any) (any, error) {
			if a[0] == nil {
				return nil, nil
			}
			typmod := int32(-1)
			if a[1] != nil {
				typmod = a[1].(int32)
			}
			return formatType(a[0].(int64), typmod, rowTypes), nil
		}), true, nil
	case "pg_get_indexdef":
		return oidFunc(1, 3, text, func(c *pgCatalog, oid int64, rest []any) any {
			r := c.byOID[oid]
			if r == nil || r.kind != 'i' {
				return nil
			}
			col, pretty := 0, false
			if len(rest) > 0 && rest[0] != nil {
				if n, ok := rest[0].(int32); ok {
					col = int(n)
				}
			}
			if len(rest) > 1 && rest[1] != nil {
				pretty, _ = rest[1].(bool)
			}
			return c.indexDef(r, col, pretty)
		})
	case "pg_get_constraintdef":
		return oidFunc(1, 2, text, func(c *pgCatalog, oid int64, _ []any) any {
			if d, ok := c.constraintDef(oid); ok {
				return d
			}
			return nil
		})
	case "obj_description", "shobj_description", "pg_get_viewdef", "pg_get_statisticsobjdef_columns",
		"pg_get_partkeydef", "pg_get_triggerdef", "pg_get_ruledef", "pg_get_serial_sequence":
		// No comments, views over SQL, extended statistics, partitioning,
		// triggers, rules or sequences: NULL, as PostgreSQL gives for
		// objects without them.
		if err := nargs(1, 2); err != nil {
			return nil, true, err
		}
		return expr.Null(text), true, nil
	case "col_description":
		if err := nargs(2, 2); err != nil {
			return nil, true, err
		}
		return expr.Null(text), true, nil
	case "pg_get_function_result", "pg_get_function_arguments", "pg_get_function_identity_arguments":
		return oidFunc(1, 1, text, func(c *pgCatalog, oid int64, _ []any) any {
			for _, p := range c.procs {
				if p.oid != oid {
					continue
				}
				if name == "pg_get_function_result" {
					return formatType(p.ret, -1, nil)
				}
				parts := make([]string, len(p.args))
				for i, a := range p.args {
					parts[i] = formatType(a, -1, nil)
					if p.variadic && i == len(p.args)-1 {
						parts[i] = "VARIADIC " + parts[i] + "[]"
					}
				}
				return strings.Join(parts, ", ")
			}
			return nil
		})
	case "pg_relation_is_publishable":
		return oidFunc(1, 1, boolean, func(c *pgCatalog, oid int64, _ []any) any {
			r := c.byOID[oid]
			return r != nil && r.kind == 'r' && r.def != nil
		})
	case "pg_table_size", "pg_relation_size", "pg_total_relation_size", "pg_indexes_size":
		return oidFunc(1, 2, i8, func(c *pgCatalog, oid int64, _ []any) any {
			r := c.byOID[oid]
			if r == nil {
				return nil
			}
			if r.kind != 'r' || r.def == nil || name == "pg_indexes_size" {
				return int64(0)
			}
			ts, err := c.tableState(r)
			if err != nil {
				return nil
			}
			var bytes int64
			for _, f := range ts.state.SortedFiles() {
				if f.Refs > 0 {
					bytes += f.Bytes
				}
			}
			return bytes
		})
	case "pg_database_size":
		if err := nargs(1, 1); err != nil {
			return nil, true, err
		}
		c := b.pgCatalog(b.ctx)
		return expr.GoFunc(name, args, i8, true, func(_ *expr.Context, _ []any) (any, error) {
			var bytes int64
			for _, t := range c.tables {
				ts, err := c.tableState(t)
				if err != nil {
					return nil, err
				}
				for _, f := range ts.state.SortedFiles() {
					bytes += f.Bytes
				}
			}
			return bytes, nil
		}), true, nil
	case "pg_tablespace_location":
		if err := nargs(1, 1); err != nil {
			return nil, true, err
		}
		return expr.Lit("", text), true, nil
	case "pg_backend_pid":
		if err := nargs(0, 0); err != nil {
			return nil, true, err
		}
		return expr.Lit(int32(b.s.id), i4), true, nil
	case "inet_server_addr", "inet_client_addr":
		return expr.Null(text), true, nil
	case "inet_server_port", "inet_client_port":
		return expr.Null(i4), true, nil
	case "current_setting":
		if err := nargs(1, 2); err != nil {
			return nil, true, err
		}
		tx, err := expr.ImplicitCast(args[0], text)
		if err != nil {
			return nil, true, err
		}
		missingOK := len(args) == 2
		settings := b.s.settings
		return expr.GoFunc(name, []expr.Expr{tx}, text, true, func(_ *expr.Context, a []any) (any, error) {
			k := strings.ToLower(a[0].(string))
			if v, ok := settings[k]; ok {
				return v, nil
			}
			for _, kv := range readOnlySettings {
				if kv[0] == k {
					return kv[1], nil
				}
			}
			if missingOK {
				return nil, nil
			}
			return nil, sqlerr.New(sqlerr.UndefinedObject, "unrecognized configuration parameter \"%s\"", a[0])
		}), true, nil
	}
	if expr.IsSetFunc(name) {
		return nil, true, sqlerr.New(sqlerr.FeatureNotSupported, "set-returning function %s is not allowed here", name)
	}
	return nil, false, nil
}
