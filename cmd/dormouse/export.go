package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dormousedb/dormouse/export"
	"github.com/dormousedb/dormouse/sql"
)

// DefaultExportDir is where `dormouse serve` lets COPY … TO write local
// files (--export-dir).
const DefaultExportDir = "./data/exports"

// bulkFlags are the options export and import share, as flags.
type bulkFlags struct {
	format, delimiter, null, compression *string
	header, overwrite                    *bool
	maxFileRows, jobBytes                *int64
	workers                              *int
}

func addBulkFlags(fs *flag.FlagSet, exporting bool) *bulkFlags {
	b := &bulkFlags{
		format:    fs.String("format", "parquet", "parquet or csv"),
		header:    fs.Bool("header", false, "CSV: a header line names the columns"),
		delimiter: fs.String("delimiter", "", "CSV field delimiter (default ',')"),
		null:      fs.String("null", "", "CSV text of NULL (default: an empty field)"),
		workers:   fs.Int("workers", 0, "tasks this process runs at a time (default: one per core)"),
	}
	if exporting {
		b.compression = fs.String("compression", "", "Parquet codec: zstd (default), snappy or none")
		b.maxFileRows = fs.Int64("max-file-rows", 0, "start a new file after this many rows (default: one file per partition)")
		b.overwrite = fs.Bool("overwrite", false, "replace an export already at the target")
	} else {
		b.jobBytes = fs.Int64("job-bytes", export.DefaultJobBytes, "bytes of input files per import task")
	}
	return b
}

// options turns the flags into export options, as COPY's WITH list would.
func (b *bulkFlags) options() (export.Options, error) {
	o := export.DefaultOptions()
	set := func(name, value string) error {
		if err := o.Set(name, value, true); err != nil {
			return usageError{err.Error()}
		}
		return nil
	}
	if err := set("format", *b.format); err != nil {
		return o, err
	}
	pairs := [][2]string{}
	if *b.header {
		pairs = append(pairs, [2]string{"header", "true"})
	}
	if *b.delimiter != "" {
		pairs = append(pairs, [2]string{"delimiter", *b.delimiter})
	}
	if *b.null != "" {
		pairs = append(pairs, [2]string{"null", *b.null})
	}
	if b.compression != nil && *b.compression != "" {
		pairs = append(pairs, [2]string{"compression", *b.compression})
	}
	if b.maxFileRows != nil && *b.maxFileRows > 0 {
		pairs = append(pairs, [2]string{"max_file_rows", fmt.Sprint(*b.maxFileRows)})
	}
	if b.overwrite != nil && *b.overwrite {
		pairs = append(pairs, [2]string{"overwrite", "true"})
	}
	if b.jobBytes != nil && *b.jobBytes > 0 {
		pairs = append(pairs, [2]string{"job_bytes", fmt.Sprint(*b.jobBytes)})
	}
	for _, p := range pairs {
		if err := set(p[0], p[1]); err != nil {
			return o, err
		}
	}
	if err := o.Check(); err != nil {
		return o, usageError{err.Error()}
	}
	return o, nil
}

func runExport(ctx context.Context, args []string) error {
	fs, store := newFlags("export", `--to TARGET "SELECT …"`)
	to := fs.String("to", "", "where to write: s3://bucket/prefix/, file:///dir/ or /dir")
	detach := fs.Bool("detach", false, "record the export and exit: `dormouse exporter` processes (or serve) run it")
	bf := addBulkFlags(fs, true)
	pos, err := parseFlags(fs, args)
	if err != nil || len(pos) != 1 || *to == "" {
		return orUsage(err, fs, "export takes --to TARGET and one query")
	}
	opts, err := bf.options()
	if err != nil {
		return err
	}
	db, err := openDB(ctx, *store)
	if err != nil {
		return err
	}
	sess := sql.NewEngine(db, sql.Config{Parallelism: *bf.workers}).NewSession()
	if *detach {
		e, err := sess.StartExport(ctx, pos[0], *to, opts)
		if err != nil {
			return describeSQLError(pos[0], err)
		}
		fmt.Printf("export %s recorded: %d tasks to %s (see dormouse report exports)\n", e.ID, len(e.Tasks), e.Target.URL)
		return nil
	}
	bar := newBulkBar(os.Stderr, "export")
	start := time.Now()
	e, err := sess.Export(ctx, pos[0], *to, opts, bar.watch())
	bar.done()
	if err != nil {
		return describeSQLError(pos[0], err)
	}
	rows, bytes := e.Rows()
	secs := time.Since(start).Seconds()
	files := 0
	for _, t := range e.Tasks {
		files += len(t.Files)
	}
	fmt.Printf("exported %d rows to %s: %d files, %d bytes, %d tasks, %.2fs (%.0f rows/s); export %s\n",
		rows, e.Target.URL, files, bytes, len(e.Tasks), secs, float64(rows)/secs, e.ID)
	return nil
}

