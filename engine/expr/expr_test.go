package expr

import (
	"fmt"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/scalar"
)

func TestTypeNames(t *testing.T) {
	for _, c := range []struct {
		names []string
		mods  []int
		want  string
	}{
		{[]string{"int"}, nil, "integer"},
		{[]string{"pg_catalog", "int4"}, nil, "integer"},
		{[]string{"INTEGER"}, nil, "integer"},
		{[]string{"bigint"}, nil, "bigint"},
		{[]string{"int8"}, nil, "bigint"},
		{[]string{"smallint"}, nil, "smallint"},
		{[]string{"real"}, nil, "real"},
		{[]string{"float"}, []int{10}, "real"},
		{[]string{"float"}, nil, "double precision"},
		{[]string{"double", "precision"}, nil, "double precision"},
		{[]string{"pg_catalog", "float8"}, nil, "double precision"},
		{[]string{"numeric"}, []int{10, 2}, "numeric"},
		{[]string{"decimal"}, nil, "numeric"},
		{[]string{"varchar"}, []int{10}, "text"},
		{[]string{"character varying"}, nil, "text"},
		{[]string{"char"}, []int{3}, "text"},
		{[]string{"pg_catalog", "bpchar"}, nil, "text"},
		{[]string{"name"}, nil, "text"},
		{[]string{"bytea"}, nil, "bytea"},
		{[]string{"bool"}, nil, "boolean"},
		{[]string{"timestamp"}, nil, "timestamp without time zone"},
		{[]string{"timestamp with time zone"}, nil, "timestamp with time zone"},
		{[]string{"pg_catalog", "timestamptz"}, nil, "timestamp with time zone"},
		{[]string{"timestamp", "without", "time", "zone"}, nil, "timestamp without time zone"},
		{[]string{"date"}, nil, "date"},
		{[]string{"interval"}, nil, "interval"},
	} {
		dt, err := ParseTypeName(c.names, c.mods)
		if err != nil {
			t.Fatalf("%v: %v", c.names, err)
		}
		if got := TypeName(dt); got != c.want {
			t.Errorf("%v = %s, want %s", c.names, got, c.want)
		}
	}
	_, err := ParseTypeName([]string{"public", "geometry"}, nil)
	wantCode(t, err, "42704")
	if err.Error() != `type "public.geometry" does not exist` {
		t.Fatalf("message %q", err)
	}
	if TypeName(UnknownType) != "unknown" {
		t.Fatal("null type is unknown")
	}
}

func TestNumericFlavour(t *testing.T) {
	n, f, i := Lit(2.5, NumericType), f8(2.5), i4(2)
	for _, c := range []struct {
		e    Expr
		want bool
	}{
		{n, true},
		{f, false},
		{Null(NumericType), true},
		{mk(Arith("+", n, i)), true},
		{mk(Arith("*", i, n)), true},
		{mk(Arith("+", n, f)), false},
		{mk(Neg(n)), true},
		{mk(Cast(col(0, Int4Type), NumericType)), true},
		{mk(Cast(n, Float8Type)), false},
		{mk(Call("abs", []Expr{n})), true},
		{mk(Call("abs", []Expr{f})), false},
		{mk(Arith("/", i, i)), false},
	} {
		if got := IsNumeric(c.e); got != c.want {
			t.Errorf("IsNumeric(%s) = %v", c.e, got)
		}
		if !arrow.TypeEqual(c.e.Type(), c.e.Type()) || isNumericType(c.e.Type()) {
			t.Errorf("%s has the marker type", c.e)
		}
	}
}

