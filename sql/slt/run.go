package slt

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// Runner runs files against an Executor.
type Runner struct {
	// Engine is the name skipif and onlyif lines are matched against,
	// e.g. "dormouse" or "postgresql".
	Engine string
	// Rewrite replaces, in the file, the expected outcome of every record
	// that differs with the actual one (see the package doc).
	Rewrite bool
	// RewriteAll, with Rewrite, also re-writes the results of queries that
	// pass, in the current format (values equal within tolerance may be
	// written differently).
	RewriteAll bool
}

// Failure is a record whose outcome differed from the expected one.
type Failure struct {
	File    string
	Line    int // of the record's header
	SQL     string
	Message string // what differed, with both sides
}

func (f Failure) Error() string {
	return fmt.Sprintf("%s:%d: %s\n  sql: %s", f.File, f.Line, f.Message, indent(f.SQL, "       "))
}

// Report is the outcome of running a file.
type Report struct {
	Failures []Failure
	Ran      int // records run
	Skipped  int // records skipped by skipif/onlyif
	// Output is the file's text with the failing records rewritten, set
	// only in Rewrite mode when something changed.
	Output []byte
}

// edit replaces lines [start, end) of a file.
type edit struct {
	start, end int
	lines      []string
}

// Run runs every record of f in order (until halt) and reports those
// whose outcome differed. The returned error is for the run itself (a
// cancelled context), never for a failing record.
func (r *Runner) Run(ctx context.Context, f *File, ex Executor) (*Report, error) {
	rep := &Report{}
	var edits []edit
	for _, rec := range f.Records {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		if !rec.Runs(r.Engine) {
			rep.Skipped++
			continue
		}
		if rec.Kind == Halt {
			break
		}
		rep.Ran++
		res, err := ex.Exec(ctx, rec.SQL)
		msg, e := check(rec, res, err, r.RewriteAll)
		if msg != "" {
			rep.Failures = append(rep.Failures, Failure{File: f.Name, Line: rec.Line, SQL: rec.SQL, Message: msg})
		}
		edits = append(edits, e...)
	}
	if r.Rewrite && len(edits) > 0 {
		rep.Output = apply(f.Lines, edits)
	}
	return rep, nil
}

// RunFile parses and runs a file; in Rewrite mode it writes the file back
// when something changed.
func (r *Runner) RunFile(ctx context.Context, path string, ex Executor) (*Report, error) {
	f, err := ParseFile(path)
	if err != nil {
		return nil, err
	}
	rep, err := r.Run(ctx, f, ex)
	if err != nil {
		return rep, err
	}
	if rep.Output != nil {
		if err := os.WriteFile(path, rep.Output, 0o644); err != nil {
			return rep, fmt.Errorf("rewrite %s: %w", path, err)
		}
	}
	return rep, nil
}

// Test runs a file as part of a test: each failure is a test error, or in
// Rewrite mode a log line saying what was rewritten.
func (r *Runner) Test(t testing.TB, path string, ex Executor) {
	t.Helper()
	rep, err := r.RunFile(context.Background(), path, ex)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Failures {
		if r.Rewrite {
			t.Logf("rewrote %s:%d", f.File, f.Line)
		} else {
			t.Error(f.Error())
		}
	}
}

// check compares a record's expected outcome with the actual one. It
// returns "" if they agree, else what differed, and the edits that would
// make the file expect the actual outcome (which, for a passing
// `statement error` without a pattern, pin the SQLSTATE).
func check(rec *Record, res *Result, err error, all bool) (string, []edit) {
	if err != nil {
		return checkError(rec, err)
	}
	if rec.Kind == Statement {
		if rec.ExpectError {
			e := []edit{{rec.header, rec.header + 1, []string{"statement ok"}}}
			if rec.sep >= 0 {
				e = append(e, edit{rec.sep, rec.end, nil})
			}
			return fmt.Sprintf("expected an error (%s), but the statement succeeded", orAny(rec.ErrorPattern)), e
		}
		return "", nil
	}
	return checkQuery(rec, res, all)
}

func orAny(pattern string) string {
	if pattern == "" {
		return "any error"
	}
	return pattern
}

