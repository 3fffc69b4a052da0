package engine

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// sortOracle sorts rows stably by keys with PostgreSQL's rules.
func sortOracle(rows [][]any, keys []SortKey) [][]any {
	out := append([][]any{}, rows...)
	sort.SliceStable(out, func(i, j int) bool { return compareRows(out[i], out[j], keys) < 0 })
	return out
}

func compareRows(a, b []any, keys []SortKey) int {
	for _, k := range keys {
		x, y := a[k.Column], b[k.Column]
		var c int
		switch {
		case x == nil && y == nil:
			c = 0
		case x == nil:
			c = 1
			if k.NullsFirst {
				c = -1
			}
		case y == nil:
			c = -1
			if k.NullsFirst {
				c = 1
			}
		default:
			c = compareValues(x, y)
			if k.Desc {
				c = -c
			}
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

func compareValues(x, y any) int {
	switch x := x.(type) {
	case int64:
		y := y.(int64)
		return cmpOrdered(x, y)
	case float64:
		y := y.(float64)
		switch {
		case math.IsNaN(x) && math.IsNaN(y):
			return 0
		case math.IsNaN(x):
			return 1
		case math.IsNaN(y):
			return -1
		}
		return cmpOrdered(x, y)
	case string:
		return bytes.Compare([]byte(x), []byte(y.(string)))
	case bool:
		return cmpOrdered(b2i(x), b2i(y.(bool)))
	}
	panic(fmt.Sprintf("compare %T", x))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func cmpOrdered[T int | int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func sortTestRows(rng *rand.Rand, n int) [][]any {
	strs := []string{"", "a", "a\x00", "a\x00b", "ab", "b", "é", "B"}
	floats := []float64{math.Inf(-1), -1.5, math.Copysign(0, -1), 0, 2.5, math.Inf(1), math.NaN()}
	rows := make([][]any, n)
	for i := range rows {
		var a, b, c, d any = int64(rng.IntN(10) - 5), strs[rng.IntN(len(strs))], floats[rng.IntN(len(floats))], rng.IntN(2) == 0
		if rng.IntN(6) == 0 {
			a = nil
		}
		if rng.IntN(6) == 0 {
			b = nil
		}
		if rng.IntN(6) == 0 {
			c = nil
		}
		rows[i] = []any{a, b, c, d, int64(i)} // the last column shows stability
	}
	return rows
}

var sortKeySets = [][]SortKey{
	{Asc(0)},
	{Desc(0)},
	{{Column: 0, NullsFirst: true}},
	{{Column: 0, Desc: true}},
	{Asc(1), Desc(0)},
	{Desc(1), Asc(2)},
	{Asc(2)},
	{Desc(2), Asc(3)},
	{Asc(3), {Column: 1, Desc: true}, {Column: 0, NullsFirst: true}},
}

func sortSchema() *arrow.Schema {
	return tSchema("a", tI64, "b", tStr, "c", tF64, "d", tBool, "seq", tI64)
}

func TestSort(t *testing.T) {
	mem := tMem(t)
	ec := tEC(t, mem, 0)
	rng := rand.New(rand.NewPCG(11, 12))
	rows := sortTestRows(rng, 3000)
	for _, keys := range sortKeySets {
		t.Run(describeKeys(sortSchema(), keys), func(t *testing.T) {
			got := tRun(t, ec, &Sort{Input: tNewSource(sortSchema(), 333, rows...), Keys: keys})
			want := sortOracle(rows, keys)
			if !sameRows(got, want) {
				t.Fatalf("order differs")
			}
		})
	}
}

// sameRows compares rows, NaN equal to NaN and -0 equal to 0 (the sort may
// keep either sign: they are equal).
func sameRows(got, want [][]any) bool {
	return reflect.DeepEqual(tStrings(normRows(got)), tStrings(normRows(want)))
}

func normRows(rows [][]any) [][]any {
	out := make([][]any, len(rows))
	for i, r := range rows {
		out[i] = make([]any, len(r))
		for j, v := range r {
			if f, ok := v.(float64); ok && f == 0 {
				v = 0.0
			}
			out[i][j] = v
		}
	}
	return out
}

func TestSortSpill(t *testing.T) {
	mem := tMem(t)
	rng := rand.New(rand.NewPCG(13, 14))
	rows := sortTestRows(rng, 20000)
	keys := []SortKey{Asc(1), Desc(0), Asc(2)}
	ec := tEC(t, mem, 256<<10)
	op, err := OpenPlan(ec, &Sort{Input: tNewSource(sortSchema(), 500, rows...), Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := Collect(ec.context(), op)
	if err != nil {
		t.Fatal(err)
	}
	got := tRows(recs)
	releaseBatches(recs)
	if !sameRows(got, sortOracle(rows, keys)) {
		t.Fatal("spilled sort: order differs")
	}
	if runs := op.(*sortOp).sorterStats().Runs; runs < 2 {
		t.Fatalf("%d runs spilled; want a spill", runs)
	}
	if ec.Mem.Peak() > 256<<10 {
		t.Fatalf("peak reservation %d", ec.Mem.Peak())
	}
	t.Run("limit too small to start", func(t *testing.T) {
		ec := tEC(t, mem, 1<<10)
		if err := tRunErr(t, ec, &Sort{Input: tNewSource(sortSchema(), 500, rows...), Keys: keys}); sqlerr.Code(err) != sqlerr.OutOfMemory {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestSortInMemory(t *testing.T) {
	mem := tMem(t)
	ec := tEC(t, mem, 0)
	// INT16 and FLOAT32 are not types the external sorter carries.
	sch := tSchema("a", arrow.PrimitiveTypes.Int16, "f", arrow.PrimitiveTypes.Float32, "seq", tI64)
	rng := rand.New(rand.NewPCG(15, 16))
	var rows [][]any
	for i := range 2000 {
		var a any = int64(rng.IntN(20) - 10)
		if rng.IntN(5) == 0 {
			a = nil
		}
		rows = append(rows, []any{a, float64(rng.IntN(7)) / 2, int64(i)})
	}
	keys := []SortKey{Desc(0), Asc(1)}
	got := tRun(t, ec, &Sort{Input: tNewSource(sch, 300, rows...), Keys: keys})
	if !sameRows(got, sortOracle(rows, keys)) {
		t.Fatal("order differs")
	}
	ec = tEC(t, mem, 16<<10)
	if err := tRunErr(t, ec, &Sort{Input: tNewSource(sch, 300, rows...), Keys: keys}); sqlerr.Code(err) != sqlerr.OutOfMemory {
		t.Fatalf("err = %v", err)
	}
}

func TestTopN(t *testing.T) {
	mem := tMem(t)
	ec := tEC(t, mem, 0)
	rng := rand.New(rand.NewPCG(17, 18))
	rows := sortTestRows(rng, 5000)
	for _, keys := range sortKeySets {
		for _, nk := range [][2]int64{{0, 0}, {1, 0}, {10, 0}, {10, 5}, {100, 37}, {4990, 20}, {6000, 0}, {3, 6000}} {
			t.Run(fmt.Sprintf("%s/n=%d/offset=%d", describeKeys(sortSchema(), keys), nk[0], nk[1]), func(t *testing.T) {
				got := tRun(t, ec, &TopN{Input: tNewSource(sortSchema(), 211, rows...), Keys: keys, N: nk[0], Offset: nk[1]})
				want := tRun(t, ec, &Limit{Input: &Sort{Input: tNewSource(sortSchema(), 211, rows...), Keys: keys}, Offset: nk[1], Count: nk[0]})
				if !sameRows(got, want) {
					t.Fatalf("TopN differs from Sort+Limit: %d rows vs %d", len(got), len(want))
				}
			})
		}
	}
	t.Run("memory limit", func(t *testing.T) {
		ec := tEC(t, mem, 32<<10)
		err := tRunErr(t, ec, &TopN{Input: tNewSource(sortSchema(), 211, rows...), Keys: []SortKey{Asc(0)}, N: 4000})
		if sqlerr.Code(err) != sqlerr.OutOfMemory {
			t.Fatalf("err = %v", err)
		}
	})
}
