package expr

import (
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// vecCase evaluates an expression built over columns against a batch.
type vecCase struct {
	name string
	cols func(alloc memory.Allocator) []arrow.Array
	e    func() (Expr, error)
	want []string // as printed; "NULL" for NULL
	code string
}

func runVec(t *testing.T, cases []vecCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := newCtx(t)
			rec := batch(c.cols(ctx.Alloc)...)
			defer rec.Release()
			e, err := c.e()
			if err == nil {
				var vs []any
				if vs, err = eval(t, ctx, e, rec); err == nil {
					if c.code != "" {
						t.Fatalf("%s: no error, want %s", e, c.code)
					}
					if got := show(vs, kindOf(e.Type())); !slices.Equal(got, c.want) {
						t.Fatalf("%s = %v, want %v", e, got, c.want)
					}
					return
				}
			}
			if c.code == "" {
				t.Fatalf("unexpected error: %v", err)
			}
			wantCode(t, err, c.code)
		})
	}
}

func cols(f ...func(memory.Allocator) arrow.Array) func(memory.Allocator) []arrow.Array {
	return func(alloc memory.Allocator) []arrow.Array {
		out := make([]arrow.Array, len(f))
		for i, g := range f {
			out[i] = g(alloc)
		}
		return out
	}
}

func ints(vs ...any) func(memory.Allocator) arrow.Array {
	return func(a memory.Allocator) arrow.Array { return arr(a, Int4Type, vs...) }
}
func bigs(vs ...any) func(memory.Allocator) arrow.Array {
	return func(a memory.Allocator) arrow.Array { return arr(a, Int8Type, vs...) }
}
func smalls(vs ...any) func(memory.Allocator) arrow.Array {
	return func(a memory.Allocator) arrow.Array { return arr(a, Int2Type, vs...) }
}
func floats(vs ...any) func(memory.Allocator) arrow.Array {
	return func(a memory.Allocator) arrow.Array { return arr(a, Float8Type, vs...) }
}
func texts(vs ...any) func(memory.Allocator) arrow.Array {
	return func(a memory.Allocator) arrow.Array { return arr(a, TextType, vs...) }
}
func bools(vs ...any) func(memory.Allocator) arrow.Array {
	return func(a memory.Allocator) arrow.Array { return arr(a, BoolType, vs...) }
}

var (
	I0 = col(0, Int4Type)
	I1 = col(1, Int4Type)
	B0 = col(0, Int8Type)
	B1 = col(1, Int8Type)
	F0 = col(0, Float8Type)
	F1 = col(1, Float8Type)
	T0 = col(0, TextType)
	T1 = col(1, TextType)
	L0 = col(0, BoolType)
	L1 = col(1, BoolType)
)

func strs(s ...string) []string { return s }

