package main

// The pgwire benchmark: Dormouse's PostgreSQL front door beside a real
// PostgreSQL 15, the same clients and the same rows on both.
//
//   - Point lookups by key: pgbench -M prepared -c 8 -j 2 -T 30 with a
//     custom script (\set k random(1, N); SELECT v, n FROM pgbench_kv
//     WHERE k = :k) against `dormouse serve` and against PostgreSQL with a
//     B-tree primary key on the same N rows. Queries per second, their
//     ratio, and p50/p99 latency from pgbench's per-transaction log.
//   - A 1M-row result streamed to a client: pgx (binary rows) and psql
//     (text, aligned output off, to /dev/null), rows per second.
//
// PostgreSQL is the cluster scripts/with-pg.sh starts (DORMOUSE_TEST_PG_URL;
// make bench runs under it). Dormouse runs as bin/dormouse serve on a store
// in bench/out, built once per row count and kept.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgbenchReport is what bench/out/pgbench.json holds.
type pgbenchReport struct {
	Started  time.Time       `json:"started"`
	Rows     int64           `json:"rows"`
	Duration string          `json:"duration"`
	Clients  int             `json:"clients"`
	Threads  int             `json:"threads"`
	Lookups  []pgbenchResult `json:"lookups"`
	// RoundRatios are Dormouse's queries per second over PostgreSQL's in
	// each round: their spread shows how far the machine drifted.
	RoundRatios []float64      `json:"round_ratios"`
	Stream      []streamResult `json:"stream"`
	Notes       []string       `json:"notes,omitempty"`
}

type pgbenchResult struct {
	Server  string  `json:"server"`
	QPS     float64 `json:"qps"`
	P50ms   float64 `json:"p50_ms"`
	P99ms   float64 `json:"p99_ms"`
	Queries int64   `json:"queries"`
	Failed  int64   `json:"failed"`
	// Where the machine's time went: the server's CPU (PostgreSQL's
	// postmaster and its backends) and pgbench's, per query, and the
	// share of the cores idle while the clients waited.
	ServerCPUus  float64 `json:"server_cpu_us_per_query"`
	PgbenchCPUus float64 `json:"pgbench_cpu_us_per_query"`
	IdlePct      float64 `json:"idle_percent"`
}

type streamResult struct {
	Server string  `json:"server"`
	Client string  `json:"client"`
	Rows   int64   `json:"rows"`
	Secs   float64 `json:"seconds"`
	RowsPS float64 `json:"rows_per_second"`
}

// pgbenchTable is the benchmark's table on both servers.
const pgbenchTable = "pgbench_kv"

