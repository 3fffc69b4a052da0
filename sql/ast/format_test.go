package ast

import "testing"

func TestQuoteIdent(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a", "a"},
		{"abc_1", "abc_1"},
		{"_x", "_x"},
		{"A", `"A"`},
		{"1a", `"1a"`},
		{"a b", `"a b"`},
		{"a$", `"a$"`},
		{`we"ird`, `"we""ird"`},
		{"é", `"é"`},
		{"select", `"select"`},   // reserved
		{"integer", `"integer"`}, // column-name keyword
		{"left", `"left"`},       // type-or-function-name keyword
		{"year", "year"},         // unreserved keyword
		{"", `""`},
	}
	for _, tt := range tests {
		if got := QuoteIdent(tt.in); got != tt.want {
			t.Errorf("QuoteIdent(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
	if got := QuoteString("it's"); got != "'it''s'" {
		t.Errorf("QuoteString = %s", got)
	}
}

func lit(n int64) *Literal             { return &Literal{Kind: LitInt, Int: n} }
func ref(name string) Expr             { return &ColumnRef{Parts: []string{name}} }
func bin(op string, l, r Expr) *Binary { return &Binary{Op: op, L: l, R: r} }

// TestFormatExpr formats hand-built trees, including ones the parser never
// produces, to check that parentheses follow precedence.
func TestFormatExpr(t *testing.T) {
	tests := []struct {
		e    Expr
		want string
	}{
		{bin(OpMul, bin(OpAdd, ref("a"), ref("b")), ref("c")), "(a + b) * c"},
		{bin(OpAdd, ref("a"), bin(OpMul, ref("b"), ref("c"))), "a + b * c"},
		{bin(OpSub, ref("a"), bin(OpSub, ref("b"), ref("c"))), "a - (b - c)"},
		{bin(OpEq, bin(OpEq, ref("a"), ref("b")), ref("c")), "(a = b) = c"},
		{bin(OpAnd, bin(OpOr, ref("a"), ref("b")), ref("c")), "(a OR b) AND c"},
		{bin(OpConcat, ref("a"), bin(OpEq, ref("b"), ref("c"))), "a || (b = c)"},
		{&Unary{Op: OpNeg, X: lit(-5)}, "- -5"},
		{&Unary{Op: OpNeg, X: bin(OpAdd, ref("a"), ref("b"))}, "-(a + b)"},
		{&Unary{Op: OpNot, X: bin(OpAnd, ref("a"), ref("b"))}, "NOT (a AND b)"},
		{&Cast{X: lit(-1), Type: &TypeName{Names: []string{"pg_catalog", "int8"}}}, "(-1)::bigint"},
		{&Cast{X: bin(OpAdd, ref("a"), lit(1)), Type: &TypeName{Names: []string{"text"}, ArrayBounds: 2}}, "(a + 1)::text[][]"},
		{&IsNull{X: bin(OpEq, ref("a"), ref("b")), Not: true}, "a = b IS NOT NULL"},
		{&IsNull{X: &IsNull{X: ref("a")}}, "(a IS NULL) IS NULL"},
		{&Between{X: ref("a"), Lo: bin(OpAdd, ref("b"), lit(1)), Hi: ref("c")}, "a BETWEEN (b + 1) AND c"},
		{&Subscript{X: &FuncCall{Name: []string{"f"}}, Index: lit(1)}, "(f())[1]"},
		{&Subscript{X: ref("a"), Index: lit(1), Upper: nil, Slice: true}, "a[1:]"},
		{&FieldSelect{X: ref("a"), Field: "B"}, `(a)."B"`},
		{&AtTimeZone{X: ref("ts"), Zone: bin(OpConcat, ref("a"), ref("b"))}, "ts AT TIME ZONE (a || b)"},
		{&Collate{X: bin(OpConcat, ref("a"), ref("b")), Collation: []string{"C"}}, `(a || b) COLLATE "C"`},
		{&FuncCall{Name: []string{"current_timestamp"}, Args: []Expr{lit(3)}}, "CURRENT_TIMESTAMP(3)"},
		{&FuncCall{Name: []string{"current_date"}, Args: []Expr{lit(3)}}, `"current_date"(3)`},
		{&FuncCall{Name: []string{"nullif"}, Args: []Expr{ref("a")}}, `"nullif"(a)`},
		{&FuncCall{Name: []string{"pg_catalog", "extract"}, Args: []Expr{&Literal{Kind: LitString, Text: "year"}, ref("ts")}}, "EXTRACT(year FROM ts)"},
		{&FuncCall{Name: []string{"count"}, Star: true, Over: &WindowSpec{}}, "count(*) OVER ()"},
		{&FuncCall{Name: []string{"f"}, Over: &WindowSpec{Name: "w"}}, "f() OVER w"},
		{&AnyAll{X: ref("a"), Op: OpEq, Array: &Param{N: 1}}, "a = ANY ($1)"},
		{&AnyAll{X: ref("a"), Op: OpLt, All: true, Query: &Query{Body: &Select{Items: []SelectItem{{Expr: lit(1)}}}}}, "a < ALL (SELECT 1)"},
		{&Literal{Kind: LitNumeric, Text: "-1.5"}, "-1.5"},
		{&Literal{Kind: LitString, Text: "a'b"}, "'a''b'"},
		{&Literal{Kind: LitBool, Bool: true}, "TRUE"},
		{&Literal{Kind: LitNull}, "NULL"},
		{&Row{Elems: []Expr{lit(1), ref("x")}}, "ROW(1, x)"},
		{&Case{Whens: []When{{Cond: ref("a"), Result: lit(1)}}}, "CASE WHEN a THEN 1 END"},
	}
	for _, tt := range tests {
		if got := Format(tt.e); got != tt.want {
			t.Errorf("Format = %s, want %s", got, tt.want)
		}
		if got := tt.e.String(); got != tt.want {
			t.Errorf("String = %s, want %s", got, tt.want)
		}
	}
}

func TestFormatTypeName(t *testing.T) {
	tn := func(mods []int, names ...string) *TypeName { return &TypeName{Names: names, Mods: mods} }
	tests := []struct {
		t    *TypeName
		want string
	}{
		{tn(nil, "pg_catalog", "int4"), "integer"},
		{tn([]int{10, 2}, "pg_catalog", "numeric"), "numeric(10, 2)"},
		{tn([]int{3}, "pg_catalog", "timestamptz"), "timestamp(3) with time zone"},
		{tn(nil, "pg_catalog", "bpchar"), "pg_catalog.bpchar"},
		{tn([]int{5}, "pg_catalog", "bpchar"), "char(5)"},
		{tn([]int{1 << 3}, "pg_catalog", "interval"), "interval day"},
		{tn([]int{1<<3 | 1<<10 | 1<<11 | 1<<12, 3}, "pg_catalog", "interval"), "interval day to second(3)"},
		{tn([]int{0x7FFF, 6}, "pg_catalog", "interval"), "interval(6)"},
		{tn([]int{12345}, "pg_catalog", "interval"), "pg_catalog.interval(12345)"},
		{tn([]int{5}, "pg_catalog", "int4"), "pg_catalog.int4(5)"},
		{tn(nil, "char"), `"char"`},
		{tn(nil, "My Type"), `"My Type"`},
		{tn(nil, "public", "t"), "public.t"},
	}
	for _, tt := range tests {
		var p printer
		p.typeName(tt.t)
		if got := p.String(); got != tt.want {
			t.Errorf("typeName(%v %v) = %s, want %s", tt.t.Names, tt.t.Mods, got, tt.want)
		}
	}
}

func TestFormatStmt(t *testing.T) {
	yes, no := true, false
	sel := func(n int64) *Select { return &Select{Items: []SelectItem{{Expr: lit(n)}}} }
	tests := []struct {
		s    Stmt
		want string
	}{
		{&Query{Body: &SetOp{Op: Union, Left: sel(1), Right: &SetOp{Op: Union, All: true, Left: sel(2), Right: sel(3)}}},
			"SELECT 1 UNION (SELECT 2 UNION ALL SELECT 3)"},
		{&Query{Body: &SetOp{Op: Intersect, Left: &SetOp{Op: Except, Left: sel(1), Right: sel(2)}, Right: sel(3)}},
			"(SELECT 1 EXCEPT SELECT 2) INTERSECT SELECT 3"},
		{&Query{Body: &SetOp{Op: Union, Left: &Query{Body: sel(1), Limit: lit(1)}, Right: sel(2)}, OrderBy: []OrderItem{{Expr: lit(1), Desc: true, NullsFirst: &no}}},
			"(SELECT 1 LIMIT 1) UNION SELECT 2 ORDER BY 1 DESC NULLS LAST"},
		{&Query{Body: &Select{Items: []SelectItem{{Star: true, Qualifier: []string{"T"}}}, From: []TableExpr{
			&Join{Kind: InnerJoin, Left: &TableRef{TableName: TableName{Name: "a"}}, Right: &Join{Kind: CrossJoin,
				Left: &TableRef{TableName: TableName{Name: "b"}}, Right: &TableRef{TableName: TableName{Name: "c"}}}, On: &Literal{Kind: LitBool, Bool: true}},
		}}}, `SELECT "T".* FROM a JOIN (b CROSS JOIN c) ON TRUE`},
		{&Begin{TransactionModes: TransactionModes{ReadOnly: &yes}}, "BEGIN READ ONLY"},
		{&SetTransaction{TransactionModes: TransactionModes{Isolation: "read committed", Deferrable: &no}}, "SET TRANSACTION ISOLATION LEVEL READ COMMITTED, NOT DEFERRABLE"},
		{&Set{Name: "search_path", Values: []*Literal{{Kind: LitString, Text: "a"}, {Kind: LitString, Text: "b"}}}, "SET search_path TO 'a', 'b'"},
		{&Copy{Table: &TableName{Name: "t"}, From: true, Options: []Option{{Name: "format", Value: "csv", HasValue: true}, {Name: "header"}}},
			"COPY t FROM STDIN WITH (format 'csv', header)"},
		{&Copy{Query: &Query{Body: sel(1)}, File: "s3://b/k"}, "COPY (SELECT 1) TO 's3://b/k'"},
		{&Explain{Analyze: true, Options: []Option{{Name: "format", Value: "json", HasValue: true}}, Stmt: &Query{Body: sel(1)}},
			"EXPLAIN (ANALYZE, format 'json') SELECT 1"},
		{&CreateTable{Name: TableName{Name: "t"}, Columns: []ColumnDef{{Name: "k", Type: &TypeName{Names: []string{"pg_catalog", "int8"}}, NotNull: true}},
			PrimaryKey: []string{"k"}, Options: []Option{{Name: "sort_keys", Value: "v", HasValue: true}}},
			"CREATE TABLE t (k bigint NOT NULL, PRIMARY KEY (k)) WITH (sort_keys = 'v')"},
		{&Insert{Table: TableName{Schema: "s", Name: "t"}}, "INSERT INTO s.t DEFAULT VALUES"},
		{&DropTable{Names: []TableName{{Catalog: "db", Schema: "s", Name: "t"}}}, "DROP TABLE db.s.t"},
		{&Show{Name: "all"}, "SHOW ALL"},
		{&Reset{Name: "a.b"}, "RESET a.b"},
		{&Discard{Target: "all"}, "DISCARD ALL"},
		{&Deallocate{Name: "S_1"}, `DEALLOCATE "S_1"`},
	}
	for _, tt := range tests {
		if got := Format(tt.s); got != tt.want {
			t.Errorf("Format = %s\n          want %s", got, tt.want)
		}
	}
	if Format(nil) != "" || Format((*Query)(nil)) != "" {
		t.Error("Format of nil is not empty")
	}
}

func TestCharPosition(t *testing.T) {
	sql := "SELECT 'é' FORM t"
	for _, tt := range []struct{ pos, want int }{{-1, 0}, {0, 1}, {8, 9}, {10, 10}, {17, 17}, {99, 18}} {
		if got := CharPosition(sql, tt.pos); got != tt.want {
			t.Errorf("CharPosition(%d) = %d, want %d", tt.pos, got, tt.want)
		}
	}
}
