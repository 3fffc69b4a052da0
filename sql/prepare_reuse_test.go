package sql_test

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/sql"
	"github.com/dormousedb/dormouse/sql/pgtypes"
	"github.com/dormousedb/dormouse/storage/storagetest"
)

// TestPreparedRunsOverlap executes one prepared statement again while the
// rows of earlier executions are still open, reading them interleaved: an
// execution of a kept plan reuses the run (scan, spans, execution
// context) of one whose rows closed, and must never take the run of rows
// still open, nor let a later execution's parameters into earlier rows.
// Each range crosses a split point, so its rows come in two batches and
// the second is read after other executions ran.
func TestPreparedRunsOverlap(t *testing.T) {
	ctx := context.Background()
	s := newSession(t, "CREATE TABLE ro (k bigint PRIMARY KEY, v text) WITH (split_points = '100, 200, 300')",
		"INSERT INTO ro SELECT g, 'v' || g FROM generate_series(1, 399) AS g")
	st, err := s.Prepare(ctx, "SELECT k, v || $3 FROM ro WHERE k >= $1 AND k < $2", nil)
	if err != nil {
		t.Fatal(err)
	}
	text := func(v string) arrow.Array { return param(t, arrow.BinaryTypes.String, v) }
	open := func(lo, hi int, tag string) sql.Rows {
		t.Helper()
		rows, err := s.Execute(ctx, st, []arrow.Array{param(t, expr.Int8Type, strconv.Itoa(lo)), param(t, expr.Int8Type, strconv.Itoa(hi)), text(tag)})
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	// next reads one batch as "k:v" lines ("" at the end).
	next := func(rows sql.Rows) string {
		t.Helper()
		rec, err := rows.Next(ctx)
		if err == io.EOF {
			return ""
		}
		if err != nil {
			t.Fatal(err)
		}
		defer rec.Release()
		var lines []string
		ks, vs := rec.Column(0).(*array.Int64), rec.Column(1).(*array.String)
		for i := 0; i < int(rec.NumRows()); i++ {
			lines = append(lines, fmt.Sprintf("%d:%s", ks.Value(i), vs.Value(i)))
		}
		return strings.Join(lines, " ")
	}
	all := func(rows sql.Rows) string {
		t.Helper()
		defer rows.Close()
		var out []string
		for b := next(rows); b != ""; b = next(rows) {
			out = append(out, b)
		}
		return strings.Join(out, " | ")
	}
	want := func(lo, hi int, tag string) string {
		var out []string
		for k := lo; k < hi; k++ {
			out = append(out, fmt.Sprintf("%d:v%d%s", k, k, tag))
		}
		return strings.Join(out, " ")
	}
	check := func(what, got, want string) {
		t.Helper()
		if strings.ReplaceAll(got, " | ", " ") != want {
			t.Errorf("%s: read %q, want %q", what, got, want)
		}
	}

	check("first (plans and keeps the plan)", all(open(10, 13, "a")), want(10, 13, "a"))
	a := open(98, 102, "a") // takes the spare run
	firstA := next(a)       // the first leaf's rows
	check("b, while a is open", all(open(198, 203, "b")), want(198, 203, "b"))
	c := open(298, 301, "c") // takes b's run, given back when b closed
	firstC := next(c)
	d := open(5, 7, "d") // no spare: makes its own
	check("d, while a and c are open", all(d), want(5, 7, "d"))
	check("a, read on after b, c and d ran", firstA+" "+all(a), want(98, 102, "a"))
	check("c, read on after a closed", firstC+" "+all(c), want(298, 301, "c"))

	// A NULL makes the filter one the scan cannot apply: planned afresh,
	// with the kept plan serving the executions around it.
	rows, err := s.Execute(ctx, st, []arrow.Array{array.MakeArrayOfNull(memory.DefaultAllocator, expr.Int8Type, 1), param(t, expr.Int8Type, "5"), text("n")})
	if err != nil {
		t.Fatal(err)
	}
	check("a NULL bound", all(rows), "")
	e := open(150, 152, "e")
	check("after the NULL", all(open(250, 251, "f")), want(250, 251, "f"))
	check("e, opened before f", all(e), want(150, 152, "e"))

	// Rows read after they closed end; they do not read another
	// execution's run.
	g := open(1, 3, "g")
	g.Close()
	h := open(3, 5, "h")
	if b := next(g); b != "" {
		t.Errorf("rows read after Close returned %q", b)
	}
	check("h", all(h), want(3, 5, "h"))
}

// TestPreparedConcurrentSessions runs point lookups through prepared
// statements on several sessions of one engine at once (their kept plans
// and the engine's shared caches), each checking what it read.
func TestPreparedConcurrentSessions(t *testing.T) {
	ctx := context.Background()
	eng := sql.NewEngine(storagetest.NewDB(t, storagetest.LocalStore(t)), sql.Config{})
	for _, q := range []string{"CREATE TABLE cs (k bigint PRIMARY KEY, v text) WITH (split_points = '100, 200')",
		"INSERT INTO cs SELECT g, 'v' || g FROM generate_series(1, 299) AS g"} {
		if err := eng.NewSession().Script(ctx, q, func(r sql.Rows) error { _, err := sql.Collect(ctx, r); return err }); err != nil {
			t.Fatal(err)
		}
	}
	var sessions []*sql.Session
	for range 4 {
		sessions = append(sessions, eng.NewSession())
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(sessions))
	for i, s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := s.Prepare(ctx, "SELECT v FROM cs WHERE k = $1", nil)
			if err != nil {
				errs <- err
				return
			}
			for n := 0; n < 300; n++ {
				k := (n*7+i*31)%320 + 1 // some keys past the last row
				p, err := pgtypes.ParseText(&expr.Context{Alloc: memory.DefaultAllocator}, strconv.Itoa(k), expr.Int8Type)
				if err != nil {
					errs <- err
					return
				}
				rows, err := s.Execute(ctx, st, []arrow.Array{p})
				if err != nil {
					errs <- err
					return
				}
				res, err := sql.Collect(ctx, rows)
				if err != nil {
					errs <- err
					return
				}
				want := ""
				if k < 300 {
					want = "v" + strconv.Itoa(k) + "\n"
				}
				if got := rowsText(res.Rows); got != want {
					errs <- fmt.Errorf("session %d, k=%d: read %q, want %q", i, k, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