func TestVectorArithmetic(t *testing.T) {
	runVec(t, []vecCase{
		{"col + col", cols(ints(1, 2, nil, 4), ints(10, nil, 30, 40)), ar("+", I0, I1), strs("11", "NULL", "NULL", "44"), ""},
		{"col + const", cols(ints(1, nil, 3)), ar("+", I0, i4(1)), strs("2", "NULL", "4"), ""},
		{"const - col", cols(ints(1, nil, 3)), ar("-", i4(10), I0), strs("9", "NULL", "7"), ""},
		{"col * const int8", cols(bigs(3, -4, nil)), ar("*", B0, i8(1<<40)), strs("3298534883328", "-4398046511104", "NULL"), ""},
		{"col * col int8 overflow", cols(bigs(1<<40, 1), bigs(1<<40, 1)), ar("*", B0, B1), nil, "22003"},
		{"int2 col * col", cols(smalls(200, 3), smalls(200, 4)), ar("*", col(0, Int2Type), col(1, Int2Type)), nil, "22003"},
		{"overflow only under NULL", cols(ints(2147483647, 1), ints(nil, 1)), ar("+", I0, I1), strs("NULL", "2"), ""},
		{"divide by NULL zero", cols(ints(1, 6), ints(nil, 3)), ar("/", I0, I1), strs("NULL", "2"), ""},
		{"divide by zero", cols(ints(1, 6), ints(0, 3)), ar("/", I0, I1), nil, "22012"},
		{"divide col by const zero, all NULL", cols(ints(nil, nil)), ar("/", I0, i4(0)), strs("NULL", "NULL"), ""},
		{"divide col by const zero", cols(ints(nil, 1)), ar("/", I0, i4(0)), nil, "22012"},
		{"const / col", cols(ints(2, -3, nil)), ar("/", i4(7), I0), strs("3", "-2", "NULL"), ""},
		{"const / col zero", cols(ints(2, 0)), ar("/", i4(7), I0), nil, "22012"},
		{"col / -1 min", cols(ints(-2147483648)), ar("/", I0, i4(-1)), nil, "22003"},
		{"col % col", cols(ints(7, -7, 7), ints(3, 3, -3)), ar("%", I0, I1), strs("1", "-1", "1"), ""},
		{"int + float col", cols(ints(1, 2), floats(0.5, nil)), ar("+", I0, F1), strs("1.5", "NULL"), ""},
		{"float col / col", cols(floats(1, -1, 0), floats(4, 0.5, 5)), ar("/", F0, F1), strs("0.25", "-2", "0"), ""},
		{"float col / zero", cols(floats(1, 2), floats(2, 0)), ar("/", F0, F1), nil, "22012"},
		{"float overflow", cols(floats(1e308, 1)), ar("+", F0, f8(1e308)), nil, "22003"},
		{"float col ^", cols(floats(2, 3)), ar("^", F0, i4(2)), strs("4", "9"), ""},
		{"negate", cols(ints(1, nil, -3)), func() (Expr, error) { return Neg(I0) }, strs("-1", "NULL", "3"), ""},
		{"negate min", cols(ints(-2147483648)), func() (Expr, error) { return Neg(I0) }, nil, "22003"},
		{"negate min under NULL", cols(ints(-2147483648, nil)), func() (Expr, error) {
			e, _ := Neg(I0)
			return e, nil
		}, nil, "22003"},
		{"concat cols", cols(texts("a", nil, "c"), texts("x", "y", "")), ar("||", T0, T1), strs("ax", "NULL", "c"), ""},
		{"concat col int", cols(texts("a", "b"), ints(1, nil)), ar("||", T0, I1), strs("a1", "NULL"), ""},
	})
}

func TestVectorCompare(t *testing.T) {
	runVec(t, []vecCase{
		{"int col vs const", cols(ints(1, 5, nil, 10)), cmpE(">", I0, i4(4)), strs("false", "true", "NULL", "true"), ""},
		{"const vs col", cols(ints(1, 5, nil, 10)), cmpE("<", i4(4), I0), strs("false", "true", "NULL", "true"), ""},
		{"col vs col", cols(ints(1, 5, 7), ints(1, 6, nil)), cmpE("<=", I0, I1), strs("true", "true", "NULL"), ""},
		{"col >= col", cols(ints(1, 5, 7), ints(1, 6, 2)), cmpE(">=", I0, I1), strs("true", "false", "true"), ""},
		{"int4 col vs int8 const", cols(ints(1, 5)), cmpE("=", I0, i8(5)), strs("false", "true"), ""},
		{"int vs float", cols(ints(1, 2)), cmpE("<", I0, f8(1.5)), strs("true", "false"), ""},
		{"text", cols(texts("apple", "Banana", nil, "")), cmpE("<", T0, u("b")), strs("true", "true", "NULL", "true"), ""},
		{"text eq col", cols(texts("a", "b"), texts("a", "c")), cmpE("=", T0, T1), strs("true", "false"), ""},
		{"text ne const", cols(texts("a", "b")), cmpE("<>", T0, tx("a")), strs("false", "true"), ""},
		{"NaN col", cols(floats(nan(), 1, inf())), cmpE(">", F0, f8(1e308)), strs("true", "false", "true"), ""},
		{"NaN eq", cols(floats(nan(), 1), floats(nan(), nan())), cmpE("=", F0, F1), strs("true", "false"), ""},
		{"bool", cols(bools(true, false, nil)), cmpE("=", L0, bl(true)), strs("true", "false", "NULL"), ""},
		{"null const", cols(ints(1, 2)), cmpE("=", I0, null(UnknownType)), strs("NULL", "NULL"), ""},
		{"many rows", cols(ints(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17)), cmpE("<>", I0, i4(9)),
			strs("true", "true", "true", "true", "true", "true", "true", "true", "false", "true", "true", "true", "true", "true", "true", "true", "true"), ""},
	})
}

