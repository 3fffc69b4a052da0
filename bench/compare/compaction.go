package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dormousedb/dormouse/bench/gen"
	"github.com/dormousedb/dormouse/compactor"
	"github.com/dormousedb/dormouse/storage"
	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/ingest"
)

// The compaction benchmark (-only compaction): N sorted Parquet files of
// the standard rows, all in the one leaf of a Dormouse table, merged into
// one sorted file by a compaction job — `bin/dormouse compactor --once` in
// a child process — beside DuckDB doing the same merge with
//
//	COPY (SELECT * FROM read_parquet([...the same files...]) ORDER BY key) TO 'x.parquet' (FORMAT parquet, COMPRESSION zstd)
//
// in a child process of its own. The input files are the table's own data
// files, each written by one ingest of -compaction-file-rows rows (seeds
// seed, seed+1, …), so the two read byte-identical input.
//
// Then the same at the largest size with the fast codec
// (compactionFastCodec): a table whose compression_codec property is
// lz4_raw, so that its inputs were ingested with it too, as a table that
// keeps the property has them; DuckDB writes COMPRESSION lz4_raw from the
// same files.

const (
	compactionTable  = "bench"
	compactionMarker = "bench-ready.json"
	// sleeperRowsPerCPUSec is Sleeper's published compaction rate for its
	// Rust/DataFusion compactor, about a million rows per second per vCPU.
	sleeperRowsPerCPUSec = 1e6
	// compactionDefaultCodec and compactionFastCodec are the table
	// property compression_codec of the two configurations measured: the
	// default, and the fastest codec that still compresses.
	compactionDefaultCodec = "zstd"
	compactionFastCodec    = "lz4_raw"
)

// compactionRun is one merge by one contender: an ingestRun's figures
// (times of the child process, its peak RSS) for a merge of Files files.
type compactionRun struct {
	ingestRun
	Codec         string  `json:"codec"` // of the output, and of the inputs
	Files         int     `json:"files"`
	RowsPerCPUSec float64 `json:"rows_per_cpu_sec"`
}

// compactionReport is every figure of the compaction benchmark;
// compaction.json is its JSON.
type compactionReport struct {
	Started       time.Time `json:"started"`
	Finished      time.Time `json:"finished"`
	FileRows      int64     `json:"rows_per_input_file"`
	Seed          uint64    `json:"seed"`
	CPUs          int       `json:"cpus"`
	GoVersion     string    `json:"go_version"`
	DuckDBVersion string    `json:"duckdb_version,omitempty"`
	DuckDBThreads int       `json:"duckdb_threads,omitempty"`
	Repeat        int       `json:"repeat"`
	LoadAvg       float64   `json:"load_avg_at_start"`
	Store         string    `json:"store"`
	InputBytes    int64     `json:"input_bytes"` // of the largest case's files
	// Runs holds, per input size (smallest first), Dormouse's run then
	// DuckDB's; the largest size is the headline.
	Runs        []compactionRun `json:"runs"`
	RatioRows   float64         `json:"rows_per_sec_dormouse_over_duckdb"`
	RatioCore   float64         `json:"rows_per_cpu_sec_dormouse_over_duckdb"`
	RatioRSS    float64         `json:"peak_rss_dormouse_over_duckdb"`
	RatioOutput float64         `json:"output_bytes_dormouse_over_duckdb"`
	VsSleeper   float64         `json:"rows_per_cpu_sec_over_sleeper"`
	// RSSPerFile is, per contender, the growth of peak RSS per input file
	// from the smallest case to the largest: flat memory keeps it small.
	RSSPerFile map[string]int64 `json:"peak_rss_bytes_per_extra_input_file,omitempty"`
	// FastRuns are Dormouse's and DuckDB's runs at the largest size with
	// compactionFastCodec, FastStore their input tables.
	FastCodec     string          `json:"fast_codec"`
	FastStore     string          `json:"fast_store"`
	FastRuns      []compactionRun `json:"fast_runs"`
	FastRatioCore float64         `json:"fast_rows_per_cpu_sec_dormouse_over_duckdb"`
	// FastOverDefault compares Dormouse's fast-codec run with its default
	// one: rows per CPU second and output bytes.
	FastOverDefaultCore  float64  `json:"fast_over_default_rows_per_cpu_sec"`
	FastOverDefaultBytes float64  `json:"fast_over_default_output_bytes"`
	CPUProfile           string   `json:"cpu_profile,omitempty"`
	Notes                []string `json:"notes,omitempty"`
}

