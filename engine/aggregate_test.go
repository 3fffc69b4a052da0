package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

func call(fn string, args ...expr.Expr) AggCall { return AggCall{Func: fn, Args: args} }

func TestHashAggregateGlobal(t *testing.T) {
	mem := tMem(t)
	ec := tEC(t, mem, 0)
	sch := tSchema("x", tI64, "s", tStr, "b", tBool)
	x, s, b := tCol(0, "x", tI64), tCol(1, "s", tStr), tCol(2, "b", tBool)
	aggs := []AggCall{
		call("count"), call("count", x), call("sum", x), call("min", x), call("max", x), call("avg", x),
		call("min", s), call("max", s), call("bool_and", b), call("bool_or", b), call("var_samp", x), call("var_pop", x),
	}
	cases := []struct {
		name string
		rows [][]any
		want []any
	}{
		{"empty", nil, []any{int64(0), int64(0), nil, nil, nil, nil, nil, nil, nil, nil, nil, nil}},
		{"all null", [][]any{{nil, nil, nil}, {nil, nil, nil}}, []any{int64(2), int64(0), nil, nil, nil, nil, nil, nil, nil, nil, nil, nil}},
		{"one row", [][]any{{5, "a", true}}, []any{int64(1), int64(1), int64(5), int64(5), int64(5), 5.0, "a", "a", true, true, nil, 0.0}},
		{"rows", [][]any{{1, "b", true}, {nil, "a", false}, {3, nil, nil}, {-2, "c", true}},
			[]any{int64(4), int64(3), int64(2), int64(-2), int64(3), 2.0 / 3, "a", "c", false, true, 114.0 / 9 / 2, 114.0 / 9 / 3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, per := range []int{1, 3} {
				p := &HashAggregate{Input: tNewSource(sch, per, c.rows...), Aggs: aggs}
				got := tRun(t, ec, p)
				if len(got) != 1 {
					t.Fatalf("%d rows, want 1", len(got))
				}
				if !approxRow(got[0], c.want) {
					t.Fatalf("got  %v\nwant %v", got[0], c.want)
				}
			}
		})
	}
}

// approxRow compares rows, floats within 1e-9 relative.
func approxRow(got, want []any) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, gok := got[i].(float64)
		w, wok := want[i].(float64)
		if gok && wok {
			if math.Abs(g-w) > 1e-9*math.Max(1, math.Abs(w)) && !(math.IsNaN(g) && math.IsNaN(w)) {
				return false
			}
			continue
		}
		if !reflect.DeepEqual(got[i], want[i]) {
			return false
		}
	}
	return true
}

