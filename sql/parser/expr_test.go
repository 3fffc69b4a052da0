package parser

import (
	"reflect"
	"testing"

	"github.com/dormousedb/dormouse/sql/ast"
)

// TestExpressions parses each expression form and checks its canonical
// format and round trip.
func TestExpressions(t *testing.T) {
	tests := []struct{ expr, want string }{
		// Literals and parameters
		{"-5", "-5"},
		{"- 5", "-5"},
		{"-(-5)", "5"},
		{"1.5", "1.5"},
		{".5", ".5"},
		{"1e10", "1e10"},
		{"99999999999", "99999999999"},
		{"-9223372036854775808", "-9223372036854775808"},
		{"9223372036854775808", "9223372036854775808"},
		{"1_000_000", "1000000"},
		{"0x1F", "31"},
		{"0xFFFFFFFFFFFFFFFFFF", "0xFFFFFFFFFFFFFFFFFF"},
		{"'it''s'", "'it''s'"},
		{`E'a\tb\\c'`, "'a\tb\\c'"},
		{`U&'\0041'`, "'A'"},
		{"$1", "$1"},
		{"true", "TRUE"},
		{"FALSE", "FALSE"},
		{"null", "NULL"},

		// Arithmetic and precedence
		{"a + b * c", "a + b * c"},
		{"(a + b) * c", "(a + b) * c"},
		{"a - (b - c)", "a - (b - c)"},
		{"(a - b) - c", "a - b - c"},
		{"a ^ b ^ c", "a ^ b ^ c"},
		{"a ^ (b ^ c)", "a ^ (b ^ c)"},
		{"a / b % c", "a / b % c"},
		{"-a", "-a"},
		{"+a", "+a"},
		{"- -a", "- -a"},
		{"2 - -5", "2 - -5"},
		{"-5 ^ 2", "-5 ^ 2"},
		{"-(a ^ 2)", "-(a ^ 2)"},
		{"(-5)::text", "(-5)::text"},
		{"-(5::text)", "-5::text"},
		{"-a[1]", "-a[1]"},
		{"-(a COLLATE \"C\")", `-(a COLLATE "C")`},
		{"a::int + 1", "a::integer + 1"},
		{"(a + 1)::int", "(a + 1)::integer"},

		// Comparison, logic, pattern matching
		{"a != b", "a <> b"},
		{"a <= b AND a >= c", "a <= b AND a >= c"},
		{"(a = b) = c", "(a = b) = c"},
		{"a = (b = c)", "a = (b = c)"},
		{"a AND b OR c", "a AND b OR c"},
		{"a AND (b OR c)", "a AND (b OR c)"},
		{"a AND (b AND c)", "a AND (b AND c)"},
		{"NOT a AND b", "NOT a AND b"},
		{"NOT (a AND b)", "NOT (a AND b)"},
		{"NOT NOT a", "NOT NOT a"},
		{"NOT a = b", "NOT a = b"},
		{"(NOT a) = b", "(NOT a) = b"},
		{"a || b || c", "a || b || c"},
		{"a || (b || c)", "a || (b || c)"},
		{"a LIKE 'x%'", "a LIKE 'x%'"},
		{"a ~~ 'x%'", "a LIKE 'x%'"},
		{"a NOT LIKE 'x'", "a NOT LIKE 'x'"},
		{"a ILIKE 'y'", "a ILIKE 'y'"},
		{"a !~~* 'y'", "a NOT ILIKE 'y'"},
		{"a LIKE 'x!%' ESCAPE '!'", "a LIKE 'x!%' ESCAPE '!'"},
		{"a || 'x' LIKE b || '%'", "a || 'x' LIKE b || '%'"},
		{"a ~ '^x'", "a ~ '^x'"},
		{"a ~* 'x'", "a ~* 'x'"},
		{"a !~ 'x'", "a !~ 'x'"},
		{"a !~* 'x'", "a !~* 'x'"},
		{"a OPERATOR(pg_catalog.~) 'x'", "a ~ 'x'"},
		{"a @> b", "a @> b"},
		{"a << 2 + 1", "a << 2 + 1"},
		{"(a << 2) + 1", "(a << 2) + 1"},
		{"|/ a", "|/ a"},
		{"~~ 0", "~~ 0"},
		{"a OPERATOR(pg_catalog.~~) b", "a LIKE b"},
		{"~ a || b", "~ a || b"},
		{"(~ a) || b", "~ a || b"},
		{"~ (a || b)", "~ (a || b)"},
		{"~ a + b", "~ a + b"},
		{"(~ a) + b", "(~ a) + b"},
		{"a IS DISTINCT FROM b", "a IS DISTINCT FROM b"},
		{"a IS NOT DISTINCT FROM b + 1", "a IS NOT DISTINCT FROM b + 1"},
		{"a IS NULL", "a IS NULL"},
		{"a ISNULL", "a IS NULL"},
		{"a NOTNULL", "a IS NOT NULL"},
		{"(a IS NULL) IS NULL", "(a IS NULL) IS NULL"},
		{"a < b IS TRUE", "a < b IS TRUE"},
		{"a IS NOT FALSE", "a IS NOT FALSE"},
		{"a IS UNKNOWN", "a IS UNKNOWN"},
		{"a IS NOT UNKNOWN", "a IS NOT UNKNOWN"},
		{"NOT a IS NULL", "NOT a IS NULL"},

		// BETWEEN, IN, subqueries
		{"a BETWEEN 1 AND 10", "a BETWEEN 1 AND 10"},
		{"a NOT BETWEEN SYMMETRIC b + 1 AND c * 2", "a NOT BETWEEN SYMMETRIC (b + 1) AND (c * 2)"},
		{"a BETWEEN -1 AND 1", "a BETWEEN -1 AND 1"},
		{"a BETWEEN (b COLLATE \"C\") AND c", `a BETWEEN (b COLLATE "C") AND c`},
		{"a IN (1, 2, 3)", "a IN (1, 2, 3)"},
		{"a NOT IN ('x', 'y')", "a NOT IN ('x', 'y')"},
		{"a IN (SELECT b FROM t)", "a IN (SELECT b FROM t)"},
		{"a NOT IN (SELECT b FROM t)", "a NOT IN (SELECT b FROM t)"},
		{"NOT (a IN (SELECT b FROM t))", "a NOT IN (SELECT b FROM t)"},
		{"NOT (a NOT IN (SELECT b FROM t))", "NOT a NOT IN (SELECT b FROM t)"},
		{"(a, b) IN (SELECT x, y FROM t)", "ROW(a, b) IN (SELECT x, y FROM t)"},
		{"EXISTS (SELECT 1)", "EXISTS (SELECT 1)"},
		{"NOT EXISTS (SELECT 1 FROM t WHERE t.a = u.a)", "NOT EXISTS (SELECT 1 FROM t WHERE t.a = u.a)"},
		{"(SELECT max(a) FROM t)", "(SELECT max(a) FROM t)"},
		{"ARRAY(SELECT a FROM t ORDER BY 1)", "ARRAY(SELECT a FROM t ORDER BY 1)"},
		{"a = ANY(ARRAY[1, 2])", "a = ANY (ARRAY[1, 2])"},
		{"a = ANY($1)", "a = ANY ($1)"},
		{"a <> ALL(b)", "a <> ALL (b)"},
		{"a = SOME(c)", "a = ANY (c)"},
		{"a LIKE ANY(ARRAY['a%', 'b%'])", "a LIKE ANY (ARRAY['a%', 'b%'])"},
		{"a > ALL (SELECT b FROM t)", "a > ALL (SELECT b FROM t)"},
		{"a = ANY (SELECT b FROM t)", "a = ANY (SELECT b FROM t)"},

		// CASE and casts
		{"CASE WHEN a > 0 THEN 'pos' WHEN a < 0 THEN 'neg' ELSE 'zero' END", "CASE WHEN a > 0 THEN 'pos' WHEN a < 0 THEN 'neg' ELSE 'zero' END"},
		{"CASE a WHEN 1 THEN 'one' END", "CASE a WHEN 1 THEN 'one' END"},
		{"a::int", "a::integer"},
		{"CAST(a AS varchar(10))", "a::varchar(10)"},
		{"a::character varying", "a::varchar"},
		{"a::numeric(10,2)", "a::numeric(10, 2)"},
		{"a::decimal", "a::numeric"},
		{"a::text[]", "a::text[]"},
		{"a::int[][]", "a::integer[][]"},
		{"a::pg_catalog.int2[]", "a::smallint[]"},
		{"a::pg_catalog.int4(5)", "a::pg_catalog.int4(5)"},
		{"'1'::interval", "'1'::interval"},
		{"INTERVAL '1 day'", "'1 day'::interval"},
		{"INTERVAL '1' DAY", "'1'::interval day"},
		{"INTERVAL '1-2' YEAR TO MONTH", "'1-2'::interval year to month"},
		{"INTERVAL '1:2' HOUR TO MINUTE", "'1:2'::interval hour to minute"},
		{"INTERVAL '1' DAY TO SECOND(3)", "'1'::interval day to second(3)"},
		{"INTERVAL '1' SECOND(3)", "'1'::interval second(3)"},
		{"INTERVAL(3) '1'", "'1'::interval(3)"},
		{"DATE '2020-01-01'", "'2020-01-01'::date"},
		{"TIMESTAMP '2020-01-01'", "'2020-01-01'::timestamp"},
		{"TIMESTAMP WITH TIME ZONE '2020-01-01'", "'2020-01-01'::timestamp with time zone"},
		{"a::timestamp(3) with time zone", "a::timestamp(3) with time zone"},
		{"a::time(0) without time zone", "a::time(0)"},
		{"a::bit(3)", "a::bit(3)"},
		{"a::bit", "a::bit(1)"},
		{"a::bit varying(4)", "a::bit varying(4)"},
		{"a::char", "a::char(1)"},
		{"a::\"char\"", "a::\"char\""},
		{"a::bpchar", "a::bpchar"},
		{"a::pg_catalog.bpchar", "a::pg_catalog.bpchar"},
		{"a::double precision", "a::double precision"},
		{"a::float(10)", "a::real"},
		{"a::bool", "a::bool"},
		{"a::boolean", "a::boolean"},
		{"'pg_class'::regclass", "'pg_class'::regclass"},
		{"'x'::pg_catalog.regtype::pg_catalog.text", "'x'::pg_catalog.regtype::pg_catalog.text"},

		// Function calls
		{"count(*)", "count(*)"},
		{"count(DISTINCT a)", "count(DISTINCT a)"},
		{"sum(a) FILTER (WHERE a > 0)", "sum(a) FILTER (WHERE a > 0)"},
		{"count(*) FILTER (WHERE a) OVER w", "count(*) FILTER (WHERE a) OVER w"},
		{"string_agg(a, ',' ORDER BY b DESC)", "string_agg(a, ',' ORDER BY b DESC)"},
		{"percentile_cont(0.5) WITHIN GROUP (ORDER BY a)", "percentile_cont(0.5) WITHIN GROUP (ORDER BY a)"},
		{"pg_catalog.lower(a)", "pg_catalog.lower(a)"},
		{`"left"(a, 2)`, "left(a, 2)"},
		{`"Upper"(a)`, `"Upper"(a)`},
		{"now()", "now()"},
		{"coalesce(a, b, 0)", "coalesce(a, b, 0)"},
		{"nullif(a, '')", "nullif(a, '')"},
		{"greatest(a, b)", "greatest(a, b)"},
		{"least(a, b)", "least(a, b)"},
		{`"coalesce"()`, `"coalesce"()`},
		{"current_date", "CURRENT_DATE"},
		{"current_time(2)", "CURRENT_TIME(2)"},
		{"current_timestamp", "CURRENT_TIMESTAMP"},
		{"current_timestamp(3)", "CURRENT_TIMESTAMP(3)"},
		{"localtime", "LOCALTIME"},
		{"localtimestamp(0)", "LOCALTIMESTAMP(0)"},
		{"current_user", "CURRENT_USER"},
		{"session_user", "SESSION_USER"},
		{"user", "USER"},
		{"current_role", "CURRENT_ROLE"},
		{"current_catalog", "CURRENT_CATALOG"},
		{"current_schema", "CURRENT_SCHEMA"},
		{"current_schema()", "CURRENT_SCHEMA"},
		{"system_user", "pg_catalog.system_user()"},
		{"extract(year FROM ts)", "EXTRACT(year FROM ts)"},
		{"EXTRACT(EPOCH FROM ts)", "EXTRACT(epoch FROM ts)"},
		{"extract('dow' FROM ts)", "EXTRACT(dow FROM ts)"},
		{"extract('Odd Field' FROM ts)", "EXTRACT('Odd Field' FROM ts)"},
		{"date_part('year', ts)", "date_part('year', ts)"},
		{"date_trunc('day', ts)", "date_trunc('day', ts)"},
		{"substring(a FROM 2 FOR 3)", "pg_catalog.substring(a, 2, 3)"},
		{"substring(a, 2, 3)", "substring(a, 2, 3)"},
		{"position('x' IN a)", "pg_catalog.position(a, 'x')"},
		{"trim(both ' ' FROM a)", "pg_catalog.btrim(a, ' ')"},
		{"overlay(a placing 'x' from 2)", "pg_catalog.overlay(a, 'x', 2)"},
		{"ts AT TIME ZONE 'UTC'", "ts AT TIME ZONE 'UTC'"},
		{"ts AT TIME ZONE 'UTC' AT TIME ZONE 'America/New_York'", "ts AT TIME ZONE 'UTC' AT TIME ZONE 'America/New_York'"},
		{"(a + b) AT TIME ZONE 'UTC'", "(a + b) AT TIME ZONE 'UTC'"},
		{"ts AT TIME ZONE ('a' || 'b')", "ts AT TIME ZONE ('a' || 'b')"},
		{"ts AT LOCAL", "ts AT LOCAL"},

		// Arrays, subscripts, fields, collation, rows
		{"ARRAY[1, 2, 3]", "ARRAY[1, 2, 3]"},
		{"ARRAY[[1, 2], [3, 4]]", "ARRAY[ARRAY[1, 2], ARRAY[3, 4]]"},
		{"ARRAY[]::int[]", "ARRAY[]::integer[]"},
		{"a[1]", "a[1]"},
		{"a[1:2]", "a[1:2]"},
		{"a[:2]", "a[:2]"},
		{"a[1][2]", "a[1][2]"},
		{"(current_schemas(true))[1]", "(current_schemas(TRUE))[1]"},
		{"$1[1]", "$1[1]"},
		{"(a).b", "(a).b"},
		{"(information_schema._pg_expandarray(i.indkey)).n", "(information_schema._pg_expandarray(i.indkey)).n"},
		{"(result.KEYS).x", "(result.keys).x"},
		{"a.b[1].c", "(a.b[1]).c"},
		{`a COLLATE "C"`, `a COLLATE "C"`},
		{"a COLLATE pg_catalog.default", "a COLLATE pg_catalog.default"},
		{`(a || b) COLLATE "C"`, `(a || b) COLLATE "C"`},
		{"ROW(1, 2)", "ROW(1, 2)"},
		{"(1, 2)", "ROW(1, 2)"},
		{"ROW()", "ROW()"},
		{"count(t.*)", "count(t.*)"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			e, err := ParseExpr(tt.expr)
			if err != nil {
				t.Fatalf("ParseExpr(%q): %v", tt.expr, err)
			}
			if got := ast.Format(e); got != tt.want {
				t.Errorf("Format(ParseExpr(%q))\n got: %s\nwant: %s", tt.expr, got, tt.want)
			}
			stmt, err := ParseOne("SELECT " + tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			checkRoundTrip(t, stmt)
		})
	}
}

