package engine

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dormousedb/dormouse/storage/partition"
	"github.com/dormousedb/dormouse/storage/schema"
)

// spanDomain is the integers the brute-force span tests check: every
// bound they draw lies inside it, so membership over it decides equality.
const spanDomainLo, spanDomainHi = -12, 40

func spanInt(v int64) []byte { return schema.EncodeInt(v) }

// randomSpanSet draws up to n spans with bounds in [-10, 30], some open.
func randomSpanSet(rng *rand.Rand, n int) SpanSet {
	var spans []Span
	for range rng.IntN(n + 1) {
		var s Span
		if rng.IntN(6) > 0 {
			s.Lo = spanInt(int64(rng.IntN(41) - 10))
		}
		if rng.IntN(6) > 0 {
			s.Hi = spanInt(int64(rng.IntN(41) - 10))
		}
		spans = append(spans, s)
	}
	return NewSpanSet(spans...)
}

// spanMembers lists the domain integers in ss, via the spans' bounds
// directly (not via Contains), as the model to check against.
func spanMembers(ss SpanSet) map[int64]bool {
	out := map[int64]bool{}
	for v := int64(spanDomainLo); v <= spanDomainHi; v++ {
		enc := spanInt(v)
		for _, s := range ss {
			if (len(s.Lo) == 0 || bytes.Compare(enc, s.Lo) >= 0) && (len(s.Hi) == 0 || bytes.Compare(enc, s.Hi) < 0) {
				out[v] = true
			}
		}
	}
	return out
}

// checkNormal fails unless ss is sorted, disjoint, non-touching and has
// no empty span.
func checkNormal(t *testing.T, ss SpanSet) {
	t.Helper()
	for i, s := range ss {
		if s.Empty() {
			t.Fatalf("%v: span %d is empty", ss, i)
		}
		if i > 0 {
			prev := ss[i-1]
			if len(prev.Hi) == 0 || bytes.Compare(prev.Hi, s.Lo) >= 0 {
				t.Fatalf("%v: spans %d and %d overlap or touch", ss, i-1, i)
			}
		}
		if i > 0 && len(s.Lo) == 0 {
			t.Fatalf("%v: span %d starts at -inf", ss, i)
		}
	}
}

func TestSpanSetAlgebraRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 3000 {
		a, b := randomSpanSet(rng, 4), randomSpanSet(rng, 4)
		checkNormal(t, a)
		ma, mb := spanMembers(a), spanMembers(b)
		u, in, ca := a.Union(b), a.Intersect(b), a.Complement()
		checkNormal(t, u)
		checkNormal(t, in)
		checkNormal(t, ca)
		mu, mi, mc := spanMembers(u), spanMembers(in), spanMembers(ca)
		for v := int64(spanDomainLo); v <= spanDomainHi; v++ {
			if mu[v] != (ma[v] || mb[v]) {
				t.Fatalf("iter %d: %v ∪ %v holds %d: %v", iter, a, b, v, mu[v])
			}
			if mi[v] != (ma[v] && mb[v]) {
				t.Fatalf("iter %d: %v ∩ %v holds %d: %v", iter, a, b, v, mi[v])
			}
			if mc[v] == ma[v] {
				t.Fatalf("iter %d: complement of %v holds %d: %v", iter, a, v, mc[v])
			}
			if a.Contains(spanInt(v)) != ma[v] {
				t.Fatalf("iter %d: %v.Contains(%d) = %v", iter, a, v, !ma[v])
			}
		}
		if a.IsEmpty() != (len(ma) == 0) {
			t.Fatalf("%v.IsEmpty() = %v", a, a.IsEmpty())
		}
		if !a.Complement().Complement().equal(a) {
			t.Fatalf("double complement of %v is %v", a, a.Complement().Complement())
		}
		// Overlaps and Covers over closed intervals of the domain.
		for range 10 {
			lo := int64(rng.IntN(41) - 10)
			hi := lo + int64(rng.IntN(8))
			any, all := false, true
			for v := lo; v <= hi; v++ {
				any = any || ma[v]
				all = all && ma[v]
			}
			if got := a.Overlaps(spanInt(lo), spanInt(hi)); got != any {
				t.Fatalf("%v.Overlaps(%d, %d) = %v", a, lo, hi, got)
			}
			if got := a.Covers(spanInt(lo), spanInt(hi)); got != all {
				t.Fatalf("%v.Covers(%d, %d) = %v", a, lo, hi, got)
			}
			// Meets a half-open span, some ends open.
			r := Span{Lo: spanInt(lo), Hi: spanInt(hi)}
			if rng.IntN(4) == 0 {
				r.Lo = nil
			}
			if rng.IntN(4) == 0 {
				r.Hi = nil
			}
			if got, want := a.Meets(r), !a.Intersect(NewSpanSet(r)).IsEmpty(); got != want {
				t.Fatalf("%v.Meets(%v) = %v", a, r, got)
			}
		}
	}
}

