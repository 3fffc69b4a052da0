package expr

import (
	"strings"
	"testing"

	"github.com/dormousedb/dormouse/engine/sqlerr"
)

func TestStringFunctions(t *testing.T) {
	runConst(t, []constCase{
		{"lower", fn("lower", u("AbC")), "abc", ""},
		{"upper unicode", fn("UPPER", u("straße é")), "STRAßE É", ""},
		{"pg_catalog prefix", fn("pg_catalog.lower", u("X")), "x", ""},
		{"initcap", fn("initcap", u("hello wORLD-foo bar1x")), "Hello World-Foo Bar1x", ""},
		{"length chars", fn("length", u("héllo")), "5", ""},
		{"char_length", fn("char_length", u("héllo")), "5", ""},
		{"octet_length", fn("octet_length", u("héllo")), "6", ""},
		{"length bytea", fn("length", lit(`\x0102`, "bytea")), "2", ""},
		{"length null", fn("length", null(UnknownType)), "NULL", ""},
		{"substr", fn("substr", u("hello"), i4(2)), "ello", ""},
		{"substr len", fn("substr", u("hello"), i4(2), i4(3)), "ell", ""},
		{"substr zero start", fn("substring", u("hello"), i4(0), i4(3)), "he", ""},
		{"substr negative start", fn("substr", u("hello"), i4(-3), i4(5)), "h", ""},
		{"substr past end", fn("substr", u("hello"), i4(9)), "", ""},
		{"substr negative length", fn("substr", u("hello"), i4(1), i4(-1)), "", "22011"},
		{"substr unicode", fn("substr", u("añb"), i4(2), i4(1)), "ñ", ""},
		{"substr bytea", fn("substr", lit(`\x010203`, "bytea"), i4(2), i4(1)), `\x02`, ""},
		{"concat", fn("concat", u("a"), null(UnknownType), i4(1), bl(true), f8(1.5)), "a1t1.5", ""},
		{"concat all null", fn("concat", null(TextType)), "", ""},
		{"concat_ws", fn("concat_ws", u(","), u("a"), null(TextType), i4(2)), "a,2", ""},
		{"concat_ws null sep", fn("concat_ws", null(TextType), u("a")), "NULL", ""},
		{"btrim", fn("btrim", u("  x  ")), "x", ""},
		{"btrim chars", fn("btrim", u("xyxabcyx"), u("xy")), "abc", ""},
		{"ltrim", fn("ltrim", u("  x  ")), "x  ", ""},
		{"rtrim chars", fn("rtrim", u("abc..."), u(".")), "abc", ""},
		{"replace", fn("replace", u("abcabc"), u("b"), u("XX")), "aXXcaXXc", ""},
		{"replace empty", fn("replace", u("abc"), u(""), u("X")), "abc", ""},
		{"strpos", fn("strpos", u("héllo"), u("llo")), "3", ""},
		{"strpos missing", fn("position", u("hello"), u("z")), "0", ""},
		{"left", fn("left", u("hello"), i4(2)), "he", ""},
		{"left negative", fn("left", u("hello"), i4(-2)), "hel", ""},
		{"right", fn("right", u("hello"), i4(2)), "lo", ""},
		{"right negative", fn("right", u("hello"), i4(-2)), "llo", ""},
		{"lpad", fn("lpad", u("hi"), i4(5), u("xy")), "xyxhi", ""},
		{"lpad truncates", fn("lpad", u("hello"), i4(2)), "he", ""},
		{"rpad", fn("rpad", u("hi"), i4(4)), "hi  ", ""},
		{"repeat", fn("repeat", u("ab"), i4(3)), "ababab", ""},
		{"repeat negative", fn("repeat", u("ab"), i4(-1)), "", ""},
		{"reverse", fn("reverse", u("añb")), "bña", ""},
		{"split_part", fn("split_part", u("a,b,c"), u(","), i4(2)), "b", ""},
		{"split_part negative", fn("split_part", u("a,b,c"), u(","), i4(-1)), "c", ""},
		{"split_part past", fn("split_part", u("a,b,c"), u(","), i4(4)), "", ""},
		{"split_part zero", fn("split_part", u("a,b,c"), u(","), i4(0)), "", "22023"},
		{"starts_with", fn("starts_with", u("alphabet"), u("alph")), "true", ""},
		{"md5", fn("md5", u("abc")), "900150983cd24fb0d6963f7d28e17f72", ""},
		{"ascii", fn("ascii", u("A")), "65", ""},
		{"chr", fn("chr", i4(228)), "ä", ""},
		{"chr zero", fn("chr", i4(0)), "", "54000"},
		{"translate", fn("translate", u("12345"), u("143"), u("ax")), "a2x5", ""},
		{"to_hex", fn("to_hex", i4(255)), "ff", ""},
		{"to_hex bigint", fn("to_hex", i8(-1)), "ffffffffffffffff", ""},
		{"unknown function", fn("frobnicate", i4(1)), "", "42883"},
		{"wrong argument type", fn("lower", i4(1)), "", "42883"},
		{"function style cast", fn("int8", u("12")), "12", ""},
		{"coalesce by name", fn("COALESCE", null(Int4Type), i4(2)), "2", ""},
		{"nullif by name", fn("nullif", i4(2), i4(2)), "NULL", ""},
		{"greatest by name", fn("greatest", i4(2), i4(7)), "7", ""},
	})
	_, err := Call("frobnicate", []Expr{i4(1), u("x")})
	se := sqlerr.As(err)
	if se.Message != "function frobnicate(integer, unknown) does not exist" || !strings.Contains(se.Hint, "explicit type casts") {
		t.Fatalf("got %q hint %q", se.Message, se.Hint)
	}
	_, err = Arith("+", tx("a"), i4(1))
	se = sqlerr.As(err)
	if se.Message != "operator does not exist: text + integer" || se.Hint != "No operator matches the given name and argument types. You might need to add explicit type casts." {
		t.Fatalf("got %q hint %q", se.Message, se.Hint)
	}
}