func TestCommonType(t *testing.T) {
	for _, c := range []struct {
		in   []arrow.DataType
		want string
		code string
	}{
		{[]arrow.DataType{Int4Type, Int8Type}, "bigint", ""},
		{[]arrow.DataType{Int4Type, Float8Type, Int2Type}, "double precision", ""},
		{[]arrow.DataType{Int8Type, Float4Type}, "real", ""},
		{[]arrow.DataType{UnknownType, DateType}, "date", ""},
		{[]arrow.DataType{UnknownType, UnknownType}, "text", ""},
		{[]arrow.DataType{DateType, TimestampType}, "timestamp without time zone", ""},
		{[]arrow.DataType{TimestampTZType, TimestampType}, "timestamp with time zone", ""},
		{[]arrow.DataType{TextType, Int4Type}, "", "42804"},
		{[]arrow.DataType{BoolType, Int4Type}, "", "42804"},
	} {
		got, err := CommonType(c.in...)
		if c.code != "" {
			wantCode(t, err, c.code)
			continue
		}
		if err != nil || TypeName(got) != c.want {
			t.Errorf("%v = %v %v, want %s", c.in, got, err, c.want)
		}
	}
	_, err := CommonTypeOf("CASE", tx("a"), i4(1))
	if err == nil || err.Error() != "CASE types text and integer cannot be matched" {
		t.Fatalf("got %v", err)
	}
}

func TestString(t *testing.T) {
	a, b, name := col(0, Int4Type), col(1, Int8Type), &Column{Index: 2, Name: "name", Typ: TextType}
	for _, c := range []struct {
		e    Expr
		want string
	}{
		{mk(Compare(">", mk(Arith("+", a, i4(1))), b)), "(c0 + 1)::bigint > c1"},
		{mk(Call("lower", []Expr{name})), "lower(name)"},
		{mk(Cast(a, Int8Type)), "c0::bigint"},
		{mk(Cast(mk(Arith("*", a, a)), TextType)), "(c0 * c0)::text"},
		{mk(Compare("=", name, u("abc"))), "name = 'abc'"},
		{mk(Compare("=", name, u("it's"))), "name = 'it''s'"},
		{mk(And(mk(Compare("<", a, i4(3))), mk(Or(mk(Compare("=", a, i4(1))), mk(Compare("=", a, i4(2))))))), "(c0 < 3) AND ((c0 = 1) OR (c0 = 2))"},
		{mk(Not(mk(Compare("=", a, i4(1))))), "NOT (c0 = 1)"},
		{IsNull(a, true), "c0 IS NOT NULL"},
		{mk(IsBool(mk(Compare("=", a, i4(1))), "true", false)), "(c0 = 1) IS TRUE"},
		{mk(IsDistinctFrom(a, i4(1), false)), "c0 IS DISTINCT FROM 1"},
		{mk(In(a, []Expr{i4(1), i4(2)}, true)), "c0 NOT IN (1, 2)"},
		{mk(Between(a, i4(1), i4(5), false, true)), "c0 BETWEEN SYMMETRIC 1 AND 5"},
		{mk(Like(name, u("a%"), true, true)), "name NOT ILIKE 'a%'"},
		{mk(Regex(name, u("^a"), "~*")), "name ~* '^a'"},
		{mk(Case(nil, []When{{Cond: mk(Compare("=", a, i4(0))), Result: i4(0)}}, mk(Arith("/", i4(1), a)))), "CASE WHEN c0 = 0 THEN 0 ELSE 1 / c0 END"},
		{mk(Case(a, []When{{Cond: i4(0), Result: u("zero")}}, nil)), "CASE c0 WHEN 0 THEN 'zero' END"},
		{mk(Coalesce(a, i4(0))), "COALESCE(c0, 0)"},
		{mk(NullIf(a, i4(0))), "NULLIF(c0, 0)"},
		{mk(Greatest(a, i4(0))), "GREATEST(c0, 0)"},
		{mk(Neg(a)), "-c0"},
		{mk(Arith("-", a, i4(-1))), "c0 - (-1)"},
		{mk(Cast(u("2024-01-01"), DateType)), "'2024-01-01'::date"},
		{mk(Cast(u("1 day"), IntervalType)), "'1 day'::interval"},
		{Lit(1.5, Float8Type), "1.5"},
		{Lit(true, BoolType), "true"},
		{Null(Int4Type), "NULL::integer"},
		{Param(2, Int4Type), "$2"},
		{mk(Call("now", nil)), "now()"},
		{mk(Cast(col(0, Float8Type), NumericType)), "c0::numeric"},
		{mk(Cast(a, NumericType)), "c0::numeric"},
	} {
		if got := c.e.String(); got != c.want {
			t.Errorf("got %s, want %s", got, c.want)
		}
	}
}

