package slt

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// fake answers statements from a table of canned results.
type fake map[string]any // SQL → *Result or error

func (f fake) Exec(_ context.Context, sql string) (*Result, error) {
	switch v := f[sql].(type) {
	case *Result:
		return v, nil
	case error:
		return nil, v
	case nil:
		return &Result{Tag: "OK"}, nil
	}
	panic("bad fake")
}

func s(v string) *string { return &v }

// res builds a result: types like "bigint,text", rows of values ("NULL"
// for nil).
func res(types string, rows ...[]string) *Result {
	r := &Result{}
	for i, t := range strings.Split(types, ",") {
		r.Columns = append(r.Columns, Column{Name: "c" + string(rune('1'+i)), Type: t})
	}
	for _, row := range rows {
		var out []*string
		for _, v := range row {
			if v == "NULL" {
				out = append(out, nil)
			} else {
				out = append(out, s(v))
			}
		}
		r.Rows = append(r.Rows, out)
	}
	return r
}

func run(t *testing.T, r *Runner, src string, ex Executor) *Report {
	t.Helper()
	f, err := Parse("test.slt", src)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := r.Run(context.Background(), f, ex)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestParse(t *testing.T) {
	src := `# a comment
hash-threshold 8

statement ok
CREATE TABLE t (a bigint)

onlyif dormouse
statement error 22012
SELECT 1/0

skipif postgresql
statement error division
SELECT 1/0

statement error
SELECT 1/0
----
division by zero

query IT rowsort lbl
SELECT a,
  b FROM t
----
1	x

query R
SELECT 1.5

halt

statement ok
never
`
	f, err := Parse("x.slt", src)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Records) != 8 {
		t.Fatalf("got %d records", len(f.Records))
	}
	r := f.Records
	if r[0].Kind != Statement || r[0].ExpectError || r[0].SQL != "CREATE TABLE t (a bigint)" || r[0].Line != 4 {
		t.Errorf("record 0: %+v", r[0])
	}
	if !r[1].ExpectError || r[1].ErrorPattern != "22012" || !r[1].Runs("dormouse") || r[1].Runs("postgresql") {
		t.Errorf("record 1: %+v", r[1])
	}
	if r[2].ErrorPattern != "division" || r[2].Runs("postgresql") || !r[2].Runs("Dormouse") {
		t.Errorf("record 2: %+v", r[2])
	}
	if r[3].ErrorPattern != "division by zero" || r[3].Expected != nil {
		t.Errorf("record 3: %+v", r[3])
	}
	q := r[4]
	if q.Kind != Query || q.Types != "IT" || q.SortMode != RowSort || q.Label != "lbl" ||
		q.SQL != "SELECT a,\n  b FROM t" || len(q.Expected) != 1 || q.Expected[0] != "1\tx" {
		t.Errorf("record 4: %+v", q)
	}
	if r[5].Types != "R" || r[5].sep != -1 || r[5].Expected != nil {
		t.Errorf("record 5: %+v", r[5])
	}
	if r[6].Kind != Halt {
		t.Errorf("record 6: %+v", r[6])
	}
}

func TestParseErrors(t *testing.T) {
	for _, src := range []string{
		"statement maybe\nSELECT 1\n",
		"statement ok\n",
		"query IX\nSELECT 1\n",
		"query I sometimes\nSELECT 1\n",
		"frobnicate\n",
		"statement ok\nSELECT 1\n----\n1\n",
		"statement error ([\nSELECT 1\n",
		"skipif x\n",
	} {
		if _, err := Parse("bad.slt", src); err == nil {
			t.Errorf("no error for %q", src)
		} else if !strings.HasPrefix(err.Error(), "bad.slt") {
			t.Errorf("error %q does not name the file", err)
		}
	}
}

