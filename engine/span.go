package engine

import (
	"bytes"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/dormousedb/dormouse/storage/partition"
	"github.com/dormousedb/dormouse/storage/schema"
)

// Span is a half-open range [Lo, Hi) of plain key encodings of one column
// (schema.AppendValue): bytes.Compare on encodings orders values as their
// type does. An empty Lo is minus infinity and an empty Hi plus infinity,
// as in partition.Range; no value encodes below the empty string, so an
// empty exclusive upper bound could mean nothing else.
//
// Spans are values; the slices they hold are never changed.
type Span struct {
	Lo, Hi []byte
}

// Empty reports whether the span holds no value.
func (s Span) Empty() bool { return len(s.Hi) > 0 && bytes.Compare(s.Lo, s.Hi) >= 0 }

// Contains reports whether v lies in the span.
func (s Span) Contains(v []byte) bool {
	return bytes.Compare(v, s.Lo) >= 0 && (len(s.Hi) == 0 || bytes.Compare(v, s.Hi) < 0)
}

// SpanSet is a set of values of one column as sorted, disjoint, non-empty
// spans, none touching the next (touching spans are merged). nil (or
// empty) is the empty set; AllSpans() is every value. Build sets with
// NewSpanSet or the predicate helpers (Eq, Lt, In, Prefix, …) and combine
// them with Union, Intersect and Complement; every function returns a new
// set and never changes its arguments.
type SpanSet []Span

// AllSpans is the set of every value.
func AllSpans() SpanSet { return SpanSet{{}} }

// NewSpanSet returns the union of the spans, normalised.
func NewSpanSet(spans ...Span) SpanSet {
	out := make(SpanSet, 0, len(spans))
	for _, s := range spans {
		if !s.Empty() {
			out = append(out, s)
		}
	}
	if len(out) > 1 { // a point or a range (most sets) needs no sort
		slices.SortFunc(out, func(a, b Span) int { return bytes.Compare(a.Lo, b.Lo) })
	}
	merged := out[:0]
	for _, s := range out {
		if n := len(merged); n > 0 && !spanBefore(merged[n-1], s) {
			if hiLess(merged[n-1].Hi, s.Hi) {
				merged[n-1].Hi = s.Hi
			}
			continue
		}
		merged = append(merged, s)
	}
	if len(merged) == 0 {
		return nil
	}
	return merged
}

// spanBefore reports whether a ends strictly before b starts (a gap
// between them), for a.Lo <= b.Lo.
func spanBefore(a, b Span) bool { return len(a.Hi) > 0 && bytes.Compare(a.Hi, b.Lo) < 0 }

// hiLess orders exclusive upper bounds, the empty one (+inf) last.
func hiLess(a, b []byte) bool {
	switch {
	case len(a) == 0:
		return false
	case len(b) == 0:
		return true
	}
	return bytes.Compare(a, b) < 0
}

// IsEmpty reports whether the set holds no value.
func (ss SpanSet) IsEmpty() bool { return len(ss) == 0 }

// IsAll reports whether the set holds every value.
func (ss SpanSet) IsAll() bool { return len(ss) == 1 && len(ss[0].Lo) == 0 && len(ss[0].Hi) == 0 }

// Union returns the values in either set.
func (ss SpanSet) Union(o SpanSet) SpanSet {
	return NewSpanSet(append(append(make([]Span, 0, len(ss)+len(o)), ss...), o...)...)
}

// Intersect returns the values in both spans: the greater lower bound
// and the lesser upper bound (Empty when they do not meet).
func (s Span) Intersect(o Span) Span {
	lo := s.Lo
	if bytes.Compare(o.Lo, lo) > 0 {
		lo = o.Lo
	}
	hi := s.Hi
	if hiLess(o.Hi, hi) {
		hi = o.Hi
	}
	return Span{lo, hi}
}

// Intersect returns the values in both sets.
func (ss SpanSet) Intersect(o SpanSet) SpanSet {
	var out SpanSet
	i, j := 0, 0
	for i < len(ss) && j < len(o) {
		a, b := ss[i], o[j]
		if s := a.Intersect(b); !s.Empty() {
			out = append(out, s)
		}
		// Advance the span that ends first.
		if hiLess(a.Hi, b.Hi) {
			i++
		} else {
			j++
		}
	}
	return out
}

