package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine/expr"
)

func TestValues(t *testing.T) {
	mem := tMem(t)
	ec := tEC(t, mem, 0)
	t.Run("one row", func(t *testing.T) {
		got := tRun(t, ec, OneRow())
		if len(got) != 1 || len(got[0]) != 0 {
			t.Fatalf("OneRow = %v", got)
		}
	})
	t.Run("batches and rows", func(t *testing.T) {
		sch := tSchema("a", tI64, "b", tStr)
		v := NewValues(sch, tBatch(mem, sch, []any{1, "x"}, []any{nil, "y"}))
		v.Rows = [][]expr.Expr{{tLit(3, tI64), tLit(nil, tStr)}}
		defer v.Release()
		want := [][]any{{int64(1), "x"}, {nil, "y"}, {int64(3), nil}}
		for range 2 { // a plan runs more than once
			if got := tRun(t, ec, v); !reflect.DeepEqual(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
		}
	})
	t.Run("error", func(t *testing.T) {
		v := &Values{Sch: tSchema("a", tI64), Rows: [][]expr.Expr{{tFail(tI64)}}}
		if err := tRunErr(t, ec, v); !errors.Is(err, errTBoom) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestFilter(t *testing.T) {
	mem := tMem(t)
	ec := tEC(t, mem, 0)
	sch := tSchema("a", tI64)
	src := tNewSource(sch, 3, tInts(1, 2, nil, 4, 5, 6, 7, nil, 9)...)
	cases := []struct {
		name string
		cond expr.Expr
		want [][]any
	}{
		{"some", tPred(0, "a > 4", func(v int64) bool { return v > 4 }), tInts(int64(5), int64(6), int64(7), int64(9))},
		{"all true passes through", tPred(0, "a > 0", func(v int64) bool { return v > 0 }), tInts(int64(1), int64(2), int64(4), int64(5), int64(6), int64(7), int64(9))},
		{"none", tPred(0, "a > 100", func(v int64) bool { return v > 100 }), nil},
		{"null literal", tLit(nil, arrow.Null), nil},
		{"true literal", tLit(true, tBool), tInts(int64(1), int64(2), nil, int64(4), int64(5), int64(6), int64(7), nil, int64(9))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := tRun(t, ec, &Filter{Input: src, Cond: c.cond})
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
	t.Run("untouched batches", func(t *testing.T) {
		op, err := OpenPlan(ec, &Filter{Input: src, Cond: tLit(true, tBool)})
		if err != nil {
			t.Fatal(err)
		}
		recs, err := Collect(context.Background(), op)
		if err != nil {
			t.Fatal(err)
		}
		defer releaseBatches(recs)
		if len(recs) != 3 {
			t.Fatalf("%d batches, want the source's 3", len(recs))
		}
	})
	t.Run("error", func(t *testing.T) {
		if err := tRunErr(t, ec, &Filter{Input: src, Cond: tFail(tBool)}); !errors.Is(err, errTBoom) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("not boolean", func(t *testing.T) {
		if _, err := (&Filter{Input: src, Cond: tCol(0, "a", tI64)}).Open(ec); err == nil {
			t.Fatal("want a type error")
		}
	})
}

func TestProject(t *testing.T) {
	mem := tMem(t)
	ec := tEC(t, mem, 0)
	sch := tSchema("a", tI64, "b", tStr)
	src := tNewSource(sch, 2, []any{1, "x"}, []any{nil, "y"}, []any{3, nil})
	src.order = []SortKey{{Column: 1}, {Column: 0}}
	p := NewProject(src, []expr.Expr{tCol(1, "b", tStr), tIntFn(0, "a * 10", func(v int64) int64 { return v * 10 })}, []string{"", "ten"})
	got := tRun(t, ec, p)
	want := [][]any{{"x", int64(10)}, {"y", nil}, {nil, int64(30)}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if n := p.Schema().Field(1).Name; n != "ten" {
		t.Fatalf("name %q", n)
	}
	if o := p.Ordering(); !reflect.DeepEqual(o, []SortKey{{Column: 0}}) {
		t.Fatalf("ordering %v", o)
	}
	t.Run("schema reused", func(t *testing.T) {
		exprs := []expr.Expr{tCol(1, "b", tStr), tCol(0, "a", tI64)}
		first := NewProject(src, exprs, []string{"b", "a"})
		if again := NewProjectSchema(src, exprs, []string{"b", "a"}, first.Schema()); again.Schema() != first.Schema() {
			t.Errorf("the same fields made a new schema")
		}
		renamed := NewProjectSchema(src, exprs, []string{"b", "z"}, first.Schema())
		if renamed.Schema() == first.Schema() || renamed.Schema().Field(1).Name != "z" {
			t.Errorf("another name kept the old schema: %v", renamed.Schema())
		}
		retyped := NewProjectSchema(src, []expr.Expr{tCol(1, "b", tStr), tCol(1, "a", tStr)}, []string{"b", "a"}, first.Schema())
		if !arrow.TypeEqual(retyped.Schema().Field(1).Type, tStr) {
			t.Errorf("another type kept the old schema: %v", retyped.Schema())
		}
	})
	t.Run("pass through", func(t *testing.T) {
		// Its input's columns in order under their names: the input's
		// batches go out as they are. Renamed or reordered: new batches.
		for _, c := range []struct {
			exprs []expr.Expr
			names []string
			pass  bool
		}{
			{[]expr.Expr{tCol(0, "a", tI64), tCol(1, "b", tStr)}, []string{"a", "b"}, true},
			{[]expr.Expr{tCol(0, "a", tI64), tCol(1, "b", tStr)}, []string{"a", "z"}, false},
			{[]expr.Expr{tCol(1, "b", tStr), tCol(0, "a", tI64)}, []string{"b", "a"}, false},
			{[]expr.Expr{tCol(0, "a", tI64)}, []string{"a"}, false},
		} {
			p := NewProject(src, c.exprs, c.names)
			op, err := p.Open(ec)
			if err != nil {
				t.Fatal(err)
			}
			if pass := op.(*projectOp).pass; pass != c.pass {
				t.Errorf("%v %v: pass %v, want %v", c.exprs, c.names, pass, c.pass)
			}
			op.Close()
			got := tRun(t, ec, p)
			if len(got) != 3 || len(got[0]) != len(c.exprs) {
				t.Fatalf("%v: got %v", c.names, got)
			}
			if got[0][len(c.exprs)-1] != map[string]any{"a": int64(1), "b": "x", "z": "x"}[c.names[len(c.names)-1]] {
				t.Errorf("%v: got %v", c.names, got)
			}
		}
	})
	t.Run("no columns", func(t *testing.T) {
		got := tRun(t, ec, NewProject(src, nil, nil))
		if len(got) != 3 {
			t.Fatalf("got %d rows", len(got))
		}
	})
	t.Run("error", func(t *testing.T) {
		if err := tRunErr(t, ec, NewProject(src, []expr.Expr{tFail(tI64)}, nil)); !errors.Is(err, errTBoom) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestLimit(t *testing.T) {
	mem := tMem(t)
	ec := tEC(t, mem, 0)
	var all []any
	for i := range 10 {
		all = append(all, i)
	}
	src := tNewSource(tSchema("a", tI64), 3, tInts(all...)...)
	cases := []struct {
		offset, count int64
		want          []int64
	}{
		{0, -1, []int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{0, 0, nil},
		{0, 4, []int64{0, 1, 2, 3}},
		{2, 3, []int64{2, 3, 4}},
		{3, 3, []int64{3, 4, 5}},
		{8, 5, []int64{8, 9}},
		{10, 5, nil},
		{4, -1, []int64{4, 5, 6, 7, 8, 9}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("offset %d count %d", c.offset, c.count), func(t *testing.T) {
			got := tRun(t, ec, &Limit{Input: src, Offset: c.offset, Count: c.count})
			var ints []int64
			for _, r := range got {
				ints = append(ints, r[0].(int64))
			}
			if !reflect.DeepEqual(ints, c.want) {
				t.Fatalf("got %v, want %v", ints, c.want)
			}
		})
	}
	t.Run("closes its input early", func(t *testing.T) {
		op, err := (&Limit{Input: src, Count: 2}).Open(ec)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := op.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		rec.Release()
		if _, err := op.Next(context.Background()); err != io.EOF {
			t.Fatalf("err = %v", err)
		}
		if !op.(*limitOp).input.(*tSourceOp).closed {
			t.Fatal("input not closed")
		}
		op.Close()
	})
}

func TestGather(t *testing.T) {
	mem := tMem(t)
	ec := tEC(t, mem, 0)
	sch := tSchema("a", tI64)
	var parts []Plan
	var want []any
	for p := range 20 {
		var rows []any
		for i := range 50 {
			rows = append(rows, p*100+i)
			want = append(want, int64(p*100+i))
		}
		parts = append(parts, tNewSource(sch, 7, tInts(rows...)...))
	}
	for _, par := range []int{0, 1, 3, 64} {
		t.Run(fmt.Sprintf("parallelism %d", par), func(t *testing.T) {
			got := tRun(t, ec, &Gather{Inputs: parts, Parallelism: par})
			if !reflect.DeepEqual(tSorted(got), tSorted(tInts(want...))) {
				t.Fatalf("got %d rows, want %d", len(got), len(want))
			}
		})
	}
	t.Run("no inputs", func(t *testing.T) {
		if got := tRun(t, ec, &Gather{Sch: sch}); len(got) != 0 {
			t.Fatal(got)
		}
	})
	t.Run("error stops the rest", func(t *testing.T) {
		before := runtime.NumGoroutine()
		bad := tNewSource(sch, 1, tInts(1, 2)...)
		bad.fail = errTBoom
		inputs := append([]Plan{bad}, parts...)
		for range 20 {
			if err := tRunErr(t, ec, &Gather{Inputs: inputs, Parallelism: 4}); !errors.Is(err, errTBoom) {
				t.Fatalf("err = %v", err)
			}
		}
		// Close waited for the workers; only the goroutines that close
		// the channels may still be on their way out.
		deadline := time.Now().Add(10 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				t.Fatalf("%d goroutines, %d before", runtime.NumGoroutine(), before)
			}
			runtime.Gosched()
		}
	})
	t.Run("early close", func(t *testing.T) {
		op, err := (&Gather{Inputs: parts, Parallelism: 4}).Open(ec)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := op.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		rec.Release()
		if err := op.Close(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		ec := tEC(t, mem, 0)
		ec.Ctx = ctx
		op, err := (&Gather{Inputs: parts, Parallelism: 4}).Open(ec)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := op.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rec.Release()
		cancel()
		for {
			rec, err := op.Next(ctx)
			if err != nil {
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("err = %v", err)
				}
				break
			}
			rec.Release()
		}
		op.Close()
	})
}

func TestConcat(t *testing.T) {
	mem := tMem(t)
	ec := tEC(t, mem, 0)
	sch := tSchema("a", tI64)
	a := tNewSource(sch, 2, tInts(1, 2, 3)...)
	a.order = []SortKey{{Column: 0}}
	b := tNewSource(sch, 2, tInts(4, 5)...)
	b.order = []SortKey{{Column: 0}}
	want := tInts(int64(1), int64(2), int64(3), int64(4), int64(5))
	oc := &OrderedConcat{Inputs: []Plan{a, b}}
	if got := tRun(t, ec, oc); !reflect.DeepEqual(got, want) {
		t.Fatalf("OrderedConcat = %v", got)
	}
	if o := oc.Ordering(); !reflect.DeepEqual(o, []SortKey{{Column: 0}}) {
		t.Fatalf("ordering %v", o)
	}
	if got := tRun(t, ec, &Union{Inputs: []Plan{a, b}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("Union = %v", got)
	}
	if _, ok := Plan(oc).(Partitioned); !ok {
		t.Fatal("OrderedConcat is not Partitioned")
	}
}