func TestLogic(t *testing.T) {
	// Kleene truth tables over every pair of true, false, NULL.
	l := bools(true, true, true, false, false, false, nil, nil, nil)
	r := bools(true, false, nil, true, false, nil, true, false, nil)
	runVec(t, []vecCase{
		{"and", cols(l, r), func() (Expr, error) { return And(L0, L1) }, strs("true", "false", "NULL", "false", "false", "false", "NULL", "false", "NULL"), ""},
		{"or", cols(l, r), func() (Expr, error) { return Or(L0, L1) }, strs("true", "true", "true", "true", "false", "NULL", "true", "NULL", "NULL"), ""},
		{"not", cols(l), func() (Expr, error) { return Not(L0) }, strs("false", "false", "false", "true", "true", "true", "NULL", "NULL", "NULL"), ""},
		{"is null", cols(l), func() (Expr, error) { return IsNull(L0, false), nil }, strs("false", "false", "false", "false", "false", "false", "true", "true", "true"), ""},
		{"is not null", cols(ints(1, nil)), func() (Expr, error) { return IsNull(I0, true), nil }, strs("true", "false"), ""},
		{"null literal is null", cols(ints(1)), func() (Expr, error) { return IsNull(null(UnknownType), false), nil }, strs("true"), ""},
		{"is true", cols(l), func() (Expr, error) { return IsBool(L0, "true", false) }, strs("true", "true", "true", "false", "false", "false", "false", "false", "false"), ""},
		{"is not false", cols(l), func() (Expr, error) { return IsBool(L0, "FALSE", true) }, strs("true", "true", "true", "false", "false", "false", "true", "true", "true"), ""},
		{"is unknown", cols(l), func() (Expr, error) { return IsBool(L0, "unknown", false) }, strs("false", "false", "false", "false", "false", "false", "true", "true", "true"), ""},
		{"distinct", cols(ints(1, 1, nil, nil), ints(1, 2, 1, nil)), func() (Expr, error) { return IsDistinctFrom(I0, I1, false) }, strs("false", "true", "true", "false"), ""},
		{"not distinct", cols(ints(1, 1, nil, nil), ints(1, 2, 1, nil)), func() (Expr, error) { return IsDistinctFrom(I0, I1, true) }, strs("true", "false", "false", "true"), ""},
		{"and of three", cols(l, r), func() (Expr, error) { return And(L0, L1, bl(true)) }, strs("true", "false", "NULL", "false", "false", "false", "NULL", "false", "NULL"), ""},
		{"and non-bool", cols(ints(1)), func() (Expr, error) { return And(I0, bl(true)) }, nil, "42804"},
		{"and untyped", cols(ints(1)), func() (Expr, error) { return And(u("t"), bl(true)) }, strs("true"), ""},
		// x <> 0 AND 10 / x > 1 must not divide by zero: the right side
		// runs only where the left is not false.
		{"and is lazy", cols(ints(0, 5, nil, 20)), func() (Expr, error) {
			ne := mk(Compare("<>", I0, i4(0)))
			q := mk(Compare(">", mk(Arith("/", i4(10), I0)), i4(1)))
			return And(ne, q)
		}, strs("false", "true", "NULL", "false"), ""},
		{"or is lazy", cols(ints(0, 5, 20)), func() (Expr, error) {
			eq := mk(Compare("=", I0, i4(0)))
			q := mk(Compare(">", mk(Arith("/", i4(10), I0)), i4(1)))
			return Or(eq, q)
		}, strs("true", "true", "false"), ""},
		{"and still raises", cols(ints(0, 5)), func() (Expr, error) {
			q := mk(Compare(">", mk(Arith("/", i4(10), I0)), i4(1)))
			return And(bl(true), q)
		}, nil, "22012"},
	})
}