func TestMathFunctions(t *testing.T) {
	runConst(t, []constCase{
		{"abs int", fn("abs", i4(-3)), "3", ""},
		{"abs int min", fn("abs", i4(-2147483648)), "", "22003"},
		{"abs float", fn("abs", f8(-1.5)), "1.5", ""},
		{"abs smallint", fn("abs", i2(-3)), "3", ""},
		{"round double half even", fn("round", f8(2.5)), "2", ""},
		{"round double 3.5", fn("round", f8(3.5)), "4", ""},
		{"round double negative", fn("round", f8(-2.5)), "-2", ""},
		{"round numeric half away", fn("round", Lit(2.5, NumericType)), "3", ""},
		{"round numeric negative", fn("round", Lit(-2.5, NumericType)), "-3", ""},
		{"round numeric sum", fn("round", mk(Arith("+", Lit(2, NumericType), Lit(0.5, NumericType)))), "3", ""},
		{"round cast to numeric", fn("round", mk(Cast(f8(0.5), NumericType))), "1", ""},
		{"round digits", fn("round", f8(2.675), i4(2)), "2.68", ""},
		{"round digits negative", fn("round", f8(-2.675), i4(2)), "-2.68", ""},
		{"round tens", fn("round", f8(1250), i4(-2)), "1300", ""},
		{"round carry", fn("round", f8(9.996), i4(2)), "10", ""},
		{"round small", fn("round", f8(0.004), i4(2)), "0", ""},
		{"round int arg", fn("round", i4(7)), "7", ""},
		{"trunc", fn("trunc", f8(-2.7)), "-2", ""},
		{"trunc digits", fn("trunc", f8(2.679), i4(2)), "2.67", ""},
		{"ceil", fn("ceil", f8(1.2)), "2", ""},
		{"ceiling", fn("ceiling", f8(-1.2)), "-1", ""},
		{"floor", fn("floor", f8(-1.2)), "-2", ""},
		{"sqrt", fn("sqrt", f8(2)), "1.4142135623730951", ""},
		{"sqrt negative", fn("sqrt", f8(-1)), "", "2201F"},
		{"cbrt", fn("cbrt", f8(27)), "3", ""},
		{"power", fn("power", i4(2), i4(0.5*2)), "2", ""},
		{"pow negative fractional", fn("pow", f8(-1), f8(0.5)), "", "2201F"},
		{"exp", fn("exp", f8(0)), "1", ""},
		{"exp overflow", fn("exp", f8(1000)), "", "22003"},
		{"ln", fn("ln", f8(1)), "0", ""},
		{"ln zero", fn("ln", f8(0)), "", "2201E"},
		{"ln negative", fn("ln", f8(-1)), "", "2201E"},
		{"log is base 10", fn("log", f8(1000)), "3", ""},
		{"log base", fn("log", f8(2), f8(8)), "3", ""},
		{"log base one", fn("log", f8(1), f8(8)), "", "22012"},
		{"mod", fn("mod", i4(-7), i4(3)), "-1", ""},
		{"mod zero", fn("mod", i8(1), i8(0)), "", "22012"},
		{"mod float", fn("mod", f8(7.5), f8(2)), "1.5", ""},
		{"sign", fn("sign", f8(-4)), "-1", ""},
		{"pi", fn("pi"), "3.141592653589793", ""},
		{"degrees", fn("degrees", fn2("pi")), "180", ""},
		{"asin range", fn("asin", f8(2)), "", "22003"},
		{"div", fn("div", f8(7), f8(2)), "3", ""},
	})
	r := mk(Call("random", nil))
	if IsConstant(r) {
		t.Fatal("random() is volatile")
	}
}

