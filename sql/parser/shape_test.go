package parser

import (
	"reflect"
	"testing"

	"github.com/dormousedb/dormouse/sql/ast"
)

// TestStatementShapes checks the trees of statements whose shape the binder
// relies on, positions aside.
func TestStatementShapes(t *testing.T) {
	lit := func(n int64) *ast.Literal {
		return &ast.Literal{Kind: ast.LitInt, Text: ast.Format(&ast.Literal{Kind: ast.LitInt, Int: n}), Int: n}
	}
	str := func(s string) *ast.Literal { return &ast.Literal{Kind: ast.LitString, Text: s} }
	sel := func(items ...ast.Expr) *ast.Select {
		s := &ast.Select{}
		for _, e := range items {
			s.Items = append(s.Items, ast.SelectItem{Expr: e})
		}
		return s
	}
	yes := true
	tests := []struct {
		sql  string
		want ast.Stmt
	}{
		{"SELECT 1 UNION ALL SELECT 2 ORDER BY 1 LIMIT 3", &ast.Query{
			Body:    &ast.SetOp{Op: ast.Union, All: true, Left: sel(lit(1)), Right: sel(lit(2))},
			OrderBy: []ast.OrderItem{{Expr: lit(1)}},
			Limit:   lit(3),
		}},
		{"(SELECT 1 LIMIT 1) EXCEPT SELECT 2", &ast.Query{
			Body: &ast.SetOp{Op: ast.Except, Left: &ast.Query{Body: sel(lit(1)), Limit: lit(1)}, Right: sel(lit(2))},
		}},
		{"WITH RECURSIVE x(n) AS (SELECT 1) SELECT n FROM x", &ast.Query{
			With: &ast.With{Recursive: true, CTEs: []ast.CTE{{Name: "x", Columns: []string{"n"}, Query: &ast.Query{Body: sel(lit(1))}}}},
			Body: &ast.Select{Items: []ast.SelectItem{{Expr: col("n")}}, From: []ast.TableExpr{&ast.TableRef{TableName: ast.TableName{Name: "x"}}}},
		}},
		{"SELECT *, t.* FROM s.t AS u(a) LEFT JOIN v USING (a)", &ast.Query{Body: &ast.Select{
			Items: []ast.SelectItem{{Star: true}, {Star: true, Qualifier: []string{"t"}}},
			From: []ast.TableExpr{&ast.Join{
				Kind:  ast.LeftJoin,
				Left:  &ast.TableRef{TableName: ast.TableName{Schema: "s", Name: "t"}, Alias: "u", ColumnAliases: []string{"a"}},
				Right: &ast.TableRef{TableName: ast.TableName{Name: "v"}},
				Using: []string{"a"},
			}},
		}}},
		{"SELECT a FROM t, u", &ast.Query{Body: &ast.Select{
			Items: []ast.SelectItem{{Expr: col("a")}},
			From:  []ast.TableExpr{&ast.TableRef{TableName: ast.TableName{Name: "t"}}, &ast.TableRef{TableName: ast.TableName{Name: "u"}}},
		}}},
		{"VALUES (1, DEFAULT)", &ast.Query{Body: &ast.Values{Rows: [][]ast.Expr{{lit(1), &ast.Default{}}}}}},
		{"INSERT INTO t (a) VALUES (1)", &ast.Insert{
			Table: ast.TableName{Name: "t"}, Columns: []string{"a"},
			Source: &ast.Query{Body: &ast.Values{Rows: [][]ast.Expr{{lit(1)}}}},
		}},
		{"CREATE TABLE s.t (k bigint PRIMARY KEY, v text NOT NULL) WITH (sort_keys = 'v', split_threshold = 1000000)", &ast.CreateTable{
			Name: ast.TableName{Schema: "s", Name: "t"},
			Columns: []ast.ColumnDef{
				{Name: "k", Type: &ast.TypeName{Names: []string{"pg_catalog", "int8"}}, PrimaryKey: true},
				{Name: "v", Type: &ast.TypeName{Names: []string{"text"}}, NotNull: true},
			},
			Options: []ast.Option{{Name: "sort_keys", Value: "v", HasValue: true}, {Name: "split_threshold", Value: "1000000", HasValue: true}},
		}},
		{"CREATE TABLE t (a int, b int, PRIMARY KEY (a, b))", &ast.CreateTable{
			Name: ast.TableName{Name: "t"},
			Columns: []ast.ColumnDef{
				{Name: "a", Type: &ast.TypeName{Names: []string{"pg_catalog", "int4"}}},
				{Name: "b", Type: &ast.TypeName{Names: []string{"pg_catalog", "int4"}}},
			},
			PrimaryKey: []string{"a", "b"},
		}},
		{"DROP TABLE IF EXISTS a, b.c", &ast.DropTable{Names: []ast.TableName{{Name: "a"}, {Schema: "b", Name: "c"}}, IfExists: true}},
		{"ALTER TABLE t SET (age_off = '1 day')", &ast.AlterTableSet{Name: ast.TableName{Name: "t"}, Options: []ast.Option{{Name: "age_off", Value: "1 day", HasValue: true}}}},
		{"EXPLAIN ANALYZE SELECT 1", &ast.Explain{Analyze: true, Stmt: &ast.Query{Body: sel(lit(1))}}},
		{"EXPLAIN (FORMAT json) SELECT 1", &ast.Explain{Options: []ast.Option{{Name: "format", Value: "json", HasValue: true}}, Stmt: &ast.Query{Body: sel(lit(1))}}},
		{"SET search_path TO a, 'b'", &ast.Set{Name: "search_path", Values: []*ast.Literal{str("a"), str("b")}}},
		{"SET LOCAL x = DEFAULT", &ast.Set{Name: "x", Default: true, Local: true}},
		{"SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", &ast.SetTransaction{Session: true, TransactionModes: ast.TransactionModes{ReadOnly: &yes}}},
		{"SHOW TRANSACTION ISOLATION LEVEL", &ast.Show{Name: "transaction_isolation"}},
		{"RESET ALL", &ast.Reset{Name: "all"}},
		{"BEGIN READ ONLY", &ast.Begin{TransactionModes: ast.TransactionModes{ReadOnly: &yes}}},
		{"START TRANSACTION ISOLATION LEVEL SERIALIZABLE", &ast.Begin{TransactionModes: ast.TransactionModes{Isolation: "serializable"}}},
		{"COPY t (a) FROM STDIN (FORMAT csv, HEADER)", &ast.Copy{
			Table: &ast.TableName{Name: "t"}, Columns: []string{"a"}, From: true,
			Options: []ast.Option{{Name: "format", Value: "csv", HasValue: true}, {Name: "header"}},
		}},
		{"COPY (SELECT 1) TO 's3://b/k.csv'", &ast.Copy{Query: &ast.Query{Body: sel(lit(1))}, File: "s3://b/k.csv"}},
		{"DISCARD ALL", &ast.Discard{Target: "all"}},
		{"DEALLOCATE ALL", &ast.Deallocate{All: true}},
	}
	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			got, _ := parseOne(t, tt.sql)
			stripPositions(reflect.ValueOf(got))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q)\n got: %s\nwant: %s", tt.sql, dump(got), dump(tt.want))
			}
		})
	}
}

