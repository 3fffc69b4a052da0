package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/dormousedb/dormouse/bench/gen"
)

// The table the standard rows go into (bench/gen.Schema).
const benchSchema = "key:varchar:key, a:bigint, b:double, c:varchar"

// ingestRun is one load of a CSV into sorted Parquet by one contender.
type ingestRun struct {
	Name        string  `json:"name"`
	Engine      string  `json:"engine"` // dormouse or duckdb
	Rows        int64   `json:"rows"`
	Memory      string  `json:"memory"` // the bound asked for ("default" if none)
	Seconds     float64 `json:"seconds"`
	RowsPerSec  float64 `json:"rows_per_sec"`
	PeakRSS     int64   `json:"peak_rss_bytes"`
	PeakFrom    string  `json:"peak_rss_from"` // rusage (exact) or sampled (/proc VmHWM every 10ms)
	MaxRSS      int64   `json:"rusage_maxrss_bytes"`
	SampledHWM  int64   `json:"sampled_hwm_bytes"`
	ParentHWM   int64   `json:"parent_hwm_bytes"`
	CPUSeconds  float64 `json:"cpu_seconds"`
	OutputBytes int64   `json:"output_bytes"`
	OutputFiles int     `json:"output_files"`
	// AllSeconds and AllPeakRSS are every repetition's; the time figures
	// above are the fastest run's, the peak RSS the highest of any run
	// (it varies from run to run with the garbage collector's timing).
	AllSeconds []float64 `json:"all_seconds,omitempty"`
	AllPeakRSS []int64   `json:"all_peak_rss_bytes,omitempty"`
}

// summarize folds repeated runs into one: the fastest run's times with the
// highest peak RSS of all.
func summarize(runs []ingestRun) ingestRun {
	best, top := runs[0], runs[0]
	var secs []float64
	var peaks []int64
	for _, r := range runs {
		secs, peaks = append(secs, r.Seconds), append(peaks, r.PeakRSS)
		if r.Seconds < best.Seconds {
			best = r
		}
		if r.PeakRSS > top.PeakRSS {
			top = r
		}
	}
	best.PeakRSS, best.PeakFrom, best.MaxRSS, best.SampledHWM, best.ParentHWM =
		top.PeakRSS, top.PeakFrom, top.MaxRSS, top.SampledHWM, top.ParentHWM
	best.AllSeconds, best.AllPeakRSS = secs, peaks
	return best
}

func newIngestRun(name, engine, memory string, rows int64, st procStats) ingestRun {
	secs := st.Wall.Seconds()
	return ingestRun{
		Name: name, Engine: engine, Rows: rows, Memory: memory,
		Seconds: secs, RowsPerSec: float64(rows) / secs,
		PeakRSS: st.Peak, PeakFrom: st.PeakFrom, MaxRSS: st.MaxRSS, SampledHWM: st.SampledHWM, ParentHWM: st.ParentHWM,
		CPUSeconds: st.CPU.Seconds(),
	}
}