func benchPgbench(ctx context.Context, cfg config) error {
	pgURL := os.Getenv("DORMOUSE_TEST_PG_URL")
	if pgURL == "" {
		return errors.New("pgbench: DORMOUSE_TEST_PG_URL is not set: run under scripts/with-pg.sh (make bench does)")
	}
	for _, tool := range []string{"pgbench", "psql"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("pgbench: %s not found: make setup installs postgresql-15", tool)
		}
	}
	rep := &pgbenchReport{Started: time.Now().UTC(), Rows: cfg.pgbenchRows, Duration: cfg.pgbenchTime.String(),
		Clients: 8, Threads: 2}
	csv, err := ensurePgbenchCSV(cfg.out, cfg.pgbenchRows)
	if err != nil {
		return err
	}
	// Dormouse: bin/dormouse serve over a store kept in bench/out.
	store := filepath.Join(cfg.out, fmt.Sprintf("pgbench-store-%d", cfg.pgbenchRows))
	srv, err := startServe(ctx, cfg.dormouse, store)
	if err != nil {
		return err
	}
	defer srv.stop()
	if _, err := os.Stat(filepath.Join(store, "pgbench-ready")); err != nil {
		logf("pgbench: loading %d rows into Dormouse (once; kept in %s)", cfg.pgbenchRows, store)
		create := fmt.Sprintf("CREATE TABLE %s (k bigint PRIMARY KEY, v text, n bigint) WITH (split_points = '%s', page_size_bytes = 16384)",
			pgbenchTable, strings.Join(pgbenchSplits(cfg.pgbenchRows, 16), ","))
		if err := loadTable(ctx, srv.url, []string{"DROP TABLE IF EXISTS " + pgbenchTable, create}, csv); err != nil {
			return fmt.Errorf("load Dormouse: %w", err)
		}
		if err := os.WriteFile(filepath.Join(store, "pgbench-ready"), nil, 0o644); err != nil {
			return err
		}
	}
	// PostgreSQL: a fresh cluster every run, so load it every run.
	logf("pgbench: loading %d rows into PostgreSQL", cfg.pgbenchRows)
	if err := loadTable(ctx, pgURL, []string{"DROP TABLE IF EXISTS " + pgbenchTable,
		fmt.Sprintf("CREATE TABLE %s (k bigint PRIMARY KEY, v text, n bigint)", pgbenchTable)}, csv); err != nil {
		return fmt.Errorf("load PostgreSQL: %w", err)
	}
	// A checkpoint now, so that PostgreSQL's writing out of the load
	// does not compete with the timed runs (Dormouse's run comes first).
	for _, stmt := range []string{"VACUUM ANALYZE " + pgbenchTable, "CHECKPOINT"} {
		if err := execURL(ctx, pgURL, stmt); err != nil {
			return err
		}
	}

	script := filepath.Join(cfg.out, "pgbench-point.sql")
	if err := os.WriteFile(script, []byte(fmt.Sprintf("\\set k random(1, %d)\nSELECT v, n FROM %s WHERE k = :k;\n", cfg.pgbenchRows, pgbenchTable)), 0o644); err != nil {
		return err
	}
	postmaster, err := postmasterPID(ctx, pgURL)
	if err != nil {
		return err
	}
	targets := []struct {
		name, url string
		pid       int
	}{{"dormouse", srv.url, srv.cmd.Process.Pid}, {"postgresql", pgURL, postmaster}}
	for _, tg := range targets {
		// A short warm-up fills caches on both alike.
		if _, err := runPgbench(ctx, cfg, tg.url, script, 3*time.Second, tg.name, tg.pid); err != nil {
			return err
		}
	}
	// The timed runs alternate between the servers in rounds of about
	// five seconds, in the order A B B A A B …, so that a machine whose
	// speed drifts (shared hosts do) weighs on both alike.
	rounds := max(1, int(cfg.pgbenchTime/(5*time.Second)))
	each := max(time.Second, cfg.pgbenchTime/time.Duration(rounds))
	runs := make([]pgbenchRun, len(targets))
	qps := make([]float64, len(targets)) // of the round
	for r := range rounds {
		for j := range targets {
			i := j
			if r%2 == 1 {
				i = len(targets) - 1 - j
			}
			tg := targets[i]
			logf("pgbench: point lookups on %s for %s (round %d of %d)", tg.name, each, r+1, rounds)
			run, err := runPgbench(ctx, cfg, tg.url, script, each, tg.name, tg.pid)
			if err != nil {
				return err
			}
			runs[i].add(run)
			qps[i] = run.qps()
		}
		if qps[1] > 0 {
			rep.RoundRatios = append(rep.RoundRatios, qps[0]/qps[1])
		}
	}
	for i, tg := range targets {
		rep.Lookups = append(rep.Lookups, runs[i].result(tg.name))
	}
	streamRows := min(int64(1_000_000), cfg.pgbenchRows)
	for _, tg := range targets {
		for _, client := range []string{"pgx", "psql"} {
			logf("pgbench: streaming %d rows from %s to %s", streamRows, tg.name, client)
			res, err := streamBest(ctx, tg.url, client, streamRows, 3)
			if err != nil {
				return err
			}
			res.Server = tg.name
			rep.Stream = append(rep.Stream, res)
		}
	}
	if l := loadAvg(); l > 1 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("load average %.1f at the end: other processes competed", l))
	}
	rep.print(os.Stdout)
	if err := saveReport(cfg, "pgbench.json", rep); err != nil {
		return err
	}
	return nil
}