func TestWalkRemapFold(t *testing.T) {
	a, b, c := col(0, Int4Type), col(3, Int4Type), col(5, TextType)
	e := mk(And(mk(Compare(">", mk(Arith("+", a, b)), i4(1))), mk(Like(c, u("x%"), false, false))))
	if got := Columns(e); !slices.Equal(got, []int{0, 3, 5}) {
		t.Fatalf("Columns = %v", got)
	}
	r := Remap(e, map[int]int{3: 1, 5: 2})
	if got := Columns(r); !slices.Equal(got, []int{0, 1, 2}) {
		t.Fatalf("Columns after Remap = %v", got)
	}
	if got := Columns(e); !slices.Equal(got, []int{0, 3, 5}) {
		t.Fatalf("Remap changed its input: %v", got)
	}
	if IsConstant(e) || !IsConstant(mk(Arith("+", i4(1), Param(1, Int4Type)))) {
		t.Fatal("IsConstant")
	}

	ctx := newCtx(t)
	ctx.Params = []arrow.Array{arr(ctx.Alloc, Int4Type, 41)}
	defer ctx.Params[0].Release()
	// (1 + $1) = c0 folds to 42 = c0.
	f, err := Fold(ctx, mk(Compare("=", mk(Arith("+", i4(1), Param(1, Int4Type))), a)))
	if err != nil {
		t.Fatal(err)
	}
	cmp := f.(*Comparison)
	if v, ok := ConstantValue(cmp.Left); !ok || v != int32(42) {
		t.Fatalf("folded to %s", f)
	}
	if s, ok := Constant(cmp.Left); !ok || s.(*scalar.Int32).Value != 42 {
		t.Fatalf("Constant = %v", s)
	}
	// A division by zero in a branch no row takes is not folded.
	cs := mk(Case(nil, []When{{Cond: mk(Compare("=", a, i4(0))), Result: i4(0)}}, mk(Arith("/", i4(1), i4(0)))))
	if _, err := Fold(ctx, cs); err != nil {
		t.Fatalf("fold of a CASE: %v", err)
	}
	// …but a constant expression that fails fails at fold time.
	if _, err := Fold(ctx, mk(Compare("=", a, mk(Arith("/", i4(1), i4(0)))))); err == nil {
		t.Fatal("1/0 folded without error")
	} else {
		wantCode(t, err, "22012")
	}
	// A typed literal is folded at construction, so the planner sees it.
	k := mk(Compare("=", col(0, Int8Type), i4(5))).(*Comparison)
	if v, ok := ConstantValue(k.Right); !ok || v != int64(5) {
		t.Fatalf("k = 5 has right side %s", k.Right)
	}
	sk := mk(Compare("<", col(0, Int2Type), i4(5))).(*Comparison)
	if _, isCol := sk.Left.(*Column); !isCol || kindOf(sk.Right.Type()) != kInt2 {
		t.Fatalf("smallint < 5 is %s", sk)
	}
	if big := mk(Compare("<", col(0, Int2Type), i4(50000))).(*Comparison); kindOf(big.Left.Type()) != kInt4 {
		t.Fatalf("smallint < 50000 is %s", big)
	}
	in := mk(In(col(0, Int4Type), []Expr{i8(1), i8(2)}, false)).(*InList)
	if _, isCol := in.X.(*Column); !isCol {
		t.Fatalf("int IN (bigint consts) is %s", in)
	}
	bt := mk(Between(col(0, DateType), u("2024-01-01"), u("2024-12-31"), false, false)).(*BetweenExpr)
	if v, ok := ConstantValue(bt.Hi); !ok || v != arrow.Date32(20088) {
		t.Fatalf("BETWEEN bound %s", bt.Hi)
	}
}