func benchIngest(ctx context.Context, cfg config, rep *report) error {
	// Every CSV is written before anything is measured, so that this
	// process stays small (see procStats.MaxRSS).
	sizes := scalingSizes(cfg.rows)
	csvs := map[int64]string{}
	for _, n := range sizes {
		p, err := ensureCSV(cfg.out, cfg.seed, n)
		if err != nil {
			return err
		}
		csvs[n] = p
	}
	full := csvs[cfg.rows]
	if info, err := os.Stat(full); err == nil {
		rep.CSVBytes = info.Size()
	}

	// The contenders alternate, so that other load on the machine disturbs
	// both alike; summarize keeps each one's fastest time and highest peak.
	var dmSmall ingestRun
	for _, memory := range []string{"", cfg.memory} {
		var dms, dds []ingestRun
		for range cfg.repeat {
			dm, err := runDormouse(ctx, cfg, full, cfg.rows, memory)
			if err != nil {
				return err
			}
			dd, err := runDuckDB(ctx, cfg, full, cfg.rows, memory)
			if err != nil {
				return err
			}
			rep.DuckDBVersion, rep.DuckDBThreads = dd.version, dd.threads
			dms, dds = append(dms, dm), append(dds, dd.run)
		}
		dm, dd := summarize(dms), summarize(dds)
		rep.Ingest = append(rep.Ingest, dm, dd)
		rep.IngestRatios = append(rep.IngestRatios, ratioOf(dm, dd))
		dmSmall = dm
	}

	for _, n := range sizes {
		if n == cfg.rows {
			rep.Scaling = append(rep.Scaling, dmSmall)
			continue
		}
		var runs []ingestRun
		for range cfg.repeat {
			r, err := runDormouse(ctx, cfg, csvs[n], n, cfg.memory)
			if err != nil {
				return err
			}
			runs = append(runs, r)
		}
		rep.Scaling = append(rep.Scaling, summarize(runs))
	}
	if cfg.cpuprofile != "" {
		if err := profileIngest(ctx, cfg, full); err != nil {
			return err
		}
		rep.CPUProfile = cfg.cpuprofile
	}
	return nil
}

// scalingSizes are the input sizes at which Dormouse's peak memory under
// one bound is shown: a tenth, four tenths and all of the rows.
func scalingSizes(rows int64) []int64 {
	return []int64{rows / 10, rows * 4 / 10, rows}
}

// ensureCSV writes n standard rows to a CSV in dir once and reuses it
// afterwards; a partly written file never takes its name.
func ensureCSV(dir string, seed uint64, n int64) (string, error) {
	path := filepath.Join(dir, fmt.Sprintf("rows-%d-seed-%d.csv", n, seed))
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	logf("writing %d rows to %s", n, path)
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return "", err
	}
	if err := gen.WriteCSV(f, seed, n); err != nil {
		f.Close()
		return "", fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return path, os.Rename(tmp, path)
}

var ingestedRe = regexp.MustCompile(`ingested (\d+) rows`)

// runDormouse creates a table in a fresh local store with bin/dormouse and
// ingests csv into it, measuring the ingest process. memory "" means the
// CLI's default bound.
func runDormouse(ctx context.Context, cfg config, csv string, rows int64, memory string) (ingestRun, error) {
	label := "default"
	if memory != "" {
		label = memory
	}
	dir := filepath.Join(cfg.out, "store-dormouse")
	spill := filepath.Join(cfg.out, "spill")
	for _, d := range []string{dir, spill} {
		if err := os.RemoveAll(d); err != nil {
			return ingestRun{}, err
		}
	}
	defer os.RemoveAll(dir)
	defer os.RemoveAll(spill)
	if err := os.MkdirAll(spill, 0o755); err != nil {
		return ingestRun{}, err
	}
	store := "file://" + dir
	if _, err := runMeasured(ctx, nil, cfg.dormouse, "table", "create", "bench", "--store", store, "--schema", benchSchema); err != nil {
		return ingestRun{}, err
	}
	args := []string{"ingest", "bench", csv, "--store", store, "--tmp", spill}
	if memory != "" {
		args = append(args, "--memory", memory)
	}
	logf("dormouse ingest: %d rows, memory %s", rows, label)
	st, err := runMeasured(ctx, nil, cfg.dormouse, args...)
	if err != nil {
		return ingestRun{}, err
	}
	m := ingestedRe.FindSubmatch(st.Stdout)
	if m == nil {
		return ingestRun{}, fmt.Errorf("dormouse ingest printed %q", st.Stdout)
	}
	if got, _ := strconv.ParseInt(string(m[1]), 10, 64); got != rows {
		return ingestRun{}, fmt.Errorf("dormouse ingested %d rows, want %d", got, rows)
	}
	name := "dormouse"
	if memory != "" {
		name += " --memory " + memory
	}
	r := newIngestRun(name, "dormouse", label, rows, st)
	r.OutputBytes, r.OutputFiles = dirBytes(dir, ".parquet")
	logf("  %.1fs, %.0f rows/s, peak RSS %s", r.Seconds, r.RowsPerSec, mib(r.PeakRSS))
	return r, nil
}