func fn2(name string, args ...Expr) Expr { return mk(fn(name, args...)()) }

func TestTimeFunctions(t *testing.T) {
	ts := func(s string) Expr { return lit(s, "timestamp") }
	tz := func(s string) Expr { return lit(s, "timestamptz") }
	d := func(s string) Expr { return lit(s, "date") }
	iv := func(s string) Expr { return lit(s, "interval") }
	runConst(t, []constCase{
		{"now", fn("now"), "2024-02-29 13:14:15.123456+00", ""},
		{"current_timestamp", fn("current_timestamp"), "2024-02-29 13:14:15.123456+00", ""},
		{"current_date", fn("current_date"), "2024-02-29", ""},
		{"localtimestamp", fn("localtimestamp"), "2024-02-29 13:14:15.123456", ""},
		{"date_trunc month", fn("date_trunc", u("month"), ts("2024-02-29 13:14:15")), "2024-02-01 00:00:00", ""},
		{"date_trunc hour", fn("date_trunc", u("HOUR"), ts("2024-02-29 13:14:15")), "2024-02-29 13:00:00", ""},
		{"date_trunc week", fn("date_trunc", u("week"), ts("2024-02-29 13:14:15")), "2024-02-26 00:00:00", ""},
		{"date_trunc quarter", fn("date_trunc", u("quarter"), ts("2024-05-29")), "2024-04-01 00:00:00", ""},
		{"date_trunc decade", fn("date_trunc", u("decade"), ts("2024-05-29")), "2020-01-01 00:00:00", ""},
		{"date_trunc century", fn("date_trunc", u("century"), ts("2000-05-29")), "1901-01-01 00:00:00", ""},
		{"date_trunc millennium", fn("date_trunc", u("millennium"), ts("2024-05-29")), "2001-01-01 00:00:00", ""},
		{"date_trunc ms", fn("date_trunc", u("milliseconds"), ts("2024-05-29 00:00:00.123456")), "2024-05-29 00:00:00.123", ""},
		{"date_trunc tz", fn("date_trunc", u("day"), tz("2024-02-29 13:14:15+00")), "2024-02-29 00:00:00+00", ""},
		{"date_trunc date", fn("date_trunc", u("month"), d("2024-02-29")), "2024-02-01 00:00:00+00", ""},
		{"date_trunc interval", fn("date_trunc", u("hour"), iv("1 day 02:30:00")), "1 day 02:00:00", ""},
		{"date_trunc bad unit", fn("date_trunc", u("fortnight"), ts("2024-02-29")), "", "22023"},
		{"extract year", fn("extract", u("year"), ts("2024-02-29 13:14:15.5")), "2024", ""},
		{"extract second", fn("date_part", u("second"), ts("2024-02-29 13:14:15.5")), "15.5", ""},
		{"extract ms", fn("date_part", u("milliseconds"), ts("2024-02-29 13:14:15.5")), "15500", ""},
		{"extract dow", fn("extract", u("dow"), ts("2024-02-25")), "0", ""},
		{"extract isodow", fn("extract", u("isodow"), ts("2024-02-25")), "7", ""},
		{"extract doy", fn("extract", u("doy"), ts("2024-12-31")), "366", ""},
		{"extract week", fn("extract", u("week"), ts("2021-01-03")), "53", ""},
		{"extract isoyear", fn("extract", u("isoyear"), ts("2021-01-03")), "2020", ""},
		{"extract epoch", fn("extract", u("epoch"), ts("1970-01-02 00:00:01.5")), "86401.5", ""},
		{"extract quarter", fn("extract", u("quarter"), d("2024-08-01")), "3", ""},
		{"extract century", fn("extract", u("century"), d("2000-12-31")), "20", ""},
		{"extract BC year", fn("extract", u("year"), d("0044-03-15 BC")), "-44", ""},
		{"extract date hour", fn("extract", u("hour"), d("2024-01-01")), "", "0A000"},
		{"extract tz", fn("extract", u("timezone"), tz("2024-01-01 00:00+00")), "0", ""},
		{"extract infinity", fn("extract", u("year"), ts("infinity")), "Infinity", ""},
		{"extract infinity month", fn("extract", u("month"), ts("infinity")), "NULL", ""},
		{"extract interval", fn("extract", u("hour"), iv("1 day 25:30:00")), "25", ""},
		{"extract interval epoch", fn("extract", u("epoch"), iv("1 day 1 second")), "86401", ""},
		{"extract interval month", fn("extract", u("month"), iv("14 months")), "2", ""},
		{"extract bad", fn("extract", u("fortnight"), ts("2024-01-01")), "", "22023"},
		{"make_date", fn("make_date", i4(2024), i4(2), i4(29)), "2024-02-29", ""},
		{"make_date bad", fn("make_date", i4(2023), i4(2), i4(29)), "", "22008"},
		{"make_timestamp", fn("make_timestamp", i4(2024), i4(2), i4(29), i4(1), i4(2), f8(3.5)), "2024-02-29 01:02:03.5", ""},
		{"to_timestamp", fn("to_timestamp", f8(1.5)), "1970-01-01 00:00:01.5+00", ""},
		{"to_timestamp NaN", fn("to_timestamp", f8(nan())), "", "22008"},
		{"age", fn("age", ts("2024-03-31"), ts("2023-01-30 12:00")), "1 year 2 mons 12:00:00", ""},
		{"age negative", fn("age", ts("2023-01-30"), ts("2024-03-31")), "-1 years -2 mons -1 days", ""},
		{"age borrows days", fn("age", ts("2024-03-01"), ts("2024-01-31")), "1 mon 1 day", ""},
		{"age one argument", fn("age", ts("2023-02-28")), "1 year 1 day", ""},
		{"at time zone", fn("timezone", u("Europe/Paris"), tz("2024-07-01 12:00+00")), "2024-07-01 14:00:00", ""},
		{"at time zone back", fn("timezone", u("Europe/Paris"), ts("2024-07-01 14:00")), "2024-07-01 12:00:00+00", ""},
		{"at time zone bad", fn("timezone", u("Mars/Olympus"), ts("2024-07-01 14:00")), "", "22023"},
		{"isfinite", fn("isfinite", d("infinity")), "false", ""},
	})
}