// compactionSizes are the numbers of input files compacted: the full
// number, and smaller ones to show that memory stays flat as input grows.
func compactionSizes(files int) []int {
	var out []int
	for _, n := range []int{3, 6} {
		if n < files {
			out = append(out, n)
		}
	}
	return append(out, files)
}

func benchCompaction(ctx context.Context, cfg config) error {
	rep := &compactionReport{
		Started: time.Now().UTC(), FileRows: cfg.compactionFileRows, Seed: cfg.seed,
		CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), Repeat: cfg.repeat, LoadAvg: loadAvg(),
	}
	if rep.LoadAvg > float64(rep.CPUs)/2 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("load average %.1f on %d CPUs at the start: other processes compete, so times are noisy (CPU seconds less so)", rep.LoadAvg, rep.CPUs))
	}
	sizes := compactionSizes(cfg.compactionFiles)
	root, err := ensureCompactionStores(ctx, cfg, sizes, compactionDefaultCodec)
	if err != nil {
		return err
	}
	rep.Store = root
	for _, n := range sizes {
		runs, inputs, err := compareCompaction(ctx, cfg, root, n, compactionDefaultCodec, rep)
		if err != nil {
			return err
		}
		rep.Runs = append(rep.Runs, runs...)
		if n == cfg.compactionFiles {
			_, rep.InputBytes = sumFileBytes(inputs)
		}
	}
	fastRoot, err := ensureCompactionStores(ctx, cfg, sizes[len(sizes)-1:], compactionFastCodec)
	if err != nil {
		return err
	}
	rep.FastCodec, rep.FastStore = compactionFastCodec, fastRoot
	if rep.FastRuns, _, err = compareCompaction(ctx, cfg, fastRoot, cfg.compactionFiles, compactionFastCodec, rep); err != nil {
		return err
	}
	dm, dd := rep.Runs[len(rep.Runs)-2], rep.Runs[len(rep.Runs)-1]
	fm, fd := rep.FastRuns[0], rep.FastRuns[1]
	rep.FastRatioCore = fm.RowsPerCPUSec / fd.RowsPerCPUSec
	rep.FastOverDefaultCore = fm.RowsPerCPUSec / dm.RowsPerCPUSec
	rep.FastOverDefaultBytes = float64(fm.OutputBytes) / float64(dm.OutputBytes)
	rep.RatioRows = dm.RowsPerSec / dd.RowsPerSec
	rep.RatioCore = dm.RowsPerCPUSec / dd.RowsPerCPUSec
	rep.RatioRSS = float64(dm.PeakRSS) / float64(dd.PeakRSS)
	rep.RatioOutput = float64(dm.OutputBytes) / float64(dd.OutputBytes)
	rep.VsSleeper = dm.RowsPerCPUSec / sleeperRowsPerCPUSec
	if first := rep.Runs[:2]; len(rep.Runs) > 2 {
		rep.RSSPerFile = map[string]int64{}
		for i, last := range []compactionRun{dm, dd} {
			rep.RSSPerFile[last.Engine] = (last.PeakRSS - first[i].PeakRSS) / int64(last.Files-first[i].Files)
		}
	}
	if cfg.cpuprofile != "" {
		path := profilePath(cfg.cpuprofile, "compaction")
		if err := profileCompaction(ctx, cfg, root, path); err != nil {
			return err
		}
		rep.CPUProfile = path
	}
	rep.Finished = time.Now().UTC()
	rep.print(os.Stdout)
	if err := saveReport(cfg, "compaction.json", rep); err != nil {
		return err
	}
	return nil
}

// compareCompaction runs Dormouse's and DuckDB's merges of the table of n
// files under root (whose compression_codec is codec), cfg.repeat times
// each, alternating, and returns the two summaries and the input files.
func compareCompaction(ctx context.Context, cfg config, root string, n int, codec string, rep *compactionReport) ([]compactionRun, []string, error) {
	inputs, err := storeParquetFiles(compactionStoreDir(root, n))
	if err != nil {
		return nil, nil, err
	}
	if len(inputs) != n {
		return nil, nil, fmt.Errorf("compaction store %s holds %d files, want %d (rebuild it with -fresh)", compactionStoreDir(root, n), len(inputs), n)
	}
	var dms, dds []compactionRun
	for range cfg.repeat {
		dm, err := runCompactor(ctx, cfg, root, n, codec)
		if err != nil {
			return nil, nil, err
		}
		dd, err := runDuckDBCompaction(ctx, cfg, inputs, n, codec, rep)
		if err != nil {
			return nil, nil, err
		}
		dms, dds = append(dms, dm), append(dds, dd)
	}
	return []compactionRun{summarizeCompaction(dms), summarizeCompaction(dds)}, inputs, nil
}