// equal compares two normalised sets.
func (ss SpanSet) equal(o SpanSet) bool {
	if len(ss) != len(o) {
		return false
	}
	for i := range ss {
		if !bytes.Equal(ss[i].Lo, o[i].Lo) || !bytes.Equal(ss[i].Hi, o[i].Hi) {
			return false
		}
	}
	return true
}

func TestSpanSetBasics(t *testing.T) {
	all := AllSpans()
	if !all.IsAll() || all.IsEmpty() {
		t.Fatal("AllSpans is not all")
	}
	if !all.Complement().IsEmpty() || !SpanSet(nil).Complement().IsAll() {
		t.Fatal("complements of all and nothing")
	}
	if !all.Overlaps([]byte("x"), nil) || !all.Covers(nil, nil) {
		t.Fatal("all overlaps and covers everything")
	}
	var none SpanSet
	if none.Contains([]byte("a")) || none.Overlaps(nil, nil) || none.Covers([]byte("a"), []byte("a")) {
		t.Fatal("the empty set holds something")
	}
	// Touching spans merge; empty ones vanish; input is not changed.
	in := []Span{{Lo: spanInt(5), Hi: spanInt(9)}, {Lo: spanInt(1), Hi: spanInt(5)}, {Lo: spanInt(7), Hi: spanInt(7)}}
	got := NewSpanSet(in...)
	if len(got) != 1 || !bytes.Equal(got[0].Lo, spanInt(1)) || !bytes.Equal(got[0].Hi, spanInt(9)) {
		t.Fatalf("NewSpanSet(%v) = %v", in, got)
	}
	if !bytes.Equal(in[0].Lo, spanInt(5)) {
		t.Fatal("NewSpanSet changed its input")
	}
	// An open upper bound swallows what follows.
	got = NewSpanSet(Span{Lo: spanInt(3)}, Span{Lo: spanInt(5), Hi: spanInt(9)})
	if len(got) != 1 || len(got[0].Hi) != 0 {
		t.Fatalf("open span: %v", got)
	}
	// Overlaps with an open (empty) hi means +inf.
	ss := Lt(schema.BigInt, spanInt(10))
	if !ss.Overlaps(spanInt(9), nil) || ss.Overlaps(spanInt(10), nil) {
		t.Fatal("Overlaps with an open end")
	}
	if RangeSpanSet(partition.Range{}).IsAll() != true {
		t.Fatal("an infinite range is all")
	}
	r := RangeSpanSet(partition.Range{Min: []byte("b"), Max: []byte("m")})
	if !r.Contains([]byte("b")) || !r.Contains([]byte("lzz")) || r.Contains([]byte("m")) || r.Contains([]byte("a")) {
		t.Fatal("range span set membership")
	}
}

// spanCase checks a built set against a predicate over sample values.
type spanCase struct {
	name string
	set  SpanSet
	in   func(v []byte) bool
}