func TestHashAggregateGroups(t *testing.T) {
	mem := tMem(t)
	ec := tEC(t, mem, 0)
	sch := tSchema("k", tStr, "x", tI64)
	k, x := tCol(0, "k", tStr), tCol(1, "x", tI64)
	rows := [][]any{{"a", 1}, {nil, 2}, {"b", nil}, {"a", 3}, {nil, 4}, {"b", nil}, {"c", 5}}
	p := &HashAggregate{Input: tNewSource(sch, 2, rows...), GroupBy: []expr.Expr{k}, Names: []string{"key"},
		Aggs: []AggCall{call("count"), call("sum", x), {Func: "count", Args: []expr.Expr{x}, Name: "n"}}}
	got := tRun(t, ec, p)
	want := [][]any{{"a", int64(2), int64(4), int64(2)}, {nil, int64(2), int64(6), int64(2)}, {"b", int64(2), nil, int64(0)}, {"c", int64(1), int64(5), int64(1)}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %v\nwant %v", got, want)
	}
	if names := fmt.Sprint(p.Schema().Field(0).Name, p.Schema().Field(1).Name, p.Schema().Field(3).Name); names != "keycount(*)n" {
		t.Fatalf("names %s", names)
	}
	t.Run("empty input", func(t *testing.T) {
		p := &HashAggregate{Input: tNewSource(sch, 2), GroupBy: []expr.Expr{k}, Aggs: []AggCall{call("count")}}
		if got := tRun(t, ec, p); len(got) != 0 {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("distinct and filter", func(t *testing.T) {
		rows := [][]any{{"a", 1}, {"a", 1}, {"a", 2}, {"a", nil}, {"b", 7}, {"b", 7}, {nil, 1}, {nil, 1}}
		pos := tPred(1, "x > 1", func(v int64) bool { return v > 1 })
		p := &HashAggregate{Input: tNewSource(sch, 3, rows...), GroupBy: []expr.Expr{k}, Aggs: []AggCall{
			{Func: "count", Args: []expr.Expr{x}, Distinct: true},
			{Func: "sum", Args: []expr.Expr{x}, Distinct: true},
			{Func: "count", Filter: pos},
			{Func: "sum", Args: []expr.Expr{x}, Distinct: true, Filter: pos},
		}}
		got := tRun(t, ec, p)
		want := [][]any{{"a", int64(2), int64(3), int64(1), int64(2)}, {"b", int64(1), int64(7), int64(2), int64(7)}, {nil, int64(1), int64(1), int64(0), nil}}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got  %v\nwant %v", got, want)
		}
	})
}

func TestHashAggregateManyGroups(t *testing.T) {
	mem := tMem(t)
	ec := tEC(t, mem, 0)
	sch := tSchema("k1", tI64, "k2", tStr, "x", tF64)
	rng := rand.New(rand.NewPCG(1, 2))
	type key struct {
		k1 any
		k2 any
	}
	type acc struct {
		n   int64
		sum float64
		max float64
	}
	want := map[key]*acc{}
	var rows [][]any
	for range 200_000 {
		var k1, k2 any = int64(rng.IntN(300)), fmt.Sprintf("s%d", rng.IntN(300))
		if rng.IntN(50) == 0 {
			k1 = nil
		}
		if rng.IntN(50) == 0 {
			k2 = nil
		}
		v := float64(rng.IntN(1000))
		rows = append(rows, []any{k1, k2, v})
		a := want[key{k1, k2}]
		if a == nil {
			a = &acc{max: math.Inf(-1)}
			want[key{k1, k2}] = a
		}
		a.n++
		a.sum += v
		a.max = math.Max(a.max, v)
	}
	x := tCol(2, "x", tF64)
	p := &HashAggregate{Input: tNewSource(sch, 10_000, rows...), GroupBy: []expr.Expr{tCol(0, "k1", tI64), tCol(1, "k2", tStr)},
		Aggs: []AggCall{call("count"), call("sum", x), call("max", x)}}
	got := tRun(t, ec, p)
	if len(got) != len(want) {
		t.Fatalf("%d groups, want %d", len(got), len(want))
	}
	for _, r := range got {
		a := want[key{r[0], r[1]}]
		if a == nil || r[2] != a.n || r[3] != a.sum || r[4] != a.max {
			t.Fatalf("group %v: want %+v", r, a)
		}
	}
	t.Run("split", func(t *testing.T) {
		var parts []Plan
		for i := 0; i < len(rows); i += 50_000 {
			parts = append(parts, tNewSource(sch, 7_000, rows[i:i+50_000]...))
		}
		sp, err := p.Split(parts, 3)
		if err != nil {
			t.Fatal(err)
		}
		got2 := tRun(t, ec, sp)
		if !reflect.DeepEqual(tSorted(got), tSorted(got2)) {
			t.Fatal("split aggregate differs")
		}
	})
	t.Run("memory limit", func(t *testing.T) {
		ec := tEC(t, mem, 256<<10)
		err := tRunErr(t, ec, p)
		if sqlerr.Code(err) != sqlerr.OutOfMemory {
			t.Fatalf("err = %v (%s)", err, sqlerr.Code(err))
		}
		if !strings.Contains(err.Error(), "hash aggregate") {
			t.Fatalf("message %q", err)
		}
		if used := ec.Mem.used.Load(); used != 0 {
			t.Fatalf("%d bytes still reserved", used)
		}
	})
}

func TestHashAggregateSplit(t *testing.T) {
	mem := tMem(t)
	ec := tEC(t, mem, 0)
	sch := tSchema("k", tI64, "x", tI64, "f", tF64, "s", tStr)
	k, x, f, s := tCol(0, "k", tI64), tCol(1, "x", tI64), tCol(2, "f", tF64), tCol(3, "s", tStr)
	rng := rand.New(rand.NewPCG(3, 4))
	var rows [][]any
	for range 5000 {
		var xv any = int64(rng.IntN(20))
		if rng.IntN(10) == 0 {
			xv = nil
		}
		rows = append(rows, []any{rng.IntN(7), xv, rng.Float64(), fmt.Sprint(rng.IntN(30))})
	}
	aggs := []AggCall{
		call("count"), call("count", x), call("sum", x), call("avg", x), call("avg", f), call("sum", f),
		call("min", s), call("max", s), call("stddev", f), call("var_pop", x),
		{Func: "count", Args: []expr.Expr{s}, Distinct: true}, {Func: "sum", Args: []expr.Expr{x}, Distinct: true},
	}
	for _, groupBy := range [][]expr.Expr{nil, {k}} {
		complete := &HashAggregate{Input: tNewSource(sch, 300, rows...), GroupBy: groupBy, Aggs: aggs}
		want := tRun(t, ec, complete)
		var parts []Plan
		for i := 0; i < len(rows); i += 1000 {
			parts = append(parts, tNewSource(sch, 300, rows[i:i+1000]...))
		}
		parts = append(parts, tNewSource(sch, 1)) // an empty part
		sp, err := complete.Split(parts, 4)
		if err != nil {
			t.Fatal(err)
		}
		got := tRun(t, ec, sp)
		sortRows(want)
		sortRows(got)
		if len(got) != len(want) {
			t.Fatalf("%d rows, want %d", len(got), len(want))
		}
		for i := range got {
			if !approxRow(got[i], want[i]) {
				t.Fatalf("split: got  %v\nwant %v", got[i], want[i])
			}
		}
	}
	t.Run("not splittable", func(t *testing.T) {
		p := &HashAggregate{Input: tNewSource(sch, 1), Aggs: []AggCall{{Func: "string_agg", Args: []expr.Expr{s, tLit(",", tStr)}, OrderBy: []AggOrder{{Expr: s}}}}}
		if p.Splittable() {
			t.Fatal("ordered aggregate reported splittable")
		}
		if _, err := p.Split([]Plan{p.Input}, 1); err == nil {
			t.Fatal("want an error")
		}
	})
}

func sortRows(rows [][]any) {
	sort.Slice(rows, func(i, j int) bool { return fmt.Sprint(rows[i][0]) < fmt.Sprint(rows[j][0]) })
}

func TestHashAggregateStrings(t *testing.T) {
	mem := tMem(t)
	ec := tEC(t, mem, 0)
	sch := tSchema("k", tI64, "s", tStr, "o", tI64)
	k, s, o := tCol(0, "k", tI64), tCol(1, "s", tStr), tCol(2, "o", tI64)
	rows := [][]any{{1, "x", 3}, {1, "y", 1}, {2, nil, 5}, {1, "z", 2}, {2, "w", nil}, {3, nil, 1}}
	sep := tLit(", ", tStr)
	p := &HashAggregate{Input: tNewSource(sch, 2, rows...), GroupBy: []expr.Expr{k}, Aggs: []AggCall{
		{Func: "string_agg", Args: []expr.Expr{s, sep}},
		{Func: "string_agg", Args: []expr.Expr{s, sep}, OrderBy: []AggOrder{{Expr: o}}},
		{Func: "string_agg", Args: []expr.Expr{s, sep}, OrderBy: []AggOrder{{Expr: o, Desc: true, NullsFirst: true}}},
		{Func: "array_agg", Args: []expr.Expr{o}},
		{Func: "array_agg", Args: []expr.Expr{s}, OrderBy: []AggOrder{{Expr: s, Desc: true, NullsFirst: true}}},
	}}
	got := tStrings(tRun(t, ec, p))
	want := []string{
		`[1 x, y, z y, z, x x, z, y [3,1,2] ["z","y","x"]]`,
		`[2 w w w [5,null] [null,"w"]]`,
		`[3 <nil> <nil> <nil> [1] [null]]`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	t.Run("split string_agg and array_agg", func(t *testing.T) {
		p := &HashAggregate{GroupBy: []expr.Expr{k}, Aggs: []AggCall{
			{Func: "string_agg", Args: []expr.Expr{s, sep}}, {Func: "array_agg", Args: []expr.Expr{o}}}}
		sp, err := p.Split([]Plan{tNewSource(sch, 2, rows[:3]...), tNewSource(sch, 2, rows[3:]...)}, 1)
		if err != nil {
			t.Fatal(err)
		}
		got := tStrings(tRun(t, ec, sp))
		sort.Strings(got)
		want := []string{"[1 x, y, z [3,1,2]]", "[2 w [5,null]]", "[3 <nil> [1]]"}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got  %q\nwant %q", got, want)
		}
	})
}

func TestHashAggregateErrors(t *testing.T) {
	mem := tMem(t)
	ec := tEC(t, mem, 0)
	sch := tSchema("k", tI64, "x", tI64)
	rows := [][]any{{1, math.MaxInt64}, {1, 1}, {2, 5}}
	k, x := tCol(0, "k", tI64), tCol(1, "x", tI64)
	t.Run("sum overflow", func(t *testing.T) {
		err := tRunErr(t, ec, &HashAggregate{Input: tNewSource(sch, 1, rows...), GroupBy: []expr.Expr{k}, Aggs: []AggCall{call("sum", x)}})
		if sqlerr.Code(err) != sqlerr.NumericValueOutOfRange {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("sum back in range", func(t *testing.T) {
		rows := [][]any{{1, math.MaxInt64}, {1, 1}, {1, -2}}
		got := tRun(t, ec, &HashAggregate{Input: tNewSource(sch, 1, rows...), Aggs: []AggCall{call("sum", x), call("avg", x)}})
		if got[0][0] != int64(math.MaxInt64-1) || got[0][1] != float64(math.MaxInt64-1)/3 {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("expression error", func(t *testing.T) {
		err := tRunErr(t, ec, &HashAggregate{Input: tNewSource(sch, 1, rows...), GroupBy: []expr.Expr{k}, Aggs: []AggCall{call("sum", tFail(tI64))}})
		if !errors.Is(err, errTBoom) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("unknown function", func(t *testing.T) {
		_, err := (&HashAggregate{Input: tNewSource(sch, 1), Aggs: []AggCall{call("sum", tCol(0, "b", tBool))}}).Open(ec)
		if sqlerr.Code(err) != sqlerr.UndefinedFunction {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		op, err := (&HashAggregate{Input: tNewSource(sch, 1, rows...), Aggs: []AggCall{call("count")}}).Open(ec)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Collect(ctx, op); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestHashAggregateTypes(t *testing.T) {
	mem := tMem(t)
	ec := tEC(t, mem, 0)
	sch := tSchema("d", tDate, "f", tF64, "t", tTS, "b", tBool)
	rows := [][]any{{3, 1.5, 100, true}, {1, math.NaN(), 50, false}, {2, -2.0, nil, nil}}
	var aggs []AggCall
	for i, name := range []string{"d", "f", "t", "b"} {
		c := tCol(i, name, sch.Field(i).Type)
		aggs = append(aggs, call("min", c), call("max", c))
	}
	got := tRun(t, ec, &HashAggregate{Input: tNewSource(sch, 2, rows...), GroupBy: []expr.Expr{tCol(1, "f", tF64)}, Aggs: aggs[:2]})
	if len(got) != 3 {
		t.Fatalf("NaN, 1.5, -2: got %v", got)
	}
	got = tRun(t, ec, &HashAggregate{Input: tNewSource(sch, 2, rows...), Aggs: aggs})
	want := []any{int64(1), int64(3), -2.0, math.NaN(), int64(50), int64(100), false, true}
	if !approxRow(got[0], want) {
		t.Fatalf("got %v, want %v", got[0], want)
	}
	if dt := (&HashAggregate{Input: tNewSource(sch, 1), Aggs: aggs}).Schema().Field(0).Type; !arrow.TypeEqual(dt, tDate) {
		t.Fatalf("min(date) is %s", dt)
	}
}