func TestRunPasses(t *testing.T) {
	ex := fake{
		"div":     sqlerr.New(sqlerr.DivisionByZero, "division by zero"),
		"ints":    res("bigint,text", []string{"2", "b"}, []string{"1", "a"}, []string{"NULL", ""}),
		"floats":  res("double precision,numeric", []string{"0.30000000000000004", "2.5000000000000000"}, []string{"1e20", "NaN"}),
		"bools":   res("boolean", []string{"t"}, []string{"f"}, []string{"NULL"}),
		"escaped": res("text", []string{"a\tb\nc\\d"}),
		"sum":     res("numeric", []string{"15"}),
		"empty":   res("bigint"),
	}
	src := `statement ok
CREATE

statement error 22012
div

statement error division by
div

statement error
div

query IT rowsort
ints
----
1	a
2	b
NULL	(empty)

query IT
ints
----
2	b
1	a
NULL	(empty)

query IT valuesort
ints
----
(empty)
1
2
NULL
a
b

query RR
floats
----
0.3	2.5
100000000000000000000	NaN

query B
bools
----
true
f
NULL

query T
escaped
----
a\tb\nc\\d

query I
sum
----
15

query I
empty
----

query I
empty
`
	r := &Runner{Engine: "dormouse"}
	rep := run(t, r, src, ex)
	for _, f := range rep.Failures {
		t.Error(f.Error())
	}
	if rep.Ran != 13 {
		t.Errorf("ran %d records", rep.Ran)
	}
	if rep.Output != nil {
		t.Errorf("output without rewrite")
	}
}

func TestRunFailures(t *testing.T) {
	ex := fake{
		"div":  sqlerr.New(sqlerr.DivisionByZero, "division by zero"),
		"ints": res("bigint,text", []string{"1", "a"}, []string{"2", "b"}),
		"f":    res("double precision", []string{"1.000001"}),
		"b":    res("boolean", []string{"t"}),
	}
	cases := []struct {
		name, src, want string
	}{
		{"unexpected error", "statement ok\ndiv\n", "test.slt:1: expected success, got error 22012: division by zero"},
		{"no error", "statement error\nCREATE\n", "test.slt:1: expected an error (any error), but the statement succeeded"},
		{"wrong code", "statement error 22003\ndiv\n", "expected error 22003, got error 22012"},
		{"wrong message", "statement error overflow\ndiv\n", `expected an error matching "overflow"`},
		{"query error", "\n\nquery I\ndiv\n----\n1\n", "test.slt:3: expected success, got error 22012"},
		{"wrong row", "query IT\nints\n----\n1\ta\n3\tb\n", "result differs at row 2 of 2 expected, 2 returned"},
		{"order matters", "query IT\nints\n----\n2\tb\n1\ta\n", "result differs at row 1"},
		{"fewer rows", "query IT\nints\n----\n1\ta\n", "result differs at row 2 of 1 expected, 2 returned"},
		{"columns", "query I\nints\n----\n1\n2\n", "expected 1 columns (I), got 2 (c1 bigint, c2 text)"},
		{"type", "query II\nints\n----\n1\ta\n2\tb\n", "column 2 (c2) is text, which type letter I does not fit"},
		{"tolerance", "query R\nf\n----\n1\n", "result differs at row 1"},
		{"bool value", "query B\nb\n----\nfalse\n", "result differs at row 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := run(t, &Runner{}, c.src, ex)
			if len(rep.Failures) != 1 {
				t.Fatalf("got %d failures: %v", len(rep.Failures), rep.Failures)
			}
			if msg := rep.Failures[0].Error(); !strings.Contains(msg, c.want) {
				t.Errorf("failure:\n%s\nwant it to contain %q", msg, c.want)
			}
		})
	}
}

func TestConditionsAndHalt(t *testing.T) {
	src := `onlyif postgresql
statement ok
pg only

skipif dormouse
statement ok
not dormouse

onlyif dormouse
statement ok
ours

halt

statement ok
after halt
`
	var ran []string
	ex := ExecutorFunc(func(_ context.Context, sql string) (*Result, error) {
		ran = append(ran, sql)
		return &Result{}, nil
	})
	rep := run(t, &Runner{Engine: "dormouse"}, src, ex)
	if strings.Join(ran, ",") != "ours" || rep.Skipped != 2 || rep.Ran != 1 {
		t.Errorf("ran %q, report %+v", ran, rep)
	}
	ran = nil
	run(t, &Runner{Engine: "postgresql"}, src, ex)
	if strings.Join(ran, ",") != "pg only,not dormouse" {
		t.Errorf("ran %q", ran)
	}
}

