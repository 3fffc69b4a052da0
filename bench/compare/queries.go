package main

import (
	"context"
	dbsql "database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	dsql "github.com/dormousedb/dormouse/sql"
	"github.com/dormousedb/dormouse/storage"
	"github.com/dormousedb/dormouse/storage/table"
)

// The query benchmark's table: the standard rows (bench/gen) in a table
// pre-split into -query-partitions leaves on the key, ingested in
// -query-chunks CSVs (so each leaf holds one file per chunk). Smaller row
// groups and pages than the defaults (1Mi rows, 1 MiB), so that a leaf's
// file has several row groups and each row group several pages: EXPLAIN
// ANALYZE then shows pruning at every level. DuckDB reads these same files.
const (
	queryTable        = "bench"
	queryRowGroupRows = 65536
	queryPageBytes    = 64 << 10
	queryMarker       = "bench-ready.json"
)

// queryCase is one query, run with the same text by both engines:
// Dormouse's table and DuckDB's view over the table's Parquet files share
// the name queryTable.
type queryCase struct {
	ID     string
	Name   string
	SQL    string
	Target float64 // the bound on Dormouse's time / DuckDB's
}

var queryCases = []queryCase{
	{"a", "selective key range (~0.1% of rows)",
		"SELECT count(*), sum(a) FROM bench WHERE key BETWEEN 'k500000000000000' AND 'k501000000000000'", 0.5},
	{"b", "full narrow scan",
		"SELECT sum(a) FROM bench", 1.5},
	{"c", "GROUP BY a low-cardinality expression (19 groups)",
		"SELECT a % 10 AS g, count(*), sum(a) FROM bench GROUP BY 1", 2},
}

// queryReport is every figure of the query benchmark; queries.json is its
// JSON.
type queryReport struct {
	Started       time.Time     `json:"started"`
	Finished      time.Time     `json:"finished"`
	Rows          int64         `json:"rows"`
	Seed          uint64        `json:"seed"`
	Partitions    int           `json:"leaf_partitions"`
	Chunks        int           `json:"ingest_chunks"`
	Files         int           `json:"files"`
	Bytes         int64         `json:"file_bytes"`
	RowGroupRows  int           `json:"row_group_rows"`
	PageBytes     int           `json:"page_size_bytes"`
	Store         string        `json:"store"`
	Reused        bool          `json:"store_reused"`
	IngestSeconds float64       `json:"ingest_seconds"` // building the store, when it was built
	CPUs          int           `json:"cpus"`
	GoVersion     string        `json:"go_version"`
	Parallelism   int           `json:"dormouse_parallelism"`
	DuckDBVersion string        `json:"duckdb_version"`
	DuckDBThreads int           `json:"duckdb_threads"`
	Repeat        int           `json:"repeat"`
	LoadAvg       float64       `json:"load_avg_at_start"`
	Queries       []queryTiming `json:"queries"`
	Explain       string        `json:"explain_analyze_a"`
	CPUProfiles   []string      `json:"cpu_profiles,omitempty"`
	Notes         []string      `json:"notes,omitempty"`
}

// queryTiming is one query's times on both engines, in milliseconds.
type queryTiming struct {
	ID           string     `json:"id"`
	Name         string     `json:"name"`
	SQL          string     `json:"sql"`
	Answer       [][]string `json:"answer"` // both engines', rows sorted
	DormouseBest float64    `json:"dormouse_best_ms"`
	DormouseMed  float64    `json:"dormouse_median_ms"`
	DuckDBBest   float64    `json:"duckdb_best_ms"`
	DuckDBMed    float64    `json:"duckdb_median_ms"`
	DormouseAll  []float64  `json:"dormouse_all_ms"`
	DuckDBAll    []float64  `json:"duckdb_all_ms"`
	// CPU time (user + system, all of the process's threads) of each run:
	// steadier than wall time when other processes load the machine.
	DormouseCPUBest float64   `json:"dormouse_cpu_best_ms"`
	DuckDBCPUBest   float64   `json:"duckdb_cpu_best_ms"`
	DormouseCPUAll  []float64 `json:"dormouse_cpu_all_ms"`
	DuckDBCPUAll    []float64 `json:"duckdb_cpu_all_ms"`
	RatioBest       float64   `json:"ratio_best_dormouse_over_duckdb"`
	RatioMedian     float64   `json:"ratio_median_dormouse_over_duckdb"`
	Target          float64   `json:"target_ratio"`
	Met             bool      `json:"met"` // judged on the best times
}