func TestParams(t *testing.T) {
	ctx := newCtx(t)
	ctx.Params = []arrow.Array{arr(ctx.Alloc, TextType, "7"), arr(ctx.Alloc, Int8Type, nil)}
	defer ctx.Params[0].Release()
	defer ctx.Params[1].Release()
	rec := batch(arr(ctx.Alloc, Int4Type, 1, 7, 9))
	defer rec.Release()
	vs, err := eval(t, ctx, mk(Compare("=", I0, Param(1, Int4Type))), rec)
	if err != nil {
		t.Fatal(err)
	}
	if got := show(vs, kBool); !slices.Equal(got, strs("false", "true", "false")) {
		t.Fatalf("got %v", got)
	}
	vs, err = eval(t, ctx, mk(Arith("+", I0, Param(2, Int8Type))), rec)
	if err != nil || vs[0] != nil {
		t.Fatalf("NULL parameter: %v %v", vs, err)
	}
	vs, err = eval(t, ctx, Param(1, Int8Type), rec)
	if err != nil || vs[2] != int64(7) {
		t.Fatalf("parameter column: %v %v", vs, err)
	}
	if _, err := eval(t, ctx, Param(3, Int4Type), rec); err == nil {
		t.Fatal("no parameter $3")
	} else {
		wantCode(t, err, "42P02")
	}
}

// TestLargeBatches runs the block-wise kernels and the lazy paths over
// batches bigger than one block, with NULLs and strings.
func TestLargeBatches(t *testing.T) {
	ctx := newCtx(t)
	const n = 5000
	ints := make([]any, n)
	strs := make([]any, n)
	for i := range ints {
		if i%7 == 3 {
			continue
		}
		ints[i] = int64(i % 100)
		strs[i] = fmt.Sprintf("k%04d", i)
	}
	rec := batch(arr(ctx.Alloc, Int8Type, ints...), arr(ctx.Alloc, TextType, strs...))
	defer rec.Release()
	check := func(e Expr, want func(i int) any) {
		t.Helper()
		vs, err := eval(t, ctx, e, rec)
		if err != nil {
			t.Fatalf("%s: %v", e, err)
		}
		for i, v := range vs {
			if w := want(i); v != w {
				t.Fatalf("%s row %d = %v, want %v", e, i, v, w)
			}
		}
	}
	nullOr := func(i int, v any) any {
		if i%7 == 3 {
			return nil
		}
		return v
	}
	check(mk(Compare("<", B0, i8(50))), func(i int) any { return nullOr(i, i%100 < 50) })
	check(mk(Compare(">=", B0, mk(Arith("*", B0, i8(2))))), func(i int) any { return nullOr(i, i%100 == 0) })
	check(mk(Like(T1, u("k1%"), false, false)), func(i int) any { return nullOr(i, i >= 1000 && i < 2000) })
	check(mk(Case(nil, []When{{Cond: mk(Compare("=", B0, i8(0))), Result: i8(-1)}}, mk(Arith("/", i8(1000), B0)))),
		func(i int) any {
			if i%100 == 0 && i%7 != 3 {
				return int64(-1)
			}
			return nullOr(i, 1000/max(int64(i%100), 1))
		})
	check(mk(Case(nil, []When{{Cond: mk(Compare("<", B0, i8(50))), Result: T1}}, u("big"))),
		func(i int) any {
			switch {
			case i%7 == 3:
				return "big"
			case i%100 < 50:
				return fmt.Sprintf("k%04d", i)
			}
			return "big"
		})
	check(mk(Coalesce(T1, u("none"))), func(i int) any {
		if i%7 == 3 {
			return "none"
		}
		return fmt.Sprintf("k%04d", i)
	})
	check(mk(In(B0, []Expr{i8(1), i8(2), null(Int8Type)}, false)), func(i int) any {
		if i%100 == 1 || i%100 == 2 {
			return nullOr(i, true)
		}
		return nil
	})
}