func TestInBetween(t *testing.T) {
	runVec(t, []vecCase{
		{"in", cols(ints(1, 2, 3, nil)), func() (Expr, error) { return In(I0, []Expr{i4(1), i4(3)}, false) }, strs("true", "false", "true", "NULL"), ""},
		{"in with null", cols(ints(1, 2, nil)), func() (Expr, error) { return In(I0, []Expr{i4(1), null(UnknownType)}, false) }, strs("true", "NULL", "NULL"), ""},
		{"not in", cols(ints(1, 2, nil)), func() (Expr, error) { return In(I0, []Expr{i4(1)}, true) }, strs("false", "true", "NULL"), ""},
		{"not in with null", cols(ints(1, 2)), func() (Expr, error) { return In(I0, []Expr{i4(1), null(UnknownType)}, true) }, strs("false", "NULL"), ""},
		{"in mixed types", cols(ints(1, 2)), func() (Expr, error) { return In(I0, []Expr{i8(2), f8(1.5)}, false) }, strs("false", "true"), ""},
		{"in untyped", cols(texts("a", "b")), func() (Expr, error) { return In(T0, []Expr{u("b"), u("c")}, false) }, strs("false", "true"), ""},
		{"in columns", cols(ints(1, 2, 3), ints(1, 5, nil)), func() (Expr, error) { return In(I0, []Expr{I1, i4(2)}, false) }, strs("true", "true", "NULL"), ""},
		{"in floats NaN", cols(floats(nan(), 1)), func() (Expr, error) { return In(F0, []Expr{f8(nan())}, false) }, strs("true", "false"), ""},
		{"in bad type", cols(texts("a")), func() (Expr, error) { return In(T0, []Expr{i4(1)}, false) }, nil, "42883"},
		{"in bad literal", cols(ints(1)), func() (Expr, error) { return In(I0, []Expr{u("x")}, false) }, nil, "22P02"},
		{"between", cols(ints(0, 1, 5, 6, nil)), func() (Expr, error) { return Between(I0, i4(1), i4(5), false, false) }, strs("false", "true", "true", "false", "NULL"), ""},
		{"not between", cols(ints(0, 1, 6)), func() (Expr, error) { return Between(I0, i4(1), i4(5), true, false) }, strs("true", "false", "true"), ""},
		{"between reversed", cols(ints(3)), func() (Expr, error) { return Between(I0, i4(5), i4(1), false, false) }, strs("false"), ""},
		{"between symmetric", cols(ints(3, 7)), func() (Expr, error) { return Between(I0, i4(5), i4(1), false, true) }, strs("true", "false"), ""},
		{"not between symmetric", cols(ints(3, 7)), func() (Expr, error) { return Between(I0, i4(5), i4(1), true, true) }, strs("false", "true"), ""},
		{"between mixed", cols(ints(3)), func() (Expr, error) { return Between(I0, f8(2.5), i8(3), false, false) }, strs("true"), ""},
		{"between text", cols(texts("a", "b", "bz", "c", nil)), func() (Expr, error) { return Between(T0, u("b"), u("bz"), false, false) }, strs("false", "true", "true", "false", "NULL"), ""},
		{"between dates", cols(func(a memory.Allocator) arrow.Array {
			return arr(a, DateType, arrow.Date32(19000), arrow.Date32(19723))
		}), func() (Expr, error) {
			return Between(col(0, DateType), u("2024-01-01"), u("2024-12-31"), false, false)
		}, strs("false", "true"), ""},
		{"between null bound", cols(ints(3, 9)), func() (Expr, error) { return Between(I0, i4(1), null(UnknownType), false, false) }, strs("NULL", "NULL"), ""},
	})
}

