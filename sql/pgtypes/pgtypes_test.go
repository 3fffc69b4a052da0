package pgtypes

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// oneValue builds a one-row array of t holding v (nil for NULL).
func oneValue(t *testing.T, typ arrow.DataType, v any) arrow.Array {
	t.Helper()
	b := array.NewBuilder(memory.DefaultAllocator, typ)
	defer b.Release()
	if v == nil {
		b.AppendNull()
		return b.NewArray()
	}
	switch b := b.(type) {
	case *array.BooleanBuilder:
		b.Append(v.(bool))
	case *array.Int16Builder:
		b.Append(v.(int16))
	case *array.Int32Builder:
		b.Append(v.(int32))
	case *array.Int64Builder:
		b.Append(v.(int64))
	case *array.Float32Builder:
		b.Append(v.(float32))
	case *array.Float64Builder:
		b.Append(v.(float64))
	case *array.StringBuilder:
		b.Append(v.(string))
	case *array.BinaryBuilder:
		b.Append(v.([]byte))
	case *array.Date32Builder:
		b.Append(v.(arrow.Date32))
	case *array.TimestampBuilder:
		b.Append(v.(arrow.Timestamp))
	case *array.MonthDayNanoIntervalBuilder:
		b.Append(v.(arrow.MonthDayNanoInterval))
	default:
		t.Fatalf("no builder for %T", b)
	}
	return b.NewArray()
}

// TestBinaryRoundTrip writes each type in binary and reads it back.
func TestBinaryRoundTrip(t *testing.T) {
	for _, c := range []struct {
		name string
		typ  arrow.DataType
		oid  uint32
		v    any
	}{
		{"bool", expr.BoolType, Bool, true},
		{"int2", expr.Int2Type, Int2, int16(-32768)},
		{"int4", expr.Int4Type, Int4, int32(123456789)},
		{"int8", expr.Int8Type, Int8, int64(-1) << 62},
		{"float4", expr.Float4Type, Float4, float32(-2.5)},
		{"float8", expr.Float8Type, Float8, math.Pi},
		{"numeric", expr.Float8Type, Numeric, 1234.5678},
		{"text", expr.TextType, Text, "zoë ☃"},
		{"bytea", expr.ByteaType, Bytea, []byte{0, 1, 255}},
		{"date", expr.DateType, Date, arrow.Date32(19782)},
		{"date before 2000", expr.DateType, Date, arrow.Date32(-4000)},
		{"timestamp", expr.TimestampType, Timestamp, arrow.Timestamp(1709212455123456)},
		{"timestamptz", expr.TimestampTZType, Timestamptz, arrow.Timestamp(-86400_000_000)},
		{"timestamp infinity", expr.TimestampType, Timestamp, arrow.Timestamp(math.MaxInt64)},
		{"interval", expr.IntervalType, Interval, arrow.MonthDayNanoInterval{Months: 14, Days: -3, Nanoseconds: 3_500_000_000}},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := oneValue(t, c.typ, c.v)
			defer a.Release()
			enc := NewEncoder(a, c.oid, BinaryFormat, time.UTC)
			data := enc(nil, 0)
			b := array.NewBuilder(memory.DefaultAllocator, c.typ)
			defer b.Release()
			if err := AppendBinary(b, c.oid, data); err != nil {
				t.Fatal(err)
			}
			back := b.NewArray()
			defer back.Release()
			if !array.Equal(a, back) {
				t.Errorf("wrote %x, read back %v, want %v", data, back, a)
			}
		})
	}
}

// TestNumericBinary checks numeric_send's form against pgx's decoder: the
// exact decimal of the shortest text of the double.
func TestNumericBinary(t *testing.T) {
	for _, c := range []struct {
		f    float64
		want string
	}{
		{0.1, "0.1"}, {-123456.789, "-123456.789"}, {1e20, "100000000000000000000"}, {0, "0"},
		{5e-324, ""}, {math.NaN(), "NaN"}, {math.Inf(1), "Infinity"}, {math.Inf(-1), "-Infinity"},
	} {
		data := AppendNumericBinary(nil, c.f)
		var n pgtype.Numeric
		if err := pgtype.NewMap().Scan(Numeric, pgtype.BinaryFormatCode, data, &n); err != nil {
			t.Fatalf("%v: %v", c.f, err)
		}
		if c.want == "" { // a denormal: only check it reads back
			if f, err := n.Float64Value(); err != nil || f.Float64 != c.f {
				t.Errorf("%v read back as %v, %v", c.f, f.Float64, err)
			}
			continue
		}
		text, err := n.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if got := string(bytes.Trim(text, `"`)); got != c.want {
			t.Errorf("%v encoded as numeric %s, want %s", c.f, got, c.want)
		}
	}
}