// summarizeCompaction folds repeated runs as summarize does.
func summarizeCompaction(runs []compactionRun) compactionRun {
	plain := make([]ingestRun, len(runs))
	for i, r := range runs {
		plain[i] = r.ingestRun
	}
	out := compactionRun{ingestRun: summarize(plain), Codec: runs[0].Codec, Files: runs[0].Files}
	out.RowsPerCPUSec = float64(out.Rows) / out.CPUSeconds
	return out
}

func newCompactionRun(name, engine, codec string, files int, rows int64, st procStats) compactionRun {
	if codec != compactionDefaultCodec {
		name += " " + codec
	}
	r := compactionRun{ingestRun: newIngestRun(name, engine, "default", rows, st), Codec: codec, Files: files}
	r.RowsPerCPUSec = float64(rows) / r.CPUSeconds
	return r
}

// compactionStoreDir is the store holding the table of n input files.
func compactionStoreDir(root string, n int) string {
	return filepath.Join(root, fmt.Sprintf("files-%d", n))
}

// compactionMarkerData marks a finished set of input stores.
type compactionMarkerData struct {
	Codec    string    `json:"codec,omitempty"` // "" for zstd
	Files    []int     `json:"files"`
	FileRows int64     `json:"rows_per_file"`
	Seed     uint64    `json:"seed"`
	Seconds  float64   `json:"ingest_seconds"`
	Created  time.Time `json:"created"`
}

// ensureCompactionStores builds, once, one store per input size, each with
// a table of that many files in its one leaf, its compression_codec
// property codec, and returns their parent directory. A finished set (its
// marker matching the parameters) is reused unless -fresh.
func ensureCompactionStores(ctx context.Context, cfg config, sizes []int, codec string) (string, error) {
	root := filepath.Join(cfg.out, fmt.Sprintf("store-compaction-%d-files-%d-rows-seed-%d", cfg.compactionFiles, cfg.compactionFileRows, cfg.seed))
	markCodec := ""
	if codec != compactionDefaultCodec {
		root += "-" + codec
		markCodec = codec
	}
	marker := filepath.Join(root, compactionMarker)
	if !cfg.fresh {
		var m compactionMarkerData
		if data, err := os.ReadFile(marker); err == nil && json.Unmarshal(data, &m) == nil && m.Codec == markCodec &&
			slices.Equal(m.Files, sizes) && m.FileRows == cfg.compactionFileRows && m.Seed == cfg.seed {
			logf("compaction: reusing the input tables in %s", root)
			return root, nil
		}
	}
	if err := os.RemoveAll(root); err != nil {
		return "", err
	}
	start := time.Now()
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	for _, n := range sizes {
		dir := compactionStoreDir(root, n)
		logf("compaction: ingesting %d sorted files of %d rows into %s (%s)", n, cfg.compactionFileRows, dir, codec)
		// In a child, so that this process stays small (see procStats).
		if _, err := runMeasured(ctx, nil, self, "compaction-setup-child", dir, strconv.Itoa(n),
			strconv.FormatInt(cfg.compactionFileRows, 10), strconv.FormatUint(cfg.seed, 10), codec); err != nil {
			return "", err
		}
	}
	m := compactionMarkerData{Codec: markCodec, Files: sizes, FileRows: cfg.compactionFileRows, Seed: cfg.seed,
		Seconds: time.Since(start).Seconds(), Created: time.Now().UTC()}
	return root, writeJSONFile(marker, m)
}