func TestSpanPredicatesInts(t *testing.T) {
	vals := []int64{math.MinInt64, math.MinInt64 + 1, -1000, -1, 0, 1, 2, 3, 4, 5, 6, 99, math.MaxInt64 - 1, math.MaxInt64}
	dec := func(v []byte) int64 { n, _ := schema.DecodeInt(v); return n }
	bi := schema.BigInt
	cases := []spanCase{
		{"eq 3", Eq(bi, spanInt(3)), func(v []byte) bool { return dec(v) == 3 }},
		{"eq max", Eq(bi, spanInt(math.MaxInt64)), func(v []byte) bool { return dec(v) == math.MaxInt64 }},
		{"eq min", Eq(bi, spanInt(math.MinInt64)), func(v []byte) bool { return dec(v) == math.MinInt64 }},
		{"lt 3", Lt(bi, spanInt(3)), func(v []byte) bool { return dec(v) < 3 }},
		{"le 3", Le(bi, spanInt(3)), func(v []byte) bool { return dec(v) <= 3 }},
		{"le max", Le(bi, spanInt(math.MaxInt64)), func(v []byte) bool { return true }},
		{"gt 3", Gt(bi, spanInt(3)), func(v []byte) bool { return dec(v) > 3 }},
		{"gt max", Gt(bi, spanInt(math.MaxInt64)), func(v []byte) bool { return false }},
		{"ge 3", Ge(bi, spanInt(3)), func(v []byte) bool { return dec(v) >= 3 }},
		{"lt min", Lt(bi, spanInt(math.MinInt64)), func(v []byte) bool { return false }},
		{"between 1 4", Between(bi, spanInt(1), spanInt(4)), func(v []byte) bool { return dec(v) >= 1 && dec(v) <= 4 }},
		{"between 4 1", Between(bi, spanInt(4), spanInt(1)), func(v []byte) bool { return false }},
		{"between 5 max", Between(bi, spanInt(5), spanInt(math.MaxInt64)), func(v []byte) bool { return dec(v) >= 5 }},
		{"in", In(bi, [][]byte{spanInt(5), spanInt(1), spanInt(2), spanInt(5), spanInt(math.MaxInt64)}),
			func(v []byte) bool { n := dec(v); return n == 1 || n == 2 || n == 5 || n == math.MaxInt64 }},
		{"in nothing", In(bi, nil), func(v []byte) bool { return false }},
		{"not 3", Eq(bi, spanInt(3)).Complement(), func(v []byte) bool { return dec(v) != 3 }},
		{"or of ranges", Lt(bi, spanInt(0)).Union(Between(bi, spanInt(4), spanInt(5))).Union(Gt(bi, spanInt(98))),
			func(v []byte) bool { n := dec(v); return n < 0 || (n >= 4 && n <= 5) || n > 98 }},
		{"range and in", Ge(bi, spanInt(2)).Intersect(Lt(bi, spanInt(6))).Intersect(In(bi, [][]byte{spanInt(1), spanInt(3), spanInt(6)})),
			func(v []byte) bool { return dec(v) == 3 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, v := range vals {
				enc := spanInt(v)
				if got := tc.set.Contains(enc); got != tc.in(enc) {
					t.Errorf("%v contains %d: %v", tc.set, v, got)
				}
			}
		})
	}
}