// Complement returns the values not in the set (for NOT and <>).
func (ss SpanSet) Complement() SpanSet {
	var out SpanSet
	var lo []byte // where the next gap starts; empty is -inf
	for _, s := range ss {
		if len(s.Lo) > 0 { // spans never touch, so s.Lo > lo: a gap
			out = append(out, Span{Lo: lo, Hi: s.Lo})
		}
		if len(s.Hi) == 0 {
			return out
		}
		lo = s.Hi
	}
	return append(out, Span{Lo: lo})
}

// Contains reports whether v is in the set.
func (ss SpanSet) Contains(v []byte) bool {
	i := sort.Search(len(ss), func(i int) bool { return len(ss[i].Hi) == 0 || bytes.Compare(ss[i].Hi, v) > 0 })
	return i < len(ss) && bytes.Compare(v, ss[i].Lo) >= 0
}

// Overlaps reports whether some value of the closed interval [lo, hi] is
// in the set: statistics give min and max this way. An empty hi means plus
// infinity (so a VARCHAR group whose greatest value is the empty string is
// never pruned: harmless).
func (ss SpanSet) Overlaps(lo, hi []byte) bool {
	// The first span that ends above lo.
	i := sort.Search(len(ss), func(i int) bool { return len(ss[i].Hi) == 0 || bytes.Compare(ss[i].Hi, lo) > 0 })
	return i < len(ss) && (len(hi) == 0 || bytes.Compare(ss[i].Lo, hi) <= 0)
}

// Meets reports whether some value of the half-open span r is in the set
// (as Intersect would tell, in logarithmic time).
func (ss SpanSet) Meets(r Span) bool {
	if r.Empty() {
		return false
	}
	i := sort.Search(len(ss), func(i int) bool { return len(ss[i].Hi) == 0 || bytes.Compare(ss[i].Hi, r.Lo) > 0 })
	return i < len(ss) && (len(r.Hi) == 0 || bytes.Compare(ss[i].Lo, r.Hi) < 0)
}

// Covers reports whether every value of the closed interval [lo, hi] is in
// the set, so that rows whose values lie between lo and hi need no check.
// An empty hi means plus infinity.
func (ss SpanSet) Covers(lo, hi []byte) bool {
	i := sort.Search(len(ss), func(i int) bool { return len(ss[i].Hi) == 0 || bytes.Compare(ss[i].Hi, lo) > 0 })
	if i == len(ss) || bytes.Compare(ss[i].Lo, lo) > 0 {
		return false
	}
	if len(ss[i].Hi) == 0 {
		return true
	}
	return len(hi) > 0 && bytes.Compare(hi, ss[i].Hi) < 0
}

// RangeSpanSet returns the set of a partition's range on one dimension.
func RangeSpanSet(r partition.Range) SpanSet { return NewSpanSet(Span{Lo: r.Min, Hi: r.Max}) }

// Successor returns the least encoding above enc among values of type t,
// or nil (plus infinity) if enc is the greatest: strings and binaries
// append a zero byte; 8-byte encodings (numbers, dates and times) add one
// as a big-endian number; false is followed by true, true by nothing.
func Successor(t schema.Type, enc []byte) []byte {
	switch t {
	case schema.Varchar, schema.Varbinary:
		return append(append(make([]byte, 0, len(enc)+1), enc...), 0)
	case schema.Boolean:
		if len(enc) == 1 && enc[0] == 0 {
			return []byte{1}
		}
		return nil // true is the greatest boolean
	}
	out := append([]byte(nil), enc...)
	for i := len(out) - 1; i >= 0; i-- {
		out[i]++
		if out[i] != 0 {
			return out
		}
	}
	return nil // it was all 0xFF: nothing is greater
}

// prefixEnd returns the least string above every string that starts with
// p, or nil (plus infinity) if there is none: p with trailing 0xFF bytes
// dropped and its last byte incremented.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xFF {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// Eq is the set {v}: [v, successor(v)).
func Eq(t schema.Type, v []byte) SpanSet { return NewSpanSet(Span{Lo: v, Hi: orInf(Successor(t, v))}) }

