package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dormousedb/dormouse/bench/gen"
	"github.com/dormousedb/dormouse/engine"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/storagetest"
)

// TestBackgroundCommands grows a one-partition table by several ingests,
// then runs `split --once`, `compactor --once` and `gc --once` as a script
// would: partitions end under the threshold, each with one whole file, the
// rows unchanged, the jobs reported by `report jobs` and dormouse.jobs.
func TestBackgroundCommands(t *testing.T) {
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "rows.csv")
	f, err := os.Create(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := gen.WriteCSV(f, 3, 20_000); err != nil {
		t.Fatal(err)
	}
	f.Close()
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		url, env := storagetest.URL(t, store)
		c := cli{t: t, env: append(env, "DORMOUSE_STORE="+url)}
		c.ok("table", "create", "bg", "--schema", "key:varchar:key, a:bigint, b:double, c:varchar",
			"--property", "split_threshold=25000", "--property", "gc_delay=1ms")
		for i := 0; i < 4; i++ {
			c.ok("ingest", "bg", csvPath)
		}
		before := c.ok("query", "--format", "csv", "SELECT count(*), count(DISTINCT key), sum(a) FROM bg")

		out := c.ok("split", "--once", "--log-format", "json")
		var n int
		if _, err := fmt.Sscanf(out, "split: %d partitions split", &n); err != nil || n < 3 {
			t.Fatalf("split said %q", out)
		}
		out = c.ok("compactor", "--once", "--workers", "2")
		if !strings.Contains(out, "0 failed, 0 lost, 80000 rows read") {
			t.Fatalf("compactor said %q", out)
		}
		out = c.ok("gc", "--once")
		if !strings.Contains(out, "gc: 4 objects deleted") {
			t.Fatalf("gc said %q", out)
		}
		if after := c.ok("query", "--format", "csv", "SELECT count(*), count(DISTINCT key), sum(a) FROM bg"); after != before {
			t.Fatalf("contents changed: before %q, after %q", before, after)
		}
		var parts struct {
			Partitions []struct {
				Leaf  bool  `json:"leaf"`
				Files int   `json:"files"`
				Rows  int64 `json:"rows"`
			} `json:"partitions"`
		}
		if err := json.Unmarshal([]byte(c.ok("report", "partitions", "bg", "--json")), &parts); err != nil {
			t.Fatal(err)
		}
		for _, p := range parts.Partitions {
			if p.Leaf && (p.Files != 1 || p.Rows > 25000) {
				t.Fatalf("leaf with %d files, %d rows after split and compaction", p.Files, p.Rows)
			}
		}
		out = c.ok("report", "jobs", "bg")
		if !strings.Contains(out, "0 pending, 0 running") || !strings.Contains(out, "finished") {
			t.Fatalf("report jobs:\n%s", out)
		}
		out = c.ok("query", "--format", "csv", "SELECT status, sum(input_rows), bool_and(rows_per_second > 0) FROM dormouse.jobs WHERE table_name = 'bg' GROUP BY status")
		if out != "status,sum,bool_and\nfinished,80000,t\n" {
			t.Fatalf("dormouse.jobs:\n%s", out)
		}
	})
}

// TestServeMetrics starts `dormouse serve` with a metrics endpoint, lets it
// compact a table in the background, scrapes /metrics and stops it with
// SIGTERM.
func TestServeMetrics(t *testing.T) {
	store := storagetest.LocalStore(t)
	url, env := storagetest.URL(t, store)
	c := cli{t: t, env: append(env, "DORMOUSE_STORE="+url)}
	c.ok("table", "create", "sv", "--schema", "k:bigint:key, v:bigint", "--property", "compaction_strategy=basic",
		"--property", "compaction_files_batch_size=3")
	for i := 0; i < 3; i++ {
		c.ok("query", fmt.Sprintf("INSERT INTO sv SELECT i, i * %d FROM generate_series(1, 1000) i", i))
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	// No fixed ports: other tests and servers may hold the defaults.
	cmd := exec.Command(os.Args[0], "serve", "--metrics", addr, "--interval", "100ms", "--listen", "", "--flight-listen", "")
	cmd.Env = append(append(os.Environ(), "DORMOUSE_TEST_AS_CLI=1"), c.env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logs := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs <- sc.Text()
		}
		close(logs)
	}()
	defer cmd.Process.Kill()
	deadline := time.After(30 * time.Second)
	var seen []string
	for done := false; !done; {
		select {
		case line := <-logs:
			seen = append(seen, line)
			done = strings.Contains(line, "compaction job finished")
		case <-deadline:
			t.Fatalf("no compaction within 30s; log:\n%s", strings.Join(seen, "\n"))
		}
	}
	var text string
	for i := 0; i < 50; i++ {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			text = string(b)
			if strings.Contains(text, `dormouse_table_files{table="sv"} `) {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	// serve runs twice as many Ps as cores, unless GOMAXPROCS says.
	procs := 2 * runtime.GOMAXPROCS(0)
	if os.Getenv("GOMAXPROCS") != "" {
		procs = runtime.GOMAXPROCS(0)
	}
	for _, want := range []string{`dormouse_commits_total{kind="replace_files",table="sv"} 1`, `dormouse_table_leaf_partitions{table="sv"} 1`,
		fmt.Sprintf("dormouse_page_cache_limit_bytes %g", float64(engine.DefaultPageCacheBytes)), "dormouse_page_cache_misses_total 0",
		fmt.Sprintf("go_sched_gomaxprocs_threads %d\n", procs)} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s:\n%s", want, text)
		}
	}
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve did not stop cleanly on SIGINT: %v", err)
	}
}