func TestSpanPredicatesOtherTypes(t *testing.T) {
	str := func(s string) []byte { return []byte(s) }
	strVals := []string{"", "\x00", "a", "a\x00", "a\x00\x00", "a\xff", "a\xff\xff", "a\xff\x00", "aa", "ab", "abc", "abd", "b", "b\x00", "\xff", "\xff\xff", "\xff\xff\x00"}
	vc, vb := schema.Varchar, schema.Varbinary
	strCases := []spanCase{
		{"eq a", Eq(vc, str("a")), func(v []byte) bool { return string(v) == "a" }},
		{"eq empty", Eq(vc, str("")), func(v []byte) bool { return string(v) == "" }},
		{"lt empty", Lt(vc, str("")), func(v []byte) bool { return false }},
		{"le empty", Le(vc, str("")), func(v []byte) bool { return string(v) == "" }},
		{"gt empty", Gt(vc, str("")), func(v []byte) bool { return string(v) != "" }},
		{"ge empty", Ge(vc, str("")), func(v []byte) bool { return true }},
		{"lt ab", Lt(vc, str("ab")), func(v []byte) bool { return string(v) < "ab" }},
		{"le ab", Le(vc, str("ab")), func(v []byte) bool { return string(v) <= "ab" }},
		{"gt a", Gt(vc, str("a")), func(v []byte) bool { return string(v) > "a" }},
		{"between a ab", Between(vc, str("a"), str("ab")), func(v []byte) bool { return string(v) >= "a" && string(v) <= "ab" }},
		{"prefix a", Prefix(str("a")), func(v []byte) bool { return bytes.HasPrefix(v, str("a")) }},
		{"prefix ab", Prefix(str("ab")), func(v []byte) bool { return bytes.HasPrefix(v, str("ab")) }},
		{"prefix a\\xff", Prefix(str("a\xff")), func(v []byte) bool { return bytes.HasPrefix(v, str("a\xff")) }},
		{"prefix \\xff\\xff", Prefix(str("\xff\xff")), func(v []byte) bool { return bytes.HasPrefix(v, str("\xff\xff")) }},
		{"prefix empty", Prefix(str("")), func(v []byte) bool { return true }},
		{"bytea in", In(vb, [][]byte{str("a\x00"), str("\xff")}), func(v []byte) bool { return string(v) == "a\x00" || string(v) == "\xff" }},
	}
	for _, tc := range strCases {
		t.Run(tc.name, func(t *testing.T) {
			for _, v := range strVals {
				if got := tc.set.Contains(str(v)); got != tc.in(str(v)) {
					t.Errorf("%v contains %q: %v", tc.set, v, got)
				}
			}
		})
	}
	if got := Prefix(str("a\xff\xff")); len(got) != 1 || string(got[0].Hi) != "b" {
		t.Errorf("Prefix(a\\xff\\xff) = %v, want [a\\xff\\xff, b)", got)
	}
	if got := Prefix(str("\xff")); len(got) != 1 || len(got[0].Hi) != 0 {
		t.Errorf("Prefix(\\xff) = %v, want an open end", got)
	}

	// Booleans: one byte.
	f, tr := []byte{0}, []byte{1}
	if s := Eq(schema.Boolean, tr); !s.Contains(tr) || s.Contains(f) {
		t.Errorf("Eq(true) = %v", s)
	}
	if s := Gt(schema.Boolean, tr); !s.IsEmpty() {
		t.Errorf("Gt(true) = %v", s)
	}
	if s := Le(schema.Boolean, tr); !s.IsAll() {
		t.Errorf("Le(true) = %v", s)
	}
	if s := Gt(schema.Boolean, f); !s.Contains(tr) || s.Contains(f) {
		t.Errorf("Gt(false) = %v", s)
	}

	// Doubles: successor is the next float; -0 is +0; NaN sorts last.
	fl := schema.EncodeFloat
	floats := []float64{math.Inf(-1), -1, math.Copysign(0, -1), 0, math.SmallestNonzeroFloat64, 1, 1 + 2.220446049250313e-16, math.MaxFloat64, math.Inf(1), math.NaN()}
	dcases := []struct {
		name string
		set  SpanSet
		in   func(float64) bool
	}{
		{"eq 1", Eq(schema.Double, fl(1)), func(v float64) bool { return v == 1 }},
		{"gt 1", Gt(schema.Double, fl(1)), func(v float64) bool { return v > 1 || math.IsNaN(v) }},
		{"le 0", Le(schema.Double, fl(0)), func(v float64) bool { return v <= 0 }},
		{"lt 0", Lt(schema.Double, fl(0)), func(v float64) bool { return v < 0 }},
		{"eq -0", Eq(schema.Double, fl(math.Copysign(0, -1))), func(v float64) bool { return v == 0 }},
		{"le +inf", Le(schema.Double, fl(math.Inf(1))), func(v float64) bool { return !math.IsNaN(v) }},
	}
	for _, tc := range dcases {
		for _, v := range floats {
			if got := tc.set.Contains(fl(v)); got != tc.in(v) {
				t.Errorf("%s: %v contains %v: %v", tc.name, tc.set.Format(schema.Double), v, got)
			}
		}
	}

	// Dates and timestamps are integers.
	day := func(d int64) []byte { return schema.EncodeInt(d) }
	if s := Between(schema.Date, day(10), day(12)); !s.Contains(day(12)) || s.Contains(day(13)) || s.Contains(day(9)) {
		t.Errorf("Between dates = %v", s)
	}
}

