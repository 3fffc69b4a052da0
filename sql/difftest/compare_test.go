package difftest

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dormousedb/dormouse/sql/slt"
)

// kind is how the values of a column compare.
type kind int

const (
	kText kind = iota
	kInt
	kFloat // double precision, real, numeric: within tolerance
	kBool
	kTimestamp
	kDate
)

// kindOf returns the kind of a PostgreSQL type name. The oracle's type
// decides, so that, say, PostgreSQL's numeric sum(bigint) compares with
// an engine's bigint or double as a number.
func kindOf(pgType string) kind {
	switch t := strings.ToLower(pgType); {
	case t == "smallint" || t == "integer" || t == "bigint":
		return kInt
	case t == "double precision" || t == "real" || strings.HasPrefix(t, "numeric"):
		return kFloat
	case t == "boolean":
		return kBool
	case t == "timestamp without time zone" || t == "timestamp":
		return kTimestamp
	case t == "date":
		return kDate
	}
	return kText
}

// outcome is what one side did with a query: a result or an error.
type outcome struct {
	res  *slt.Result
	err  error
	code string // the error's SQLSTATE
}

// diff compares the oracle's outcome with another engine's. It returns ""
// when they agree, else a report of the first difference.
func diff(q query, want, got outcome) string {
	switch {
	case want.err != nil && got.err != nil:
		if want.code == got.code {
			return ""
		}
		return fmt.Sprintf("errors differ: PostgreSQL %s (%v), Dormouse %s (%v)", want.code, want.err, orNone(got.code), got.err)
	case want.err != nil:
		return fmt.Sprintf("PostgreSQL fails with %s (%v); Dormouse succeeds with %s", want.code, want.err, summary(got.res))
	case got.err != nil:
		return fmt.Sprintf("PostgreSQL succeeds with %s; Dormouse fails with %s: %v", summary(want.res), orNone(got.code), got.err)
	}
	return diffResults(q, want.res, got.res)
}

func orNone(code string) string {
	if code == "" {
		return "(no SQLSTATE)"
	}
	return code
}

func summary(r *slt.Result) string {
	return fmt.Sprintf("%d rows of (%s)", len(r.Rows), columns(r))
}

func columns(r *slt.Result) string {
	parts := make([]string, len(r.Columns))
	for i, c := range r.Columns {
		parts[i] = c.Name + " " + c.Type
	}
	return strings.Join(parts, ", ")
}

// diffResults compares two results: the same number of columns and rows,
// and the same rows — in order if the query is ordered, else as
// multisets — with values compared by the kind of the oracle's column.
func diffResults(q query, want, got *slt.Result) string {
	if len(want.Columns) != len(got.Columns) {
		return fmt.Sprintf("column count differs: PostgreSQL (%s), Dormouse (%s)", columns(want), columns(got))
	}
	kinds := make([]kind, len(want.Columns))
	for i, c := range want.Columns {
		kinds[i] = kindOf(c.Type)
	}
	w, g := want.Rows, got.Rows
	if !q.ordered {
		w, g = sortedRows(w, kinds), sortedRows(g, kinds)
	}
	for i := 0; i < min(len(w), len(g)); i++ {
		for j := range kinds {
			if !valueEqual(w[i][j], g[i][j], kinds[j]) {
				return fmt.Sprintf("%s differ at row %d of %d (PostgreSQL) / %d (Dormouse), column %d (%s); columns PostgreSQL (%s), Dormouse (%s)\n%s",
					order(q), i+1, len(w), len(g), j+1, want.Columns[j].Name, columns(want), columns(got), explain(q, w, g, kinds, i))
			}
		}
	}
	if len(w) != len(g) {
		return fmt.Sprintf("%s: PostgreSQL returns %d rows, Dormouse %d\n%s", order(q), len(w), len(g), explain(q, w, g, kinds, min(len(w), len(g))))
	}
	return ""
}

// explain shows a difference: for an unordered query, the rows only one
// side returned (sorted rows no longer line up after the first
// difference); else, or if that finds nothing, both sides around row i.
func explain(q query, w, g [][]*string, kinds []kind, i int) string {
	if q.ordered {
		return around(w, g, i)
	}
	onlyW, onlyG := multisetDiff(w, g, kinds)
	if len(onlyW) == 0 && len(onlyG) == 0 {
		return around(w, g, i)
	}
	var b strings.Builder
	show := func(name string, rows [][]*string) {
		fmt.Fprintf(&b, "  %d rows only in %s:\n", len(rows), name)
		for _, r := range rows[:min(len(rows), 5)] {
			fmt.Fprintf(&b, "      %s\n", formatRow(r))
		}
		if len(rows) > 5 {
			fmt.Fprintf(&b, "      …\n")
		}
	}
	show("PostgreSQL", onlyW)
	show("Dormouse", onlyG)
	return strings.TrimSuffix(b.String(), "\n")
}