// compactionSetupChild is `compare compaction-setup-child DIR FILES ROWS
// SEED CODEC`: a table in a new store at DIR, its compression_codec
// CODEC, whose one leaf holds FILES files of ROWS standard rows each
// (seeds SEED, SEED+1, …), one ingest per file. The table's basic
// strategy with a batch of FILES makes exactly one job of them all.
func compactionSetupChild(ctx context.Context, args []string) error {
	if len(args) != 5 {
		return fmt.Errorf("want DIR FILES ROWS SEED CODEC, got %q", args)
	}
	dir := args[0]
	files, err1 := strconv.Atoi(args[1])
	rows, err2 := strconv.ParseInt(args[2], 10, 64)
	seed, err3 := strconv.ParseUint(args[3], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return fmt.Errorf("bad arguments %q", args)
	}
	db, err := storage.Open(ctx, "file://"+dir)
	if err != nil {
		return err
	}
	t, err := db.CreateTable(ctx, catalog.TableDef{Name: compactionTable, Schema: gen.Schema(), Properties: catalog.Properties{
		"compaction_strategy": "basic", "compaction_files_batch_size": strconv.Itoa(files), "compression_codec": args[4]}})
	if err != nil {
		return err
	}
	for i := range files {
		in := gen.NewRows(seed+uint64(i), rows, 64<<10, nil)
		res, err := ingest.Ingest(ctx, t, []ingest.RecordReader{in}, ingest.Options{TempDir: dir})
		if err != nil {
			return err
		}
		if len(res.Files) != 1 {
			return fmt.Errorf("ingest wrote %d files, want 1", len(res.Files))
		}
	}
	return nil
}

// storeParquetFiles lists the data files under a store directory, sorted.
func storeParquetFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".parquet") && !strings.Contains(d.Name(), "tmp") {
			out = append(out, p)
		}
		return nil
	})
	slices.Sort(out)
	return out, err
}

// sumFileBytes returns the number of files and their total size.
func sumFileBytes(paths []string) (int, int64) {
	var n int64
	for _, p := range paths {
		if info, err := os.Stat(p); err == nil {
			n += info.Size()
		}
	}
	return len(paths), n
}

// linkTree recreates the tree src at dst with hard links: the store never
// changes an object in place (it writes a temporary file and renames it),
// so a compaction in dst leaves src as it was.
func linkTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		return os.Link(p, target)
	})
}

var compactorRe = regexp.MustCompile(`compactor: (\d+) jobs created, (\d+) finished, (\d+) failed, (\d+) lost, (\d+) rows read`)

// runCompactor runs `bin/dormouse compactor --once` on a fresh copy of the
// table of n files, whose compression_codec is codec, and measures it: one
// job, merging every file.
func runCompactor(ctx context.Context, cfg config, root string, n int, codec string) (compactionRun, error) {
	work := filepath.Join(cfg.out, "store-compaction-work")
	if err := os.RemoveAll(work); err != nil {
		return compactionRun{}, err
	}
	defer os.RemoveAll(work)
	if err := linkTree(compactionStoreDir(root, n), work); err != nil {
		return compactionRun{}, err
	}
	before, err := storeParquetFiles(work)
	if err != nil {
		return compactionRun{}, err
	}
	rows := int64(n) * cfg.compactionFileRows
	logf("dormouse compactor --once: %d files, %d rows, %s", n, rows, codec)
	st, err := runMeasured(ctx, nil, cfg.dormouse, "compactor", "--once", "--store", "file://"+work,
		"--table", compactionTable, "--log-level", "warn")
	if err != nil {
		return compactionRun{}, err
	}
	m := compactorRe.FindSubmatch(st.Stdout)
	if m == nil {
		return compactionRun{}, fmt.Errorf("dormouse compactor printed %q", st.Stdout)
	}
	if string(m[1]) != "1" || string(m[2]) != "1" {
		return compactionRun{}, fmt.Errorf("dormouse compactor: %s, want 1 job created and finished", m[0])
	}
	if got, _ := strconv.ParseInt(string(m[5]), 10, 64); got != rows {
		return compactionRun{}, fmt.Errorf("dormouse compactor read %d rows, want %d", got, rows)
	}
	after, err := storeParquetFiles(work)
	if err != nil {
		return compactionRun{}, err
	}
	var outputs []string
	for _, p := range after {
		if _, found := slices.BinarySearch(before, p); !found {
			outputs = append(outputs, p)
		}
	}
	if len(outputs) != 1 {
		return compactionRun{}, fmt.Errorf("compaction left %d new files, want 1", len(outputs))
	}
	r := newCompactionRun("dormouse compactor", "dormouse", codec, n, rows, st)
	r.OutputFiles, r.OutputBytes = sumFileBytes(outputs)
	logf("  %.1fs, %.0f rows/s, %.0f rows/s/core, peak RSS %s", r.Seconds, r.RowsPerSec, r.RowsPerCPUSec, mib(r.PeakRSS))
	return r, nil
}