// ensurePgbenchCSV writes the benchmark's rows once: k from 1 to n, a
// 24-character text and a number.
func ensurePgbenchCSV(dir string, n int64) (string, error) {
	path := filepath.Join(dir, fmt.Sprintf("pgbench-%d.csv", n))
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	logf("pgbench: writing %d rows to %s", n, path)
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return "", err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	var line []byte
	for k := int64(1); k <= n; k++ {
		line = strconv.AppendInt(line[:0], k, 10)
		line = append(line, ",v"...)
		line = strconv.AppendUint(line, rng.Uint64()>>4, 36)
		for len(line) < 26 {
			line = append(line, 'x')
		}
		line = append(line, ',')
		line = strconv.AppendInt(line, rng.Int64N(1_000_000), 10)
		line = append(line, '\n')
		w.Write(line)
	}
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		return "", err
	}
	return path, os.Rename(tmp, path)
}

// pgbenchSplits cuts 1..n into parts partitions on k.
func pgbenchSplits(n int64, parts int) []string {
	var out []string
	for i := 1; i < parts; i++ {
		out = append(out, strconv.FormatInt(n*int64(i)/int64(parts)+1, 10))
	}
	return out
}

// serveProc is a running bin/dormouse serve.
type serveProc struct {
	cmd  *exec.Cmd
	url  string
	done chan error
}

// benchPageCache is the serve's cache of decoded pages: like PostgreSQL's
// shared buffers plus the OS cache that hold its whole table and index
// in this benchmark, it holds the hot pages of the point lookups.
const benchPageCache = "1GiB"

// startServe starts bin/dormouse serve on store, on a free port, with no
// background work (nothing competes with the queries).
func startServe(ctx context.Context, bin, store string) (*serveProc, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.CommandContext(ctx, bin, "serve", "--store", "file://"+store, "--listen", addr,
		"--flight-listen", "", "--compactor-workers", "0", "--split=false", "--gc=false", "--log-level", "warn",
		"--page-cache", benchPageCache)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &serveProc{cmd: cmd, url: "postgres://bench@" + addr + "/dormouse?sslmode=disable", done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return p, nil
		}
		select {
		case err := <-p.done:
			return nil, fmt.Errorf("dormouse serve exited: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, errors.New("dormouse serve did not listen within 30s")
		}
	}
}

