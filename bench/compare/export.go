package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// The bulk export and import benchmark (-only export):
//
//   - export: a table of N standard rows in exportPartitions leaf
//     partitions, written as Parquet (zstd) by `dormouse export` (one task
//     per partition, in parallel), beside DuckDB's
//     COPY (SELECT * FROM read_parquet(the table's files)) TO '…' (FORMAT
//     parquet, COMPRESSION zstd) over the very same files;
//   - export-order: the same rows ORDER BY a value column, a result that
//     is not a concatenation of partitions: one task, which sorts every row
//     (an external sort that spills past its memory bound), beside DuckDB's
//     COPY of the same ORDER BY;
//   - import: the files Dormouse exported, loaded by `dormouse import` into a
//     fresh table (sorted, partitioned, committed), beside DuckDB reading
//     them into one Parquet file sorted by key.
//
// Each contender runs in its own child process, so that its peak memory is
// its own; the two alternate -repeat times and the fastest run counts.

const (
	exportOrder      = " ORDER BY b" // the export-order case's order: a DOUBLE in random order
	exportTable      = "bench_export"
	exportPartitions = 16
	exportMarker     = "export-table.json"
)

// exportRun is one contender's best run of one case.
type exportRun struct {
	Case       string    `json:"case"`   // export or import
	Engine     string    `json:"engine"` // dormouse or duckdb
	Rows       int64     `json:"rows"`
	Seconds    float64   `json:"seconds"`
	RowsPerSec float64   `json:"rows_per_sec"`
	PeakRSS    int64     `json:"peak_rss_bytes"`
	PeakFrom   string    `json:"peak_rss_from"`
	CPUSeconds float64   `json:"cpu_seconds"`
	Files      int       `json:"output_files"`
	Bytes      int64     `json:"output_bytes"`
	AllSeconds []float64 `json:"all_seconds"`
}

type exportReport struct {
	Started    time.Time          `json:"started"`
	Rows       int64              `json:"rows"`
	Partitions int                `json:"partitions"`
	InputFiles int                `json:"input_files"`
	InputBytes int64              `json:"input_bytes"`
	Runs       []exportRun        `json:"runs"`
	Ratios     map[string]float64 `json:"ratios"`     // Dormouse rows/s over DuckDB's, per case
	RSSRatios  map[string]float64 `json:"rss_ratios"` // Dormouse peak RSS over DuckDB's, per case
}

func benchExport(ctx context.Context, cfg config) error {
	rep := &exportReport{Started: time.Now().UTC(), Rows: cfg.rows, Partitions: exportPartitions,
		Ratios: map[string]float64{}, RSSRatios: map[string]float64{}}
	dir, err := ensureExportStore(ctx, cfg)
	if err != nil {
		return err
	}
	inputs, err := storeParquetFiles(dir)
	if err != nil {
		return err
	}
	rep.InputFiles, rep.InputBytes = sumFileBytes(inputs)
	exported := filepath.Join(cfg.out, "export-dormouse")
	ordered := filepath.Join(cfg.out, "export-dormouse-order")
	defer os.RemoveAll(ordered)
	for _, c := range []struct {
		name     string
		dm, duck func() (exportRun, error)
	}{
		{"export",
			func() (exportRun, error) { return runDormouseExport(ctx, cfg, "export", dir, exported, "") },
			func() (exportRun, error) { return runDuckDBExport(ctx, cfg, "export", inputs, "") }},
		{"export-order",
			func() (exportRun, error) {
				return runDormouseExport(ctx, cfg, "export-order", dir, ordered, exportOrder)
			},
			func() (exportRun, error) { return runDuckDBExport(ctx, cfg, "export-order", inputs, exportOrder) }},
		{"import",
			func() (exportRun, error) { return runDormouseImport(ctx, cfg, exported) },
			func() (exportRun, error) { return runDuckDBImport(ctx, cfg, exported) }},
	} {
		var dms, dds []exportRun
		for range cfg.repeat {
			dm, err := c.dm()
			if err != nil {
				return err
			}
			dd, err := c.duck()
			if err != nil {
				return err
			}
			dms, dds = append(dms, dm), append(dds, dd)
		}
		dm, dd := bestExportRun(dms), bestExportRun(dds)
		rep.Runs = append(rep.Runs, dm, dd)
		rep.Ratios[c.name] = dm.RowsPerSec / dd.RowsPerSec
		rep.RSSRatios[c.name] = float64(dm.PeakRSS) / float64(dd.PeakRSS)
	}
	rep.print(os.Stdout)
	if err := saveReport(cfg, "export.json", rep); err != nil {
		return err
	}
	return nil
}

