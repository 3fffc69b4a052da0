package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/dormousedb/dormouse/background"
	"github.com/dormousedb/dormouse/compactor"
	"github.com/dormousedb/dormouse/engine"
	"github.com/dormousedb/dormouse/export"
	"github.com/dormousedb/dormouse/internal/cores"
	"github.com/dormousedb/dormouse/metrics"
	"github.com/dormousedb/dormouse/splitter"
	"github.com/dormousedb/dormouse/sql"
	"github.com/dormousedb/dormouse/storage"
	"github.com/dormousedb/dormouse/storage/gc"
	"github.com/dormousedb/dormouse/storage/table"
)

// workerFlags are the flags every long-running worker command shares.
type workerFlags struct {
	store     *string
	tables    multiFlag
	once      *bool
	interval  *time.Duration
	logFormat *string
	logLevel  *string
	metrics   *string
	// m is the metrics setUp serves (nil without --metrics).
	m *metrics.Metrics
}

func newWorkerFlags(name, what string, interval time.Duration) (*flag.FlagSet, *workerFlags) {
	fs, store := newFlags(name, "")
	w := &workerFlags{store: store}
	fs.Var(&w.tables, "table", "work on this table only (repeatable; default every table)")
	w.once = fs.Bool("once", false, "do the "+what+" there is now and exit (for scripts)")
	w.interval = fs.Duration("interval", interval, "how long to wait between rounds that found nothing to do")
	w.logFormat = fs.String("log-format", "text", "log format: text or json")
	w.logLevel = fs.String("log-level", "info", "log level: debug, info, warn or error")
	w.metrics = fs.String("metrics", "", "serve Prometheus metrics on this address (e.g. 127.0.0.1:9464) at /metrics")
	return fs, w
}

// setUp opens the store, builds the logger and the table lister, and
// starts the metrics endpoint when asked. stop ends the metrics server.
func (w *workerFlags) setUp(ctx context.Context) (db *storage.DB, tables background.Tables, log *slog.Logger, stop func(), err error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(*w.logLevel)); err != nil {
		return nil, nil, nil, nil, usageError{"bad --log-level: " + err.Error()}
	}
	hopts := &slog.HandlerOptions{Level: level}
	switch *w.logFormat {
	case "text":
		log = slog.New(slog.NewTextHandler(os.Stderr, hopts))
	case "json":
		log = slog.New(slog.NewJSONHandler(os.Stderr, hopts))
	default:
		return nil, nil, nil, nil, usageError{"--log-format must be text or json"}
	}
	db, err = openDB(ctx, *w.store)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	all := compactor.AllTables(db)
	tables = all
	if len(w.tables) > 0 {
		names := append([]string(nil), w.tables...)
		tables = func(ctx context.Context) ([]*table.Table, error) {
			out := make([]*table.Table, 0, len(names))
			for _, n := range names {
				t, err := db.Table(ctx, n)
				if err != nil {
					return nil, err
				}
				out = append(out, t)
			}
			return out, nil
		}
		if _, err := tables(ctx); err != nil {
			return nil, nil, nil, nil, err
		}
	}
	stop = func() {}
	if *w.metrics != "" {
		var mu sync.Mutex
		var seen []*table.Table
		m := metrics.New(func() []*table.Table {
			mu.Lock()
			defer mu.Unlock()
			return seen
		})
		// The gauges describe the tables the last round listed.
		inner := tables
		tables = func(ctx context.Context) ([]*table.Table, error) {
			ts, err := inner(ctx)
			if err == nil {
				mu.Lock()
				seen = ts
				mu.Unlock()
			}
			return ts, err
		}
		table.SetObserver(m)
		w.m = m
		mctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := m.Serve(mctx, *w.metrics); err != nil && !errors.Is(err, context.Canceled) {
				log.Error("metrics server stopped", "addr", *w.metrics, "err", err)
			}
		}()
		log.Info("serving metrics", "addr", *w.metrics)
		stop = func() {
			cancel()
			<-done
			table.SetObserver(nil)
		}
	}
	return db, tables, log, stop, nil
}