// TestPositions checks that nodes carry the offsets PostgreSQL reports.
func TestPositions(t *testing.T) {
	sql := "SELECT a, t.b + 1 AS c, count(*) FROM s.t WHERE x IN (1, $1) ORDER BY a DESC"
	stmt, _ := parseOne(t, sql)
	sel := stmt.(*ast.Query).Body.(*ast.Select)
	at := func(what string, got int, want string) {
		t.Helper()
		if w := indexOf(t, sql, want); got != w {
			t.Errorf("%s at %d, want %d (%q)", what, got, w, want)
		}
	}
	at("query", stmt.(*ast.Query).Pos, "SELECT")
	at("first item", sel.Items[0].Pos, "a, t")
	at("column t.b", sel.Items[1].Expr.(*ast.Binary).L.Position(), "t.b")
	at("operator +", sel.Items[1].Expr.Position(), "+ 1")
	at("count(*)", sel.Items[2].Expr.Position(), "count")
	at("table", sel.From[0].Position(), "s.t")
	at("IN", sel.Where.Position(), "IN")
	at("param", sel.Where.(*ast.In).List[1].Position(), "$1")
	at("order item", stmt.(*ast.Query).OrderBy[0].Pos, "a DESC")

	stmt, _ = parseOne(t, "CREATE TABLE t (a int NOT NULL, b text, PRIMARY KEY (a)) WITH (k = 'v')")
	ct := stmt.(*ast.CreateTable)
	if ct.Name.Pos != 13 || ct.Columns[1].Pos != 32 || ct.Columns[1].Type.Pos != 34 || ct.PrimaryKeyPos != 40 || ct.Options[0].Pos != 63 {
		t.Errorf("CREATE TABLE positions: name %d, column %d, type %d, key %d, option %d",
			ct.Name.Pos, ct.Columns[1].Pos, ct.Columns[1].Type.Pos, ct.PrimaryKeyPos, ct.Options[0].Pos)
	}
	stmt, _ = parseOne(t, "SELECT DATE '2024-01-01', x::int")
	items := stmt.(*ast.Query).Body.(*ast.Select).Items
	if items[0].Expr.Position() != 7 || items[1].Expr.Position() != 27 {
		t.Errorf("cast positions %d, %d; want 7 (typed literal) and 27 (::)", items[0].Expr.Position(), items[1].Expr.Position())
	}
}

func indexOf(t *testing.T, s, sub string) int {
	t.Helper()
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	t.Fatalf("%q not in %q", sub, s)
	return -1
}
