package engine

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/dormousedb/dormouse/engine/sqlerr"
)

func TestDistinct(t *testing.T) {
	mem := tMem(t)
	ec := tEC(t, mem, 0)
	sch := tSchema("a", tI64, "b", tStr)
	rows := [][]any{{1, "x"}, {1, "x"}, {nil, "x"}, {2, nil}, {nil, "x"}, {2, nil}, {1, "y"}, {3, "z"}}
	got := tRun(t, ec, &Distinct{Input: tNewSource(sch, 3, rows...)})
	want := "[[1 x] [<nil> x] [2 <nil>] [1 y] [3 z]]"
	if fmt.Sprint(got) != want {
		t.Fatalf("got  %v\nwant %s", got, want)
	}
	t.Run("union", func(t *testing.T) {
		u := &Distinct{Input: &Union{Inputs: []Plan{tNewSource(sch, 2, rows[:4]...), tNewSource(sch, 2, rows[3:]...)}}}
		if got := tRun(t, ec, u); fmt.Sprint(got) != want {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("memory limit", func(t *testing.T) {
		var many [][]any
		for i := range 20000 {
			many = append(many, []any{i, "v"})
		}
		ec := tEC(t, mem, 64<<10)
		if err := tRunErr(t, ec, &Distinct{Input: tNewSource(sch, 1000, many...)}); sqlerr.Code(err) != sqlerr.OutOfMemory {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestSetOp(t *testing.T) {
	mem := tMem(t)
	ec := tEC(t, mem, 0)
	sch := tSchema("a", tI64)
	rng := rand.New(rand.NewPCG(9, 9))
	gen := func(n int) [][]any {
		var out [][]any
		for range n {
			var v any = int64(rng.IntN(6))
			if v == int64(5) {
				v = nil
			}
			out = append(out, []any{v})
		}
		return out
	}
	for trial := range 20 {
		left, right := gen(rng.IntN(40)), gen(rng.IntN(40))
		for _, kind := range []SetOpKind{Intersect, Except} {
			for _, all := range []bool{false, true} {
				t.Run(fmt.Sprintf("%d %s all=%v", trial, kind, all), func(t *testing.T) {
					got := tRun(t, ec, &SetOp{Left: tNewSource(sch, 7, left...), Right: tNewSource(sch, 5, right...), Kind: kind, All: all})
					want := setOpOracle(kind, all, left, right)
					if !reflect.DeepEqual(rowKeys(got), want) {
						t.Fatalf("got %v, want %v", rowKeys(got), want)
					}
				})
			}
		}
	}
}

func rowKeys(rows [][]any) []string {
	out := []string{}
	for _, r := range rows {
		out = append(out, fmt.Sprint(r[0]))
	}
	return out
}

// setOpOracle returns the rows in left order, as the operator yields them.
func setOpOracle(kind SetOpKind, all bool, left, right [][]any) []string {
	counts := map[string]int{}
	for _, r := range right {
		counts[fmt.Sprint(r[0])]++
	}
	seen := map[string]bool{}
	out := []string{}
	for _, l := range left {
		k := fmt.Sprint(l[0])
		in := counts[k] > 0
		var keep bool
		switch {
		case all && kind == Intersect:
			keep = in
		case all:
			keep = !in
		default:
			keep = !seen[k] && in == (kind == Intersect)
			if keep {
				seen[k] = true
			}
		}
		if all && in {
			counts[k]--
		}
		if keep {
			out = append(out, k)
		}
	}
	return out
}