func TestLike(t *testing.T) {
	words := texts("abc", "abd", "xabcx", "ab", nil, "ABC", "a_c", `a\c`, "a%c", "äbc")
	like := func(p string, ci, not bool) func() (Expr, error) {
		return func() (Expr, error) { return Like(T0, u(p), ci, not) }
	}
	runVec(t, []vecCase{
		{"prefix", cols(words), like("ab%", false, false), strs("true", "true", "false", "true", "NULL", "false", "false", "false", "false", "false"), ""},
		{"exact", cols(words), like("abc", false, false), strs("true", "false", "false", "false", "NULL", "false", "false", "false", "false", "false"), ""},
		{"suffix", cols(words), like("%bc", false, false), strs("true", "false", "false", "false", "NULL", "false", "false", "false", "false", "true"), ""},
		{"contains", cols(words), like("%abc%", false, false), strs("true", "false", "true", "false", "NULL", "false", "false", "false", "false", "false"), ""},
		{"underscore", cols(words), like("_bc", false, false), strs("true", "false", "false", "false", "NULL", "false", "false", "false", "false", "true"), ""},
		{"escaped underscore", cols(words), like(`a\_c`, false, false), strs("false", "false", "false", "false", "NULL", "false", "true", "false", "false", "false"), ""},
		{"escaped percent", cols(words), like(`a\%c`, false, false), strs("false", "false", "false", "false", "NULL", "false", "false", "false", "true", "false"), ""},
		{"escaped backslash", cols(words), like(`a\\c`, false, false), strs("false", "false", "false", "false", "NULL", "false", "false", "true", "false", "false"), ""},
		{"percent only", cols(words), like("%", false, false), strs("true", "true", "true", "true", "NULL", "true", "true", "true", "true", "true"), ""},
		{"not like", cols(words), like("ab%", false, true), strs("false", "false", "true", "false", "NULL", "true", "true", "true", "true", "true"), ""},
		{"ilike", cols(words), like("abc", true, false), strs("true", "false", "false", "false", "NULL", "true", "false", "false", "false", "false"), ""},
		{"ilike prefix", cols(words), like("AB%", true, false), strs("true", "true", "false", "true", "NULL", "true", "false", "false", "false", "false"), ""},
		{"not ilike", cols(words), like("%B%", true, true), strs("false", "false", "false", "false", "NULL", "false", "true", "true", "true", "false"), ""},
		{"trailing escape", cols(words), like(`ab\`, false, false), nil, "22025"},
		{"pattern column", cols(texts("abc", "abc", "x", nil), texts("a%", "b%", nil, "%")), func() (Expr, error) {
			return Like(T0, T1, false, false)
		}, strs("true", "false", "NULL", "NULL"), ""},
		{"like int", cols(ints(1)), func() (Expr, error) { return Like(I0, u("1"), false, false) }, nil, "42883"},
		{"like escape", cols(texts("a_c", "abc")), func() (Expr, error) {
			return Like(T0, mk(Call("like_escape", []Expr{u("a#_c"), u("#")})), false, false)
		}, strs("true", "false"), ""},
		{"regex", cols(texts("abc", "xyz", nil)), func() (Expr, error) { return Regex(T0, u("^a.c$"), "~") }, strs("true", "false", "NULL"), ""},
		{"regex ci", cols(texts("ABC", "xyz")), func() (Expr, error) { return Regex(T0, u("b"), "~*") }, strs("true", "false"), ""},
		{"regex not", cols(texts("ABC", "xyz")), func() (Expr, error) { return Regex(T0, u("b"), "!~") }, strs("true", "true"), ""},
		{"regex not ci", cols(texts("ABC", "xyz")), func() (Expr, error) { return Regex(T0, u("b"), "!~*") }, strs("false", "true"), ""},
		{"regex invalid", cols(texts("a")), func() (Expr, error) { return Regex(T0, u("(a"), "~") }, nil, "2201B"},
		{"regex invalid column", cols(texts("a"), texts("(")), func() (Expr, error) { return Regex(T0, T1, "~") }, nil, "2201B"},
		{"similar to", cols(texts("abc", "abd", "xbc")), func() (Expr, error) {
			return Regex(T0, mk(Call("similar_to_escape", []Expr{u("a(b|x)%")})), "~")
		}, strs("true", "true", "false"), ""},
	})
	l := mk(Like(T0, u("ab\\%c%"), false, false)).(*LikeExpr)
	if p, exact, ok := l.LikePrefix(); !ok || !exact || p != "ab%c" {
		t.Fatalf("LikePrefix = %q %v %v", p, exact, ok)
	}
	l = mk(Like(T0, u("ab_c%"), false, false)).(*LikeExpr)
	if p, exact, ok := l.LikePrefix(); !ok || exact || p != "ab" {
		t.Fatalf("LikePrefix = %q %v %v", p, exact, ok)
	}
	l = mk(Like(T0, u("abc%"), false, false)).(*LikeExpr)
	if p, exact, ok := l.LikePrefix(); !ok || !exact || p != "abc" {
		t.Fatalf("LikePrefix = %q %v %v", p, exact, ok)
	}
}

func TestConditionals(t *testing.T) {
	runVec(t, []vecCase{
		// CASE WHEN x = 0 THEN 0 ELSE 10 / x END never divides by zero.
		{"case is lazy", cols(ints(0, 5, nil, 2)), func() (Expr, error) {
			return Case(nil, []When{{Cond: mk(Compare("=", I0, i4(0))), Result: i4(0)}}, mk(Arith("/", i4(10), I0)))
		}, strs("0", "2", "NULL", "5"), ""},
		{"case branch error raised", cols(ints(0, 5)), func() (Expr, error) {
			return Case(nil, []When{{Cond: mk(Compare("=", I0, i4(5))), Result: i4(0)}}, mk(Arith("/", i4(10), I0)))
		}, nil, "22012"},
		{"case no else", cols(ints(1, 2, 3)), func() (Expr, error) {
			return Case(nil, []When{{Cond: mk(Compare("=", I0, i4(1))), Result: u("one")}, {Cond: mk(Compare("=", I0, i4(2))), Result: u("two")}}, nil)
		}, strs("one", "two", "NULL"), ""},
		{"case first match wins", cols(ints(1, 2)), func() (Expr, error) {
			return Case(nil, []When{{Cond: mk(Compare(">", I0, i4(0))), Result: i4(1)}, {Cond: mk(Compare(">", I0, i4(1))), Result: i4(2)}}, i4(3))
		}, strs("1", "1"), ""},
		{"case null condition", cols(ints(1, nil)), func() (Expr, error) {
			return Case(nil, []When{{Cond: mk(Compare(">", I0, i4(0))), Result: i4(1)}}, i4(0))
		}, strs("1", "0"), ""},
		{"case types", cols(ints(1)), func() (Expr, error) {
			return Case(nil, []When{{Cond: bl(true), Result: i4(1)}}, tx("x"))
		}, nil, "42804"},
		{"case promotes", cols(ints(1, 2)), func() (Expr, error) {
			return Case(nil, []When{{Cond: mk(Compare("=", I0, i4(1))), Result: i4(1)}}, f8(2.5))
		}, strs("1", "2.5"), ""},
		{"case non-bool", cols(ints(1)), func() (Expr, error) {
			return Case(nil, []When{{Cond: i4(1), Result: i4(1)}}, nil)
		}, nil, "42804"},
		{"simple case", cols(ints(1, 2, nil, 4)), func() (Expr, error) {
			return Case(I0, []When{{Cond: i4(1), Result: u("one")}, {Cond: i8(2), Result: u("two")}}, u("many"))
		}, strs("one", "two", "many", "many"), ""},
		{"case strings per row", cols(texts("a", "b", "c"), texts("x", "y", "z")), func() (Expr, error) {
			return Case(nil, []When{{Cond: mk(Compare("=", T0, u("b"))), Result: T1}}, T0)
		}, strs("a", "y", "c"), ""},
		{"coalesce", cols(ints(1, nil, nil), ints(10, 20, nil)), func() (Expr, error) { return Coalesce(I0, I1, i4(-1)) }, strs("1", "20", "-1"), ""},
		{"coalesce is lazy", cols(ints(1, 2), ints(0, 0)), func() (Expr, error) { return Coalesce(I0, mk(Arith("/", i4(1), I1))) }, strs("1", "2"), ""},
		{"coalesce lazy raises when reached", cols(ints(1, nil), ints(0, 0)), func() (Expr, error) { return Coalesce(I0, mk(Arith("/", i4(1), I1))) }, nil, "22012"},
		{"coalesce untyped", cols(texts(nil, "b")), func() (Expr, error) { return Coalesce(T0, u("none")) }, strs("none", "b"), ""},
		{"coalesce types", cols(texts(nil)), func() (Expr, error) { return Coalesce(T0, i4(1)) }, nil, "42804"},
		{"nullif", cols(ints(1, 2, nil)), func() (Expr, error) { return NullIf(I0, i4(2)) }, strs("1", "NULL", "NULL"), ""},
		{"nullif promote", cols(ints(1, 2)), func() (Expr, error) { return NullIf(I0, f8(1)) }, strs("NULL", "2"), ""},
		{"greatest", cols(ints(1, nil, nil), ints(5, 3, nil)), func() (Expr, error) { return Greatest(I0, I1, i4(2)) }, strs("5", "3", "2"), ""},
		{"least nulls ignored", cols(ints(1, nil, nil), ints(5, 3, nil)), func() (Expr, error) { return Least(I0, I1) }, strs("1", "3", "NULL"), ""},
		{"greatest text", cols(texts("a", "c")), func() (Expr, error) { return Greatest(T0, u("b")) }, strs("b", "c"), ""},
		{"greatest mixed", cols(ints(1, 3)), func() (Expr, error) { return Greatest(I0, f8(2.5)) }, strs("2.5", "3"), ""},
	})
}
