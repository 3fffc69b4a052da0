package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/storage/iterator"
	"github.com/dormousedb/dormouse/storage/schema"
)

// iterTestSchema has a row key, a sort key and a value column of every
// kind an aggregation handles.
func iterTestSchema(t testing.TB) *schema.Schema {
	sch, err := schema.Parse("k:varchar:key, s:bigint:sort, n:bigint, hi:integer, x:double, y:varchar, b:boolean, ts:timestamp, d:date")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

const iterTestAggs = "sum(n), max(hi), min(x), last(y), max(b), max(ts), min(d)"

// iterRun runs Iterate over rows fed in batches of per rows and returns
// the output rows.
func iterRun(t *testing.T, sch *schema.Schema, spec *iterator.Spec, now time.Time, per int, rows [][]any) ([][]any, error) {
	t.Helper()
	mem := tMem(t)
	ec := tEC(t, mem, 0)
	src, err := tNewSource(sch.Arrow(), per, rows...).Open(ec)
	if err != nil {
		t.Fatal(err)
	}
	op := Iterate(src, spec, sch, now, mem)
	recs, err := Collect(ec.Ctx, op)
	defer releaseBatches(recs)
	for _, r := range recs {
		if !r.Schema().Equal(op.Schema()) {
			t.Fatalf("batch schema %s, want %s", r.Schema(), op.Schema())
		}
	}
	return tRows(recs), err
}

func TestIterateAggregate(t *testing.T) {
	sch := iterTestSchema(t)
	spec, err := iterator.Parse(iterTestAggs, "", sch)
	if err != nil {
		t.Fatal(err)
	}
	// k, s, n, hi, x, y, b, ts, d
	rows := [][]any{
		{"a", 1, 1, 5, 2.5, "p", false, 10, 100},
		{"a", 1, 2, nil, 1.5, "q", true, 30, 90},
		{"a", 1, nil, 7, nil, nil, nil, 20, nil}, // last(y) takes this NULL
		{"a", 2, nil, nil, nil, "r", nil, nil, nil},
		{"b", 1, 4, 1, math.NaN(), "s", false, 5, 5},
		{"b", 1, 5, 2, 3.0, "t", false, 6, 6},
		{"c", 1, 7, 9, 0.5, "u", true, 7, 7},
		{"c", 1, 8, 3, -0.5, "v", false, 8, 8},
		{"c", 1, 9, 4, 0.0, "w", false, 9, 9},
	}
	want := []string{
		"[a 1 3 7 1.5 <nil> true 30 90]",
		"[a 2 <nil> <nil> <nil> r <nil> <nil> <nil>]",
		"[b 1 9 2 3 t false 6 5]",
		"[c 1 24 9 -0.5 w true 9 7]",
	}
	// Every batch size puts run boundaries somewhere else, runs of three
	// spanning two or three batches among them.
	for _, per := range []int{1, 2, 3, 4, 5, 8, 0} {
		t.Run(fmt.Sprintf("per=%d", per), func(t *testing.T) {
			got, err := iterRun(t, sch, spec, time.Time{}, per, rows)
			if err != nil {
				t.Fatal(err)
			}
			if g := tStrings(got); !reflect.DeepEqual(g, want) {
				t.Fatalf("got\n%v\nwant\n%v", g, want)
			}
		})
	}
}

func TestIterateAgeOff(t *testing.T) {
	sch := iterTestSchema(t)
	now := time.Date(2024, 3, 31, 12, 0, 0, 0, time.UTC)
	day := int64(24 * time.Hour / time.Microsecond)
	nowUS := now.UnixMicro()
	nowDay := nowUS / day
	for _, tc := range []struct {
		name, aggs, ageOff string
		rows               [][]any // k, s, ts, d
		want               []string
	}{
		{
			name:   "timestamp",
			ageOff: "ts 1d",
			rows: [][]any{
				{"a", 1, nowUS - day - 1, nil}, // just too old
				{"b", 1, nowUS - day, nil},     // exactly the bound: kept
				{"c", 1, nil, nil},             // NULL: kept
				{"d", 1, nowUS + day, nil},     // the future: kept
			},
			want: []string{"[b 1 " + fmt.Sprint(nowUS-day) + " <nil>]", "[c 1 <nil> <nil>]", "[d 1 " + fmt.Sprint(nowUS+day) + " <nil>]"},
		},
		{
			// now - 1d is 12:00 yesterday: yesterday's midnight is older.
			name:   "date",
			ageOff: "d 1d",
			rows:   [][]any{{"a", 1, nil, nowDay - 1}, {"b", 1, nil, nowDay}, {"c", 1, nil, nil}},
			want:   []string{fmt.Sprintf("[b 1 <nil> %d]", nowDay), "[c 1 <nil> <nil>]"},
		},
		{
			name:   "date at midnight bound",
			ageOff: "d 12h",
			rows:   [][]any{{"a", 1, nil, nowDay - 1}, {"b", 1, nil, nowDay}},
			want:   []string{fmt.Sprintf("[b 1 <nil> %d]", nowDay)},
		},
		{
			name:   "all dropped",
			ageOff: "ts 1h",
			rows:   [][]any{{"a", 1, int64(0), nil}, {"b", 1, int64(1), nil}},
		},
		{
			// Age-off first, then the rest combine: the sort key ages off
			// whole runs.
			name:   "with aggregation",
			aggs:   "sum(n), max(hi), min(x), last(y), max(b), max(ts), min(d)",
			ageOff: "s 1d",
			rows:   [][]any{{"a", nowUS - 2*day, nil, nil}, {"a", nowUS - 2*day, nil, nil}, {"a", nowUS, nil, 5}, {"a", nowUS, nil, 3}},
			want:   []string{fmt.Sprintf("[a %d <nil> 3]", nowUS)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sch := sch
			if tc.aggs != "" {
				// s as a timestamp sort key, to age off on a key.
				var err error
				if sch, err = schema.Parse("k:varchar:key, s:timestamp:sort, n:bigint, hi:integer, x:double, y:varchar, b:boolean, ts:timestamp, d:date"); err != nil {
					t.Fatal(err)
				}
			}
			spec, err := iterator.Parse(tc.aggs, tc.ageOff, sch)
			if err != nil {
				t.Fatal(err)
			}
			full := make([][]any, len(tc.rows))
			for i, r := range tc.rows {
				full[i] = []any{r[0], r[1], 1, nil, nil, nil, nil, r[2], r[3]}
			}
			for _, per := range []int{1, 2, 0} {
				got, err := iterRun(t, sch, spec, now, per, full)
				if err != nil {
					t.Fatal(err)
				}
				var short []string
				for _, r := range got {
					short = append(short, fmt.Sprint([]any{r[0], r[1], r[7], r[8]}))
				}
				if !reflect.DeepEqual(short, tc.want) {
					t.Fatalf("per=%d: got %v, want %v", per, short, tc.want)
				}
			}
		})
	}
}

func TestIterateSumOverflow(t *testing.T) {
	sch, err := schema.Parse("k:bigint:key, n:bigint, i:integer, x:double")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := iterator.Parse("sum(n), sum(i), sum(x)", "", sch)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		rows [][]any
		err  string // "" for none
		want string
	}{
		{name: "bigint", rows: [][]any{{1, math.MaxInt64, nil, nil}, {1, 1, nil, nil}}, err: "bigint out of range in sum(n)"},
		{name: "bigint negative", rows: [][]any{{1, math.MinInt64, nil, nil}, {1, -1, nil, nil}}, err: "bigint out of range"},
		{name: "bigint fits", rows: [][]any{{1, math.MaxInt64, nil, nil}, {1, -1, nil, nil}, {1, 1, nil, nil}}, want: fmt.Sprintf("[[1 %d <nil> <nil>]]", int64(math.MaxInt64))},
		{name: "integer", rows: [][]any{{1, nil, math.MaxInt32, nil}, {1, nil, 1, nil}}, err: "integer out of range in sum(i)"},
		{name: "double", rows: [][]any{{1, nil, nil, math.MaxFloat64}, {1, nil, nil, math.MaxFloat64}}, err: "double precision out of range"},
		{name: "double infinity in", rows: [][]any{{1, nil, nil, math.Inf(1)}, {1, nil, nil, 1.0}}, want: "[[1 <nil> <nil> +Inf]]"},
		{name: "other keys do not add", rows: [][]any{{1, math.MaxInt64, nil, nil}, {2, 1, nil, nil}}, want: fmt.Sprintf("[[1 %d <nil> <nil>] [2 1 <nil> <nil>]]", int64(math.MaxInt64))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, per := range []int{1, 0} { // across a batch boundary and within a batch
				got, err := iterRun(t, sch, spec, time.Time{}, per, tc.rows)
				if tc.err != "" {
					if err == nil || sqlerr.Code(err) != sqlerr.NumericValueOutOfRange || !strings.Contains(err.Error(), tc.err) {
						t.Fatalf("per=%d: error %v (SQLSTATE %s), want %q with 22003", per, err, sqlerr.Code(err), tc.err)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if g := fmt.Sprint(got); g != tc.want {
					t.Fatalf("per=%d: got %s, want %s", per, g, tc.want)
				}
			}
		})
	}
}

// TestIterateModel compares Iterate with a row-at-a-time model over random
// sorted input in batches of random sizes.
func TestIterateModel(t *testing.T) {
	sch := iterTestSchema(t)
	spec, err := iterator.Parse(iterTestAggs, "", sch)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	maybe := func(v any) any {
		if rng.IntN(4) == 0 {
			return nil
		}
		return v
	}
	for round := range 30 {
		var rows [][]any
		for k := range 1 + rng.IntN(20) {
			for s := range 1 + rng.IntN(3) {
				for range 1 + rng.IntN(6) {
					rows = append(rows, []any{fmt.Sprintf("k%02d", k), s,
						maybe(rng.IntN(1000) - 500), maybe(rng.IntN(100)), maybe(rng.Float64()), maybe(fmt.Sprint(rng.IntN(50))),
						maybe(rng.IntN(2) == 0), maybe(rng.IntN(1e6)), maybe(rng.IntN(1e4))})
				}
			}
		}
		want := tStrings(iterModel(rows))
		per := 1 + rng.IntN(len(rows))
		got, err := iterRun(t, sch, spec, time.Time{}, per, rows)
		if err != nil {
			t.Fatal(err)
		}
		if g := tStrings(got); !reflect.DeepEqual(g, want) {
			t.Fatalf("round %d, %d rows in batches of %d:\ngot  %v\nwant %v", round, len(rows), per, g, want)
		}
	}
}

// iterModel combines rows with equal (k, s) one row at a time under
// iterTestAggs, in tRows' value forms.
func iterModel(rows [][]any) [][]any {
	norm := func(v any) any {
		switch v := v.(type) {
		case int:
			return int64(v)
		}
		return v
	}
	var out [][]any
	for _, r := range rows {
		r2 := make([]any, len(r))
		for i, v := range r {
			r2[i] = norm(v)
		}
		n := len(out)
		if n == 0 || out[n-1][0] != r2[0] || out[n-1][1] != r2[1] {
			out = append(out, r2)
			continue
		}
		acc := out[n-1]
		pick := func(i int, better func(a, b any) bool) {
			if r2[i] != nil && (acc[i] == nil || better(r2[i], acc[i])) {
				acc[i] = r2[i]
			}
		}
		if r2[2] != nil {
			if acc[2] == nil {
				acc[2] = r2[2]
			} else {
				acc[2] = acc[2].(int64) + r2[2].(int64)
			}
		}
		pick(3, func(a, b any) bool { return a.(int64) > b.(int64) })
		pick(4, func(a, b any) bool { return a.(float64) < b.(float64) })
		acc[5] = r2[5]
		pick(6, func(a, b any) bool { return a.(bool) && !b.(bool) })
		pick(7, func(a, b any) bool { return a.(int64) > b.(int64) })
		pick(8, func(a, b any) bool { return a.(int64) < b.(int64) })
	}
	return out
}

func TestIterateEmptySpecPassesThrough(t *testing.T) {
	sch := iterTestSchema(t)
	rows := [][]any{{"a", 1, 1, nil, nil, nil, nil, nil, nil}, {"a", 1, 2, nil, nil, nil, nil, nil, nil}}
	got, err := iterRun(t, sch, nil, time.Time{}, 1, rows)
	if err != nil || len(got) != 2 {
		t.Fatalf("got %v, %v", got, err)
	}
}

func TestIterateInputErrors(t *testing.T) {
	sch := iterTestSchema(t)
	mem := tMem(t)
	ec := tEC(t, mem, 0)
	for _, tc := range []struct {
		name, aggs, ageOff string
		sch                []any
		err                string
	}{
		{"missing key", iterTestAggs, "", []any{"k", tStr, "n", tI64}, "input lacks key column s"},
		{"missing age-off column", "", "ts 1d", []any{"k", tStr, "s", tI64}, "input lacks the age-off column ts"},
		{"unknown column", iterTestAggs, "", []any{"k", tStr, "zz", tI64}, `input column "zz" is not a table column`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := iterator.Parse(tc.aggs, tc.ageOff, sch)
			if err != nil {
				t.Fatal(err)
			}
			src, _ := tNewSource(tSchema(tc.sch...), 0).Open(ec)
			op := Iterate(src, spec, sch, time.Now(), mem)
			_, err = Collect(ec.Ctx, op)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
		})
	}
}

