package iterator

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/schema"
)

func testSchema(t *testing.T) *schema.Schema {
	t.Helper()
	sch, err := schema.Parse("k:varchar:key, ts:timestamp:sort, n:bigint, hi:integer, x:double, y:varchar, d:date, b:boolean")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func TestParse(t *testing.T) {
	sch := testSchema(t)
	all := "sum(n), max(hi), min(x), last(y), max(d), last(b)"
	for _, tc := range []struct {
		name, aggs, ageOff string
		want               string // Spec.String(); "" for nil
		err                string // substring of the error
	}{
		{name: "none"},
		{name: "blank", aggs: "  ", ageOff: " ", want: ""},
		{name: "all", aggs: all, want: "sum(n), max(hi), min(x), last(y), max(d), last(b)"},
		{name: "any order and case", aggs: "LAST(b), Max(D), last(Y), MIN(x), max(hi), sum(N)", want: "sum(n), max(hi), min(x), last(y), max(d), last(b)"},
		{name: "quoted column", aggs: `sum("n"), max(hi), min(x), last(y), max(d), last(b)`, want: "sum(n), max(hi), min(x), last(y), max(d), last(b)"},
		{name: "age off only", ageOff: "ts 30d", want: "age_off(ts 30d)"},
		{name: "age off on value date", ageOff: "d 2h", want: "age_off(d 2h)"},
		{name: "both", aggs: all, ageOff: "ts 90m", want: "sum(n), max(hi), min(x), last(y), max(d), last(b), age_off(ts 90m)"},
		{name: "missing column", aggs: "sum(n), max(hi), min(x), last(y), max(d)", err: `value column "b" is not aggregated: name every value column once (to keep the newest value, write last(b))`},
		{name: "twice", aggs: all + ", min(n)", err: `column "n" is aggregated twice`},
		{name: "row key", aggs: all + ", max(k)", err: `column "k" is a row key`},
		{name: "sort key", aggs: all + ", max(ts)", err: `column "ts" is a sort key`},
		{name: "unknown column", aggs: all + ", max(zz)", err: `column "zz" does not exist`},
		{name: "unknown function", aggs: "avg(n)", err: `unknown function "avg"`},
		{name: "syntax", aggs: "sum n", err: `cannot read "sum n"`},
		{name: "empty item", aggs: all + ",", err: `cannot read ""`},
		{name: "no column", aggs: "sum()", err: `names no column`},
		{name: "sum of text", aggs: "sum(n), max(hi), min(x), sum(y), max(d), last(b)", err: `sum(y): column "y" is VARCHAR`},
		{name: "sum of date", aggs: "sum(n), max(hi), min(x), last(y), sum(d), last(b)", err: `column "d" is DATE`},
		{name: "age off text column", ageOff: "y 30d", err: `column "y" is VARCHAR; want a TIMESTAMP or DATE column`},
		{name: "age off unknown column", ageOff: "zz 30d", err: `column "zz" does not exist`},
		{name: "age off no age", ageOff: "ts", err: `want a column and an age`},
		{name: "age off bad unit", ageOff: "ts 30w", err: `age "30w": want a positive whole number of s, m, h or d`},
		{name: "age off zero", ageOff: "ts 0d", err: `age "0d"`},
		{name: "age off negative", ageOff: "ts -1d", err: `age "-1d"`},
		{name: "age off fraction", ageOff: "ts 1.5d", err: `age "1.5d"`},
		{name: "age off overflow", ageOff: "ts 99999999999999d", err: `age "99999999999999d"`},
		{name: "age off aggregated value", aggs: all, ageOff: "d 30d", err: `column "d" is a value column`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := Parse(tc.aggs, tc.ageOff, sch)
			if tc.err != "" {
				if err == nil {
					t.Fatalf("want error containing %q, got spec %q", tc.err, spec)
				}
				if !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrInvalid) {
					t.Fatalf("error %q (ErrInvalid %v), want it to contain %q", err, errors.Is(err, ErrInvalid), tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if spec != nil {
					t.Fatalf("want nil spec, got %q", spec)
				}
				return
			}
			if got := spec.String(); got != tc.want {
				t.Fatalf("spec %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSpecAccessors(t *testing.T) {
	sch := testSchema(t)
	spec, err := Parse("sum(n), max(hi), min(x), last(y), max(d), last(b)", "ts 30d", sch)
	if err != nil {
		t.Fatal(err)
	}
	if !spec.Aggregates() || spec.Empty() || !spec.OrderDependent() {
		t.Fatalf("Aggregates %v Empty %v OrderDependent %v", spec.Aggregates(), spec.Empty(), spec.OrderDependent())
	}
	if a, ok := spec.Agg(sch.Index("x")); !ok || a.Func != Min || a.Name != "x" {
		t.Fatalf("Agg(x) = %+v, %v", a, ok)
	}
	if _, ok := spec.Agg(0); ok {
		t.Fatal("a key has an aggregation")
	}
	if cols := spec.Columns(); len(cols) != 1 || cols[0] != sch.Index("ts") {
		t.Fatalf("Columns %v", cols)
	}
	now := time.Date(2024, 3, 31, 12, 0, 0, 0, time.UTC)
	if got, want := spec.AgeOff.CutoffMicros(now), time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC).UnixMicro(); got != want {
		t.Fatalf("cutoff %d, want %d", got, want)
	}
	noLast, err := Parse("sum(n), max(hi), min(x), min(y), max(d), max(b)", "", sch)
	if err != nil {
		t.Fatal(err)
	}
	if noLast.OrderDependent() {
		t.Fatal("min/max/sum are order independent")
	}
	var none *Spec
	if !none.Empty() || none.Aggregates() || none.OrderDependent() || none.String() != "" || none.Columns() != nil {
		t.Fatal("nil spec is not empty")
	}
}

func TestFromDef(t *testing.T) {
	sch := testSchema(t)
	props, err := catalog.Properties{}.With("age_off", "ts 1d")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := FromDef(&catalog.TableDef{Name: "t", Schema: sch, Properties: props})
	if err != nil || spec.AgeOff == nil || spec.AgeOff.Age != 24*time.Hour {
		t.Fatalf("spec %+v, err %v", spec, err)
	}
	spec, err = FromDef(&catalog.TableDef{Name: "t", Schema: sch})
	if err != nil || spec != nil {
		t.Fatalf("no properties: spec %+v, err %v", spec, err)
	}
}