// queryStoreMarker is written into the store once it is complete; a later
// run with the same parameters reuses the store.
type queryStoreMarker struct {
	Rows          int64     `json:"rows"`
	Seed          uint64    `json:"seed"`
	Partitions    int       `json:"partitions"`
	Chunks        int       `json:"chunks"`
	RowGroupRows  int       `json:"row_group_rows"`
	PageBytes     int       `json:"page_size_bytes"`
	IngestSeconds float64   `json:"ingest_seconds"`
	Created       time.Time `json:"created"`
}

func benchQueries(ctx context.Context, cfg config) error {
	rep := &queryReport{
		Started: time.Now().UTC(), Rows: cfg.queryRows, Seed: cfg.seed,
		Partitions: cfg.queryPartitions, Chunks: cfg.queryChunks,
		RowGroupRows: queryRowGroupRows, PageBytes: queryPageBytes,
		CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), Repeat: cfg.queryRepeat,
		LoadAvg: loadAvg(),
	}
	if rep.LoadAvg > float64(rep.CPUs)/2 {
		who := "other processes compete, so times are noisy"
		if cfg.only == "" {
			who = "the benchmark's own ingest and commit children count in it, but so may other processes"
		}
		rep.Notes = append(rep.Notes, fmt.Sprintf("load average %.1f on %d CPUs at the start: %s", rep.LoadAvg, rep.CPUs, who))
	}
	dir, err := ensureQueryStore(ctx, cfg, rep)
	if err != nil {
		return err
	}
	rep.Store = dir
	files, err := listTableFiles(ctx, cfg, dir, rep)
	if err != nil {
		return err
	}

	// Dormouse, in process, through the sql package: what `dormouse query`
	// does, without the process start.
	db, err := storage.Open(ctx, "file://"+dir)
	if err != nil {
		return err
	}
	eng := dsql.NewEngine(db, dsql.Config{})
	sess := eng.NewSession()
	rep.Parallelism = runtime.GOMAXPROCS(0)

	// DuckDB, in process, over the very same files, all cores.
	duck, err := dbsql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer duck.Close()
	duck.SetMaxOpenConns(1)
	quoted := make([]string, len(files))
	for i, f := range files {
		quoted[i] = quote(f)
	}
	view := fmt.Sprintf("CREATE VIEW %s AS SELECT * FROM read_parquet([%s])", queryTable, strings.Join(quoted, ", "))
	if _, err := duck.ExecContext(ctx, view); err != nil {
		return fmt.Errorf("duckdb: create view over %d files: %w", len(files), err)
	}
	if err := duck.QueryRowContext(ctx, "SELECT version(), current_setting('threads')").Scan(&rep.DuckDBVersion, &rep.DuckDBThreads); err != nil {
		return err
	}

	for _, q := range queryCases {
		qt, err := timeQuery(ctx, cfg, q, sess, duck)
		if err != nil {
			return err
		}
		rep.Queries = append(rep.Queries, qt)
	}

	// EXPLAIN ANALYZE of (a): pruning at partitions, files, row groups
	// and pages.
	res, err := runDormouse1(ctx, sess, "EXPLAIN ANALYZE "+queryCases[0].SQL)
	if err != nil {
		return fmt.Errorf("dormouse EXPLAIN ANALYZE: %w", err)
	}
	var lines []string
	for _, row := range res {
		lines = append(lines, strings.Join(row, " "))
	}
	// The engine renders an exclusive upper key bound as the key and a NUL
	// byte; show it as ␀.
	rep.Explain = strings.Map(func(r rune) rune {
		if r == 0 {
			return '␀'
		}
		return r
	}, strings.Join(lines, "\n"))

	if cfg.cpuprofile != "" {
		for _, q := range queryCases {
			path := queryProfilePath(cfg.cpuprofile, q.ID)
			if err := profileQuery(ctx, sess, q, path); err != nil {
				return err
			}
			rep.CPUProfiles = append(rep.CPUProfiles, path)
		}
	}

	rep.Finished = time.Now().UTC()
	rep.print(os.Stdout)
	if err := saveReport(cfg, "queries.json", rep); err != nil {
		return err
	}
	for _, q := range rep.Queries {
		if !q.Met {
			logf("query (%s) missed its target: %.2fx DuckDB's time, target %.1fx", q.ID, q.RatioBest, q.Target)
		}
	}
	return nil
}

