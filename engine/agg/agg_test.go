package agg

import (
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

func ints(mem memory.Allocator, vals []int64, valid []bool) arrow.Array {
	b := array.NewInt64Builder(mem)
	defer b.Release()
	b.AppendValues(vals, valid)
	return b.NewArray()
}

func floats(mem memory.Allocator, vals []float64) arrow.Array {
	b := array.NewFloat64Builder(mem)
	defer b.Release()
	b.AppendValues(vals, nil)
	return b.NewArray()
}

func strs(mem memory.Allocator, vals []string, valid []bool) arrow.Array {
	b := array.NewStringBuilder(mem)
	defer b.Release()
	b.AppendValues(vals, valid)
	return b.NewArray()
}

func TestResolve(t *testing.T) {
	i64, i32, f32, str := arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Float32, arrow.BinaryTypes.String
	cases := []struct {
		name     string
		args     []arrow.DataType
		result   arrow.DataType
		nullable bool
	}{
		{"count", nil, i64, false},
		{"COUNT", []arrow.DataType{str}, i64, false},
		{"sum", []arrow.DataType{i32}, i64, true},
		{"sum", []arrow.DataType{f32}, f32, true},
		{"avg", []arrow.DataType{i32}, arrow.PrimitiveTypes.Float64, true},
		{"min", []arrow.DataType{str}, str, true},
		{"max", []arrow.DataType{arrow.FixedWidthTypes.Date32}, arrow.FixedWidthTypes.Date32, true},
		{"stddev", []arrow.DataType{i64}, arrow.PrimitiveTypes.Float64, true},
		{"every", []arrow.DataType{arrow.FixedWidthTypes.Boolean}, arrow.FixedWidthTypes.Boolean, true},
		{"string_agg", []arrow.DataType{str, str}, str, true},
		{"array_agg", []arrow.DataType{i32}, arrow.ListOf(i32), true},
	}
	for _, c := range cases {
		f, err := Resolve(c.name, c.args)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !arrow.TypeEqual(f.Result, c.result) || f.ResultNullable != c.nullable {
			t.Fatalf("%s%v: %s nullable=%v", c.name, c.args, f.Result, f.ResultNullable)
		}
	}
	for _, bad := range []struct {
		name string
		args []arrow.DataType
	}{{"sum", []arrow.DataType{str}}, {"median", []arrow.DataType{i64}}, {"string_agg", []arrow.DataType{str}}, {"bool_and", []arrow.DataType{i64}}} {
		if _, err := Resolve(bad.name, bad.args); sqlerr.Code(err) != sqlerr.UndefinedFunction {
			t.Fatalf("%s%v: err = %v", bad.name, bad.args, err)
		}
	}
}

// result runs f over batches of args, in one accumulator and in partial
// accumulators (one per batch) merged into a final one, and checks both
// agree; it returns the rendered results for groups.
func result(t *testing.T, mem memory.Allocator, name string, types []arrow.DataType, groups int, batches [][]arrow.Array, gids [][]uint32) []string {
	t.Helper()
	f, err := Resolve(name, types)
	if err != nil {
		t.Fatal(err)
	}
	whole := f.New(mem)
	defer whole.Release()
	whole.Grow(groups)
	final := f.New(mem)
	defer final.Release()
	final.Grow(groups)
	for i, args := range batches {
		rows := args[0].Len()
		if err := whole.Update(rows, args, gids[i]); err != nil {
			t.Fatal(err)
		}
		part := f.New(mem)
		part.Grow(groups)
		if err := part.Update(rows, args, gids[i]); err != nil {
			t.Fatal(err)
		}
		states, err := part.State(mem, 0, groups)
		if err != nil {
			t.Fatal(err)
		}
		ident := make([]uint32, groups)
		for g := range ident {
			ident[g] = uint32(g)
		}
		if err := final.Merge(states, ident); err != nil {
			t.Fatal(err)
		}
		for _, s := range states {
			s.Release()
		}
		part.Release()
	}
	a, err := whole.Result(mem, 0, groups)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Release()
	b, err := final.Result(mem, 0, groups)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	var out []string
	for g := range groups {
		x, y := a.ValueStr(g), b.ValueStr(g)
		if x != y && !close(a, b, g) {
			t.Fatalf("%s group %d: whole %s, merged %s", name, g, x, y)
		}
		out = append(out, x)
	}
	return out
}

func close(a, b arrow.Array, g int) bool {
	x, ok1 := a.(*array.Float64)
	y, ok2 := b.(*array.Float64)
	return ok1 && ok2 && math.Abs(x.Value(g)-y.Value(g)) <= 1e-9*math.Abs(x.Value(g))
}

func TestAccumulators(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	i64 := []arrow.DataType{arrow.PrimitiveTypes.Int64}
	b1 := ints(mem, []int64{math.MaxInt64, 5, 7, -3}, []bool{true, true, false, true})
	b2 := ints(mem, []int64{math.MaxInt64, -8, 1}, nil)
	defer b1.Release()
	defer b2.Release()
	batches := [][]arrow.Array{{b1}, {b2}}
	gids := [][]uint32{{0, 1, 1, 1}, {0, 1, Skip}}
	check := func(name string, want ...string) {
		t.Helper()
		got := result(t, mem, name, i64, 3, batches, gids)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: got %v, want %v", name, got, want)
			}
		}
	}
	check("count", "2", "3", "0")
	check("min", "9223372036854775807", "-8", "(null)")
	check("max", "9223372036854775807", "5", "(null)")
	check("avg", "9.223372036854776e+18", "-2", "(null)")
	check("var_pop", "0", "28.666666666666668", "(null)")
	check("var_samp", "0", "43", "(null)")
	// Group 0 sums past BIGINT: 22003.
	f, _ := Resolve("sum", i64)
	acc := f.New(mem)
	acc.Grow(2)
	for i := range batches {
		if err := acc.Update(batches[i][0].Len(), batches[i], gids[i]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := acc.Result(mem, 0, 1); sqlerr.Code(err) != sqlerr.NumericValueOutOfRange {
		t.Fatalf("err = %v", err)
	}
	r, err := acc.Result(mem, 1, 2)
	if err != nil || r.ValueStr(0) != "-6" {
		t.Fatalf("sum of group 1 = %v, %v", r, err)
	}
	r.Release()
	acc.Release()
}

func TestStringAgg(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	str := []arrow.DataType{arrow.BinaryTypes.String, arrow.BinaryTypes.String}
	v1 := strs(mem, []string{"a", "b", "x"}, []bool{true, true, false})
	s1 := strs(mem, []string{"-", "+", "?"}, []bool{true, false, true})
	v2 := strs(mem, []string{"c"}, nil)
	s2 := strs(mem, []string{"/"}, nil)
	defer func() {
		for _, a := range []arrow.Array{v1, s1, v2, s2} {
			a.Release()
		}
	}()
	got := result(t, mem, "string_agg", str, 2, [][]arrow.Array{{v1, s1}, {v2, s2}}, [][]uint32{{0, 0, 0}, {0}})
	// The first value's delimiter is dropped; a NULL delimiter is empty.
	if got[0] != "ab/c" || got[1] != "(null)" {
		t.Fatalf("got %q", got)
	}
}

func TestFloatAggregates(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	f64 := []arrow.DataType{arrow.PrimitiveTypes.Float64}
	a := floats(mem, []float64{1, math.NaN(), -2})
	b := floats(mem, []float64{math.Inf(1), 4})
	defer a.Release()
	defer b.Release()
	batches := [][]arrow.Array{{a}, {b}}
	gids := [][]uint32{nil, nil}
	if got := result(t, mem, "max", f64, 1, batches, gids); got[0] != "NaN" {
		t.Fatalf("max = %v", got)
	}
	if got := result(t, mem, "min", f64, 1, batches, gids); got[0] != "-2" {
		t.Fatalf("min = %v", got)
	}
	if got := result(t, mem, "sum", f64, 1, [][]arrow.Array{{b}}, [][]uint32{nil}); got[0] != "+Inf" {
		t.Fatalf("sum = %v", got)
	}
}
