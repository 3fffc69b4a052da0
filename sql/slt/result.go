package slt

import (
	"context"
	"errors"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// Executor runs one SQL statement and returns its whole result. Errors
// should be (or wrap) *sqlerr.Error so that their SQLSTATE can be checked;
// any error with a SQLState() string method will do.
type Executor interface {
	Exec(ctx context.Context, sql string) (*Result, error)
}

// ExecutorFunc adapts a function to Executor.
type ExecutorFunc func(ctx context.Context, sql string) (*Result, error)

// Exec calls f.
func (f ExecutorFunc) Exec(ctx context.Context, sql string) (*Result, error) { return f(ctx, sql) }

// Result is a statement's result: the same shape as sql.Result, so that
// the two convert field by field.
type Result struct {
	Columns []Column
	// Rows hold values in PostgreSQL's text output format; nil is NULL.
	Rows [][]*string
	Tag  string
}

// Column is a result column: its name and PostgreSQL type name, as
// format_type gives it ("bigint", "double precision", "text"); "" if
// unknown.
type Column struct {
	Name string
	Type string
}

// SQLState returns the SQLSTATE an error carries, or "".
func SQLState(err error) string {
	var se *sqlerr.Error
	if errors.As(err, &se) {
		return se.Code
	}
	var s interface{ SQLState() string }
	if errors.As(err, &s) {
		return s.SQLState()
	}
	return ""
}

// TypeLetter is the letter a column of a PostgreSQL type is written with.
func TypeLetter(pgType string) byte {
	switch strings.ToLower(pgType) {
	case "smallint", "integer", "bigint", "int2", "int4", "int8", "oid":
		return 'I'
	case "real", "double precision", "float4", "float8", "numeric", "decimal":
		return 'R'
	case "boolean", "bool":
		return 'B'
	}
	if strings.HasPrefix(strings.ToLower(pgType), "numeric(") {
		return 'R'
	}
	return 'T'
}

// compatible reports whether a column of a PostgreSQL type may be checked
// as letter: integers as I or R, floats and numerics as R (or I, when
// PostgreSQL's numeric result of, say, sum(bigint) meets an engine that
// keeps bigint), booleans as B, anything as T.
func compatible(letter byte, pgType string) bool {
	if pgType == "" || letter == 'T' {
		return true
	}
	got := TypeLetter(pgType)
	switch letter {
	case 'I':
		return got == 'I' || strings.HasPrefix(strings.ToLower(pgType), "numeric")
	case 'R':
		return got == 'I' || got == 'R'
	case 'B':
		return got == 'B'
	}
	return false
}

// inferTypes returns the letters for a result's columns.
func inferTypes(res *Result) string {
	b := make([]byte, len(res.Columns))
	for i, c := range res.Columns {
		b[i] = TypeLetter(c.Type)
	}
	return string(b)
}

// formatRows writes a result's rows as file lines, each value formatted
// for its column's letter.
func formatRows(res *Result, types string) []string {
	lines := make([]string, len(res.Rows))
	vals := make([]string, 0, len(res.Columns))
	for i, row := range res.Rows {
		vals = vals[:0]
		for j, v := range row {
			letter := byte('T')
			if j < len(types) {
				letter = types[j]
			}
			vals = append(vals, FormatValue(v, letter))
		}
		lines[i] = strings.Join(vals, "\t")
	}
	return lines
}

// FormatValue writes one value as it appears in a file.
func FormatValue(v *string, letter byte) string {
	if v == nil {
		return "NULL"
	}
	s := *v
	switch letter {
	case 'R':
		if f, ok := parseFloat(s); ok {
			return formatFloat(f)
		}
	case 'B':
		switch s {
		case "t", "true":
			return "true"
		case "f", "false":
			return "false"
		}
	}
	if s == "" {
		return "(empty)"
	}
	return escape(s)
}

var escaper = strings.NewReplacer("\\", `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`)

func escape(s string) string {
	if !strings.ContainsAny(s, "\\\t\n\r") {
		return s
	}
	return escaper.Replace(s)
}

func parseFloat(s string) (float64, bool) {
	switch s {
	case "NaN":
		return math.NaN(), true
	case "Infinity":
		return math.Inf(1), true
	case "-Infinity":
		return math.Inf(-1), true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		// A value past float64's range is still a number: ParseFloat
		// returns ±Inf with a range error.
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return f, true
		}
		return 0, false
	}
	return f, true
}

func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0" // and -0
	case math.Abs(f) >= 1e-4 && math.Abs(f) < 1e15:
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// FloatsEqual compares two floats within 1e-9 relative or 1e-12 absolute
// tolerance; NaN equals NaN.
func FloatsEqual(a, b float64) bool {
	if a == b || (math.IsNaN(a) && math.IsNaN(b)) {
		return true
	}
	if math.IsInf(a, 0) || math.IsInf(b, 0) || math.IsNaN(a) || math.IsNaN(b) {
		return false
	}
	d := math.Abs(a - b)
	return d <= 1e-12 || d <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

// valuesEqual compares one written value with another, as letter says.
func valuesEqual(want, got string, letter byte) bool {
	if want == got {
		return true
	}
	switch letter {
	case 'R', '?':
		a, ok1 := parseFloat(want)
		b, ok2 := parseFloat(got)
		return ok1 && ok2 && FloatsEqual(a, b)
	case 'I':
		a, ok1 := parseFloat(want)
		b, ok2 := parseFloat(got)
		return ok1 && ok2 && a == b
	case 'B':
		return normBool(want) != "" && normBool(want) == normBool(got)
	}
	return false
}

func normBool(s string) string {
	switch s {
	case "t", "true":
		return "true"
	case "f", "false":
		return "false"
	}
	return ""
}

// sortLines orders lines (and, for valuesort, splits them into values
// first) as a sort mode says. The input is not changed.
func sortLines(lines []string, mode SortMode) []string {
	switch mode {
	case RowSort:
		out := append([]string(nil), lines...)
		sort.Strings(out)
		return out
	case ValueSort:
		var out []string
		for _, l := range lines {
			out = append(out, strings.Split(l, "\t")...)
		}
		sort.Strings(out)
		return out
	}
	return lines
}

// linesEqual compares expected and actual lines (already sorted alike),
// value by value. It returns the index of the first differing line, or -1.
func linesEqual(want, got []string, types string, mode SortMode) int {
	n := min(len(want), len(got))
	for i := 0; i < n; i++ {
		if want[i] == got[i] {
			continue
		}
		if mode == ValueSort {
			if !valuesEqual(want[i], got[i], '?') {
				return i
			}
			continue
		}
		w, g := strings.Split(want[i], "\t"), strings.Split(got[i], "\t")
		if len(w) != len(g) {
			return i
		}
		for j := range w {
			letter := byte('T')
			if j < len(types) {
				letter = types[j]
			}
			if !valuesEqual(w[j], g[j], letter) {
				return i
			}
		}
	}
	if len(want) != len(got) {
		return n
	}
	return -1
}
