package sql

import (
	"math"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/dormousedb/dormouse/engine"
	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/storage/schema"
)

// spanTemplate makes a kept plan's scan filters from an execution's
// parameters without folding its condition again. Refolding builds a new
// expression tree and a literal for each parameter, and pushdownSpans then
// builds span sets: a few microseconds and a dozen allocations for k = $1,
// of a point lookup's budget of tens. For a condition whose conjuncts
// each compare an integer-like column with parameters or literals of
// exactly its type (k = $1, k >= $1 AND k < $2, k BETWEEN $1 AND $2), the
// template computes the same filters pushdownSpans derives from the
// folded condition (TestSpanTemplateMatchesFold), written into the run's
// buffers. A condition of any other shape has no template; a parameter
// that is NULL or of another type than the column's makes fill decline,
// and the caller folds.
type spanTemplate struct {
	conds []spanCond
}

// spanCond is one conjunct: column col compared by op (=, <, <=, >, >=,
// or BETWEEN, whose upper bound is args[1]) with args[0].
type spanCond struct {
	col  int
	op   string
	args [2]spanArg
}

// spanArg is a parameter $param of type typ, or when param is 0 the value
// v of a literal.
type spanArg struct {
	param int
	typ   arrow.DataType
	v     int64
}

// newSpanTemplate returns the template of cond, a scan's filter over the
// columns of sch, or nil when cond has a shape it does not know.
func newSpanTemplate(sch *schema.Schema, cond expr.Expr) *spanTemplate {
	if cond == nil {
		return nil
	}
	t := &spanTemplate{}
	for _, c := range conjuncts(cond) {
		sc, ok := newSpanCond(sch, c)
		if !ok {
			return nil
		}
		t.conds = append(t.conds, sc)
	}
	return t
}

// newSpanCond reads one conjunct as pushdownSpans (spansOf) would: a
// column compared with a constant, either way round, or a column BETWEEN
// two constants, where the constants are parameters or literals.
func newSpanCond(sch *schema.Schema, e expr.Expr) (spanCond, bool) {
	if op, l, r, ok := asComparison(e); ok {
		switch op {
		case "=", "<", "<=", ">", ">=":
		default:
			return spanCond{}, false
		}
		c, isCol := l.(*expr.Column)
		arg, argOK := newSpanArg(sch, c, r)
		if !isCol || !argOK {
			c, isCol = r.(*expr.Column)
			if arg, argOK = newSpanArg(sch, c, l); !isCol || !argOK {
				return spanCond{}, false
			}
			op = flip(op)
		}
		return spanCond{col: c.Index, op: op, args: [2]spanArg{arg}}, true
	}
	if x, lo, hi, ok := asBetween(e); ok {
		c, isCol := x.(*expr.Column)
		a, aOK := newSpanArg(sch, c, lo)
		b, bOK := newSpanArg(sch, c, hi)
		if !isCol || !aOK || !bOK {
			return spanCond{}, false
		}
		return spanCond{col: c.Index, op: "BETWEEN", args: [2]spanArg{a, b}}, true
	}
	return spanCond{}, false
}

// newSpanArg reads e, compared with column c, as a parameter or a literal
// of exactly c's type, an integer-like one (what constEncoding encodes as
// an integer and exactType holds exact).
func newSpanArg(sch *schema.Schema, c *expr.Column, e expr.Expr) (spanArg, bool) {
	if c == nil || c.Index >= sch.NumColumns() || !sch.Column(c.Index).Type.IntegerLike() || !arrow.TypeEqual(e.Type(), c.Typ) {
		return spanArg{}, false
	}
	switch x := e.(type) {
	case *expr.Parameter:
		return spanArg{param: x.Index, typ: x.Type()}, true
	case *expr.Literal:
		if v, ok := intValue(x.Value); ok {
			return spanArg{v: v}, true
		}
	}
	return spanArg{}, false
}

// intValue is an integer-like constant's value as constEncoding encodes
// it.
func intValue(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case arrow.Timestamp:
		return int64(x), true
	case arrow.Date32:
		return int64(x), true
	}
	return 0, false
}

