// Command compare is Dormouse's storage benchmark: a side-by-side run of
// Dormouse and DuckDB loading the same CSV into sorted Parquet, and the
// commit rate of a table's transaction log on a local disk and on S3
// (versitygw), and three queries over one table of Parquet files — a
// selective key range, a full narrow scan and a GROUP BY — answered by
// Dormouse's SQL engine and by DuckDB reading the table's very files. It
// prints tables and writes the same figures as JSON.
//
// It lives in its own Go module so that DuckDB (cgo) stays out of the main
// module's dependencies. Each contender runs as its own child process, so
// its peak memory is its own maximum resident set size:
//
//	dormouse  bin/dormouse table create + ingest into a fresh file:// store
//	duckdb    this binary re-run as `compare duckdb-child`, doing one COPY
//
// The queries run in this process, both engines alike (see queries.go).
//
// Usage (from the repository root; `make bench` does this under
// scripts/with-s3.sh, which provides the S3 server):
//
//	bench-compare [-rows N | -quick] [-memory 256MiB] [-out bench/out]
//	              [-dormouse bin/dormouse] [-repeat 3] [-commit-time 3s]
//	              [-only ingest|commits|compaction|grow|queries] [-cpuprofile FILE]
//	              [-query-rows 20000000] [-query-partitions 64] [-query-chunks 2]
//	              [-query-repeat 5] [-fresh]
//	              [-flight-rows 10000000] [-flight-partitions 8] [-flight-repeat 3]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"
)

