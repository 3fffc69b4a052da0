package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dormousedb/dormouse/export"
	"github.com/dormousedb/dormouse/internal/testtools"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/objstore/s3/s3test"
	"github.com/dormousedb/dormouse/storage/storagetest"
)

// TestCopyToFromPsql is the bulk export seen from a PostgreSQL client:
// psql, connected to `dormouse serve`, creates a table split in three
// partitions and runs COPY (SELECT …) TO a target — s3://… on versitygw,
// a directory below --export-dir locally. The target gets one Parquet
// file per partition and a manifest naming them, and DuckDB (through its
// httpfs extension on S3) reads back exactly the query's rows.
func TestCopyToFromPsql(t *testing.T) {
	bin, err := exec.LookPath("psql")
	if err != nil {
		if os.Getenv("DORMOUSE_SKIP_CLIENTS") != "" {
			t.Skip("psql not installed and DORMOUSE_SKIP_CLIENTS is set")
		}
		t.Fatal("psql not found: run make setup (Debian's postgresql-client-15)")
	}
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		url, env := storagetest.URL(t, store)
		exportDir := t.TempDir()
		target := filepath.Join(exportDir, "events") + "/"
		var endpoint string
		if strings.HasPrefix(url, "s3://") {
			endpoint, _ = s3test.Env(t)
			target = strings.TrimSuffix(url, "/") + "/exports/events/"
			for _, kv := range env {
				k, v, _ := strings.Cut(kv, "=")
				t.Setenv(k, v) // for this process to open the target
			}
		}
		host, port := startServe(t, env, "--store", url, "--export-dir", exportDir)
		psql := func(sql string) string {
			t.Helper()
			cmd := exec.Command(bin, "-X", "-A", "-t", "-h", host, "-p", port, "-U", "postgres", "-d", "dormouse",
				"-v", "ON_ERROR_STOP=1", "-c", sql)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "PGCONNECT_TIMEOUT=20", "LANG=C.UTF-8"}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("psql -c %q: %v\n%s", sql, err, stderr.String())
			}
			return strings.TrimSpace(stdout.String() + stderr.String())
		}
		psql(`CREATE TABLE events (k text PRIMARY KEY, n bigint, d double precision) WITH (split_points = 'k3,k6')`)
		psql(`INSERT INTO events SELECT 'k' || g, g, g / 4.0 FROM generate_series(1, 9000) AS t(g)`)
		var want []string
		for g := 1; g <= 9000; g++ {
			if g%3 != 0 {
				want = append(want, fmt.Sprintf("k%d|%d|%016x", g, g, math.Float64bits(float64(g)/4)))
			}
		}
		sort.Strings(want)

		tag := psql(fmt.Sprintf(`COPY (SELECT k, n, d FROM events WHERE n %% 3 <> 0) TO '%s'`, target))
		if tag != fmt.Sprintf("COPY %d", len(want)) {
			t.Fatalf("COPY said %q, want COPY %d", tag, len(want))
		}
		tg, err := export.ParseTarget(target)
		if err != nil {
			t.Fatal(err)
		}
		st, err := tg.Open(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		m, err := export.ReadManifest(context.Background(), st)
		if err != nil {
			t.Fatal(err)
		}
		perPart := map[string]int{}
		for _, f := range m.Files {
			perPart[f.Partition]++
		}
		if len(perPart) != 3 || len(m.Files) != 3 || perPart[""] != 0 || m.Rows != int64(len(want)) {
			t.Fatalf("manifest: %d files of partitions %v, %d rows; want one file for each of 3 partitions, %d rows",
				len(m.Files), perPart, m.Rows, len(want))
		}
		args := []string{"duckdb", target}
		if endpoint != "" {
			args = append(args, endpoint)
		}
		got := readback(t, args...)
		if len(got) != len(want) {
			t.Fatalf("DuckDB read %d rows, want %d", len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("DuckDB row %d is %s, want %s", i, got[i], want[i])
			}
		}
	})
}

// startServe starts `dormouse serve` with args (and the environment env)
// on a free port, with no Flight SQL and no background work, and returns
// the host and port psql should connect to; the server is stopped when
// the test ends.
func startServe(t *testing.T, env []string, args ...string) (host, port string) {
	t.Helper()
	args = append([]string{"serve", "--listen", "127.0.0.1:0", "--flight-listen", "", "--compactor-workers", "0",
		"--split=false", "--gc=false"}, args...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "DORMOUSE_TEST_AS_CLI=1"), env...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if l, ok := strings.CutPrefix(sc.Text(), "connect with: "); ok {
				lines <- l
			}
		}
	}()
	select {
	case l := <-lines:
		f := strings.Fields(l) // psql -h HOST -p PORT
		if len(f) != 5 || f[0] != "psql" {
			t.Fatalf("serve printed %q, want a psql command line", l)
		}
		return f[2], f[4]
	case <-time.After(30 * time.Second):
		t.Fatal("serve printed no psql line within 30s")
	}
	return "", ""
}

// readback runs export/testdata/readback.py (an independent reader:
// pyarrow or DuckDB) with the test venv's Python.
func readback(t *testing.T, args ...string) []string {
	t.Helper()
	return testtools.PythonLines(t, "export/testdata/readback.py", args...)
}
