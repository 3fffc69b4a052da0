package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dormousedb/dormouse/bench/gen"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/storagetest"
)

// TestMain lets the test binary run as the dormouse command, so the tests
// below drive the real command line in a separate process.
func TestMain(m *testing.M) {
	if os.Getenv("DORMOUSE_TEST_AS_CLI") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type cli struct {
	t   *testing.T
	env []string
}

// run runs `dormouse args…` and returns its stdout, stderr and exit code.
func (c cli) run(args ...string) (string, string, int) {
	c.t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "DORMOUSE_TEST_AS_CLI=1"), c.env...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

func (c cli) ok(args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("dormouse %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// TestCLI creates a table, ingests a CSV file, reports on it and drops it,
// against a local directory and against S3.
func TestCLI(t *testing.T) {
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "rows.csv")
	f, err := os.Create(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	const rows = 100_000
	if err := gen.WriteCSV(f, 1, rows); err != nil {
		t.Fatal(err)
	}
	f.Close()
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		url, env := storagetest.URL(t, store)
		c := cli{t: t, env: append(env, "DORMOUSE_STORE="+url)}
		out := c.ok("table", "create", "rows", "--schema", "key:varchar:key, a:bigint, b:double, c:varchar",
			"--split-points", "k3,k6", "--property", "split_threshold=35000")
		if !strings.Contains(out, "in 3 partitions") {
			t.Fatalf("create said %q", out)
		}
		out = c.ok("ingest", "rows", csvPath)
		if !strings.Contains(out, "ingested 100000 rows into rows: 3 files") {
			t.Fatalf("ingest said %q", out)
		}
		var files struct {
			Rows  int64 `json:"rows"`
			Files []struct {
				Key        string   `json:"key"`
				Rows       int64    `json:"rows"`
				MinKey     []string `json:"min_key"`
				References []struct {
					Partition string `json:"partition"`
				} `json:"references"`
			} `json:"files"`
		}
		if err := json.Unmarshal([]byte(c.ok("report", "files", "rows", "--json")), &files); err != nil {
			t.Fatal(err)
		}
		if files.Rows != rows || len(files.Files) != 3 {
			t.Fatalf("report: %d rows in %d files", files.Rows, len(files.Files))
		}
		parts := c.ok("report", "partitions", "rows")
		if !strings.Contains(parts, "needs split") {
			t.Fatalf("partitions report does not flag the oversized leaves:\n%s", parts)
		}
		desc := c.ok("table", "describe", "rows")
		for _, want := range []string{"VARCHAR  row key", "100000 rows, 3 files", "split_threshold              35000"} {
			if !strings.Contains(desc, want) {
				t.Fatalf("describe lacks %q:\n%s", want, desc)
			}
		}
		if snap := c.ok("table", "snapshot", "rows"); !strings.Contains(snap, "snapshot of rows at log 1") {
			t.Fatalf("snapshot: %s", snap)
		}
		if list := c.ok("table", "list"); !strings.Contains(list, "rows") {
			t.Fatalf("list: %s", list)
		}

		// Bad input: a clear error, exit status 1, nothing committed.
		bad := filepath.Join(t.TempDir(), "bad.csv")
		os.WriteFile(bad, []byte("key,a,b,c\nk1,1,1.0,x\nk2,two,2.0,y\n"), 0o644)
		_, errOut, code := c.run("ingest", "rows", bad)
		if code != 1 || !strings.Contains(errOut, `bad.csv:3: column "a"`) || !strings.Contains(errOut, "nothing was committed") {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		_, errOut, code = c.run("table", "create", "x", "--schema", "k:nosuchtype:key")
		if code != 1 || !strings.Contains(errOut, `unknown type "nosuchtype"`) {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if _, _, code := c.run("frobnicate"); code != 2 {
			t.Fatalf("unknown command: exit %d", code)
		}

		c.ok("table", "drop", "rows")
		if _, errOut, code := c.run("report", "files", "rows"); code != 1 || !strings.Contains(errOut, "no such table") {
			t.Fatalf("after drop: exit %d: %s", code, errOut)
		}
		// The objects stay for gc_delay, then the garbage collector takes them.
		if left, err := store.List(context.Background(), "tables/"); err != nil || len(left) == 0 {
			t.Fatalf("drop deleted the objects at once (%v)", err)
		}
		c.ok("gc", "--once", "--delay", "1ms")
		left, err := store.List(context.Background(), "tables/")
		if err != nil {
			t.Fatal(err)
		}
		if len(left) != 0 {
			t.Fatalf("drop left %d objects", len(left))
		}
	})
}

// TestQuery drives `dormouse query`: statements from the argument and from
// standard input, psql's aligned output, CSV and JSON, and a positioned
// error with its SQLSTATE and a non-zero exit.
func TestQuery(t *testing.T) {
	c := cli{t: t, env: []string{"DORMOUSE_STORE=" + t.TempDir()}}
	c.ok("query", "CREATE TABLE pets (name text PRIMARY KEY, legs integer, born date) WITH (split_points = 'm')")
	if out := c.ok("query", "INSERT INTO pets VALUES ('rex', 4, '2020-01-02'), ('tweety', 2, NULL), ('ant', 6, '2024-05-06')"); !strings.Contains(out, "INSERT 0 3") {
		t.Fatalf("insert said %q", out)
	}
	out := c.ok("query", "SELECT name, legs, born FROM pets ORDER BY name")
	for _, line := range []string{"  name  | legs |    born", " ant    |    6 | 2024-05-06", " tweety |    2 |", "(3 rows)"} {
		if !strings.Contains(out, line) {
			t.Fatalf("aligned output lacks %q:\n%s", line, out)
		}
	}
	if out := c.ok("query", "--format", "csv", "SELECT name, legs FROM pets WHERE legs > 3 ORDER BY legs"); out != "name,legs\nrex,4\nant,6\n" {
		t.Fatalf("csv output %q", out)
	}
	if out := c.ok("query", "--format", "json", "SELECT count(*) AS n FROM pets"); strings.TrimSpace(out) != `[{"n":"3"}]` {
		t.Fatalf("json output %q", out)
	}
	cmd := exec.Command(os.Args[0], "query")
	cmd.Env = append(append(os.Environ(), "DORMOUSE_TEST_AS_CLI=1"), c.env...)
	cmd.Stdin = strings.NewReader("SELECT sum(legs) FROM pets;\nSELECT max(born) FROM pets;\n")
	got, err := cmd.Output()
	if err != nil || !strings.Contains(string(got), "12") || !strings.Contains(string(got), "2024-05-06") {
		t.Fatalf("stdin statements: %v\n%s", err, got)
	}
	_, errOut, code := c.run("query", "SELECT nmae FROM pets")
	if code != 1 || !strings.Contains(errOut, `column "nmae" does not exist (SQLSTATE 42703)`) || !strings.Contains(errOut, "LINE 1: SELECT nmae FROM pets\n               ^") ||
		!strings.Contains(errOut, `Perhaps you meant to reference the column "name"`) {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
}