// ensureQueryStore returns the directory of a local store holding the
// query table, building it unless a complete one with the same parameters
// is there (or -fresh asks for a new one).
func ensureQueryStore(ctx context.Context, cfg config, rep *queryReport) (string, error) {
	dir := filepath.Join(cfg.out, fmt.Sprintf("store-queries-%d-rows-%d-parts-%d-chunks-seed-%d",
		cfg.queryRows, cfg.queryPartitions, cfg.queryChunks, cfg.seed))
	want := queryStoreMarker{
		Rows: cfg.queryRows, Seed: cfg.seed, Partitions: cfg.queryPartitions, Chunks: cfg.queryChunks,
		RowGroupRows: queryRowGroupRows, PageBytes: queryPageBytes,
	}
	if !cfg.fresh {
		if data, err := os.ReadFile(filepath.Join(dir, queryMarker)); err == nil {
			var got queryStoreMarker
			if json.Unmarshal(data, &got) == nil {
				secs, created := got.IngestSeconds, got.Created
				got.IngestSeconds, got.Created = 0, time.Time{}
				if got == want {
					logf("reusing the query table in %s (built %s; -fresh rebuilds it)", dir, created.Format(time.RFC3339))
					rep.Reused, rep.IngestSeconds = true, secs
					return dir, nil
				}
			}
		}
	}

	// Every chunk's CSV first (reused across runs, like the ingest
	// benchmark's), then the table.
	var csvs []string
	left := cfg.queryRows
	for i := range cfg.queryChunks {
		n := cfg.queryRows / int64(cfg.queryChunks)
		if i == cfg.queryChunks-1 {
			n = left
		}
		left -= n
		p, err := ensureCSV(cfg.out, cfg.seed+uint64(i), n)
		if err != nil {
			return "", err
		}
		csvs = append(csvs, p)
	}
	spill := filepath.Join(cfg.out, "spill-queries")
	for _, d := range []string{dir, spill} {
		if err := os.RemoveAll(d); err != nil {
			return "", err
		}
	}
	defer os.RemoveAll(spill)
	if err := os.MkdirAll(spill, 0o755); err != nil {
		return "", err
	}
	store := "file://" + dir
	logf("building the query table: %d rows in %d partitions, %d ingests, in %s", cfg.queryRows, cfg.queryPartitions, len(csvs), dir)
	if _, err := runMeasured(ctx, nil, cfg.dormouse, "table", "create", queryTable, "--store", store,
		"--schema", benchSchema, "--split-points", strings.Join(splitPoints(cfg.queryPartitions), ","),
		"--property", fmt.Sprintf("row_group_rows=%d", queryRowGroupRows),
		"--property", fmt.Sprintf("page_size_bytes=%d", queryPageBytes)); err != nil {
		return "", err
	}
	var total time.Duration
	for i, csv := range csvs {
		st, err := runMeasured(ctx, nil, cfg.dormouse, "ingest", queryTable, csv, "--store", store, "--tmp", spill)
		if err != nil {
			return "", err
		}
		total += st.Wall
		logf("  ingest %d/%d: %s", i+1, len(csvs), strings.TrimSpace(string(st.Stdout)))
	}
	want.IngestSeconds, want.Created = total.Seconds(), time.Now().UTC()
	rep.IngestSeconds = want.IngestSeconds
	data, err := json.MarshalIndent(want, "", "  ")
	if err != nil {
		return "", err
	}
	return dir, os.WriteFile(filepath.Join(dir, queryMarker), append(data, '\n'), 0o644)
}

