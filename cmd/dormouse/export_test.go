package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestExportCLI drives dormouse export, import, exporter and report
// exports: an export recorded with --detach is run by an exporter, the
// files are imported into another table with the same rows, and the
// report shows both.
func TestExportCLI(t *testing.T) {
	dir := t.TempDir()
	c := cli{t: t, env: []string{"DORMOUSE_STORE=file://" + filepath.Join(dir, "store"), "CI=true"}}
	c.ok("query", `CREATE TABLE ev (k text PRIMARY KEY, v bigint) WITH (split_points = 'm')`)
	c.ok("query", `INSERT INTO ev SELECT 'k' || g, g FROM generate_series(1, 5000) AS t(g)`)
	out := filepath.Join(dir, "out")
	got := c.ok("export", "--to", out, "--max-file-rows", "1000", "SELECT * FROM ev")
	if !strings.Contains(got, "exported 5000 rows") {
		t.Fatalf("export said %q", got)
	}
	if _, errOut, code := c.run("export", "--to", out, "SELECT * FROM ev"); code == 0 || !strings.Contains(errOut, "already holds an export") {
		t.Fatalf("a second export to the same target: exit %d, %s", code, errOut)
	}
	csv := filepath.Join(dir, "csv")
	if got := c.ok("export", "--detach", "--to", csv, "--format", "csv", "--header", "SELECT k, v FROM ev WHERE v > 100"); !strings.Contains(got, "recorded: 2 tasks") {
		t.Fatalf("export --detach said %q", got)
	}
	if got := c.ok("exporter", "--once"); !strings.Contains(got, "2 tasks finished") {
		t.Fatalf("exporter said %q", got)
	}
	c.ok("query", `CREATE TABLE ev2 (k text PRIMARY KEY, v bigint)`)
	if got := c.ok("import", "ev2", out+"/*.parquet", "--job-bytes", "1"); !strings.Contains(got, "imported 5000 rows") {
		t.Fatalf("import said %q", got)
	}
	if got := c.ok("import", "ev2", "file://"+csv+"/", "--format", "csv", "--header"); !strings.Contains(got, "imported 4900 rows") {
		t.Fatalf("csv import said %q", got)
	}
	if got := c.ok("query", "--format", "csv", "SELECT count(*), count(DISTINCT k), sum(v) FROM ev2"); !strings.Contains(got, "9900,5000,") {
		t.Fatalf("ev2 holds %q", got)
	}
	// The exported Parquet files read back by `dormouse ingest` too.
	files, err := filepath.Glob(filepath.Join(out, "*.parquet"))
	if err != nil || len(files) != 5 {
		t.Fatalf("export wrote %d Parquet files (%v), want 5", len(files), err)
	}
	c.ok("query", `CREATE TABLE ev3 (k text PRIMARY KEY, v bigint)`)
	c.ok(append([]string{"ingest", "ev3"}, files...)...)
	if got, want := c.ok("query", "--format", "csv", "SELECT count(*), sum(v) FROM ev3"), c.ok("query", "--format", "csv", "SELECT count(*), sum(v) FROM ev"); got != want {
		t.Fatalf("ev3 holds %q, ev %q", got, want)
	}
	var rep struct {
		Exports []struct {
			Kind, Status string
			Rows         int64
			Tasks        int
		}
	}
	if err := json.Unmarshal([]byte(c.ok("report", "exports", "--json")), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Exports) != 4 {
		t.Fatalf("report shows %d exports: %+v", len(rep.Exports), rep.Exports)
	}
	for _, e := range rep.Exports {
		if e.Status != "done" {
			t.Fatalf("report: %+v", e)
		}
	}
	if text := c.ok("report", "exports"); !strings.Contains(text, "into ev2") || !strings.Contains(text, "SELECT * FROM ev") {
		t.Fatalf("report exports:\n%s", text)
	}
}
