package sql

import (
	"context"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/storage/storagetest"
)

// TestSpanTemplateMatchesFold checks that a kept plan's span template
// gives, for random parameters (extremes among them), exactly the filters
// that folding the scan's condition and pushdownSpans give, one run's
// buffers serving execution after execution; and that it declines a NULL.
func TestSpanTemplateMatchesFold(t *testing.T) {
	ctx := context.Background()
	db := storagetest.NewDB(t, storagetest.LocalStore(t))
	s := NewEngine(db, Config{}).NewSession()
	script := func(q string) {
		t.Helper()
		if err := s.Script(ctx, q, func(r Rows) error { _, err := Collect(ctx, r); return err }); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	script("CREATE TABLE tm (k bigint PRIMARY KEY, i integer, d date, ts timestamp, v text) WITH (split_points = '0')")
	script("INSERT INTO tm VALUES (1, 1, '2020-01-01', '2020-01-01 00:00:00', 'a')")
	cases := []string{
		"SELECT v FROM tm WHERE k = $1",
		"SELECT v FROM tm WHERE $1 < k",
		"SELECT v FROM tm WHERE k >= $1 AND k < $2",
		"SELECT v FROM tm WHERE k BETWEEN $1 AND $2",
		"SELECT v FROM tm WHERE k > $1 AND k <= $2 AND k = $3",
		"SELECT v FROM tm WHERE $1 >= k AND $2 > k",
		"SELECT v FROM tm WHERE i = $1 AND k > $2",
		"SELECT v FROM tm WHERE i BETWEEN $1 AND $2 AND i < $3",
		"SELECT v FROM tm WHERE d >= $1 AND ts < $2",
		"SELECT v FROM tm WHERE k >= 5 AND k < $1",
		"SELECT v FROM tm WHERE k BETWEEN $1 AND 7 AND i >= $2",
	}
	rng := rand.New(rand.NewPCG(3, 5))
	int64s := []int64{math.MinInt64, math.MinInt64 + 1, -7, -1, 0, 1, 5, 6, 7, math.MaxInt64 - 1, math.MaxInt64}
	value := func(typ arrow.DataType) arrow.Array {
		var v int64
		if rng.IntN(2) == 0 {
			v = int64s[rng.IntN(len(int64s))]
		} else {
			v = rng.Int64N(21) - 10
		}
		switch typ.ID() {
		case arrow.INT64:
			b := array.NewInt64Builder(memory.DefaultAllocator)
			b.Append(v)
			return b.NewArray()
		case arrow.INT32:
			b := array.NewInt32Builder(memory.DefaultAllocator)
			b.Append(int32(v))
			return b.NewArray()
		case arrow.DATE32:
			b := array.NewDate32Builder(memory.DefaultAllocator)
			b.Append(arrow.Date32(v))
			return b.NewArray()
		case arrow.TIMESTAMP:
			b := array.NewTimestampBuilder(memory.DefaultAllocator, typ.(*arrow.TimestampType))
			b.Append(arrow.Timestamp(v))
			return b.NewArray()
		}
		t.Fatalf("no values of %s", typ)
		return nil
	}
	for _, q := range cases {
		st, err := s.Prepare(ctx, q, nil)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		types := st.ParamTypes()
		params := func(null bool) []arrow.Array {
			ps := make([]arrow.Array, len(types))
			for i, typ := range types {
				ps[i] = value(typ)
			}
			if null {
				ps[rng.IntN(len(ps))] = array.MakeArrayOfNull(memory.DefaultAllocator, types[rng.IntN(len(types))], 1)
			}
			return ps
		}
		// The first execution plans and keeps the plan.
		rows, err := s.Execute(ctx, st, params(false))
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if _, err := Collect(ctx, rows); err != nil {
			t.Fatal(err)
		}
		c := &st.bound
		if c.plan == nil || c.spans == nil {
			t.Fatalf("%s: no kept plan (%v) or no span template (%v)", q, c.plan != nil, c.spans != nil)
		}
		sch := c.slot.sc.ts.t.Def.Schema
		run := &keptRun{}
		for i := 0; i < 300; i++ {
			null := rng.IntN(8) == 0
			ps := params(null)
			got, ok := c.spans.fill(run, ps)
			if null {
				if ok {
					t.Fatalf("%s %v: the template read a NULL", q, ps)
				}
				continue
			}
			folded, err := expr.Fold(&expr.Context{Alloc: memory.DefaultAllocator, Params: ps}, c.slot.cond)
			if err != nil {
				t.Fatal(err)
			}
			want, exact := pushdownSpans(sch, conjuncts(folded))
			if !ok || slices.Contains(exact, false) {
				t.Fatalf("%s %v: template ok %v, exact %v", q, ps, ok, exact)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s %v:\n got %v\nwant %v", q, ps, got, want)
			}
		}
	}
}