// splitPoints are the n-1 keys that split the standard rows' key space
// ("k" + 15 random digits) into n equal ranges.
func splitPoints(n int) []string {
	var pts []string
	for i := 1; i < n; i++ {
		pts = append(pts, fmt.Sprintf("k%015d", int64(float64(i)*1e15/float64(n))))
	}
	return pts
}

// listTableFiles lists the table's live data files with `dormouse report
// files --json`, as absolute paths for DuckDB, and checks that every file
// belongs whole to one partition (else DuckDB, reading whole files, would
// see rows twice).
func listTableFiles(ctx context.Context, cfg config, dir string, rep *queryReport) ([]string, error) {
	store := "file://" + dir
	var files, parts table.Report
	for _, x := range []struct {
		what string
		into *table.Report
	}{{"files", &files}, {"partitions", &parts}} {
		st, err := runMeasured(ctx, nil, cfg.dormouse, "report", x.what, queryTable, "--store", store, "--json")
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(st.Stdout, x.into); err != nil {
			return nil, fmt.Errorf("dormouse report %s --json: %w", x.what, err)
		}
	}
	if files.Rows != cfg.queryRows {
		return nil, fmt.Errorf("the query table in %s holds %d rows, want %d (run with -fresh)", dir, files.Rows, cfg.queryRows)
	}
	leaves := 0
	for _, p := range parts.Partitions {
		if p.Leaf {
			leaves++
		}
	}
	rep.Partitions = leaves
	var paths []string
	var rows int64
	for _, f := range files.Files {
		if len(f.References) == 0 {
			continue // awaiting garbage collection
		}
		if len(f.References) != 1 || !f.References[0].Whole {
			return nil, fmt.Errorf("file %s is referenced in part or by several partitions (%+v): DuckDB would read rows that are not the table's", f.Key, f.References)
		}
		paths = append(paths, filepath.Join(dir, filepath.FromSlash(f.Key)))
		rows += f.Rows
		rep.Bytes += f.Bytes
	}
	if rows != cfg.queryRows {
		return nil, fmt.Errorf("the table's files hold %d rows, want %d", rows, cfg.queryRows)
	}
	rep.Files = len(paths)
	return paths, nil
}

// timeQuery runs q on both engines once untimed (checking that they agree),
// then -query-repeat times each, alternating, so that other load on the
// machine disturbs both alike.
func timeQuery(ctx context.Context, cfg config, q queryCase, sess *dsql.Session, duck *dbsql.DB) (queryTiming, error) {
	qt := queryTiming{ID: q.ID, Name: q.Name, SQL: q.SQL, Target: q.Target}
	logf("query (%s) %s", q.ID, q.SQL)
	ours, err := runDormouse1(ctx, sess, q.SQL)
	if err != nil {
		return qt, fmt.Errorf("dormouse: %s: %w", q.SQL, err)
	}
	theirs, err := runDuckDB1(ctx, duck, q.SQL)
	if err != nil {
		return qt, fmt.Errorf("duckdb: %s: %w", q.SQL, err)
	}
	if err := sameAnswer(ours, theirs); err != nil {
		return qt, fmt.Errorf("query (%s) %s: the engines disagree: %w\ndormouse: %v\nduckdb:   %v", q.ID, q.SQL, err, ours, theirs)
	}
	qt.Answer = ours
	for range cfg.queryRepeat {
		wall, cpu, err := timed(func() error { _, err := runDormouse1(ctx, sess, q.SQL); return err })
		if err != nil {
			return qt, err
		}
		qt.DormouseAll, qt.DormouseCPUAll = append(qt.DormouseAll, wall), append(qt.DormouseCPUAll, cpu)
		wall, cpu, err = timed(func() error { _, err := runDuckDB1(ctx, duck, q.SQL); return err })
		if err != nil {
			return qt, err
		}
		qt.DuckDBAll, qt.DuckDBCPUAll = append(qt.DuckDBAll, wall), append(qt.DuckDBCPUAll, cpu)
	}
	qt.DormouseBest, qt.DormouseMed = bestMedian(qt.DormouseAll)
	qt.DuckDBBest, qt.DuckDBMed = bestMedian(qt.DuckDBAll)
	qt.DormouseCPUBest, _ = bestMedian(qt.DormouseCPUAll)
	qt.DuckDBCPUBest, _ = bestMedian(qt.DuckDBCPUAll)
	qt.RatioBest, qt.RatioMedian = qt.DormouseBest/qt.DuckDBBest, qt.DormouseMed/qt.DuckDBMed
	qt.Met = qt.RatioBest <= qt.Target
	logf("  dormouse best %.1f ms, median %.1f ms; duckdb best %.1f ms, median %.1f ms; ratio %.2fx (target %.1fx)",
		qt.DormouseBest, qt.DormouseMed, qt.DuckDBBest, qt.DuckDBMed, qt.RatioBest, qt.Target)
	return qt, nil
}

