package expr

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// Array literals read and write as array_in and array_out do.
func TestArrayText(t *testing.T) {
	for _, c := range []struct {
		in   string
		elem arrow.DataType
		want string // or the SQLSTATE of the error
	}{
		{"{}", Int4Type, "{}"},
		{" { 1, 2 ,3 } ", Int4Type, "{1,2,3}"},
		{`{a,"b c",NULL,"NULL",""}`, TextType, `{a,"b c",NULL,"NULL",""}`},
		{`{"a\"b","c\\d",e\,f}`, TextType, `{"a\"b","c\\d","e,f"}`},
		{"{ x y }", TextType, `{"x y"}`},
		{"{t,false,NULL}", BoolType, "{t,f,NULL}"},
		{"{1.5,-0.25}", Float8Type, "{1.5,-0.25}"},
		{"{2024-02-29}", DateType, "{2024-02-29}"},
		{"[1:2]={7,8}", Int8Type, "{7,8}"},
		{"1,2", Int4Type, sqlerr.InvalidTextRepresentation},
		{"{1,,2}", Int4Type, sqlerr.InvalidTextRepresentation},
		{`{"a}`, TextType, sqlerr.InvalidTextRepresentation},
		{"{1,x}", Int4Type, sqlerr.InvalidTextRepresentation},
		{"{{1},{2}}", Int4Type, sqlerr.FeatureNotSupported},
	} {
		t.Run(c.in, func(t *testing.T) {
			x, err := Cast(u(c.in), ListOf(c.elem))
			if err == nil {
				x, err = Cast(x, TextType)
			}
			var got string
			if err == nil {
				got, err = evalConst(t, x)
			}
			if c.want[0] != '{' { // a SQLSTATE
				wantCode(t, err, c.want)
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("'%s'::%s[]::text = %q, %v; want %q", c.in, TypeName(c.elem), got, err, c.want)
			}
		})
	}
}

// Subscripts, ANY and the array functions work row by row over columns
// with NULL arrays and NULL elements, and release what they allocate.
func TestArrayOps(t *testing.T) {
	ctx := newCtx(t)
	ints := ListOf(Int4Type)
	lists, err := BuildArray(ctx.Alloc, ints, []any{
		[]any{int32(1), int32(2), int32(3)}, nil, []any{}, []any{int32(4), nil},
	})
	if err != nil {
		t.Fatal(err)
	}
	idx := arr(ctx.Alloc, Int4Type, 2, 1, 1, 2)
	needle := arr(ctx.Alloc, Int4Type, 3, 1, 1, 5)
	rec := batch(lists, idx, needle)
	defer rec.Release()
	cases := []struct {
		e    Expr
		want []string
	}{
		{mk(Subscript(col(0, ints), col(1, Int4Type))), []string{"2", "NULL", "NULL", "NULL"}},
		{mk(AnyAll("=", col(2, Int4Type), col(0, ints), false)), []string{"true", "NULL", "false", "NULL"}},
		{mk(AnyAll("<", col(2, Int4Type), col(0, ints), true)), []string{"false", "NULL", "true", "false"}},
		{mk(Call("array_to_string", []Expr{col(0, ints), u("-"), u("?")})), []string{"1-2-3", "NULL", "", "4-?"}},
		{mk(Call("cardinality", []Expr{col(0, ints)})), []string{"3", "NULL", "0", "2"}},
		{mk(Call("array_upper", []Expr{col(0, ints), i4(1)})), []string{"3", "NULL", "NULL", "2"}},
		{mk(Arith("||", col(0, ints), col(1, Int4Type))), []string{"{1,2,3,2}", "{1}", "{1}", "{4,NULL,2}"}},
		{mk(Cast(mk(ArrayOf([]Expr{col(1, Int4Type), i4(9)})), TextType)), []string{"{2,9}", "{1,9}", "{1,9}", "{2,9}"}},
	}
	for _, c := range cases {
		x := c.e
		if IsList(x.Type()) {
			x = mk(Cast(x, TextType))
		}
		vs, err := eval(t, ctx, x, rec)
		if err != nil {
			t.Fatalf("%s: %v", c.e, err)
		}
		got := show(vs, kindOf(x.Type()))
		for i := range got {
			if got[i] != c.want[i] {
				t.Fatalf("%s = %v, want %v", c.e, got, c.want)
			}
		}
	}
}

// _pg_expandarray gives each element with its position, as records.
func TestExpandArray(t *testing.T) {
	x := mk(SetFunc("_pg_expandarray", []Expr{mk(ArrayOf([]Expr{i8(5), i8(7)}))}))
	got, err := evalConst(t, mk(Cast(x, TextType)))
	if err != nil || got != `{"(5,1)","(7,2)"}` {
		t.Fatalf("_pg_expandarray(ARRAY[5,7]) = %s, %v", got, err)
	}
	n, err := evalConst(t, mk(Field(mk(Subscript(x, i4(2))), "n")))
	if err != nil || n != "2" {
		t.Fatalf("(_pg_expandarray(ARRAY[5,7]))[2].n = %s, %v", n, err)
	}
}