// TestIterateAllocations checks that Iterate allocates per batch, not per
// row: ten times the rows in the same number of batches costs about the
// same number of allocations.
func TestIterateAllocations(t *testing.T) {
	sch, err := schema.Parse("k:varchar:key, s:timestamp:sort, n:bigint, hi:integer, x:double, y:varchar, b:boolean, ts:timestamp, d:date")
	if err != nil {
		t.Fatal(err)
	}
	// Age-off drops a third of the rows; the rest combine in threes.
	spec, err := iterator.Parse(iterTestAggs, "s 1d", sch)
	if err != nil {
		t.Fatal(err)
	}
	allocs := func(rowsPerBatch int) float64 {
		var rows [][]any
		for i := range rowsPerBatch * 4 {
			ts := int64(4e15)
			if i%9 < 3 {
				ts = 0
			}
			rows = append(rows, []any{fmt.Sprintf("k%06d", i/3), ts, i, i, float64(i), "v", true, int64(4e15), i})
		}
		mem := tMem(t)
		ec := tEC(t, mem, 0)
		// Build the batches up front so that only Iterate is counted.
		src := &tSource{sch: sch.Arrow(), rows: rows, per: rowsPerBatch}
		recs, err := Run(ec, src)
		if err != nil {
			t.Fatal(err)
		}
		defer releaseBatches(recs)
		return testing.AllocsPerRun(5, func() {
			op := Iterate(&batchesOp{p: &batchesPlan{sch: sch.Arrow(), recs: recs}}, spec, sch, time.Unix(4e9, 0), mem)
			out, err := Collect(ec.Ctx, op)
			if err != nil {
				t.Fatal(err)
			}
			releaseBatches(out)
		})
	}
	small, large := allocs(1000), allocs(10000)
	t.Logf("allocations for 4 batches: %.0f of 1000 rows, %.0f of 10000 rows", small, large)
	if large > small*1.5+20 {
		t.Fatalf("allocations grow with rows: %.0f for 4x1000 rows, %.0f for 4x10000", small, large)
	}
}