// value is the argument's value among params, or false when it is NULL or
// not of its type (folding would cast it).
func (a spanArg) value(params []arrow.Array) (int64, bool) {
	if a.param == 0 {
		return a.v, true
	}
	if a.param > len(params) {
		return 0, false
	}
	p := params[a.param-1]
	if p == nil || p.Len() == 0 || p.IsNull(0) || !arrow.TypeEqual(p.DataType(), a.typ) {
		return 0, false
	}
	switch x := p.(type) {
	case *array.Int64:
		return x.Value(0), true
	case *array.Int32:
		return int64(x.Value(0)), true
	case *array.Timestamp:
		return int64(x.Value(0)), true
	case *array.Date32:
		return int64(x.Value(0)), true
	}
	return 0, false
}

// fill returns the scan's filters for params, in run's buffers, or false
// when t is nil or a parameter is NULL or of another type. It mirrors
// pushdownSpans over spansOf's spans (engine.Eq, Lt, Le, Gt, Ge, Between)
// and their intersection per column, span for span.
func (t *spanTemplate) fill(run *keptRun, params []arrow.Array) ([]engine.ColumnSpans, bool) {
	if t == nil {
		return nil, false
	}
	if run.spans == nil {
		// Room for every span and encoding: filling never grows them, so
		// the spans of one execution never move.
		run.spans = make([]engine.Span, len(t.conds))
		run.enc = make([]byte, 0, 16*len(t.conds))
	}
	filters, enc, used := run.filters[:0], run.enc[:0], 0
	for i := range t.conds {
		c := &t.conds[i]
		a, ok := c.args[0].value(params)
		if !ok {
			return nil, false
		}
		var b int64
		if c.op == "BETWEEN" {
			if b, ok = c.args[1].value(params); !ok {
				return nil, false
			}
		}
		var span engine.Span
		span, enc = condSpan(c.op, a, b, enc)
		j, found := slices.BinarySearchFunc(filters, c.col, func(f engine.ColumnSpans, col int) int { return f.Column - col })
		if found {
			// SpanSet.Intersect of sets of at most one span each.
			if f := &filters[j]; len(f.Spans) > 0 {
				if s := f.Spans[0].Intersect(span); span.Empty() || s.Empty() {
					f.Spans = nil
				} else {
					f.Spans[0] = s
				}
			}
			continue
		}
		var set engine.SpanSet // NewSpanSet(span): nil when it is empty
		if !span.Empty() {
			run.spans[used] = span
			set = run.spans[used : used+1 : used+1]
			used++
		}
		filters = slices.Insert(filters, j, engine.ColumnSpans{Column: c.col, Spans: set})
	}
	run.filters, run.enc = filters, enc
	if filters == nil {
		filters = []engine.ColumnSpans{}
	}
	return filters, true
}

// condSpan is the span of values op a (op b's upper bound for BETWEEN)
// keeps, as the engine's span functions make it for the encodings of a
// and b, with the encodings appended to enc. An empty span (Empty) is
// the empty set. Plus infinity is an empty, non-nil upper bound (orInf).
func condSpan(op string, a, b int64, enc []byte) (engine.Span, []byte) {
	// bytesOf appends v's encoding; above appends the encoding of v's
	// successor, or returns an empty bound (plus infinity) when v is the
	// greatest value.
	bytesOf := func(v int64) []byte {
		n := len(enc)
		enc = schema.AppendInt(enc, v)
		return enc[n:len(enc):len(enc)]
	}
	above := func(v int64) []byte {
		if v == math.MaxInt64 {
			return enc[len(enc):len(enc):len(enc)]
		}
		return bytesOf(v + 1)
	}
	switch op {
	case "=":
		return engine.Span{Lo: bytesOf(a), Hi: above(a)}, enc
	case "<":
		return engine.Span{Hi: bytesOf(a)}, enc
	case "<=":
		return engine.Span{Hi: above(a)}, enc
	case ">":
		if a == math.MaxInt64 {
			return emptySpan, enc
		}
		return engine.Span{Lo: bytesOf(a + 1)}, enc
	case ">=":
		return engine.Span{Lo: bytesOf(a)}, enc
	default: // BETWEEN
		if a > b {
			return emptySpan, enc
		}
		return engine.Span{Lo: bytesOf(a), Hi: above(b)}, enc
	}
}

// emptySpan holds no value.
var emptySpan = engine.Span{Lo: []byte{1}, Hi: []byte{1}}