func runCompactor(ctx context.Context, args []string) error {
	fs, wf := newWorkerFlags("compactor", "compaction", compactor.DefaultPoll)
	workers := fs.Int("workers", 1, "jobs to run at a time")
	mem := byteSize(0)
	fs.Var(&mem, "memory", "memory bound of each job (e.g. 256MiB; default the compactor's)")
	lease := fs.Duration("lease", compactor.DefaultLease, "how long a claimed job is held between renewals")
	noCreate := fs.Bool("no-create", false, "only run jobs other processes created")
	name := fs.String("name", "", "worker name in claims and the job history (default host-pid-random)")
	pos, err := parseFlags(fs, args)
	if err != nil || len(pos) != 0 {
		return orUsage(err, fs, "compactor takes no arguments")
	}
	_, tables, log, stop, err := wf.setUp(ctx)
	if err != nil {
		return err
	}
	defer stop()
	w := newCompactor(tables, log, *workers, int64(mem), *lease, *wf.interval, !*noCreate, *name)
	if *wf.once {
		st, err := w.RunOnce(ctx)
		fmt.Printf("compactor: %d jobs created, %d finished, %d failed, %d lost, %d rows read\n",
			st.Created, st.Finished, st.Failed, st.Lost, st.InputRows)
		return err
	}
	return w.Run(ctx)
}

func newCompactor(tables background.Tables, log *slog.Logger, workers int, mem int64, lease, poll time.Duration, create bool, name string) *compactor.Worker {
	return &compactor.Worker{Tables: tables, Workers: workers, Memory: mem, Lease: lease, Poll: poll,
		CreateJobs: create, Logger: log, Name: name}
}

func runSplit(ctx context.Context, args []string) error {
	fs, wf := newWorkerFlags("split", "partition splitting", 30*time.Second)
	pos, err := parseFlags(fs, args)
	if err != nil || len(pos) != 0 {
		return orUsage(err, fs, "split takes no arguments")
	}
	_, tables, log, stop, err := wf.setUp(ctx)
	if err != nil {
		return err
	}
	defer stop()
	round := func(ctx context.Context) (int, error) {
		return background.Split(ctx, tables, splitter.Options{Logger: log}, log)
	}
	if *wf.once {
		n, err := round(ctx)
		fmt.Printf("split: %d partitions split\n", n)
		return err
	}
	return background.Every(ctx, *wf.interval, log, "split", round)
}

func runGC(ctx context.Context, args []string) error {
	fs, wf := newWorkerFlags("gc", "garbage collection", time.Minute)
	delay := fs.Duration("delay", 0, "keep unreferenced files, orphans and temporary files this long (default each table's gc_delay)")
	pos, err := parseFlags(fs, args)
	if err != nil || len(pos) != 0 {
		return orUsage(err, fs, "gc takes no arguments")
	}
	db, tables, log, stop, err := wf.setUp(ctx)
	if err != nil {
		return err
	}
	defer stop()
	round := func(ctx context.Context) (int, error) {
		return collectAll(ctx, db, tables, gc.Options{Delay: *delay, Logger: log}, log)
	}
	if *wf.once {
		n, err := round(ctx)
		fmt.Printf("gc: %d objects deleted\n", n)
		return err
	}
	return background.Every(ctx, *wf.interval, log, "gc", round)
}