func (p *serveProc) stop() {
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// loadTable runs the setup statements, then COPY of the CSV into the table.
func loadTable(ctx context.Context, url string, setup []string, csv string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, s := range setup {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	f, err := os.Open(csv)
	if err != nil {
		return err
	}
	defer f.Close()
	start := time.Now()
	tag, err := conn.PgConn().CopyFrom(ctx, bufio.NewReaderSize(f, 1<<20), "COPY "+pgbenchTable+" FROM STDIN (FORMAT csv)")
	if err != nil {
		return err
	}
	logf("pgbench: %s in %.1fs", tag, time.Since(start).Seconds())
	return nil
}

func execURL(ctx context.Context, url, sql string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

var (
	tpsRe    = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)
	doneRe   = regexp.MustCompile(`number of transactions actually processed: ([0-9]+)`)
	failedRe = regexp.MustCompile(`number of failed transactions: ([0-9]+)`)
)

// runPgbench runs pgbench -M prepared with the script for d and reads its
// throughput and, from its per-transaction log, the latency percentiles.
// pgbenchRun is what pgbench runs did on one server, added up.
type pgbenchRun struct {
	queries, failed int64
	seconds         float64 // without the time to connect
	lat             []int64 // µs, of every transaction
	// CPU time of the server and of pgbench, and the machine's busy and
	// idle time, over the runs.
	server, pgbench, busy, idle time.Duration
}

func (a *pgbenchRun) add(b pgbenchRun) {
	a.queries += b.queries
	a.failed += b.failed
	a.seconds += b.seconds
	a.lat = append(a.lat, b.lat...)
	a.server += b.server
	a.pgbench += b.pgbench
	a.busy += b.busy
	a.idle += b.idle
}

func (a *pgbenchRun) qps() float64 {
	if a.seconds <= 0 {
		return 0
	}
	return float64(a.queries) / a.seconds
}

// result is the runs' queries per second and latency percentiles.
func (a *pgbenchRun) result(server string) pgbenchResult {
	res := pgbenchResult{Server: server, Queries: a.queries, Failed: a.failed, QPS: a.qps()}
	if a.queries > 0 {
		res.ServerCPUus = float64(a.server.Microseconds()) / float64(a.queries)
		res.PgbenchCPUus = float64(a.pgbench.Microseconds()) / float64(a.queries)
	}
	if all := a.busy + a.idle; all > 0 {
		res.IdlePct = 100 * float64(a.idle) / float64(all)
	}
	if len(a.lat) > 0 {
		slices.Sort(a.lat)
		res.P50ms = float64(a.lat[len(a.lat)/2]) / 1000
		res.P99ms = float64(a.lat[len(a.lat)*99/100]) / 1000
	}
	return res
}

// runPgbench runs pgbench's point lookups for d on one server, whose
// processes are pid and its children.
func runPgbench(ctx context.Context, cfg config, rawURL, script string, d time.Duration, name string, pid int) (pgbenchRun, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return pgbenchRun{}, err
	}
	host, port, _ := net.SplitHostPort(u.Host)
	logDir, err := os.MkdirTemp(cfg.out, "pgbench-log-")
	if err != nil {
		return pgbenchRun{}, err
	}
	defer os.RemoveAll(logDir)
	cmd := exec.CommandContext(ctx, "pgbench", "-n", "-M", "prepared", "-c", "8", "-j", "2",
		"-T", strconv.Itoa(int(d.Seconds())), "-f", script, "-l", "--log-prefix", filepath.Join(logDir, "tx"),
		"-h", host, "-p", port, "-U", u.User.Username(), strings.TrimPrefix(u.Path, "/"))
	cmd.Env = append(os.Environ(), "PGSSLMODE=disable")
	server0 := procTreeCPU(pid)
	busy0, idle0 := machineCPU()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return pgbenchRun{}, fmt.Errorf("pgbench on %s: %v\n%s", name, err, out)
	}
	busy1, idle1 := machineCPU()
	// PostgreSQL's backends end as pgbench leaves; the postmaster counts
	// their time once it has reaped them, a moment later.
	time.Sleep(100 * time.Millisecond)
	run := pgbenchRun{server: procTreeCPU(pid) - server0, busy: busy1 - busy0, idle: idle1 - idle0,
		pgbench: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
	m := tpsRe.FindSubmatch(out)
	if m == nil {
		return run, fmt.Errorf("pgbench on %s: no tps in its output:\n%s", name, out)
	}
	tps, _ := strconv.ParseFloat(string(m[1]), 64)
	if m := doneRe.FindSubmatch(out); m != nil {
		run.queries, _ = strconv.ParseInt(string(m[1]), 10, 64)
	}
	if m := failedRe.FindSubmatch(out); m != nil {
		run.failed, _ = strconv.ParseInt(string(m[1]), 10, 64)
	}
	if tps > 0 {
		run.seconds = float64(run.queries) / tps
	}
	run.lat, err = readPgbenchLatencies(logDir)
	return run, err
}

// readPgbenchLatencies reads the latency (µs, the third field) of every
// transaction pgbench -l logged.
func readPgbenchLatencies(dir string) ([]int64, error) {
	files, err := filepath.Glob(filepath.Join(dir, "tx*"))
	if err != nil {
		return nil, err
	}
	var out []int64
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 3 {
				continue
			}
			if v, err := strconv.ParseInt(fields[2], 10, 64); err == nil {
				out = append(out, v)
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// streamBest streams the first n rows in key order to a client, runs
// times, and keeps the fastest.
func streamBest(ctx context.Context, rawURL, client string, n int64, runs int) (streamResult, error) {
	query := fmt.Sprintf("SELECT k, v, n FROM %s WHERE k <= %d", pgbenchTable, n)
	best := streamResult{Client: client}
	for i := 0; i < runs; i++ {
		start := time.Now()
		got, err := streamOnce(ctx, rawURL, client, query)
		if err != nil {
			return best, err
		}
		secs := time.Since(start).Seconds()
		if got != n {
			return best, fmt.Errorf("%s read %d rows, want %d", client, got, n)
		}
		if best.Secs == 0 || secs < best.Secs {
			best.Rows, best.Secs, best.RowsPS = got, secs, float64(got)/secs
		}
	}
	return best, nil
}

func streamOnce(ctx context.Context, rawURL, client, query string) (int64, error) {
	if client == "psql" {
		u, err := url.Parse(rawURL)
		if err != nil {
			return 0, err
		}
		host, port, _ := net.SplitHostPort(u.Host)
		cmd := exec.CommandContext(ctx, "psql", "-X", "-q", "-A", "-t", "-h", host, "-p", port, "-U", u.User.Username(),
			"-d", strings.TrimPrefix(u.Path, "/"), "-c", query)
		cmd.Env = append(os.Environ(), "PGSSLMODE=disable")
		out, err := cmd.StdoutPipe()
		if err != nil {
			return 0, err
		}
		if err := cmd.Start(); err != nil {
			return 0, err
		}
		var lines int64
		br := bufio.NewReaderSize(out, 1<<20)
		for {
			chunk, err := br.ReadSlice('\n')
			if len(chunk) > 0 && chunk[len(chunk)-1] == '\n' {
				lines++
			}
			if err == bufio.ErrBufferFull {
				continue
			}
			if err != nil {
				break
			}
		}
		return lines, cmd.Wait()
	}
	conn, err := pgx.Connect(ctx, rawURL)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, query)
	if err != nil {
		return 0, err
	}
	var (
		count int64
		k, nn int64
		v     string
	)
	for rows.Next() {
		if err := rows.Scan(&k, &v, &nn); err != nil {
			rows.Close()
			return 0, err
		}
		count++
	}
	return count, rows.Err()
}

func (r *pgbenchReport) print(w io.Writer) {
	fmt.Fprintf(w, "\npgwire: point lookups by key, pgbench -M prepared -c %d -j %d for %s per server in alternating rounds of ~5 s, %d rows (Dormouse: --page-cache %s; PostgreSQL: B-tree primary key)\n",
		r.Clients, r.Threads, r.Duration, r.Rows, benchPageCache)
	fmt.Fprintf(w, "%-12s %12s %10s %10s %10s %14s %15s %7s\n", "server", "queries/s", "p50 ms", "p99 ms", "failed", "server CPU µs*", "pgbench CPU µs*", "idle %")
	for _, l := range r.Lookups {
		fmt.Fprintf(w, "%-12s %12.0f %10.3f %10.3f %10d %14.1f %15.1f %7.1f\n", l.Server, l.QPS, l.P50ms, l.P99ms, l.Failed, l.ServerCPUus, l.PgbenchCPUus, l.IdlePct)
	}
	fmt.Fprintf(w, "* per query; the server's processes (PostgreSQL's postmaster and backends), and pgbench; idle: the machine's cores while the runs ran\n")
	if len(r.Lookups) == 2 && r.Lookups[1].QPS > 0 {
		fmt.Fprintf(w, "Dormouse/PostgreSQL queries/s: %.2fx (target >= 1.0x, p50 < 2 ms)\n", r.Lookups[0].QPS/r.Lookups[1].QPS)
	}
	if len(r.RoundRatios) > 1 {
		fmt.Fprintf(w, "  each round's ratio: %.2fx to %.2fx\n", slices.Min(r.RoundRatios), slices.Max(r.RoundRatios))
	}
	fmt.Fprintf(w, "\npgwire: a 1M-row result streamed to a client (SELECT k, v, n ... WHERE k <= 1000000), best of 3\n")
	fmt.Fprintf(w, "%-12s %-6s %12s %10s\n", "server", "client", "rows/s", "seconds")
	for _, s := range r.Stream {
		fmt.Fprintf(w, "%-12s %-6s %12.0f %10.2f\n", s.Server, s.Client, s.RowsPS, s.Secs)
	}
	byKey := map[string]float64{}
	for _, s := range r.Stream {
		byKey[s.Server+"/"+s.Client] = s.RowsPS
	}
	for _, c := range []string{"pgx", "psql"} {
		if pg := byKey["postgresql/"+c]; pg > 0 {
			fmt.Fprintf(w, "Dormouse/PostgreSQL rows/s to %s: %.2fx\n", c, byKey["dormouse/"+c]/pg)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintln(w, "note:", n)
	}
}

// postmasterPID finds the PostgreSQL server's postmaster: the parent of a
// backend.
func postmasterPID(ctx context.Context, rawURL string) (int, error) {
	conn, err := pgx.Connect(ctx, rawURL)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	var backend int
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&backend); err != nil {
		return 0, err
	}
	f := procStat(backend)
	if len(f) < 2 {
		return 0, fmt.Errorf("pgbench: PostgreSQL backend %d not found in /proc (another machine?)", backend)
	}
	return strconv.Atoi(f[1])
}