// bestExportRun keeps the fastest run, with every run's time and the
// highest peak memory of all.
func bestExportRun(runs []exportRun) exportRun {
	best := runs[0]
	var peak int64
	from := ""
	for _, r := range runs {
		best.AllSeconds = append(best.AllSeconds, r.Seconds)
		if r.Seconds < best.Seconds {
			all := best.AllSeconds
			best = r
			best.AllSeconds = all
		}
		if r.PeakRSS > peak {
			peak, from = r.PeakRSS, r.PeakFrom
		}
	}
	best.PeakRSS, best.PeakFrom = peak, from
	return best
}

func newExportRun(name, engine string, rows int64, st procStats) exportRun {
	secs := st.Wall.Seconds()
	return exportRun{Case: name, Engine: engine, Rows: rows, Seconds: secs, RowsPerSec: float64(rows) / secs,
		PeakRSS: st.Peak, PeakFrom: st.PeakFrom, CPUSeconds: st.CPU.Seconds()}
}

// ensureExportStore builds the table to export once (one ingest of the
// standard rows into exportPartitions leaves: one file per leaf) and
// reuses it while its parameters stay the same.
func ensureExportStore(ctx context.Context, cfg config) (string, error) {
	dir := filepath.Join(cfg.out, fmt.Sprintf("store-export-%d-rows-%d-parts-seed-%d", cfg.rows, exportPartitions, cfg.seed))
	if !cfg.fresh {
		if _, err := os.Stat(filepath.Join(dir, exportMarker)); err == nil {
			logf("reusing the export table in %s (-fresh rebuilds it)", dir)
			return dir, nil
		}
	}
	if err := buildStandardStore(ctx, cfg, dir, exportTable, cfg.rows, exportPartitions, "the export table"); err != nil {
		return "", err
	}
	return dir, os.WriteFile(filepath.Join(dir, exportMarker), []byte(`{"rows": `+strconv.FormatInt(cfg.rows, 10)+"}\n"), 0o644)
}

var exportedRe = regexp.MustCompile(`exported (\d+) rows .*: (\d+) files, (\d+) bytes`)

func runDormouseExport(ctx context.Context, cfg config, name, store, out, order string) (exportRun, error) {
	logf("dormouse %s: %d rows in %d partitions", name, cfg.rows, exportPartitions)
	st, err := runMeasured(ctx, []string{"CI=true"}, cfg.dormouse, "export", "--store", "file://"+store, "--to", out,
		"--overwrite", "SELECT * FROM "+exportTable+order)
	if err != nil {
		return exportRun{}, err
	}
	m := exportedRe.FindSubmatch(st.Stdout)
	if m == nil {
		return exportRun{}, fmt.Errorf("dormouse export said %q", st.Stdout)
	}
	rows, _ := strconv.ParseInt(string(m[1]), 10, 64)
	if rows != cfg.rows {
		return exportRun{}, fmt.Errorf("dormouse exported %d rows, want %d", rows, cfg.rows)
	}
	r := newExportRun(name, "dormouse", rows, st)
	r.Files, _ = strconv.Atoi(string(m[2]))
	r.Bytes, _ = strconv.ParseInt(string(m[3]), 10, 64)
	return r, nil
}

func runDuckDBExport(ctx context.Context, cfg config, name string, inputs []string, order string) (exportRun, error) {
	out := filepath.Join(cfg.out, "export-duckdb.parquet")
	os.Remove(out)
	defer os.Remove(out)
	list, _ := json.Marshal(inputs)
	sql := fmt.Sprintf("COPY (SELECT * FROM read_parquet(%s)%s) TO %s (FORMAT parquet, COMPRESSION zstd)",
		strings.ReplaceAll(string(list), `"`, `'`), order, quote(out))
	return runDuckDBCopy(ctx, cfg, name, sql, out)
}

var importedRe = regexp.MustCompile(`imported (\d+) rows`)