func runImport(ctx context.Context, args []string) error {
	fs, store := newFlags("import", "TABLE SOURCE")
	detach := fs.Bool("detach", false, "record the import and exit: `dormouse exporter` processes (or serve) run it")
	bf := addBulkFlags(fs, false)
	pos, err := parseFlags(fs, args)
	if err != nil || len(pos) != 2 {
		return orUsage(err, fs, "import takes a table and a source: s3://bucket/prefix/, file:///dir/, a glob or a file")
	}
	opts, err := bf.options()
	if err != nil {
		return err
	}
	source := pos[1]
	if !filepath.IsAbs(source) && !hasScheme(source) {
		if source, err = filepath.Abs(source); err != nil {
			return err
		}
	}
	db, err := openDB(ctx, *store)
	if err != nil {
		return err
	}
	sess := sql.NewEngine(db, sql.Config{Parallelism: *bf.workers}).NewSession()
	if *detach {
		e, err := sess.StartImport(ctx, pos[0], source, opts)
		if err != nil {
			return describeSQLError("", err)
		}
		fmt.Printf("import %s recorded: %d tasks from %s (see dormouse report exports)\n", e.ID, len(e.Tasks), e.Target.URL)
		return nil
	}
	bar := newBulkBar(os.Stderr, "import")
	start := time.Now()
	e, err := sess.Import(ctx, pos[0], source, opts, bar.watch())
	bar.done()
	if err != nil {
		return describeSQLError("", err)
	}
	rows, bytes := e.Rows()
	secs := time.Since(start).Seconds()
	fmt.Printf("imported %d rows into %s from %s: %d bytes in %d tasks, %.2fs (%.0f rows/s); import %s\n",
		rows, e.Table, e.Target.URL, bytes, len(e.Tasks), secs, float64(rows)/secs, e.ID)
	return nil
}

func hasScheme(s string) bool {
	for i := 0; i+2 < len(s); i++ {
		if s[i:i+3] == "://" {
			return true
		}
	}
	return false
}

// runExporter claims and runs export and import tasks: the worker that
// shares big exports between machines.
func runExporter(ctx context.Context, args []string) error {
	fs, wf := newWorkerFlags("exporter", "export and import work", export.DefaultPoll)
	workers := fs.Int("workers", 1, "tasks to run at a time")
	lease := fs.Duration("lease", export.DefaultLease, "how long a claimed task is held between renewals")
	name := fs.String("name", "", "worker name in claims (default host-pid-random)")
	mem := byteSize(0)
	fs.Var(&mem, "memory", "memory bound of each import task's sort (e.g. 512MiB)")
	pos, err := parseFlags(fs, args)
	if err != nil || len(pos) != 0 {
		return orUsage(err, fs, "exporter takes no arguments")
	}
	db, _, log, stop, err := wf.setUp(ctx)
	if err != nil {
		return err
	}
	defer stop()
	w, err := newExporter(ctx, sql.NewEngine(db, sql.Config{}), *workers, *lease, *wf.interval, int64(mem), *name, log)
	if err != nil {
		return err
	}
	if *wf.once {
		st, err := w.RunOnce(ctx)
		fmt.Printf("exporter: %d tasks finished, %d failed, %d lost, %d rows\n", st.Finished, st.Failed, st.Lost, st.Rows)
		return err
	}
	return w.Run(ctx)
}

func newExporter(ctx context.Context, eng *sql.Engine, workers int, lease, poll time.Duration, mem int64, name string, log *slog.Logger) (*export.Worker, error) {
	l, err := eng.ExportsLog(ctx)
	if err != nil {
		return nil, err
	}
	return &export.Worker{Log: l, DB: eng.DB(), Runner: eng.ExportRunner(), Slots: workers, Lease: lease, Poll: poll,
		Memory: mem, Name: name, Logger: log}, nil
}

// reportExports prints the exports log's exports and imports.
func reportExports(ctx context.Context, store string, asJSON bool) error {
	db, err := openDB(ctx, store)
	if err != nil {
		return err
	}
	l, err := export.OpenLog(ctx, db.Store)
	if err != nil {
		return err
	}
	s, seq, err := l.State(ctx)
	if err != nil {
		return err
	}
	sums := export.Summarise(s, time.Now())
	if asJSON {
		return printJSON(map[string]any{"log_seq": seq, "exports": sums})
	}
	return export.WriteReport(os.Stdout, seq, sums)
}

// bulkBar draws an export's or import's progress on a terminal — tasks
// done, rows and bytes — and nothing elsewhere (never in CI logs).
type bulkBar struct {
	on   bool
	out  *os.File
	what string

	rows atomic.Int64
	mu   sync.Mutex
	last time.Time
	e    *export.Export
}

func newBulkBar(out *os.File, what string) *bulkBar {
	return &bulkBar{on: isTerminal(out), out: out, what: what}
}

func (b *bulkBar) watch() sql.BulkWatch {
	if !b.on {
		return sql.BulkWatch{}
	}
	return sql.BulkWatch{
		Rows: func(n int64) { b.rows.Add(n); b.draw(nil) },
		State: func(e *export.Export) {
			b.draw(e)
		},
	}
}

func (b *bulkBar) draw(e *export.Export) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e != nil {
		b.e = e
	}
	if b.e == nil || time.Since(b.last) < 100*time.Millisecond {
		return
	}
	b.last = time.Now()
	done := b.e.Count(export.TaskDone)
	_, bytes := b.e.Rows()
	const width = 30
	fill := width * done / max(len(b.e.Tasks), 1)
	unit := "partitions"
	if b.e.Kind == export.KindImport {
		unit = "tasks"
	}
	fmt.Fprintf(b.out, "\r\033[K%s %s: [%-*s] %d/%d %s, %d rows, %s", b.what, b.e.ID, width, bar(fill), done, len(b.e.Tasks),
		unit, b.rows.Load(), humanBytes(bytes))
}

func (b *bulkBar) done() {
	if b.on {
		fmt.Fprint(b.out, "\r\033[K")
	}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