// Lt is the set of values below v.
func Lt(t schema.Type, v []byte) SpanSet {
	if len(v) == 0 {
		return nil // nothing is below the least value (an empty Hi would mean +inf)
	}
	return NewSpanSet(Span{Hi: v})
}

// Le is the set of values at or below v.
func Le(t schema.Type, v []byte) SpanSet { return NewSpanSet(Span{Hi: orInf(Successor(t, v))}) }

// Gt is the set of values above v.
func Gt(t schema.Type, v []byte) SpanSet {
	next := Successor(t, v)
	if next == nil {
		return nil
	}
	return NewSpanSet(Span{Lo: next})
}

// Ge is the set of values at or above v.
func Ge(t schema.Type, v []byte) SpanSet { return NewSpanSet(Span{Lo: v}) }

// Between is the set of values from lo to hi, both included (empty if lo
// is above hi, as in SQL's BETWEEN without SYMMETRIC).
func Between(t schema.Type, lo, hi []byte) SpanSet {
	if bytes.Compare(lo, hi) > 0 {
		return nil
	}
	return NewSpanSet(Span{Lo: lo, Hi: orInf(Successor(t, hi))})
}

// In is the set of the listed values.
func In(t schema.Type, vs [][]byte) SpanSet {
	spans := make([]Span, len(vs))
	for i, v := range vs {
		spans[i] = Span{Lo: v, Hi: orInf(Successor(t, v))}
	}
	return NewSpanSet(spans...)
}

// Prefix is the set of strings (or binaries) that start with p, as LIKE
// 'p%' selects: [p, p with its last byte incremented), carrying past
// 0xFF bytes.
func Prefix(p []byte) SpanSet { return NewSpanSet(Span{Lo: p, Hi: orInf(prefixEnd(p))}) }

// orInf maps "no successor" to the empty upper bound, plus infinity. An
// empty successor cannot happen otherwise: a successor is never empty.
func orInf(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// ColumnSpans restricts one column of a table to a set of values: rows
// whose value is NULL or outside Spans may be dropped.
type ColumnSpans struct {
	Column int // storage column index (schema.Columns order)
	Spans  SpanSet
}

// Format renders the set for EXPLAIN, e.g. [5, [10,20], ["a","c")]: a
// single value alone, a range as [lo,hi) ([lo,hi] for integer types, dates
// and times) with -inf and +inf for open ends.
func (ss SpanSet) Format(t schema.Type) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, s := range ss {
		if i > 0 {
			b.WriteString(", ")
		}
		if len(s.Hi) > 0 && bytes.Equal(s.Hi, Successor(t, s.Lo)) {
			b.WriteString(formatSpanValue(t, s.Lo))
			continue
		}
		b.WriteByte('[')
		if len(s.Lo) == 0 {
			b.WriteString("-inf")
		} else {
			b.WriteString(formatSpanValue(t, s.Lo))
		}
		b.WriteByte(',')
		switch last, ok := spanLastInt(t, s.Hi); {
		case len(s.Hi) == 0:
			b.WriteString("+inf)")
		case ok: // integers read better closed: [10,20] rather than [10,21)
			b.WriteString(formatSpanValue(t, schema.EncodeInt(last)))
			b.WriteByte(']')
		case (t == schema.Varchar || t == schema.Varbinary) && s.Hi[len(s.Hi)-1] == 0:
			// v followed by a NUL byte is v's successor: show [lo,v].
			b.WriteString(formatSpanValue(t, s.Hi[:len(s.Hi)-1]))
			b.WriteByte(']')
		default:
			b.WriteString(formatSpanValue(t, s.Hi))
			b.WriteByte(')')
		}
	}
	b.WriteByte(']')
	return b.String()
}

// spanLastInt returns the greatest integer below the exclusive bound hi
// of an integer-like type.
func spanLastInt(t schema.Type, hi []byte) (int64, bool) {
	if !t.IntegerLike() {
		return 0, false
	}
	v, err := schema.DecodeInt(hi)
	if err != nil || v == math.MinInt64 {
		return 0, false
	}
	return v - 1, true
}

// formatSpanValue renders one bound: numbers and booleans bare, the rest
// quoted.
func formatSpanValue(t schema.Type, enc []byte) string {
	s := schema.FormatValue(t, enc)
	switch t {
	case schema.BigInt, schema.Integer, schema.Double, schema.Boolean:
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}