// runDormouse1 runs one statement through a Dormouse session and returns
// its rows as text, sorted.
func runDormouse1(ctx context.Context, sess *dsql.Session, text string) ([][]string, error) {
	rows, err := sess.Run(ctx, text)
	if err != nil {
		return nil, err
	}
	res, err := dsql.Collect(ctx, rows)
	if err != nil {
		return nil, err
	}
	out := make([][]string, len(res.Rows))
	for i, row := range res.Rows {
		out[i] = make([]string, len(row))
		for c, v := range row {
			if v == nil {
				out[i][c] = "NULL"
			} else {
				out[i][c] = *v
			}
		}
	}
	if !strings.HasPrefix(text, "EXPLAIN") {
		sortRows(out)
	}
	return out, nil
}

// runDuckDB1 runs one statement on DuckDB and returns its rows as text,
// sorted.
func runDuckDB1(ctx context.Context, db *dbsql.DB, text string) ([][]string, error) {
	rows, err := db.QueryContext(ctx, text)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]string
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			switch v := v.(type) {
			case nil:
				row[i] = "NULL"
			case []byte:
				row[i] = string(v)
			case float64:
				row[i] = strconv.FormatFloat(v, 'g', -1, 64)
			default: // integers, and *big.Int for HUGEINT sums
				row[i] = fmt.Sprint(v)
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sortRows(out)
	return out, nil
}

func sortRows(rows [][]string) {
	slices.SortFunc(rows, func(x, y []string) int { return slices.Compare(x, y) })
}

// sameAnswer compares two sorted results: equal text, or numbers within
// 1e-9 relative (sums of doubles may differ in the last bits).
func sameAnswer(x, y [][]string) error {
	if len(x) != len(y) {
		return fmt.Errorf("%d rows against %d", len(x), len(y))
	}
	for r := range x {
		if len(x[r]) != len(y[r]) {
			return fmt.Errorf("row %d: %d columns against %d", r, len(x[r]), len(y[r]))
		}
		for c := range x[r] {
			a, b := x[r][c], y[r][c]
			if a == b {
				continue
			}
			fa, ea := strconv.ParseFloat(a, 64)
			fb, eb := strconv.ParseFloat(b, 64)
			if ea != nil || eb != nil || math.Abs(fa-fb) > 1e-9*math.Max(math.Abs(fa), math.Abs(fb)) {
				return fmt.Errorf("row %d column %d: %q against %q", r, c, a, b)
			}
		}
	}
	return nil
}

// profileQuery runs q on Dormouse alone under the CPU profiler, for at
// least two seconds and five runs.
func profileQuery(ctx context.Context, sess *dsql.Session, q queryCase, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	start := time.Now()
	runs := 0
	for runs < 5 || time.Since(start) < 2*time.Second {
		if _, err := runDormouse1(ctx, sess, q.SQL); err != nil {
			pprof.StopCPUProfile()
			return err
		}
		runs++
	}
	pprof.StopCPUProfile()
	logf("profiled query (%s): %d runs in %.1fs into %s", q.ID, runs, time.Since(start).Seconds(), path)
	return nil
}

