package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"
)

// report is every figure of a run; storage.json is its JSON.
type report struct {
	Started       time.Time     `json:"started"`
	Finished      time.Time     `json:"finished"`
	Rows          int64         `json:"rows"`
	Seed          uint64        `json:"seed"`
	CSVBytes      int64         `json:"csv_bytes,omitempty"`
	SmallMem      string        `json:"small_memory"`
	CPUs          int           `json:"cpus"`
	GoVersion     string        `json:"go_version"`
	DuckDBVersion string        `json:"duckdb_version,omitempty"`
	DuckDBThreads int           `json:"duckdb_threads,omitempty"`
	CommitTime    string        `json:"commit_time"`
	Repeat        int           `json:"repeat"`
	LoadAvg       float64       `json:"load_avg_at_start"`
	Ingest        []ingestRun   `json:"ingest,omitempty"`
	IngestRatios  []ingestRatio `json:"ingest_ratios,omitempty"`
	Scaling       []ingestRun   `json:"dormouse_memory_scaling,omitempty"`
	CPUProfile    string        `json:"cpu_profile,omitempty"`
	Commits       []commitCase  `json:"commits,omitempty"`
	Notes         []string      `json:"notes,omitempty"`
}

// saveReport writes a benchmark's report as JSON to name in the output
// directory and says where.
func saveReport(cfg config, name string, rep any) error {
	path := filepath.Join(cfg.out, name)
	if err := writeJSONFile(path, rep); err != nil {
		return err
	}
	fmt.Printf("\nJSON: %s\n", path)
	return nil
}

// writeJSONFile writes v as indented JSON.
func writeJSONFile(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "\nDormouse storage benchmark: %s rows of (key VARCHAR, a BIGINT, b DOUBLE, c VARCHAR)\n", count(r.Rows))
	fmt.Fprintf(w, "%d CPUs, %s", r.CPUs, r.GoVersion)
	if r.DuckDBVersion != "" {
		fmt.Fprintf(w, ", DuckDB %s (threads=%d)", r.DuckDBVersion, r.DuckDBThreads)
	}
	fmt.Fprintln(w)
	if len(r.Ingest) > 0 {
		r.printIngest(w)
	}
	if len(r.Commits) > 0 {
		r.printCommits(w)
	}
	for _, n := range r.Notes {
		fmt.Fprintln(w, "note:", n)
	}
}

func (r *report) printIngest(w io.Writer) {
	fmt.Fprintf(w, "\nIngest: CSV (%s) -> Parquet sorted by key, zstd; each contender a child process,\n", mib(r.CSVBytes))
	fmt.Fprintf(w, "%d alternating runs each: the fastest run's times, the highest peak RSS of any run\n", r.Repeat)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "contender\tmemory\tseconds\trows/s\tpeak RSS\tCPU s\toutput\tfiles\t")
	for _, in := range r.Ingest {
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%s\t%s\t%.1f\t%s\t%d\t\n", in.Name, in.Memory, in.Seconds,
			count(int64(in.RowsPerSec)), peak(in), in.CPUSeconds, mib(in.OutputBytes), in.OutputFiles)
	}
	tw.Flush()

	fmt.Fprintln(w, "\nRatios, dormouse / duckdb (rows/s above 1: Dormouse faster; peak RSS above 1: Dormouse bigger)")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "memory\trows/s\tpeak RSS\tCPU s\toutput bytes\t")
	for _, x := range r.IngestRatios {
		fmt.Fprintf(tw, "%s\t%.2fx\t%.2fx\t%.2fx\t%.2fx\t\n", x.Memory, x.RowsPerSec, x.PeakRSS, x.CPUSeconds, x.Output)
	}
	tw.Flush()

	if len(r.Scaling) > 0 {
		fmt.Fprintf(w, "\nDormouse peak RSS with --memory %s as the input grows\n", r.SmallMem)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "rows\tseconds\trows/s\tpeak RSS\t")
		for _, in := range r.Scaling {
			fmt.Fprintf(tw, "%s\t%.1f\t%s\t%s\t\n", count(in.Rows), in.Seconds, count(int64(in.RowsPerSec)), peak(in))
		}
		tw.Flush()
	}
	for _, in := range append(r.Ingest, r.Scaling...) {
		if in.PeakFrom == "sampled" {
			fmt.Fprintf(w, "\n* sampled from /proc/PID/status VmHWM every 10ms: the child peaked below this process's\n"+
				"  own %s, which Linux folds into a vfork'd child's rusage maxrss\n", mib(in.ParentHWM))
			break
		}
	}
	if r.CPUProfile != "" {
		fmt.Fprintf(w, "\nCPU profile of an in-process Dormouse ingest: go tool pprof -top %s\n", r.CPUProfile)
	}
}

func (r *report) printCommits(w io.Writer) {
	fmt.Fprintf(w, "\nCommits: each a tiny AddFiles transaction (one fake one-row file), %s per case;\n", r.CommitTime)
	fmt.Fprintln(w, "goroutines share one open table (group commit), processes race for each log entry;")
	fmt.Fprintln(w, "every case starts from an empty table, which ends with one file per commit")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "store\tcommitters\tcommits\tcommits/s\tlog entries/s\ttxns/entry\tp50 ms\tp99 ms\tfailed\t")
	for _, c := range r.Commits {
		mode := c.Mode
		if c.Committers == 1 {
			mode = map[string]string{"goroutines": "goroutine", "processes": "process"}[mode]
		}
		fmt.Fprintf(tw, "%s\t%d %s\t%d\t%.0f\t%.0f\t%.1f\t%.1f\t%.1f\t%d\t\n", c.Store, c.Committers, mode,
			c.Commits, c.CommitsPerSec, c.EntriesPerSec, c.TxnsPerEntry, c.P50Ms, c.P99Ms, c.Failed)
	}
	tw.Flush()
}

// peak formats a run's peak RSS, starred when sampled rather than exact.
func peak(in ingestRun) string {
	if in.PeakFrom == "sampled" {
		return mib(in.PeakRSS) + "*"
	}
	return mib(in.PeakRSS)
}

// mib formats a byte count in MiB.
func mib(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20)) }

// count formats an integer with thousands separators.
func count(n int64) string {
	s := strconv.FormatInt(n, 10)
	out := make([]byte, 0, len(s)+len(s)/3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}