func TestSessionTimeZone(t *testing.T) {
	ctx := newCtx(t)
	ctx.TimeZone = "America/New_York"
	rec := oneRow()
	defer rec.Release()
	cases := []struct {
		e    Expr
		want string
	}{
		{mk(Cast(lit("2024-07-01 12:00:00+00", "timestamptz"), TextType)), "2024-07-01 08:00:00-04"},
		{mk(Cast(u("2024-01-15 12:00"), TimestampTZType)), "2024-01-15 17:00:00+00"},
		{mk(Call("date_trunc", []Expr{u("day"), lit("2024-07-01 02:00:00+00", "timestamptz")})), "2024-06-30 04:00:00+00"},
		{mk(Call("extract", []Expr{u("hour"), lit("2024-07-01 02:00:00+00", "timestamptz")})), "22"},
		{mk(Arith("+", lit("2024-03-09 12:00:00-05", "timestamptz"), lit("1 day", "interval"))), "2024-03-10 16:00:00+00"},
		{mk(Cast(lit("2024-07-01 02:00:00+00", "timestamptz"), DateType)), "2024-06-30"},
		{mk(Cast(lit("2024-07-01", "date"), TimestampTZType)), "2024-07-01 04:00:00+00"},
	}
	for _, c := range cases {
		vs, err := eval(t, ctx, c.e, rec)
		if err != nil {
			t.Fatalf("%s: %v", c.e, err)
		}
		if got := show(vs, kindOf(c.e.Type()))[0]; got != c.want {
			t.Errorf("%s = %s, want %s", c.e, got, c.want)
		}
	}
}