func TestTextEncoding(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no tzdata")
	}
	for _, c := range []struct {
		name string
		typ  arrow.DataType
		v    any
		loc  *time.Location
		want string
	}{
		{"bool", expr.BoolType, false, nil, "f"},
		{"float8 fixed", expr.Float8Type, 1234567.5, nil, "1234567.5"},
		{"float8 exponent", expr.Float8Type, 1e15, nil, "1e+15"},
		{"float4", expr.Float4Type, float32(0.1), nil, "0.1"},
		{"bytea", expr.ByteaType, []byte{0xde, 0xad}, nil, `\xdead`},
		{"date", expr.DateType, arrow.Date32(0), nil, "1970-01-01"},
		{"timestamp", expr.TimestampType, arrow.Timestamp(1500), nil, "1970-01-01 00:00:00.0015"},
		{"timestamptz in a zone", expr.TimestampTZType, arrow.Timestamp(0), paris, "1970-01-01 01:00:00+01"},
		{"interval", expr.IntervalType, arrow.MonthDayNanoInterval{Days: 1, Nanoseconds: 3600e9}, nil, "1 day 01:00:00"},
	} {
		a := oneValue(t, c.typ, c.v)
		got := string(NewEncoder(a, 0, TextFormat, c.loc)(nil, 0))
		a.Release()
		if got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// TestArrays checks array_out's quoting and array_send's layout.
func TestArrays(t *testing.T) {
	b := array.NewListBuilder(memory.DefaultAllocator, expr.TextType)
	defer b.Release()
	vb := b.ValueBuilder().(*array.StringBuilder)
	b.Append(true)
	for _, s := range []string{"plain", "with space", `q"uote`, `back\slash`, "", "NULL", "a,b", "{x}"} {
		vb.Append(s)
	}
	vb.AppendNull()
	b.Append(true) // an empty array
	b.AppendNull()
	a := b.NewArray()
	defer a.Release()
	enc := NewEncoder(a, TextArray, TextFormat, nil)
	if got, want := string(enc(nil, 0)), `{plain,"with space","q\"uote","back\\slash","","NULL","a,b","{x}",NULL}`; got != want {
		t.Errorf("text: %s, want %s", got, want)
	}
	if got := string(enc(nil, 1)); got != "{}" {
		t.Errorf("empty array: %s", got)
	}
	var arr pgtype.FlatArray[*string]
	if err := pgtype.NewMap().Scan(TextArray, pgtype.BinaryFormatCode, NewEncoder(a, TextArray, BinaryFormat, nil)(nil, 0), &arr); err != nil {
		t.Fatal(err)
	}
	if len(arr) != 9 || *arr[2] != `q"uote` || arr[8] != nil {
		t.Errorf("binary array read back as %v", arr)
	}
}

func TestBinaryErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		typ  arrow.DataType
		oid  uint32
		data []byte
		code string
	}{
		{"short int8", expr.Int8Type, Int8, []byte{1, 2, 3}, "22P03"},
		{"int8 into int4", expr.Int4Type, Int8, []byte{0, 0, 0, 1, 0, 0, 0, 0}, "22003"},
		{"bad utf-8", expr.TextType, Text, []byte{0xff}, "22021"},
		{"unknown type", expr.TextType, 2950, []byte{1}, "0A000"},
		{"bad numeric", expr.Float8Type, Numeric, []byte{0, 1}, "22P03"},
	} {
		b := array.NewBuilder(memory.DefaultAllocator, c.typ)
		err := AppendBinary(b, c.oid, c.data)
		b.Release()
		if code := errCode(err); code != c.code {
			t.Errorf("%s: error %v (%s), want %s", c.name, err, code, c.code)
		}
	}
}