// queryProfilePath is where query id's CPU profile goes: the -cpuprofile
// name with "-queries-<id>" before its extension.
func queryProfilePath(base, id string) string {
	ext := filepath.Ext(base)
	return strings.TrimSuffix(base, ext) + "-queries-" + id + ext
}

func bestMedian(xs []float64) (best, median float64) {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0, 0
	}
	if len(s)%2 == 1 {
		return s[0], s[len(s)/2]
	}
	return s[0], (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// timed runs fn and returns its wall time and the CPU time this process
// spent meanwhile, in milliseconds. A garbage collection first, untimed,
// so that no engine pays for the garbage of the run before it.
func timed(fn func() error) (wallMs, cpuMs float64, err error) {
	runtime.GC()
	cpu0 := processCPU()
	start := time.Now()
	err = fn()
	wall := time.Since(start)
	return ms(wall), ms(processCPU() - cpu0), err
}

// processCPU is this process's user + system time so far, every thread's
// (Go's and DuckDB's alike).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (r *queryReport) print(w io.Writer) {
	fmt.Fprintf(w, "\nDormouse query benchmark: %s rows of (key VARCHAR, a BIGINT, b DOUBLE, c VARCHAR)\n", count(r.Rows))
	fmt.Fprintf(w, "in %d leaf partitions, %d Parquet files (%s, %d ingests, row groups of %d rows, %d KiB pages)",
		r.Partitions, r.Files, mib(r.Bytes), r.Chunks, r.RowGroupRows, r.PageBytes>>10)
	if r.Reused {
		fmt.Fprintf(w, ", store reused")
	} else {
		fmt.Fprintf(w, ", built in %.0fs", r.IngestSeconds)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%d CPUs, %s; Dormouse in process (sql package, parallelism %d) on its table;\n", r.CPUs, r.GoVersion, r.Parallelism)
	fmt.Fprintf(w, "DuckDB %s (threads=%d) in process on a view over read_parquet([the table's %d files]).\n", r.DuckDBVersion, r.DuckDBThreads, r.Files)
	fmt.Fprintf(w, "Both warmed by one untimed run (answers compared), then %d alternating timed runs;\n", r.Repeat)
	fmt.Fprintln(w, "times are wall clock, CPU is the process's user+system time over the run (all threads).")
	for _, q := range r.Queries {
		fmt.Fprintf(w, "  (%s) %s: %s\n", q.ID, q.Name, q.SQL)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "query\tdormouse best ms\tmedian\tCPU\tduckdb best ms\tmedian\tCPU\tours/DuckDB best\tmedian\tCPU\ttarget\tmet\t")
	for _, q := range r.Queries {
		met := "yes"
		if !q.Met {
			met = "NO"
		}
		fmt.Fprintf(tw, "(%s)\t%.1f\t%.1f\t%.0f\t%.1f\t%.1f\t%.0f\t%.2fx\t%.2fx\t%.2fx\t<= %.1fx\t%s\t\n", q.ID,
			q.DormouseBest, q.DormouseMed, q.DormouseCPUBest, q.DuckDBBest, q.DuckDBMed, q.DuckDBCPUBest,
			q.RatioBest, q.RatioMedian, q.DormouseCPUBest/q.DuckDBCPUBest, q.Target, met)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nDormouse EXPLAIN ANALYZE of (a):\n%s\n", r.Explain)
	fmt.Fprintln(w, "(files, row groups and pages count within the kept partitions; the pruned partitions' files\n"+
		"are never opened. Each ingest's random keys span a whole leaf, so every file of a kept leaf\n"+
		"meets the range: files prune by min/max key only where a leaf's files hold narrower ranges.)")
	for _, p := range r.CPUProfiles {
		fmt.Fprintf(w, "CPU profile of Dormouse: go tool pprof -top %s\n", p)
	}
	for _, n := range r.Notes {
		fmt.Fprintln(w, "note:", n)
	}
}