func TestRewrite(t *testing.T) {
	ex := fake{
		"div":   sqlerr.New(sqlerr.DivisionByZero, "division by zero"),
		"ints":  res("bigint,text", []string{"2", "b"}, []string{"1", "a"}),
		"float": res("double precision", []string{"0.1"}),
		"plain": fmtError("no code here (really)"),
	}
	src := `# header comment

statement ok
div

statement error
div

statement error 22003
CREATE

query
ints

query IT rowsort
ints
----
1	a
9	z

query I
float
----
0.1

query R
float
----
0.1000000000001

query I
ints
----

statement error
ints
----
some message

statement ok
plain

skipif dormouse
query I
never run
----
42
`
	want := `# header comment

statement error 22012
div

statement error 22012
div

statement ok
CREATE

query IT
ints
----
2	b
1	a

query IT rowsort
ints
----
1	a
2	b

query R
float
----
0.1

query R
float
----
0.1000000000001

query IT
ints
----
2	b
1	a

statement ok
ints

statement error no code here \(really\)
plain

skipif dormouse
query I
never run
----
42
`
	dir := t.TempDir()
	path := filepath.Join(dir, "x.slt")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &Runner{Engine: "dormouse", Rewrite: true}
	rep, err := r.RunFile(context.Background(), path, ex)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failures) != 8 {
		for _, f := range rep.Failures {
			t.Log(f.Error())
		}
		t.Errorf("got %d failures, want 8", len(rep.Failures))
	}
	got, _ := os.ReadFile(path)
	if string(got) != want {
		t.Errorf("rewritten file:\n%s\nwant:\n%s", got, want)
	}
	// The rewritten file passes, and a second rewrite changes nothing.
	rep, err = r.RunFile(context.Background(), path, ex)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failures) != 0 || rep.Output != nil {
		t.Errorf("after rewrite: %v, output %v", rep.Failures, rep.Output != nil)
	}
}

type fmtError string

func (e fmtError) Error() string { return string(e) }

func TestFormatValue(t *testing.T) {
	for _, c := range []struct {
		v      *string
		letter byte
		want   string
	}{
		{nil, 'T', "NULL"},
		{s(""), 'T', "(empty)"},
		{s(""), 'R', "(empty)"},
		{s("3.0000"), 'R', "3"},
		{s("-0"), 'R', "0"},
		{s("1e300"), 'R', "1e+300"},
		{s("1e400"), 'R', "Infinity"},
		{s("-Infinity"), 'R', "-Infinity"},
		{s("0.1"), 'R', "0.1"},
		{s("123456789012345678"), 'R', "1.2345678901234568e+17"},
		{s("100000000000000"), 'R', "100000000000000"},
		{s("t"), 'B', "true"},
		{s("x"), 'B', "x"},
		{s("zoë\t"), 'T', `zoë\t`},
	} {
		if got := FormatValue(c.v, c.letter); got != c.want {
			t.Errorf("FormatValue(%v, %c) = %q, want %q", c.v, c.letter, got, c.want)
		}
	}
}

func TestFloatsEqual(t *testing.T) {
	for _, c := range []struct {
		a, b float64
		want bool
	}{
		{1, 1, true},
		{1, 1 + 1e-10, true},
		{1, 1 + 1e-8, false},
		{1e20, 1e20 * (1 + 5e-10), true},
		{0, 1e-13, true},
		{0, 1e-6, false},
	} {
		if got := FloatsEqual(c.a, c.b); got != c.want {
			t.Errorf("FloatsEqual(%g, %g) = %v", c.a, c.b, got)
		}
	}
}