// TestExpressionShapes checks the trees of the expressions whose shape the
// binder relies on.
func TestExpressionShapes(t *testing.T) {
	tests := []struct {
		expr string
		want ast.Expr
	}{
		{"42", &ast.Literal{Kind: ast.LitInt, Text: "42", Int: 42}},
		{"-42", &ast.Literal{Kind: ast.LitInt, Text: "-42", Int: -42}},
		{"5000000000", &ast.Literal{Kind: ast.LitInt, Text: "5000000000", Int: 5000000000}},
		{"1.50", &ast.Literal{Kind: ast.LitNumeric, Text: "1.50"}},
		{"'x'", &ast.Literal{Kind: ast.LitString, Text: "x"}},
		{"true", &ast.Literal{Kind: ast.LitBool, Text: "true", Bool: true}},
		{"NULL", &ast.Literal{Kind: ast.LitNull, Text: "NULL"}},
		{"$3", &ast.Param{N: 3}},
		{"t.a", &ast.ColumnRef{Parts: []string{"t", "a"}}},
		{"a OPERATOR(pg_catalog.~) b", &ast.Binary{Op: "~", L: col("a"), R: col("b")}},
		{"a != b", &ast.Binary{Op: ast.OpNe, L: col("a"), R: col("b")}},
		{"a AND b AND c", &ast.Binary{Op: ast.OpAnd, L: &ast.Binary{Op: ast.OpAnd, L: col("a"), R: col("b")}, R: col("c")}},
		{"NOT a", &ast.Unary{Op: ast.OpNot, X: col("a")}},
		{"a NOT ILIKE b", &ast.Binary{Op: ast.OpNotILike, L: col("a"), R: col("b")}},
		{"a LIKE b ESCAPE c", &ast.Binary{Op: ast.OpLike, L: col("a"), R: &ast.FuncCall{Name: []string{"pg_catalog", "like_escape"}, Args: []ast.Expr{col("b"), col("c")}}}},
		{"a IS NOT DISTINCT FROM b", &ast.Binary{Op: ast.OpIsNotDistinctFrom, L: col("a"), R: col("b")}},
		{"a IS NOT TRUE", &ast.IsBool{X: col("a"), Test: ast.IsTrue, Not: true}},
		{"a NOT BETWEEN SYMMETRIC b AND c", &ast.Between{X: col("a"), Lo: col("b"), Hi: col("c"), Not: true, Symmetric: true}},
		{"a NOT IN (b)", &ast.In{X: col("a"), List: []ast.Expr{col("b")}, Not: true}},
		{"a = ANY($1)", &ast.AnyAll{X: col("a"), Op: "=", Array: &ast.Param{N: 1}}},
		{"coalesce(a, b)", &ast.FuncCall{Name: []string{"coalesce"}, Args: []ast.Expr{col("a"), col("b")}}},
		{"nullif(a, b)", &ast.FuncCall{Name: []string{"nullif"}, Args: []ast.Expr{col("a"), col("b")}}},
		{"greatest(a)", &ast.FuncCall{Name: []string{"greatest"}, Args: []ast.Expr{col("a")}}},
		{"CURRENT_TIMESTAMP(3)", &ast.FuncCall{Name: []string{"current_timestamp"}, Args: []ast.Expr{&ast.Literal{Kind: ast.LitInt, Text: "3", Int: 3}}}},
		{"EXTRACT(YEAR FROM a)", &ast.FuncCall{Name: []string{"pg_catalog", "extract"}, Args: []ast.Expr{&ast.Literal{Kind: ast.LitString, Text: "year"}, col("a")}}},
		{"a AT TIME ZONE 'UTC'", &ast.AtTimeZone{X: col("a"), Zone: &ast.Literal{Kind: ast.LitString, Text: "UTC"}}},
		{"INTERVAL '1 day'", &ast.Cast{X: &ast.Literal{Kind: ast.LitString, Text: "1 day"}, Type: &ast.TypeName{Names: []string{"pg_catalog", "interval"}}}},
		{"a::varchar(10)[]", &ast.Cast{X: col("a"), Type: &ast.TypeName{Names: []string{"pg_catalog", "varchar"}, Mods: []int{10}, ArrayBounds: 1}}},
		{"(f(x))[1]", &ast.Subscript{X: &ast.FuncCall{Name: []string{"f"}, Args: []ast.Expr{col("x")}}, Index: &ast.Literal{Kind: ast.LitInt, Text: "1", Int: 1}}},
		{"(x).f", &ast.FieldSelect{X: col("x"), Field: "f"}},
		{"x COLLATE pg_catalog.default", &ast.Collate{X: col("x"), Collation: []string{"pg_catalog", "default"}}},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got, err := ParseExpr(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			stripPositions(reflect.ValueOf(got))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseExpr(%q)\n got: %s\nwant: %s", tt.expr, dump(got), dump(tt.want))
			}
		})
	}
}

func col(parts ...string) *ast.ColumnRef { return &ast.ColumnRef{Parts: parts} }