func TestParseText(t *testing.T) {
	ctx := &expr.Context{Alloc: memory.DefaultAllocator, TimeZone: "UTC"}
	a, err := ParseText(ctx, " 42 ", expr.Int8Type)
	if err != nil {
		t.Fatal(err)
	}
	if v := a.(*array.Int64).Value(0); v != 42 {
		t.Errorf("read %d", v)
	}
	a.Release()
	if _, err := ParseText(ctx, "x", expr.Int8Type); errCode(err) != "22P02" {
		t.Errorf("bad integer: %v", err)
	}
	if _, err := ParseText(ctx, "2024-02-30", expr.DateType); err == nil {
		t.Errorf("2024-02-30 read as a date")
	}
	a, err = ParseText(ctx, "2024-01-01 12:00:00+02", expr.TimestampTZType)
	if err != nil {
		t.Fatal(err)
	}
	if v := a.(*array.Timestamp).Value(0); time.UnixMicro(int64(v)).UTC() != time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC) {
		t.Errorf("timestamptz read as %v", time.UnixMicro(int64(v)).UTC())
	}
	a.Release()
}

// TestParseTextPlainInt checks that the fast path for plain integers reads
// every input as the general path (a cast of the text) does: the same
// value or the same error.
func TestParseTextPlainInt(t *testing.T) {
	ctx := &expr.Context{Alloc: memory.DefaultAllocator, TimeZone: "UTC"}
	inputs := []string{"0", "-0", "7", "-7", "123456789", "-123456789", "2147483647", "-2147483648",
		"2147483648", "999999999999999999", "-999999999999999999", "9223372036854775807",
		"-9223372036854775808", "9223372036854775808", "", "-", "+5", " 5", "5 ", "1e3", "0x10", "12a", "--1"}
	for _, typ := range []arrow.DataType{expr.Int8Type, expr.Int4Type} {
		for _, in := range inputs {
			general := func() (any, error) {
				e, err := expr.Cast(expr.Unknown(in), typ)
				if err != nil {
					return nil, err
				}
				if e, err = expr.Fold(ctx, e); err != nil {
					return nil, err
				}
				v, _ := expr.ConstantValue(e)
				return v, nil
			}
			want, wantErr := general()
			a, err := ParseText(ctx, in, typ)
			if errCode(err) != errCode(wantErr) || (err == nil) != (wantErr == nil) {
				t.Errorf("%s %q: error %v, want %v", typ, in, err, wantErr)
				continue
			}
			if err != nil {
				continue
			}
			var got any
			switch a := a.(type) {
			case *array.Int64:
				got = a.Value(0)
			case *array.Int32:
				got = a.Value(0)
			}
			a.Release()
			if got != want {
				t.Errorf("%s %q: read %v (%T), want %v (%T)", typ, in, got, got, want, want)
			}
		}
	}
}

func TestTypes(t *testing.T) {
	for _, c := range []struct {
		typ     arrow.DataType
		numeric bool
		oid     uint32
	}{
		{expr.Int8Type, false, Int8}, {expr.Float8Type, true, Numeric}, {expr.Float8Type, false, Float8},
		{expr.TimestampTZType, false, Timestamptz}, {arrow.ListOf(expr.Int4Type), false, Int4Array},
		{arrow.Null, false, Text}, {expr.IntervalType, false, Interval},
	} {
		got, err := ForArrow(c.typ, c.numeric)
		if err != nil || got.OID != c.oid {
			t.Errorf("ForArrow(%s, %v) = %d, %v; want %d", c.typ, c.numeric, got.OID, err, c.oid)
		}
	}
	if _, err := ForArrow(arrow.FixedWidthTypes.Float16, false); err == nil {
		t.Error("float16 has a PostgreSQL type")
	}
	for oid, want := range map[uint32]arrow.DataType{Int8: expr.Int8Type, Varchar: expr.TextType, Numeric: expr.NumericType, 0: nil, Unknown: nil} {
		got, err := ParamType(oid)
		if err != nil || got != want {
			t.Errorf("ParamType(%d) = %v, %v; want %v", oid, got, err, want)
		}
	}
	if _, err := ParamType(UUID); errCode(err) != "0A000" {
		t.Errorf("uuid parameters: %v", err)
	}
}

func errCode(err error) string {
	if err == nil {
		return ""
	}
	return sqlerr.Code(err)
}

func TestAppendCSVField(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"", ""},
		{"a,b", `"a,b"`},
		{`say "hi"`, `"say ""hi"""`},
		{"two\nlines", "\"two\nlines\""},
		{"cr\r", "\"cr\r\""},
		{"NULL", `"NULL"`}, // the NULL string, quoted to read back as a value
		{`\.`, `"\."`},     // the end-of-data marker
		{`\.x`, `\.x`},
		{"a;b", "a;b"},
	} {
		if got := string(AppendCSVField(nil, []byte(tc.in), ',', "NULL")); got != tc.want {
			t.Errorf("AppendCSVField(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