func checkError(rec *Record, err error) (string, []edit) {
	code := SQLState(err)
	rewrite := func() []edit {
		pat := code
		if pat == "" {
			first, _, _ := strings.Cut(err.Error(), "\n")
			pat = regexp.QuoteMeta(first)
		}
		e := []edit{{rec.header, rec.header + 1, []string{"statement error " + pat}}}
		if rec.sep >= 0 {
			e = append(e, edit{rec.sep, rec.end, nil})
		}
		return e
	}
	got := fmt.Sprintf("error %s: %v", orNone(code), err)
	if rec.Kind == Query || !rec.ExpectError {
		return "expected success, got " + got, rewrite()
	}
	pat := rec.ErrorPattern
	switch {
	case pat == "":
		if code == "" {
			return "", nil
		}
		return "", rewrite()
	case sqlstateRE.MatchString(pat):
		if pat == code {
			return "", nil
		}
		return fmt.Sprintf("expected error %s, got %s", pat, got), rewrite()
	default:
		if regexp.MustCompile(pat).MatchString(err.Error()) {
			return "", nil
		}
		return fmt.Sprintf("expected an error matching %q, got %s", pat, got), rewrite()
	}
}

func orNone(code string) string {
	if code == "" {
		return "(no SQLSTATE)"
	}
	return code
}

func checkQuery(rec *Record, res *Result, all bool) (string, []edit) {
	if res == nil {
		res = &Result{}
	}
	types := rec.Types
	newTypes := types
	var msg string
	switch {
	case types == "":
		newTypes = inferTypes(res)
		msg = fmt.Sprintf("query has no column types; the result has %d columns (%s)", len(res.Columns), newTypes)
	case len(types) != len(res.Columns):
		newTypes = inferTypes(res)
		msg = fmt.Sprintf("expected %d columns (%s), got %d (%s)", len(types), types, len(res.Columns), describeColumns(res))
	default:
		for i, c := range res.Columns {
			if !compatible(types[i], c.Type) {
				newTypes = inferTypes(res)
				msg = fmt.Sprintf("column %d (%s) is %s, which type letter %c does not fit (%s expected)",
					i+1, c.Name, c.Type, types[i], string(TypeLetter(c.Type)))
				break
			}
		}
	}
	got := formatRows(res, newTypes)
	if msg == "" {
		want := sortLines(rec.Expected, rec.SortMode)
		gotSorted := sortLines(got, rec.SortMode)
		if i := linesEqual(want, gotSorted, types, rec.SortMode); i >= 0 {
			msg = fmt.Sprintf("result differs at %s %d of %d expected, %d returned\n%s",
				unit(rec.SortMode), i+1, len(want), len(gotSorted), sideBySide(want, gotSorted, i))
		}
	}
	if msg == "" && !all {
		return "", nil
	}
	header := "query " + newTypes
	if rec.SortMode != NoSort {
		header += " " + rec.SortMode.String()
	}
	if rec.Label != "" {
		header += " " + rec.Label
	}
	if rec.SortMode != NoSort {
		got = sortRows(got)
	}
	body := append([]string{"----"}, got...)
	e := []edit{{rec.header, rec.header + 1, []string{header}}}
	if rec.sep >= 0 {
		e = append(e, edit{rec.sep, rec.end, body})
	} else {
		e = append(e, edit{rec.end, rec.end, body})
	}
	return msg, e
}

func sortRows(lines []string) []string {
	out := append([]string(nil), lines...)
	sort.Strings(out)
	return out
}

func unit(m SortMode) string {
	if m == ValueSort {
		return "value"
	}
	return "row"
}

func describeColumns(res *Result) string {
	parts := make([]string, len(res.Columns))
	for i, c := range res.Columns {
		parts[i] = c.Name + " " + c.Type
	}
	return strings.Join(parts, ", ")
}

// sideBySide shows the expected and actual lines around index i.
func sideBySide(want, got []string, i int) string {
	from := max(0, i-2)
	var b strings.Builder
	show := func(name string, lines []string) {
		fmt.Fprintf(&b, "  %s:\n", name)
		to := min(len(lines), i+5)
		if from > 0 {
			fmt.Fprintf(&b, "      …\n")
		}
		for j := from; j < to; j++ {
			mark := "   "
			if j == i {
				mark = ">> "
			}
			fmt.Fprintf(&b, "   %s%s\n", mark, lines[j])
		}
		if to < len(lines) {
			fmt.Fprintf(&b, "      … (%d more)\n", len(lines)-to)
		}
		if len(lines) <= i {
			fmt.Fprintf(&b, "   >> (end)\n")
		}
	}
	show("expected", want)
	show("actual", got)
	return strings.TrimSuffix(b.String(), "\n")
}

// apply returns the lines with edits applied, as file text.
func apply(lines []string, edits []edit) []byte {
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].start > edits[j].start })
	out := append([]string(nil), lines...)
	for _, e := range edits {
		tail := append([]string(nil), out[e.end:]...)
		out = append(append(out[:e.start], e.lines...), tail...)
	}
	return []byte(strings.Join(out, "\n") + "\n")
}

func indent(s, prefix string) string {
	return strings.ReplaceAll(s, "\n", "\n"+prefix)
}