// runDuckDBCompaction runs this binary as a DuckDB child that merges the
// input files into one Parquet file sorted by key, compressed with codec.
func runDuckDBCompaction(ctx context.Context, cfg config, inputs []string, n int, codec string, rep *compactionReport) (compactionRun, error) {
	out := filepath.Join(cfg.out, "duckdb-compaction.parquet")
	tmp := filepath.Join(cfg.out, "duckdb-compaction.tmp")
	for _, p := range []string{out, tmp} {
		if err := os.RemoveAll(p); err != nil {
			return compactionRun{}, err
		}
	}
	defer os.RemoveAll(out)
	defer os.RemoveAll(tmp)
	self, err := os.Executable()
	if err != nil {
		return compactionRun{}, err
	}
	rows := int64(n) * cfg.compactionFileRows
	logf("duckdb COPY ... ORDER BY key: %d files, %d rows, %s", n, rows, codec)
	st, err := runMeasured(ctx, nil, self, append([]string{"duckdb-compaction-child", out, tmp, codec}, inputs...)...)
	if err != nil {
		return compactionRun{}, err
	}
	var res duckdbResult
	if err := json.Unmarshal(st.Stdout, &res); err != nil {
		return compactionRun{}, fmt.Errorf("duckdb child printed %q: %w", st.Stdout, err)
	}
	if res.Rows != rows {
		return compactionRun{}, fmt.Errorf("duckdb copied %d rows, want %d", res.Rows, rows)
	}
	rep.DuckDBVersion, rep.DuckDBThreads = res.Version, res.Threads
	r := newCompactionRun("duckdb COPY ORDER BY", "duckdb", codec, n, rows, st)
	r.OutputFiles, r.OutputBytes = sumFileBytes([]string{out})
	logf("  %.1fs, %.0f rows/s, %.0f rows/s/core, peak RSS %s", r.Seconds, r.RowsPerSec, r.RowsPerCPUSec, mib(r.PeakRSS))
	return r, nil
}

// duckdbCompactionChild is `compare duckdb-compaction-child OUT TMPDIR
// CODEC FILE...`: one COPY of the files, sorted by key, to OUT with
// COMPRESSION CODEC, reported as JSON on stdout. DuckDB runs with its
// defaults: every core, memory_limit 80% of RAM.
func duckdbCompactionChild(ctx context.Context, args []string) error {
	if len(args) < 4 {
		return fmt.Errorf("want OUT TMPDIR CODEC FILE..., got %q", args)
	}
	out, tmp, codec, files := args[0], args[1], args[2], args[3:]
	quoted := make([]string, len(files))
	for i, f := range files {
		quoted[i] = quote(f)
	}
	copySQL := fmt.Sprintf("COPY (SELECT * FROM read_parquet([%s]) ORDER BY key) TO %s (FORMAT parquet, COMPRESSION %s)",
		strings.Join(quoted, ", "), quote(out), codec)
	return duckdbCopy(ctx, tmp, "", copySQL)
}

// profileCompaction runs one compaction of the largest table in process,
// under the CPU profiler, in a child so that this process stays small.
func profileCompaction(ctx context.Context, cfg config, root, path string) error {
	work := filepath.Join(cfg.out, "store-compaction-profile")
	if err := os.RemoveAll(work); err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if err := linkTree(compactionStoreDir(root, cfg.compactionFiles), work); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	logf("profiling an in-process compaction into %s", path)
	_, err = runMeasured(ctx, nil, self, "compaction-profile-child", work, path)
	return err
}

// compactionProfileChild is `compare compaction-profile-child DIR
// PROFILE`: compactor.CreateJobs and compactor.Run on the table in DIR,
// in process, under the CPU profiler.
func compactionProfileChild(ctx context.Context, args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("want DIR PROFILE, got %q", args)
	}
	db, err := storage.Open(ctx, "file://"+args[0])
	if err != nil {
		return err
	}
	t, err := db.Table(ctx, compactionTable)
	if err != nil {
		return err
	}
	f, err := os.Create(args[1])
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	defer pprof.StopCPUProfile()
	jobs, err := compactor.CreateJobs(ctx, t, compactor.CreateOptions{})
	if err != nil {
		return err
	}
	for _, j := range jobs {
		res, err := compactor.Run(ctx, t, j, compactor.RunOptions{})
		if err != nil {
			return err
		}
		secs := res.Finished.Sub(res.Started).Seconds()
		fmt.Fprintf(os.Stderr, "bench: profiled compaction: %d rows in %.1fs (%.0f rows/s)\n", res.OutputRows, secs, float64(res.OutputRows)/secs)
	}
	return nil
}