func TestSuccessor(t *testing.T) {
	for _, tc := range []struct {
		t    schema.Type
		in   []byte
		want []byte
	}{
		{schema.Varchar, []byte("a"), []byte("a\x00")},
		{schema.Varchar, []byte(""), []byte("\x00")},
		{schema.Varbinary, []byte{0xff}, []byte{0xff, 0}},
		{schema.BigInt, spanInt(3), spanInt(4)},
		{schema.BigInt, spanInt(-1), spanInt(0)},
		{schema.BigInt, spanInt(255), spanInt(256)},
		{schema.BigInt, spanInt(math.MaxInt64), nil},
		{schema.Boolean, []byte{0}, []byte{1}},
		{schema.Boolean, []byte{1}, nil},
	} {
		in := append([]byte(nil), tc.in...)
		if got := Successor(tc.t, tc.in); !bytes.Equal(got, tc.want) || (tc.want == nil) != (got == nil) {
			t.Errorf("Successor(%s, %x) = %x, want %x", tc.t, tc.in, got, tc.want)
		}
		if !bytes.Equal(in, tc.in) {
			t.Errorf("Successor changed its input")
		}
	}
}

func TestSpanSetFormat(t *testing.T) {
	bi, vc := schema.BigInt, schema.Varchar
	for _, tc := range []struct {
		set  SpanSet
		typ  schema.Type
		want string
	}{
		{Between(vc, []byte("a"), []byte("c")).Intersect(Lt(vc, []byte("c"))), vc, `[["a","c")]`},
		{In(bi, [][]byte{spanInt(5), spanInt(7)}).Union(Ge(bi, spanInt(10))), bi, `[5, 7, [10,+inf)]`},
		{Lt(bi, spanInt(0)), bi, `[[-inf,-1]]`},
		{Between(bi, spanInt(-3), spanInt(4)), bi, `[[-3,4]]`},
		{Lt(schema.Double, schema.EncodeFloat(2.5)), schema.Double, `[[-inf,2.5)]`},
		{AllSpans(), bi, `[[-inf,+inf)]`},
		{nil, bi, `[]`},
		{Eq(vc, []byte(`say "hi"`)), vc, `["say \"hi\""]`},
		{Eq(schema.Date, spanInt(0)), schema.Date, `["1970-01-01"]`},
	} {
		if got := tc.set.Format(tc.typ); got != tc.want {
			t.Errorf("Format = %s, want %s", got, tc.want)
		}
	}
}

func ExampleSpanSet_Format() {
	k := schema.BigInt
	// WHERE k IN (1, 2) OR k BETWEEN 10 AND 20 OR k > 100
	ss := In(k, [][]byte{schema.EncodeInt(1), schema.EncodeInt(2)}).
		Union(Between(k, schema.EncodeInt(10), schema.EncodeInt(20))).
		Union(Gt(k, schema.EncodeInt(100)))
	fmt.Println(ss.Format(k))
	// Output: [[1,2], [10,20], [101,+inf)]
}