// duckdbResult is what the DuckDB child reports on stdout.
type duckdbResult struct {
	Rows    int64   `json:"rows"`
	Version string  `json:"version"`
	Threads int     `json:"threads"`
	Seconds float64 `json:"seconds"` // the COPY alone, inside the process
}

type duckdbRun struct {
	run     ingestRun
	version string
	threads int
}

// runDuckDB runs this binary as a DuckDB child that copies csv to one
// Parquet file sorted by key. memory "" leaves DuckDB's memory_limit at its
// default (80% of RAM).
func runDuckDB(ctx context.Context, cfg config, csv string, rows int64, memory string) (duckdbRun, error) {
	label := "default"
	if memory != "" {
		label = memory
	}
	out := filepath.Join(cfg.out, "duckdb.parquet")
	tmp := filepath.Join(cfg.out, "duckdb.tmp")
	for _, p := range []string{out, tmp} {
		if err := os.RemoveAll(p); err != nil {
			return duckdbRun{}, err
		}
	}
	defer os.RemoveAll(out)
	defer os.RemoveAll(tmp)
	self, err := os.Executable()
	if err != nil {
		return duckdbRun{}, err
	}
	logf("duckdb COPY: %d rows, memory_limit %s", rows, label)
	st, err := runMeasured(ctx, nil, self, "duckdb-child", csv, out, tmp, memory)
	if err != nil {
		return duckdbRun{}, err
	}
	var res duckdbResult
	if err := json.Unmarshal(st.Stdout, &res); err != nil {
		return duckdbRun{}, fmt.Errorf("duckdb child printed %q: %w", st.Stdout, err)
	}
	if res.Rows != rows {
		return duckdbRun{}, fmt.Errorf("duckdb copied %d rows, want %d", res.Rows, rows)
	}
	name := "duckdb"
	if memory != "" {
		name += " memory_limit=" + memory
	}
	r := newIngestRun(name, "duckdb", label, rows, st)
	if info, err := os.Stat(out); err == nil {
		r.OutputBytes, r.OutputFiles = info.Size(), 1
	}
	logf("  %.1fs, %.0f rows/s, peak RSS %s", r.Seconds, r.RowsPerSec, mib(r.PeakRSS))
	return duckdbRun{run: r, version: res.Version, threads: res.Threads}, nil
}

// ingestRatio compares a Dormouse run with the DuckDB run under the same
// memory setting.
type ingestRatio struct {
	Memory     string  `json:"memory"`
	RowsPerSec float64 `json:"rows_per_sec_dormouse_over_duckdb"`
	PeakRSS    float64 `json:"peak_rss_dormouse_over_duckdb"`
	CPUSeconds float64 `json:"cpu_seconds_dormouse_over_duckdb"`
	Output     float64 `json:"output_bytes_dormouse_over_duckdb"`
}

func ratioOf(dm, dd ingestRun) ingestRatio {
	return ingestRatio{
		Memory:     dm.Memory,
		RowsPerSec: dm.RowsPerSec / dd.RowsPerSec,
		PeakRSS:    float64(dm.PeakRSS) / float64(dd.PeakRSS),
		CPUSeconds: dm.CPUSeconds / dd.CPUSeconds,
		Output:     float64(dm.OutputBytes) / float64(dd.OutputBytes),
	}
}

// profileIngest runs one in-process Dormouse ingest of csv (default memory
// bound) under the CPU profiler, in a child so this process stays small.
func profileIngest(ctx context.Context, cfg config, csv string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	dir := filepath.Join(cfg.out, "store-profile")
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	logf("profiling an in-process dormouse ingest into %s", cfg.cpuprofile)
	_, err = runMeasured(ctx, nil, self, "profile-child", csv, dir, cfg.cpuprofile)
	return err
}