// runServe answers the PostgreSQL protocol and runs the background
// workers in-process: the embedded mode.
func runServe(ctx context.Context, args []string) error {
	fs, wf := newWorkerFlags("serve", "background work", 30*time.Second)
	workers := fs.Int("compactor-workers", 1, "compaction jobs to run at a time (0: no compaction in this process)")
	split := fs.Bool("split", true, "split partitions in this process")
	collect := fs.Bool("gc", true, "collect garbage in this process")
	listen := fs.String("listen", DefaultListen, "answer the PostgreSQL protocol on HOST:PORT (\"\" for none)")
	ff := addFlightFlags(fs)
	demo := fs.Int64("demo", 0, "create table demo with this many generated rows if the store lacks it (make run)")
	exportDir := fs.String("export-dir", DefaultExportDir, "COPY … TO and FROM a local path must stay below this directory (S3 is not confined)")
	exporters := fs.Int("exporter-workers", 1, "export and import tasks to run at a time for any process (0: none in this process)")
	pageCache := byteSize(engine.DefaultPageCacheBytes)
	fs.Var(&pageCache, "page-cache", "memory for decoded pages of point and narrow reads, e.g. 1GiB (0: none)")
	pos, err := parseFlags(fs, args)
	if err != nil || len(pos) != 0 {
		return orUsage(err, fs, "serve takes no arguments")
	}
	if *wf.once {
		return usageError{"serve does not take --once; use compactor, split or gc --once"}
	}
	if os.Getenv("GOMAXPROCS") == "" {
		// Twice as many Ps as cores: a goroutine writing to a client's
		// socket holds its P for the write (~10 µs), and with one P per
		// core the other sessions' statements wait for it. Work that
		// splits itself by core keeps to cores.N().
		runtime.GOMAXPROCS(2 * cores.N())
	}
	db, tables, log, stop, err := wf.setUp(ctx)
	if err != nil {
		return err
	}
	defer stop()
	var loops []func(context.Context) error
	if *demo > 0 {
		if err := ensureDemo(ctx, db, *demo, log); err != nil {
			return err
		}
	}
	cfg := sql.Config{PageCacheBytes: int64(pageCache)}
	if pageCache == 0 {
		cfg.PageCacheBytes = -1
	}
	if cfg.ExportDir, err = filepath.Abs(*exportDir); err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.ExportDir, 0o755); err != nil {
		return fmt.Errorf("create the export directory: %w", err)
	}
	// One engine for every front door and the exporter: one reader pool,
	// one cache of pinned table states.
	eng := sql.NewEngine(db, cfg)
	defer eng.Close()
	if wf.m != nil && eng.PageCache() != nil {
		wf.m.ObservePageCache(eng.PageCache())
	}
	if *exporters > 0 {
		w, err := newExporter(ctx, eng, *exporters, export.DefaultLease, export.DefaultPoll, 0, "", log)
		if err != nil {
			return err
		}
		loops = append(loops, w.Run)
	}
	if *listen != "" {
		serve, err := pgwireLoop(eng, *listen, log)
		if err != nil {
			return err
		}
		loops = append(loops, serve)
	}
	if serve, err := ff.start(ctx, eng, log); err != nil {
		return err
	} else if serve != nil {
		loops = append(loops, serve)
	}
	if *workers > 0 {
		w := newCompactor(tables, log, *workers, 0, compactor.DefaultLease, compactor.DefaultPoll, true, "")
		loops = append(loops, w.Run)
	}
	if *split {
		loops = append(loops, func(ctx context.Context) error {
			return background.Every(ctx, *wf.interval, log, "split", func(ctx context.Context) (int, error) {
				return background.Split(ctx, tables, splitter.Options{Logger: log}, log)
			})
		})
	}
	if *collect {
		loops = append(loops, func(ctx context.Context) error {
			return background.Every(ctx, *wf.interval, log, "gc", func(ctx context.Context) (int, error) {
				return collectAll(ctx, db, tables, gc.Options{Logger: log}, log)
			})
		})
	}
	log.Info("dormouse serving", "store", *wf.store, "background", describeLoops(*workers, *split, *collect))
	var wg sync.WaitGroup
	errs := make(chan error, len(loops))
	for _, l := range loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l(ctx); err != nil && ctx.Err() == nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// collectAll collects the garbage of the tables, and deletes what dropped
// tables left once their gc_delay is over.
func collectAll(ctx context.Context, db *storage.DB, tables background.Tables, opts gc.Options, log *slog.Logger) (int, error) {
	n, err := background.Collect(ctx, tables, opts, log)
	m, derr := background.CollectDropped(ctx, db, opts)
	return n + m, errors.Join(err, derr)
}

func describeLoops(workers int, split, collect bool) string {
	var parts []string
	if workers > 0 {
		parts = append(parts, fmt.Sprintf("compactor (%d workers)", workers))
	}
	if split {
		parts = append(parts, "split")
	}
	if collect {
		parts = append(parts, "gc")
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
