package expr

import (
	"testing"
)

// constCase is one constant expression, its value as PostgreSQL prints it
// (or NULL), or the SQLSTATE it raises at construction or evaluation.
type constCase struct {
	name string
	e    func() (Expr, error)
	want string
	code string
}

func runConst(t *testing.T, cases []constCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := c.e()
			if err == nil {
				var got string
				got, err = evalConst(t, e)
				if err == nil {
					if c.code != "" {
						t.Fatalf("%s = %s, want error %s", e, got, c.code)
					}
					if got != c.want {
						t.Fatalf("%s = %q, want %q", e, got, c.want)
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

// ar, cmpE, … are shorthands that thread construction errors through.
func ar(op string, l, r Expr) func() (Expr, error) {
	return func() (Expr, error) { return Arith(op, l, r) }
}
func cmpE(op string, l, r Expr) func() (Expr, error) {
	return func() (Expr, error) { return Compare(op, l, r) }
}
func castE(x Expr, to string) func() (Expr, error) {
	return func() (Expr, error) {
		t, err := ParseTypeName([]string{to}, nil)
		if err != nil {
			return nil, err
		}
		return Cast(x, t)
	}
}
func fn(name string, args ...Expr) func() (Expr, error) {
	return func() (Expr, error) { return Call(name, args) }
}

func lit(s, typ string) Expr {
	e, err := castE(u(s), typ)()
	if err != nil {
		panic(err)
	}
	return e
}

func TestArithmetic(t *testing.T) {
	runConst(t, []constCase{
		{"int4 add", ar("+", i4(2), i4(3)), "5", ""},
		{"int4 overflow", ar("+", i4(2147483647), i4(1)), "", "22003"},
		{"int4 sub overflow", ar("-", i4(-2147483648), i4(1)), "", "22003"},
		{"int4 mul overflow", ar("*", i4(65536), i4(65536)), "", "22003"},
		{"int2 overflow", ar("+", i2(32767), i2(1)), "", "22003"},
		{"int2 mul", ar("*", i2(100), i2(300)), "30000", ""},
		{"int8 overflow", ar("*", i8(9223372036854775807), i8(2)), "", "22003"},
		{"int8 min times -1", ar("*", i8(-9223372036854775808), i8(-1)), "", "22003"},
		{"int8 big mul", ar("*", i8(3037000499), i8(3037000499)), "9223372030926249001", ""},
		{"int8 div min -1", ar("/", i8(-9223372036854775808), i8(-1)), "", "22003"},
		{"int4 mod min -1", ar("%", i4(-2147483648), i4(-1)), "0", ""},
		{"division truncates", ar("/", i4(-7), i4(2)), "-3", ""},
		{"modulo sign of dividend", ar("%", i4(-7), i4(2)), "-1", ""},
		{"int division by zero", ar("/", i4(1), i4(0)), "", "22012"},
		{"int modulo by zero", ar("%", i8(1), i8(0)), "", "22012"},
		{"float division by zero", ar("/", f8(1), f8(0)), "", "22012"},
		{"NaN / 0", ar("/", f8(nan()), f8(0)), "NaN", ""},
		{"float overflow", ar("*", f8(1e300), f8(1e300)), "", "22003"},
		{"float underflow", ar("*", f8(1e-300), f8(1e-300)), "", "22003"},
		{"infinity stays", ar("+", f8(inf()), f8(1)), "Infinity", ""},
		{"int + float", ar("+", i4(1), f8(0.5)), "1.5", ""},
		{"int4 + int8 is int8", ar("+", i4(2147483647), i8(1)), "2147483648", ""},
		{"int2 + int4", ar("+", i2(1), i4(2147483646)), "2147483647", ""},
		{"power", ar("^", i4(2), i4(10)), "1024", ""},
		{"zero to negative power", ar("^", f8(0), f8(-1)), "", "2201F"},
		{"negative to fractional power", ar("^", f8(-8), f8(1.0/3)), "", "2201F"},
		{"float modulo", ar("%", f8(5.5), f8(2)), "1.5", ""},
		{"untyped operand", ar("+", i4(1), u("2")), "3", ""},
		{"untyped operand bad", ar("+", i4(1), u("x")), "", "22P02"},
		{"unknown + unknown", ar("+", u("1"), u("2")), "", "42725"},
		{"text + int", ar("+", tx("a"), i4(1)), "", "42883"},
		{"null propagates", ar("+", i4(1), null(Int4Type)), "NULL", ""},
		{"untyped null", ar("+", i4(1), null(UnknownType)), "NULL", ""},
		{"unary minus", func() (Expr, error) { return Arith("-", i4(5), nil) }, "-5", ""},
		{"unary minus overflow", func() (Expr, error) {
			return Neg(&CastExpr{X: i4(-2147483648), To: Int4Type})
		}, "", "22003"},
		{"unary minus text", func() (Expr, error) { return Neg(tx("a")) }, "", "42883"},
		{"concat", ar("||", tx("a"), tx("b")), "ab", ""},
		{"concat int", ar("||", tx("a"), i4(1)), "a1", ""},
		{"concat bool", ar("||", u("x"), bl(true)), "xtrue", ""},
		{"concat null", ar("||", tx("a"), null(TextType)), "NULL", ""},
		{"concat untyped", ar("||", u("a"), u("b")), "ab", ""},
		{"concat ints", ar("||", i4(1), i4(2)), "", "42883"},
		{"concat bytea", ar("||", lit(`\x01`, "bytea"), lit(`\x02`, "bytea")), `\x0102`, ""},
		{"concat float", ar("||", tx("v="), f8(0.1)), "v=0.1", ""},
	})
}

func TestDateArithmetic(t *testing.T) {
	d := func(s string) Expr { return lit(s, "date") }
	ts := func(s string) Expr { return lit(s, "timestamp") }
	iv := func(s string) Expr { return lit(s, "interval") }
	runConst(t, []constCase{
		{"date + int", ar("+", d("2024-02-28"), i4(2)), "2024-03-01", ""},
		{"int + date", ar("+", i4(1), d("2023-12-31")), "2024-01-01", ""},
		{"date - int", ar("-", d("2024-03-01"), i4(1)), "2024-02-29", ""},
		{"date - date", ar("-", d("2024-03-01"), d("2024-01-01")), "60", ""},
		{"date + bigint", ar("+", d("2024-03-01"), i8(1)), "", "42883"},
		{"date + untyped", ar("+", d("2024-03-01"), u("3")), "2024-03-04", ""},
		{"date - untyped date", ar("-", d("2024-03-01"), u("2024-02-01")), "29", ""},
		{"date + interval", ar("+", d("2024-01-31"), iv("1 month")), "2024-02-29 00:00:00", ""},
		{"timestamp + interval clamps", ar("+", ts("2023-01-31 10:00"), iv("1 mon")), "2023-02-28 10:00:00", ""},
		{"timestamp - interval", ar("-", ts("2024-03-01 00:00"), iv("1 day 1 hour")), "2024-02-28 23:00:00", ""},
		{"interval + timestamp", ar("+", iv("2 hours"), ts("2024-01-01")), "2024-01-01 02:00:00", ""},
		{"timestamp + untyped", ar("+", ts("2024-01-01"), u("1 day")), "2024-01-02 00:00:00", ""},
		{"timestamp - timestamp", ar("-", ts("2024-03-01 12:00"), ts("2024-02-28 10:30")), "2 days 01:30:00", ""},
		{"negative difference", ar("-", ts("2024-01-01"), ts("2024-01-02 01:00")), "-1 days -01:00:00", ""},
		{"date - timestamp", ar("-", d("2024-01-02"), ts("2024-01-01 12:00")), "12:00:00", ""},
		{"interval + interval", ar("+", iv("1 day"), iv("-2 hours")), "1 day -02:00:00", ""},
		{"interval * float", ar("*", iv("1 day"), f8(1.5)), "1 day 12:00:00", ""},
		{"interval / int", ar("/", iv("1 mon"), i4(2)), "15 days", ""},
		{"interval / 0", ar("/", iv("1 mon"), i4(0)), "", "22012"},
		{"- interval", func() (Expr, error) { return Neg(iv("1 year 2 days")) }, "-1 years -2 days", ""},
		{"infinite date + 1", ar("+", d("infinity"), i4(1)), "infinity", ""},
		{"date overflow", ar("+", d("5874897-12-31"), i4(1)), "", "22008"},
		{"date * int", ar("*", d("2024-01-01"), i4(2)), "", "42883"},
	})
}

func TestCompareConst(t *testing.T) {
	runConst(t, []constCase{
		{"int lt", cmpE("<", i4(1), i4(2)), "true", ""},
		{"int8 vs int4", cmpE("=", i8(5), i4(5)), "true", ""},
		{"int vs float", cmpE("<", i4(1), f8(1.5)), "true", ""},
		{"text", cmpE("<", tx("B"), tx("a")), "true", ""},
		{"text vs untyped", cmpE("=", tx("a"), u("a")), "true", ""},
		{"untyped vs untyped", cmpE("<>", u("a"), u("b")), "true", ""},
		{"int vs untyped", cmpE(">=", i4(10), u("9")), "true", ""},
		{"int vs bad untyped", cmpE(">=", i4(10), u("nine")), "", "22P02"},
		{"text vs int", cmpE("=", tx("1"), i4(1)), "", "42883"},
		{"NaN equals NaN", cmpE("=", f8(nan()), f8(nan())), "true", ""},
		{"NaN above infinity", cmpE(">", f8(nan()), f8(inf())), "true", ""},
		{"bool", cmpE("<", bl(false), bl(true)), "true", ""},
		{"date vs timestamp", cmpE("<", lit("2024-01-01", "date"), lit("2024-01-01 00:00:01", "timestamp")), "true", ""},
		{"date vs untyped", cmpE("=", lit("2024-01-01", "date"), u("2024-01-01")), "true", ""},
		{"interval equal spans", cmpE("=", lit("1 day", "interval"), lit("24 hours", "interval")), "true", ""},
		{"interval month vs days", cmpE(">", lit("1 mon", "interval"), lit("29 days", "interval")), "true", ""},
		{"bytea", cmpE("<", lit(`\x00`, "bytea"), lit(`\x01`, "bytea")), "true", ""},
		{"null", cmpE("=", i4(1), null(Int4Type)), "NULL", ""},
		{"!= is <>", cmpE("!=", i4(1), i4(2)), "true", ""},
		{"bad operator", cmpE("=~", i4(1), i4(2)), "", "42883"},
	})
}

func TestCastConst(t *testing.T) {
	runConst(t, []constCase{
		{"text to int", castE(u(" 42 "), "int4"), "42", ""},
		{"text to int bad", castE(tx("abc"), "integer"), "", "22P02"},
		{"text to int overflow", castE(tx("99999999999"), "int4"), "", "22003"},
		{"text to int2 overflow", castE(tx("40000"), "int2"), "", "22003"},
		{"text to bigint", castE(tx("-9223372036854775808"), "int8"), "-9223372036854775808", ""},
		{"text to float", castE(tx("1e-3"), "float8"), "0.001", ""},
		{"text to float inf", castE(tx("-Infinity"), "float8"), "-Infinity", ""},
		{"text to float range", castE(tx("1e400"), "float8"), "", "22003"},
		{"text to float bad", castE(tx("1.2.3"), "float8"), "", "22P02"},
		{"float to int half even", castE(f8(2.5), "int4"), "2", ""},
		{"float to int half even up", castE(f8(3.5), "int4"), "4", ""},
		{"float to int negative", castE(f8(-2.5), "int4"), "-2", ""},
		{"numeric to int half away", castE(Lit(2.5, NumericType), "int4"), "3", ""},
		{"numeric to int negative", castE(Lit(-2.5, NumericType), "int8"), "-3", ""},
		{"float to numeric to int", castE(mk(Cast(f8(0.5), NumericType)), "int2"), "1", ""},
		{"numeric to float to int", castE(mk(Cast(Lit(0.5, NumericType), Float8Type)), "int2"), "0", ""},
		{"float to int overflow", castE(f8(3e9), "int4"), "", "22003"},
		{"NaN to int", castE(f8(nan()), "int8"), "", "22003"},
		{"int8 to int2 overflow", castE(i8(70000), "int2"), "", "22003"},
		{"float8 to float4 overflow", castE(f8(1e300), "float4"), "", "22003"},
		{"float text shortest", castE(f8(0.1), "text"), "0.1", ""},
		{"float text exp", castE(f8(1e15), "text"), "1e+15", ""},
		{"float text fixed", castE(f8(123456789012345), "text"), "123456789012345", ""},
		{"float text small", castE(f8(0.0001), "text"), "0.0001", ""},
		{"float text smaller", castE(f8(0.00001234), "text"), "1.234e-05", ""},
		{"float text nan", castE(f8(nan()), "text"), "NaN", ""},
		{"real text", castE(Lit(float32(1e6), Float4Type), "text"), "1e+06", ""},
		{"real text frac", castE(Lit(float32(0.1), Float4Type), "text"), "0.1", ""},
		{"int to text", castE(i8(-12), "text"), "-12", ""},
		{"bool to text", castE(bl(true), "text"), "true", ""},
		{"text to bool", castE(tx(" YES "), "bool"), "true", ""},
		{"text to bool prefix", castE(tx("f"), "boolean"), "false", ""},
		{"text to bool bad", castE(tx("maybe"), "bool"), "", "22P02"},
		{"text to bool of", castE(tx("of"), "bool"), "false", ""},
		{"int to bool", castE(i4(3), "bool"), "true", ""},
		{"bool to int", castE(bl(true), "int4"), "1", ""},
		{"bigint to bool", castE(i8(1), "bool"), "", "42846"},
		{"date", castE(u("2024-02-29"), "date"), "2024-02-29", ""},
		{"date compact", castE(u("20240229"), "date"), "2024-02-29", ""},
		{"date bad", castE(u("2024-02-30"), "date"), "", "22008"},
		{"date garbage", castE(u("yesterday-ish"), "date"), "", "22007"},
		{"date BC", castE(u("0044-03-15 BC"), "date"), "0044-03-15 BC", ""},
		{"date infinity", castE(u("infinity"), "date"), "infinity", ""},
		{"timestamp", castE(u("2024-02-29T13:14:15.5"), "timestamp"), "2024-02-29 13:14:15.5", ""},
		{"timestamp ignores zone", castE(u("2024-02-29 13:14:15+02"), "timestamp"), "2024-02-29 13:14:15", ""},
		{"timestamptz zone", castE(u("2024-02-29 13:14:15+02"), "timestamptz"), "2024-02-29 11:14:15+00", ""},
		{"timestamptz Z", castE(u("2024-02-29T13:14:15Z"), "timestamptz"), "2024-02-29 13:14:15+00", ""},
		{"timestamptz local", castE(u("2024-02-29 13:14:15"), "timestamptz"), "2024-02-29 13:14:15+00", ""},
		{"timestamp hour 25", castE(u("2024-02-29 25:00"), "timestamp"), "", "22008"},
		{"timestamp to date", castE(lit("2024-02-29 23:59", "timestamp"), "date"), "2024-02-29", ""},
		{"date to timestamp", castE(lit("2024-02-29", "date"), "timestamp"), "2024-02-29 00:00:00", ""},
		{"timestamp to text", castE(lit("1999-12-31 23:59:59.000001", "timestamp"), "text"), "1999-12-31 23:59:59.000001", ""},
		{"today", castE(u("today"), "date"), "2024-02-29", ""},
		{"now", castE(u("now"), "timestamptz"), "2024-02-29 13:14:15.123456+00", ""},
		{"epoch", castE(u("epoch"), "timestamp"), "1970-01-01 00:00:00", ""},
		{"interval", castE(u("1 year 2 months 3 days 04:05:06.5"), "interval"), "1 year 2 mons 3 days 04:05:06.5", ""},
		{"interval ago", castE(u("@ 2 hours ago"), "interval"), "-02:00:00", ""},
		{"interval frac", castE(u("1.5 days"), "interval"), "1 day 12:00:00", ""},
		{"interval iso", castE(u("P1Y2M3DT4H"), "interval"), "1 year 2 mons 3 days 04:00:00", ""},
		{"interval mixed sign", castE(u("-1 day +2 hours"), "interval"), "-1 days +02:00:00", ""},
		{"interval zero", castE(u("0"), "interval"), "00:00:00", ""},
		{"interval bad", castE(u("1 fortnight"), "interval"), "", "22007"},
		{"bytea hex", castE(u(`\xDEAD`), "bytea"), `\xdead`, ""},
		{"bytea escape", castE(u(`a\\b\001`), "bytea"), `\x615c6201`, ""},
		{"bytea bad", castE(u(`\xZZ`), "bytea"), "", "22P02"},
		{"bytea to text", castE(lit("ab", "bytea"), "text"), `\x6162`, ""},
		{"int to date", castE(i4(1), "date"), "", "42846"},
		{"varchar", castE(tx("x"), "varchar"), "x", ""},
		{"null", castE(null(UnknownType), "int4"), "NULL", ""},
		{"unknown type", castE(tx("x"), "geometry"), "", "42704"},
	})
}

func TestImplicitCast(t *testing.T) {
	if _, err := ImplicitCast(tx("1"), Int4Type); err == nil {
		t.Fatal("text to integer must not be implicit")
	} else {
		wantCode(t, err, "42804")
	}
	e := mk(ImplicitCast(col(0, Int4Type), Int8Type))
	if e.String() != "c0::bigint" {
		t.Fatalf("got %s", e)
	}
	if _, err := ImplicitCast(col(0, Int8Type), Int4Type); err == nil {
		t.Fatal("narrowing must not be implicit")
	}
	if _, err := AssignCast(col(0, Float8Type), Int4Type); err != nil {
		t.Fatalf("assignment narrowing: %v", err)
	}
	if _, err := AssignCast(col(0, Int4Type), TextType); err != nil {
		t.Fatalf("assignment to text: %v", err)
	}
	p := mk(ImplicitCast(Param(1, UnknownType), DateType))
	if p.(*Parameter).Typ != DateType {
		t.Fatal("an untyped parameter takes the type asked for")
	}
}