// multisetDiff returns the rows of w missing from g and of g missing from
// w, matching rows by their sort keys.
func multisetDiff(w, g [][]*string, kinds []kind) (onlyW, onlyG [][]*string) {
	key := func(r []*string) string {
		var b strings.Builder
		for j, v := range r {
			b.WriteString(sortKey(v, kinds[j]))
			b.WriteByte(0)
		}
		return b.String()
	}
	count := map[string]int{}
	for _, r := range g {
		count[key(r)]++
	}
	for _, r := range w {
		if k := key(r); count[k] > 0 {
			count[k]--
		} else {
			onlyW = append(onlyW, r)
		}
	}
	for _, r := range g {
		if k := key(r); count[k] > 0 {
			count[k]--
			onlyG = append(onlyG, r)
		}
	}
	return onlyW, onlyG
}

func order(q query) string {
	if q.ordered {
		return "rows (in order)"
	}
	return "rows (sorted, as the query has no ORDER BY)"
}

// around shows both sides' rows around row i.
func around(w, g [][]*string, i int) string {
	var b strings.Builder
	show := func(name string, rows [][]*string) {
		fmt.Fprintf(&b, "  %s:\n", name)
		for j := max(0, i-2); j < min(len(rows), i+3); j++ {
			mark := "   "
			if j == i {
				mark = ">> "
			}
			fmt.Fprintf(&b, "   %s%d: %s\n", mark, j+1, formatRow(rows[j]))
		}
		if i >= len(rows) {
			fmt.Fprintf(&b, "   >> (no row %d)\n", i+1)
		}
	}
	show("PostgreSQL", w)
	show("Dormouse", g)
	return strings.TrimSuffix(b.String(), "\n")
}

func formatRow(row []*string) string {
	parts := make([]string, len(row))
	for i, v := range row {
		if v == nil {
			parts[i] = "NULL"
		} else {
			parts[i] = strconv.Quote(*v)
		}
	}
	return strings.Join(parts, " | ")
}

// valueEqual compares two values in text format as a kind says.
func valueEqual(a, b *string, k kind) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if *a == *b {
		return true
	}
	switch k {
	case kInt, kFloat:
		x, err1 := strconv.ParseFloat(canonicalFloat(*a), 64)
		y, err2 := strconv.ParseFloat(canonicalFloat(*b), 64)
		if err1 != nil || err2 != nil {
			return false
		}
		if k == kInt {
			return x == y
		}
		return slt.FloatsEqual(x, y)
	case kBool:
		return parseBool(*a) != "" && parseBool(*a) == parseBool(*b)
	case kTimestamp, kDate:
		x, ok1 := parseTime(*a)
		y, ok2 := parseTime(*b)
		return ok1 && ok2 && x.Equal(y)
	}
	return false
}

func canonicalFloat(s string) string {
	switch s {
	case "Infinity":
		return "+Inf"
	case "-Infinity":
		return "-Inf"
	}
	return s
}

func parseBool(s string) string {
	switch strings.ToLower(s) {
	case "t", "true":
		return "t"
	case "f", "false":
		return "f"
	}
	return ""
}

var timeLayouts = []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02"}

func parseTime(s string) (time.Time, bool) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// sortedRows returns the rows sorted by a canonical form of their values
// (floats rounded to 12 significant digits, times normalised), so that
// two results equal within tolerance sort alike.
func sortedRows(rows [][]*string, kinds []kind) [][]*string {
	type keyed struct {
		key string
		row []*string
	}
	ks := make([]keyed, len(rows))
	for i, r := range rows {
		var b strings.Builder
		for j, v := range r {
			b.WriteString(sortKey(v, kinds[j]))
			b.WriteByte(0)
		}
		ks[i] = keyed{b.String(), r}
	}
	sort.SliceStable(ks, func(i, j int) bool { return ks[i].key < ks[j].key })
	out := make([][]*string, len(rows))
	for i, k := range ks {
		out[i] = k.row
	}
	return out
}

func sortKey(v *string, k kind) string {
	if v == nil {
		return "\x01NULL"
	}
	switch k {
	case kInt, kFloat:
		if f, err := strconv.ParseFloat(canonicalFloat(*v), 64); err == nil {
			if f == 0 {
				f = 0 // -0 sorts as 0, which it equals
			}
			return strconv.FormatFloat(f, 'e', 11, 64)
		}
	case kBool:
		return parseBool(*v)
	case kTimestamp, kDate:
		if t, ok := parseTime(*v); ok {
			return t.Format(time.RFC3339Nano)
		}
	}
	return *v
}