func runDormouseImport(ctx context.Context, cfg config, exported string) (exportRun, error) {
	dir := filepath.Join(cfg.out, "store-import")
	if err := os.RemoveAll(dir); err != nil {
		return exportRun{}, err
	}
	defer os.RemoveAll(dir)
	store := "file://" + dir
	if _, err := runMeasured(ctx, nil, cfg.dormouse, "table", "create", "bench_import", "--store", store,
		"--schema", benchSchema, "--split-points", strings.Join(splitPoints(exportPartitions), ",")); err != nil {
		return exportRun{}, err
	}
	logf("dormouse import: %d rows from %s", cfg.rows, exported)
	st, err := runMeasured(ctx, []string{"CI=true"}, cfg.dormouse, "import", "--store", store, "bench_import",
		exported+"/*.parquet", "--job-bytes", strconv.FormatInt(1<<30, 10))
	if err != nil {
		return exportRun{}, err
	}
	m := importedRe.FindSubmatch(st.Stdout)
	if m == nil {
		return exportRun{}, fmt.Errorf("dormouse import said %q", st.Stdout)
	}
	rows, _ := strconv.ParseInt(string(m[1]), 10, 64)
	if rows != cfg.rows {
		return exportRun{}, fmt.Errorf("dormouse imported %d rows, want %d", rows, cfg.rows)
	}
	r := newExportRun("import", "dormouse", rows, st)
	r.Bytes, r.Files = dirBytes(filepath.Join(dir, "tables"), ".parquet")
	return r, nil
}

func runDuckDBImport(ctx context.Context, cfg config, exported string) (exportRun, error) {
	out := filepath.Join(cfg.out, "import-duckdb.parquet")
	os.Remove(out)
	defer os.Remove(out)
	sql := fmt.Sprintf("COPY (SELECT * FROM read_parquet(%s) ORDER BY key) TO %s (FORMAT parquet, COMPRESSION zstd)",
		quote(exported+"/*.parquet"), quote(out))
	return runDuckDBCopy(ctx, cfg, "import", sql, out)
}

// runDuckDBCopy runs one COPY in a DuckDB child (duckdb-copy-child) and
// measures it.
func runDuckDBCopy(ctx context.Context, cfg config, name, sql, out string) (exportRun, error) {
	tmp := filepath.Join(cfg.out, "spill-duckdb-export")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return exportRun{}, err
	}
	defer os.RemoveAll(tmp)
	logf("duckdb %s: %d rows", name, cfg.rows)
	self, err := os.Executable()
	if err != nil {
		return exportRun{}, err
	}
	st, err := runMeasured(ctx, nil, self, "duckdb-copy-child", tmp, sql)
	if err != nil {
		return exportRun{}, err
	}
	var res duckdbResult
	if err := json.Unmarshal(st.Stdout, &res); err != nil {
		return exportRun{}, fmt.Errorf("duckdb child said %q: %w", st.Stdout, err)
	}
	if res.Rows != cfg.rows {
		return exportRun{}, fmt.Errorf("duckdb %s wrote %d rows, want %d", name, res.Rows, cfg.rows)
	}
	r := newExportRun(name, "duckdb", res.Rows, st)
	if info, err := os.Stat(out); err == nil {
		r.Files, r.Bytes = 1, info.Size()
	}
	return r, nil
}

// duckdbCopyChild is `compare duckdb-copy-child TMPDIR SQL`: one COPY in a
// fresh DuckDB with its default memory limit, reported as JSON.
func duckdbCopyChild(ctx context.Context, args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("want TMPDIR SQL, got %q", args)
	}
	return duckdbCopy(ctx, args[0], "", args[1])
}

func (r *exportReport) print(w io.Writer) {
	fmt.Fprintf(w, "\nBulk export and import: %d standard rows, %d partitions (%d input files, %s)\n",
		r.Rows, r.Partitions, r.InputFiles, mib(r.InputBytes))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "case\tengine\tseconds\trows/s\tpeak RSS\tCPU s\tfiles\toutput\t")
	for _, run := range r.Runs {
		fmt.Fprintf(tw, "%s\t%s\t%.2f\t%.0f\t%s\t%.1f\t%d\t%s\t\n", run.Case, run.Engine, run.Seconds, run.RowsPerSec,
			mib(run.PeakRSS), run.CPUSeconds, run.Files, mib(run.Bytes))
	}
	tw.Flush()
	for _, c := range []string{"export", "export-order", "import"} {
		target := ""
		if c == "export" {
			target = " (target: rows/s >= 1.0x, memory bounded whatever the size)"
		}
		fmt.Fprintf(w, "%s: Dormouse / DuckDB rows/s = %.2fx, peak RSS %.2fx%s\n", c, r.Ratios[c], r.RSSRatios[c], target)
	}
}
