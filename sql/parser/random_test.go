package parser

import (
	"flag"
	"math/rand"
	"strings"
	"testing"
)

var randomExprs = flag.Int("random-exprs", 3000, "number of random expressions TestRandomExpressions checks")

// exprTemplates combine fully parenthesised operands ({1}, {2}, {3} stand
// for them), so the input's tree is unambiguous; the round trip then checks that
// Format's minimal parentheses keep that tree.
var exprTemplates = []string{
	"{1} + {2}", "{1} - {2}", "{1} * {2}", "{1} / {2}", "{1} % {2}", "{1} ^ {2}", "{1} || {2}",
	"{1} = {2}", "{1} <> {2}", "{1} < {2}", "{1} >= {2}", "{1} AND {2}", "{1} OR {2}",
	"{1} LIKE {2}", "{1} NOT ILIKE {2}", "{1} LIKE {2} ESCAPE {3}", "{1} ~ {2}", "{1} !~* {2}", "{1} @> {2}", "{1} << {2}",
	"{1} IS DISTINCT FROM {2}", "{1} IS NOT DISTINCT FROM {2}",
	"-{1}", "+{1}", "NOT {1}", "~ {1}", "|/ {1}",
	"{1} IS NULL", "{1} IS NOT NULL", "{1} IS TRUE", "{1} IS NOT UNKNOWN",
	"{1} BETWEEN {2} AND {3}", "{1} NOT BETWEEN SYMMETRIC {2} AND {3}",
	"{1} IN ({2}, {3})", "{1} NOT IN ({2})", "{1} = ANY ({2})", "{1} < ALL ({2})",
	"{1}::int", "{1}::text[]", "CAST({1} AS numeric(5, 2))", `{1} COLLATE "C"`,
	"{1} AT TIME ZONE {2}", "{1} AT LOCAL",
	"CASE WHEN {1} THEN {2} ELSE {3} END", "CASE {1} WHEN {2} THEN {3} END",
	"coalesce({1}, {2})", "nullif({1}, {2})", "f({1}, {2})", "count(DISTINCT {1})",
	"ARRAY[{1}, {2}]", "ROW({1}, {2})", "{1}[{2}]", "{1}[{2}:{3}]", "{1}.f",
	"EXISTS (SELECT {1})", "(SELECT {1} FROM t WHERE {2})", "{1} IN (SELECT {2})", "{1} NOT IN (SELECT {2})",
	"EXTRACT(year FROM {1})",
}

var exprAtoms = []string{"a", "t.b", "1", "-1", "2.5", "-2.5", "'x'", "$1", "NULL", "TRUE", "f()", "a[1]", "-a"}

func randomExpr(r *rand.Rand, depth int) string {
	if depth == 0 || r.Intn(4) == 0 {
		return exprAtoms[r.Intn(len(exprAtoms))]
	}
	t := exprTemplates[r.Intn(len(exprTemplates))]
	for _, slot := range []string{"{1}", "{2}", "{3}"} {
		if strings.Contains(t, slot) {
			t = strings.Replace(t, slot, "("+randomExpr(r, depth-1)+")", 1)
		}
	}
	return t
}

// TestRandomExpressions formats and re-parses random expressions; a wrong
// precedence in Format shows up as a changed tree.
func TestRandomExpressions(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	parsed := 0
	for range *randomExprs {
		sql := "SELECT " + randomExpr(r, 4)
		stmts, err := Parse(sql)
		if err != nil {
			continue // e.g. a subscript of a non-array is fine, but some mixes are not grammatical
		}
		parsed++
		for _, s := range stmts {
			checkRoundTrip(t, s)
		}
		if t.Failed() {
			t.Fatalf("input: %s", sql)
		}
	}
	if parsed < *randomExprs/2 {
		t.Errorf("only %d of %d random expressions parsed", parsed, *randomExprs)
	}
}