// config is the parsed command line.
type config struct {
	rows       int64
	quick      bool
	seed       uint64
	memory     string // the small --memory bound that proves ingest spills
	out        string
	dormouse   string
	commitTime time.Duration
	only       string
	cpuprofile string
	repeat     int

	queryRows       int64
	queryPartitions int
	queryChunks     int
	queryRepeat     int
	fresh           bool

	compactionFiles    int   // input files of the compaction benchmark
	compactionFileRows int64 // rows per input file
	growRows           int64 // rows the grow case ingests
	growBatches        int   // ingests they arrive in

	pgbenchRows int64         // rows of the pgwire benchmark's table (pgbench.go)
	pgbenchTime time.Duration // how long pgbench runs on each server, in rounds of about 5 s

	flightRows       int64 // rows of the Flight SQL benchmark's table (flight.go)
	flightPartitions int
	flightRepeat     int
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Child modes: this binary re-run by itself.
	if len(os.Args) > 1 {
		var err error
		handled := true
		switch os.Args[1] {
		case "duckdb-child":
			err = duckdbChild(ctx, os.Args[2:])
		case "commit-child":
			err = commitChild(ctx, os.Args[2:])
		case "profile-child":
			err = profileChild(ctx, os.Args[2:])
		case "duckdb-compaction-child":
			err = duckdbCompactionChild(ctx, os.Args[2:])
		case "duckdb-copy-child":
			err = duckdbCopyChild(ctx, os.Args[2:])
		case "compaction-setup-child":
			err = compactionSetupChild(ctx, os.Args[2:])
		case "compaction-profile-child":
			err = compactionProfileChild(ctx, os.Args[2:])
		default:
			handled = false
		}
		if handled {
			if err != nil {
				fmt.Fprintf(os.Stderr, "compare %s: %v\n", os.Args[1], err)
				os.Exit(1)
			}
			return
		}
	}
	cfg, err := parseConfig(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(2)
	}
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

func parseConfig(args []string) (config, error) {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	var cfg config
	fs.Int64Var(&cfg.rows, "rows", 10_000_000, "rows to ingest (standard bench/gen rows)")
	fs.BoolVar(&cfg.quick, "quick", false, "a quick run: 1M rows (unless -rows is given), 1s per commit case, a query table of 2M rows (unless -query-rows is given), 3 runs per query")
	fs.Uint64Var(&cfg.seed, "seed", 1, "seed of the generated rows")
	fs.StringVar(&cfg.memory, "memory", "256MiB", "the small ingest memory bound (Dormouse --memory, DuckDB memory_limit)")
	fs.StringVar(&cfg.out, "out", "bench/out", "work directory: CSV, stores, storage.json (gitignored)")
	fs.StringVar(&cfg.dormouse, "dormouse", "bin/dormouse", "the dormouse binary (make build)")
	fs.DurationVar(&cfg.commitTime, "commit-time", 3*time.Second, "how long each commit case runs")
	fs.StringVar(&cfg.only, "only", "", "run only \"ingest\", \"commits\", \"compaction\", \"grow\", \"queries\", \"pgbench\", \"export\" or \"flight\"")
	fs.IntVar(&cfg.repeat, "repeat", 3, "run each ingest this many times, alternating contenders; report the fastest time and the highest peak RSS")
	fs.StringVar(&cfg.cpuprofile, "cpuprofile", "", "also profile one in-process Dormouse ingest of the full CSV into this file, and each query into FILE-queries-ID")
	fs.Int64Var(&cfg.queryRows, "query-rows", 20_000_000, "rows of the query benchmark's table")
	fs.IntVar(&cfg.queryPartitions, "query-partitions", 64, "leaf partitions of the query table (pre-split on the key)")
	fs.IntVar(&cfg.queryChunks, "query-chunks", 2, "ingests that build the query table (each leaf gets one file per ingest)")
	fs.IntVar(&cfg.queryRepeat, "query-repeat", 5, "timed runs of each query on each engine (after one untimed run)")
	fs.BoolVar(&cfg.fresh, "fresh", false, "rebuild the query table (and the compaction inputs) even if bench/out holds one built with the same parameters")
	fs.IntVar(&cfg.compactionFiles, "compaction-files", 11, "sorted input files of the compaction benchmark (also compacted: 3 and 6)")
	fs.Int64Var(&cfg.compactionFileRows, "compaction-file-rows", 1_000_000, "rows per input file of the compaction benchmark")
	fs.Int64Var(&cfg.growRows, "grow-rows", 20_000_000, "rows the grow case ingests while a compactor and a splitter run")
	fs.IntVar(&cfg.growBatches, "grow-batches", 200, "ingests the grow case's rows arrive in")
	fs.Int64Var(&cfg.pgbenchRows, "pgbench-rows", 10_000_000, "rows of the pgwire benchmark's table (point lookups with pgbench, Dormouse beside PostgreSQL)")
	fs.DurationVar(&cfg.pgbenchTime, "pgbench-time", 30*time.Second, "how long pgbench runs on each server, in alternating rounds of about 5 s")
	fs.Int64Var(&cfg.flightRows, "flight-rows", 10_000_000, "rows of the Flight SQL benchmark's table (read whole over Flight SQL, pgwire and by DuckDB)")
	fs.IntVar(&cfg.flightPartitions, "flight-partitions", 8, "leaf partitions of the Flight SQL benchmark's table")
	fs.IntVar(&cfg.flightRepeat, "flight-repeat", 3, "timed reads of the Flight SQL benchmark's table by each reader")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if cfg.quick {
		if !set["rows"] {
			cfg.rows = 1_000_000
		}
		if !set["commit-time"] {
			cfg.commitTime = time.Second
		}
		if !set["query-rows"] {
			cfg.queryRows = 2_000_000
		}
		if !set["query-repeat"] {
			cfg.queryRepeat = 3
		}
		if !set["compaction-file-rows"] {
			cfg.compactionFileRows = 200_000
		}
		if !set["grow-rows"] {
			cfg.growRows = 2_000_000
		}
		if !set["pgbench-rows"] {
			cfg.pgbenchRows = 1_000_000
		}
		if !set["pgbench-time"] {
			cfg.pgbenchTime = 10 * time.Second
		}
		if !set["flight-rows"] {
			cfg.flightRows = 1_000_000
		}
	}
	if cfg.repeat < 1 {
		return cfg, fmt.Errorf("-repeat %d: want at least 1", cfg.repeat)
	}
	if cfg.rows < 10 {
		return cfg, fmt.Errorf("-rows %d: want at least 10", cfg.rows)
	}
	switch cfg.only {
	case "", "ingest", "commits", "compaction", "grow", "queries", "pgbench", "export", "flight":
	default:
		return cfg, fmt.Errorf("-only %q: want ingest, commits, compaction, grow, queries or pgbench", cfg.only)
	}
	if cfg.compactionFiles < 2 || cfg.compactionFileRows < 1 || cfg.growBatches < 1 || cfg.growRows < int64(cfg.growBatches) {
		return cfg, fmt.Errorf("-compaction-files wants at least 2, -compaction-file-rows and -grow-batches at least 1, -grow-rows at least one row per batch")
	}
	if cfg.queryPartitions < 1 || cfg.queryChunks < 1 || cfg.queryRepeat < 1 {
		return cfg, fmt.Errorf("-query-partitions, -query-chunks and -query-repeat want at least 1")
	}
	if cfg.queryRows < int64(cfg.queryChunks) {
		return cfg, fmt.Errorf("-query-rows %d: want at least one row per chunk", cfg.queryRows)
	}
	if _, err := parseByteSize(cfg.memory); err != nil {
		return cfg, fmt.Errorf("-memory: %w", err)
	}
	var err error
	if cfg.out, err = filepath.Abs(cfg.out); err != nil {
		return cfg, err
	}
	if cfg.dormouse, err = filepath.Abs(cfg.dormouse); err != nil {
		return cfg, err
	}
	if cfg.cpuprofile != "" {
		if cfg.cpuprofile, err = filepath.Abs(cfg.cpuprofile); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

func run(ctx context.Context, cfg config) error {
	if err := os.MkdirAll(cfg.out, 0o755); err != nil {
		return err
	}
	rep := &report{
		Started:    time.Now().UTC(),
		Rows:       cfg.rows,
		Seed:       cfg.seed,
		SmallMem:   cfg.memory,
		CPUs:       runtime.NumCPU(),
		GoVersion:  runtime.Version(),
		CommitTime: cfg.commitTime.String(),
		Repeat:     cfg.repeat,
		LoadAvg:    loadAvg(),
	}
	if rep.LoadAvg > float64(rep.CPUs)/2 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("load average %.1f on %d CPUs at the start: other processes compete, so times are noisy", rep.LoadAvg, rep.CPUs))
	}
	if cfg.only != "commits" {
		if _, err := os.Stat(cfg.dormouse); err != nil {
			return fmt.Errorf("dormouse binary: %w (run make build)", err)
		}
	}
	if cfg.only == "" || cfg.only == "ingest" {
		if err := benchIngest(ctx, cfg, rep); err != nil {
			return err
		}
	}
	if cfg.only == "" || cfg.only == "commits" {
		if err := benchCommits(ctx, cfg, rep); err != nil {
			return err
		}
	}
	if cfg.only == "" || cfg.only == "ingest" || cfg.only == "commits" {
		rep.Finished = time.Now().UTC()
		rep.print(os.Stdout)
		if err := saveReport(cfg, "storage.json", rep); err != nil {
			return err
		}
	}
	// Compaction measures children's memory too, so it comes before the
	// in-process work.
	if cfg.only == "" || cfg.only == "compaction" {
		if err := benchCompaction(ctx, cfg); err != nil {
			return err
		}
	}
	if cfg.only == "" || cfg.only == "grow" {
		if err := benchGrow(ctx, cfg); err != nil {
			return err
		}
	}
	// Bulk export and import run as children too (export.go).
	if cfg.only == "" || cfg.only == "export" {
		if err := benchExport(ctx, cfg); err != nil {
			return err
		}
	}
	// The queries come last: they run in this process, which must stay
	// small while it measures its children's memory above.
	if cfg.only == "" || cfg.only == "queries" {
		if err := benchQueries(ctx, cfg); err != nil {
			return err
		}
	}
	// The Flight SQL benchmark reads from a serve child and DuckDB in this
	// process.
	if cfg.only == "" || cfg.only == "flight" {
		if err := benchFlight(ctx, cfg); err != nil {
			return err
		}
	}
	// The pgwire benchmark runs servers and clients as children.
	if cfg.only == "" || cfg.only == "pgbench" {
		return benchPgbench(ctx, cfg)
	}
	return nil
}

// loadAvg is the one-minute load average, 0 if unknown.
func loadAvg() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	var v float64
	fmt.Sscan(string(data), &v)
	return v
}

// logf reports progress on stderr; the results table goes to stdout.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}
