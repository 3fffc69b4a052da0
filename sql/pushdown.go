package sql

import (
	"slices"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine"
	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/storage/schema"
)

// pushdownSpans derives, from a scan's filter (its conjuncts, over the
// table's storage columns), the set of values each column can take in a
// matching row: from =, <, <=, >, >=, BETWEEN, IN, OR of those on one
// column, and LIKE 'prefix%' on a text column. The scan prunes partitions
// (row keys), files, row groups and pages with them and drops the rows
// outside them. exact[i] says whether conjunct i's spans hold exactly the
// rows it keeps (exactType), so that no filter above the scan need apply
// it again.
func pushdownSpans(sch *schema.Schema, conjuncts []expr.Expr) (spans []engine.ColumnSpans, exact []bool) {
	exact = make([]bool, len(conjuncts))
	for ci, c := range conjuncts {
		col, set, ok := spansOf(sch, c)
		if !ok {
			continue
		}
		exact[ci] = exactType(sch.Column(col).Type)
		i := sort.Search(len(spans), func(i int) bool { return spans[i].Column >= col })
		if i < len(spans) && spans[i].Column == col {
			spans[i].Spans = spans[i].Spans.Intersect(set)
			continue
		}
		spans = slices.Insert(spans, i, engine.ColumnSpans{Column: col, Spans: set})
	}
	if spans == nil {
		spans = []engine.ColumnSpans{}
	}
	return spans, exact
}

// spansOf returns the column a predicate restricts and the values it
// allows, if the predicate has one of the forms pushdownSpans knows.
func spansOf(sch *schema.Schema, e expr.Expr) (int, engine.SpanSet, bool) {
	if parts, ok := asOr(e); ok {
		col := -1
		var set engine.SpanSet
		for _, p := range parts {
			c, s, ok := spansOf(sch, p)
			if !ok || (col >= 0 && c != col) {
				return 0, nil, false
			}
			col, set = c, set.Union(s)
		}
		return col, set, col >= 0
	}
	if op, l, r, ok := asComparison(e); ok {
		c, lok := l.(*expr.Column)
		v, rok := constEncoding(sch, c, r)
		if !lok || !rok {
			// constant op column: flip.
			c, lok = r.(*expr.Column)
			v, rok = constEncoding(sch, c, l)
			if !lok || !rok {
				return 0, nil, false
			}
			op = flip(op)
		}
		t := sch.Column(c.Index).Type
		switch op {
		case "=":
			return c.Index, engine.Eq(t, v), true
		case "<":
			return c.Index, engine.Lt(t, v), true
		case "<=":
			return c.Index, engine.Le(t, v), true
		case ">":
			return c.Index, engine.Gt(t, v), true
		case ">=":
			return c.Index, engine.Ge(t, v), true
		}
		return 0, nil, false
	}
	if x, list, ok := asIn(e); ok {
		c, isCol := x.(*expr.Column)
		if !isCol {
			return 0, nil, false
		}
		vals := make([][]byte, 0, len(list))
		for _, it := range list {
			v, ok := constEncoding(sch, c, it)
			if !ok {
				return 0, nil, false
			}
			vals = append(vals, v)
		}
		return c.Index, engine.In(sch.Column(c.Index).Type, vals), true
	}
	if x, lo, hi, ok := asBetween(e); ok {
		c, isCol := x.(*expr.Column)
		if !isCol {
			return 0, nil, false
		}
		a, aok := constEncoding(sch, c, lo)
		b, bok := constEncoding(sch, c, hi)
		if !aok || !bok {
			return 0, nil, false
		}
		return c.Index, engine.Between(sch.Column(c.Index).Type, a, b), true
	}
	if x, pattern, ok := asLike(e); ok {
		c, isCol := x.(*expr.Column)
		if !isCol || c.Index >= sch.NumColumns() || sch.Column(c.Index).Type != schema.Varchar {
			return 0, nil, false
		}
		prefix := likePrefix(pattern)
		if prefix == "" {
			return 0, nil, false
		}
		return c.Index, engine.Prefix([]byte(prefix)), true
	}
	return 0, nil, false
}

// exactType says whether spansOf's spans of a predicate on a column of
// type t hold exactly the values for which it is true: for the
// integer-like types (BIGINT, INTEGER, TIMESTAMP, DATE), whose constants
// encode exactly, with no collation, NaN or prefix between a value and
// its spans. NULL is in no span and satisfies none of the predicates.
func exactType(t schema.Type) bool { return t.IntegerLike() }

// likePrefix is the literal text a LIKE pattern starts with, up to its
// first wildcard ("" if it starts with one or uses escapes).
func likePrefix(pattern string) string {
	i := strings.IndexAny(pattern, "%_\\")
	if i < 0 {
		return pattern // no wildcard: equality, and a prefix of itself
	}
	return pattern[:i]
}

func flip(op string) string {
	switch op {
	case "<":
		return ">"
	case "<=":
		return ">="
	case ">":
		return "<"
	case ">=":
		return "<="
	}
	return op
}

// constEncoding returns the plain key encoding of a constant compared with
// column c, if e is a constant of exactly c's type.
func constEncoding(sch *schema.Schema, c *expr.Column, e expr.Expr) ([]byte, bool) {
	if c == nil || c.Index >= sch.NumColumns() {
		return nil, false
	}
	v, ok := expr.ConstantValue(e)
	if !ok || v == nil || !arrow.TypeEqual(e.Type(), c.Typ) {
		return nil, false
	}
	switch x := v.(type) {
	case int64:
		return schema.EncodeInt(x), true
	case int32:
		return schema.EncodeInt(int64(x)), true
	case arrow.Timestamp:
		return schema.EncodeInt(int64(x)), true
	case arrow.Date32:
		return schema.EncodeInt(int64(x)), true
	case float64:
		return schema.EncodeFloat(x), true
	case string:
		return []byte(x), true
	case []byte:
		return x, true
	case bool:
		if x {
			return []byte{1}, true
		}
		return []byte{0}, true
	}
	return nil, false
}