// profilePath is base with "-name" before its extension.
func profilePath(base, name string) string {
	ext := filepath.Ext(base)
	return strings.TrimSuffix(base, ext) + "-" + name + ext
}

func (r *compactionReport) print(w io.Writer) {
	last := r.Runs[len(r.Runs)-1]
	fmt.Fprintf(w, "\nCompaction: %d sorted Parquet files of %s standard rows (%s) -> one file sorted by key, zstd (the default compression_codec)\n",
		last.Files, count(r.FileRows), mib(r.InputBytes))
	fmt.Fprintf(w, "%d CPUs, %s, DuckDB %s (threads=%d); each contender a child process, %d alternating runs:\n",
		r.CPUs, r.GoVersion, r.DuckDBVersion, r.DuckDBThreads, r.Repeat)
	fmt.Fprintln(w, "the fastest run's times, the highest peak RSS of any run; rows/s/core is rows over the child's CPU (user+sys) seconds")
	fmt.Fprintln(w, "  dormouse: bin/dormouse compactor --once (one job: a k-way merge of the files into one)")
	fmt.Fprintln(w, "  duckdb:   COPY (SELECT * FROM read_parquet([...the same files...]) ORDER BY key) TO '...' (FORMAT parquet, COMPRESSION zstd)")
	printCompactionRuns(w, r.Runs)
	fmt.Fprintf(w, "\nRatios at %d files, dormouse / duckdb: rows/s %.2fx, rows/s/core %.2fx, peak RSS %.2fx, output bytes %.2fx\n",
		last.Files, r.RatioRows, r.RatioCore, r.RatioRSS, r.RatioOutput)
	dm := r.Runs[len(r.Runs)-2]
	fmt.Fprintf(w, "Dormouse: %s rows/s per core, %.2fx Sleeper's published ~1,000,000 rows/s per vCPU (Rust/DataFusion compaction); target 3,000,000\n",
		count(int64(dm.RowsPerCPUSec)), r.VsSleeper)
	if r.RSSPerFile != nil {
		fmt.Fprintf(w, "Peak RSS per extra input file (%d to %d files): dormouse %s, duckdb %s\n",
			r.Runs[0].Files, last.Files, mib(r.RSSPerFile["dormouse"]), mib(r.RSSPerFile["duckdb"]))
	}
	for _, c := range r.Runs {
		if c.PeakFrom == "sampled" {
			fmt.Fprintln(w, "* peak RSS sampled from /proc/PID/status VmHWM every 10ms (see the ingest table's note)")
			break
		}
	}
	if len(r.FastRuns) == 2 {
		fm := r.FastRuns[0]
		fmt.Fprintf(w, "\nThe fast codec: tables with compression_codec = %s (inputs ingested with it too); DuckDB COPY ... (COMPRESSION %s) of the same files:\n",
			r.FastCodec, r.FastCodec)
		printCompactionRuns(w, r.FastRuns)
		fmt.Fprintf(w, "%s against the default zstd, dormouse: rows/s/core %.2fx (%s), output bytes %.2fx; dormouse / duckdb rows/s/core %.2fx\n",
			r.FastCodec, r.FastOverDefaultCore, count(int64(fm.RowsPerCPUSec)), r.FastOverDefaultBytes, r.FastRatioCore)
	}
	if r.CPUProfile != "" {
		fmt.Fprintf(w, "CPU profile of an in-process compaction: go tool pprof -top bin/bench-compare %s\n", r.CPUProfile)
	}
	for _, n := range r.Notes {
		fmt.Fprintln(w, "note:", n)
	}
}

// printCompactionRuns prints one table row per run.
func printCompactionRuns(w io.Writer, runs []compactionRun) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "contender\tcodec\tfiles\trows\tseconds\trows/s\tCPU s\trows/s/core\tpeak RSS\toutput\t")
	for _, c := range runs {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%.2f\t%s\t%.2f\t%s\t%s\t%s\t\n", c.Name, c.Codec, c.Files, count(c.Rows), c.Seconds,
			count(int64(c.RowsPerSec)), c.CPUSeconds, count(int64(c.RowsPerCPUSec)), peak(c.ingestRun), mib(c.OutputBytes))
	}
	tw.Flush()
}