func TestDiff(t *testing.T) {
	s := func(v string) *string { return &v }
	res := func(types []string, rows ...[]*string) *slt.Result {
		r := &slt.Result{Rows: rows}
		for i, ty := range types {
			r.Columns = append(r.Columns, slt.Column{Name: fmt.Sprint("c", i), Type: ty})
		}
		return r
	}
	pgTypes := []string{"bigint", "numeric", "boolean", "timestamp without time zone", "text"}
	pg := res(pgTypes,
		[]*string{s("1"), s("2.5000000000000000"), s("t"), s("2024-01-01 00:00:00"), s("a")},
		[]*string{s("2"), nil, s("f"), s("2024-01-01 10:00:00.5"), nil},
	)
	same := res([]string{"bigint", "double precision", "boolean", "timestamp", "text"},
		[]*string{s("1"), s("2.5"), s("true"), s("2024-01-01 00:00:00.000"), s("a")},
		[]*string{s("2"), nil, s("false"), s("2024-01-01T10:00:00.5"), nil},
	)
	swapped := res(pgTypes, same.Rows[1], same.Rows[0])
	float := res(pgTypes, []*string{s("1"), s("2.500001"), s("t"), s("2024-01-01 00:00:00"), s("a")}, pg.Rows[1])
	text := res(pgTypes, []*string{s("1"), s("2.5"), s("t"), s("2024-01-01 00:00:00"), s("A")}, pg.Rows[1])
	null := res(pgTypes, []*string{s("1"), s("2.5"), s("t"), s("2024-01-01 00:00:00"), s("")}, pg.Rows[1])
	short := res(pgTypes, pg.Rows[0])
	narrow := res(pgTypes[:4], []*string{s("1"), s("2.5"), s("t"), s("2024-01-01 00:00:00")})
	ok := func(r *slt.Result) outcome { return outcome{res: r} }
	fail := func(code string) outcome { return outcome{err: fmt.Errorf("boom"), code: code} }
	unordered, ordered := query{}, query{ordered: true}
	for _, c := range []struct {
		name      string
		q         query
		want, got outcome
		diff      string // a part of the report, "" if equal
	}{
		{"same", ordered, ok(pg), ok(same), ""},
		{"order ignored", unordered, ok(pg), ok(swapped), ""},
		{"order kept", ordered, ok(pg), ok(swapped), "rows (in order) differ at row 1"},
		{"float", unordered, ok(pg), ok(float), "column 2 (c1)"},
		{"text", unordered, ok(pg), ok(text), "column 5 (c4)"},
		{"null is not empty", unordered, ok(pg), ok(null), "column 5 (c4)"},
		{"rows", unordered, ok(pg), ok(short), "PostgreSQL returns 2 rows, Dormouse 1"},
		{"columns", unordered, ok(pg), ok(narrow), "column count differs"},
		{"same error", unordered, fail("22012"), fail("22012"), ""},
		{"other error", unordered, fail("22012"), fail("22003"), "errors differ: PostgreSQL 22012"},
		{"no error", unordered, fail("22012"), ok(pg), "PostgreSQL fails with 22012"},
		{"unexpected error", unordered, ok(pg), fail(""), "Dormouse fails with (no SQLSTATE)"},
	} {
		got := diff(c.q, c.want, c.got)
		if (got == "") != (c.diff == "") || !strings.Contains(got, c.diff) {
			t.Errorf("%s: diff = %q, want it to contain %q", c.name, got, c.diff)
		}
	}
}

func TestHasTopLevelOrderBy(t *testing.T) {
	for sql, want := range map[string]bool{
		"SELECT a FROM t ORDER BY a":                                   true,
		"SELECT row_number() OVER (ORDER BY a) FROM t":                 false,
		"SELECT a FROM (SELECT a FROM t ORDER BY a LIMIT 3) s":         false,
		"SELECT 'x ORDER BY y' FROM t":                                 false,
		"SELECT a FROM (SELECT a FROM t ORDER BY a) s ORDER BY a DESC": true,
	} {
		if got := hasTopLevelOrderBy(sql); got != want {
			t.Errorf("hasTopLevelOrderBy(%q) = %v", sql, got)
		}
	}
}

func TestCorpusIsDeterministic(t *testing.T) {
	a, b := corpus(7, 50), corpus(7, 50)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("query %d differs between two runs with one seed:\n%s\n%s", i, a[i].sql, b[i].sql)
		}
	}
	if c := corpus(8, 50); c[len(c)-1] == a[len(a)-1] {
		t.Errorf("seeds 7 and 8 made the same query")
	}
	t1, t2 := tables(), tables()
	if fmt.Sprint(t1[0].rows[:100]) != fmt.Sprint(t2[0].rows[:100]) {
		t.Errorf("the generated data differs between two runs")
	}
}
