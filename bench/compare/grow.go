package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/dormousedb/dormouse/bench/gen"
	"github.com/dormousedb/dormouse/compactor"
	"github.com/dormousedb/dormouse/engine"
	dsql "github.com/dormousedb/dormouse/sql"
	"github.com/dormousedb/dormouse/storage"
	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/ingest"
	"github.com/dormousedb/dormouse/storage/table"
)

// The grow case (-only grow): the "done when" scenario. A table
// that starts as one partition receives -grow-rows standard rows in
// -grow-batches ingests (this process, one ingest.Ingest per batch, each
// batch's keys spread over the whole key space) while a compactor with two
// workers and a splitter run beside it, as child processes of
// bin/dormouse; then they drain. The benchmark checks that every row is
// still there (count and an order-independent checksum of every row),
// that every leaf holds at most split_threshold rows, and reports files
// per leaf and the time of a full-scan aggregate:
//
//   - on a table that received the same ingests with no background work
//     at all (one partition of -grow-batches files; built once, kept in
//     bench/out): the table as it would be without compaction;
//   - on the grown table right after the last ingest, its workers still
//     running;
//   - on the grown table once they drained.

// growQueries are timed at each moment: a full-scan aggregate, which
// reads every row whatever the layout, and a narrow key range (0.1% of the
// key space), where the number of files a leaf holds shows: each file
// overlapping the range is opened and probed.
var growQueries = []struct{ ID, SQL string }{
	{"full scan", "SELECT count(*), sum(a) FROM grow"},
	{"key range", "SELECT count(*), sum(a) FROM grow WHERE key BETWEEN 'k500000000000000' AND 'k501000000000000'"},
}

const (
	growTable   = "grow"
	growMarker  = "bench-ready.json"
	growRepeat  = 3
	growLeavesX = 20 // split_threshold is rows / growLeavesX: the table ends with 20-40 leaves
)

// growReport is every figure of the grow case; grow.json is its JSON.
type growReport struct {
	Started        time.Time `json:"started"`
	Finished       time.Time `json:"finished"`
	Rows           int64     `json:"rows"`
	Batches        int       `json:"batches"`
	SplitThreshold int64     `json:"split_threshold"`
	CPUs           int       `json:"cpus"`
	LoadAvg        float64   `json:"load_avg_at_start"`
	Workers        string    `json:"workers"`

	IngestSeconds float64 `json:"ingest_seconds"` // the ingests, with the workers running
	DrainSeconds  float64 `json:"drain_seconds"`  // from the last ingest until no work was left
	TotalSeconds  float64 `json:"total_seconds"`

	// At the end of the ingests, and once drained.
	EndOfIngest growShape `json:"end_of_ingest"`
	Drained     growShape `json:"drained"`

	RowsSeen   int64  `json:"rows_seen"`
	Checksum   string `json:"checksum"`
	Expected   string `json:"checksum_expected"`
	RowsOK     bool   `json:"every_row_there"`
	LeavesOK   bool   `json:"every_leaf_within_threshold"`
	Splits     int    `json:"splits"`
	Compaction struct {
		Jobs       int   `json:"jobs_finished"`
		InputRows  int64 `json:"input_rows"`
		OutputRows int64 `json:"output_rows"`
	} `json:"compaction"`

	Timing        []growTimed `json:"query_timings"`
	AnswersDiffer bool        `json:"answers_differ,omitempty"`
	Notes         []string    `json:"notes,omitempty"`
}

// growShape is the table's layout at one moment.
type growShape struct {
	Leaves       int     `json:"leaves"`
	Files        int     `json:"files"`
	MaxFiles     int     `json:"max_files_per_leaf"`
	MeanFiles    float64 `json:"mean_files_per_leaf"`
	MaxLeafRows  int64   `json:"max_leaf_rows"`
	MinLeafRows  int64   `json:"min_leaf_rows"`
	PartialRefs  int     `json:"partial_references"`
	PendingJobs  int     `json:"jobs"`
	PlannedJobs  int     `json:"jobs_to_create"`
	OverThreshld int     `json:"leaves_over_threshold"`
}

// growTimed is a query's best and median times at one moment.
type growTimed struct {
	When      string  `json:"when"`
	Query     string  `json:"query"`
	SQL       string  `json:"sql"`
	Leaves    int     `json:"leaves"`
	Files     int     `json:"files"`
	BestMs    float64 `json:"best_ms"`
	MedianMs  float64 `json:"median_ms"`
	BestCPUMs float64 `json:"best_cpu_ms"`
	Answer    string  `json:"answer"`
}

func benchGrow(ctx context.Context, cfg config) error {
	rep := &growReport{Started: time.Now().UTC(), Rows: cfg.growRows, Batches: cfg.growBatches,
		SplitThreshold: max(cfg.growRows/growLeavesX, 1), CPUs: runtime.NumCPU(), LoadAvg: loadAvg(),
		Workers: "bin/dormouse compactor --workers 2 --interval 1s; bin/dormouse split --interval 1s"}
	if rep.LoadAvg > float64(rep.CPUs)/2 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("load average %.1f on %d CPUs at the start: other processes compete, so times are noisy", rep.LoadAvg, rep.CPUs))
	}
	if _, err := os.Stat(cfg.dormouse); err != nil {
		return fmt.Errorf("dormouse binary: %w (run make build)", err)
	}

	// The table as it would be without any background work.
	raw, err := ensureGrowRaw(ctx, cfg)
	if err != nil {
		return err
	}
	rawT, err := openGrowTable(ctx, raw)
	if err != nil {
		return err
	}
	shape, err := growShapeOf(ctx, rawT, rep.SplitThreshold)
	if err != nil {
		return err
	}
	tms, err := timeGrowQueries(ctx, raw, "no compaction, no splitting (same ingests)", shape)
	if err != nil {
		return err
	}
	rep.Timing = append(rep.Timing, tms...)

	dir := filepath.Join(cfg.out, "store-grow")
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	url := "file://" + dir
	t, err := createGrowTable(ctx, url, rep.SplitThreshold)
	if err != nil {
		return err
	}
	workers, err := startGrowWorkers(ctx, cfg, url)
	if err != nil {
		return err
	}
	defer workers.stop()

	start := time.Now()
	logf("grow: %d rows in %d ingests, split_threshold %d, compactor (2 workers) and splitter running", cfg.growRows, cfg.growBatches, rep.SplitThreshold)
	sum, err := growIngest(ctx, cfg, t, func(i int) {
		if (i+1)%max(cfg.growBatches/10, 1) == 0 {
			logf("  %d ingests, %.0fs", i+1, time.Since(start).Seconds())
		}
	})
	if err != nil {
		return err
	}
	rep.IngestSeconds = time.Since(start).Seconds()
	rep.Expected = fmt.Sprintf("%d rows, %016x", sum.rows, sum.sum)
	if rep.EndOfIngest, err = growShapeOf(ctx, t, rep.SplitThreshold); err != nil {
		return err
	}
	logf("  ingests done in %.1fs: %d leaves, %d files", rep.IngestSeconds, rep.EndOfIngest.Leaves, rep.EndOfIngest.Files)
	if tms, err = timeGrowQueries(ctx, url, "right after the last ingest, workers running", rep.EndOfIngest); err != nil {
		return err
	}
	rep.Timing = append(rep.Timing, tms...)

	drained := time.Now()
	if rep.Drained, err = waitDrained(ctx, t, rep.SplitThreshold, workers); err != nil {
		return err
	}
	rep.DrainSeconds = time.Since(drained).Seconds()
	rep.TotalSeconds = time.Since(start).Seconds()
	if err := workers.stop(); err != nil {
		return err
	}
	logf("  drained in %.1fs more: %d leaves, %d files", rep.DrainSeconds, rep.Drained.Leaves, rep.Drained.Files)

	got, err := growTableChecksum(ctx, t)
	if err != nil {
		return err
	}
	rep.RowsSeen = got.rows
	rep.Checksum = fmt.Sprintf("%d rows, %016x", got.rows, got.sum)
	rep.RowsOK = got == sum
	rep.LeavesOK = rep.Drained.MaxLeafRows <= rep.SplitThreshold && rep.Drained.OverThreshld == 0
	if err := growJobStats(ctx, t, rep); err != nil {
		return err
	}
	if tms, err = timeGrowQueries(ctx, url, "after compaction and splitting drained", rep.Drained); err != nil {
		return err
	}
	rep.Timing = append(rep.Timing, tms...)
	rep.Finished = time.Now().UTC()
	rep.print(os.Stdout)
	for _, t := range rep.Timing {
		for _, u := range rep.Timing {
			if t.Query == u.Query && t.Answer != u.Answer {
				rep.AnswersDiffer = true
			}
		}
	}
	if err := saveReport(cfg, "grow.json", rep); err != nil {
		return err
	}
	if !rep.RowsOK {
		return fmt.Errorf("grow: the table holds %s, want %s", rep.Checksum, rep.Expected)
	}
	if rep.AnswersDiffer {
		return fmt.Errorf("grow: a query's answer changed with compaction and splitting (see %s)", filepath.Join(cfg.out, "grow.json"))
	}
	if !rep.LeavesOK {
		return fmt.Errorf("grow: a leaf holds %d rows, over split_threshold %d", rep.Drained.MaxLeafRows, rep.SplitThreshold)
	}
	return nil
}

func createGrowTable(ctx context.Context, url string, threshold int64) (*table.Table, error) {
	db, err := storage.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	return db.CreateTable(ctx, catalog.TableDef{Name: growTable, Schema: gen.Schema(), Properties: catalog.Properties{
		"split_threshold": strconv.FormatInt(threshold, 10)}})
}

func openGrowTable(ctx context.Context, url string) (*table.Table, error) {
	db, err := storage.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	return db.Table(ctx, growTable)
}

// growMarkerData marks a finished table without background work.
type growMarkerData struct {
	Rows    int64     `json:"rows"`
	Batches int       `json:"batches"`
	Seed    uint64    `json:"seed"`
	Seconds float64   `json:"ingest_seconds"`
	Created time.Time `json:"created"`
}

// ensureGrowRaw builds, once, the table of the same ingests with no
// compactor and no splitter, and returns its store's URL.
func ensureGrowRaw(ctx context.Context, cfg config) (string, error) {
	dir := filepath.Join(cfg.out, fmt.Sprintf("store-grow-raw-%d-rows-%d-batches-seed-%d", cfg.growRows, cfg.growBatches, cfg.seed))
	url := "file://" + dir
	marker := filepath.Join(dir, growMarker)
	want := growMarkerData{Rows: cfg.growRows, Batches: cfg.growBatches, Seed: cfg.seed}
	if !cfg.fresh {
		var m growMarkerData
		if data, err := os.ReadFile(marker); err == nil && json.Unmarshal(data, &m) == nil &&
			m.Rows == want.Rows && m.Batches == want.Batches && m.Seed == want.Seed {
			logf("grow: reusing the table without background work in %s", dir)
			return url, nil
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	logf("grow: %d rows in %d ingests into %s, no background work", cfg.growRows, cfg.growBatches, dir)
	t, err := createGrowTable(ctx, url, max(cfg.growRows/growLeavesX, 1))
	if err != nil {
		return "", err
	}
	start := time.Now()
	if _, err := growIngest(ctx, cfg, t, nil); err != nil {
		return "", err
	}
	want.Seconds, want.Created = time.Since(start).Seconds(), time.Now().UTC()
	return url, writeJSONFile(marker, want)
}

// growIngest commits the grow case's ingests into t, one per batch, and
// returns the checksum of every row it ingested.
func growIngest(ctx context.Context, cfg config, t *table.Table, progress func(i int)) (rowSum, error) {
	var total rowSum
	for i := range cfg.growBatches {
		n := cfg.growRows / int64(cfg.growBatches)
		if i < int(cfg.growRows%int64(cfg.growBatches)) {
			n++
		}
		in := &summingReader{Rows: gen.NewRows(cfg.seed<<20+uint64(i), n, 64<<10, nil)}
		if _, err := ingest.Ingest(ctx, t, []ingest.RecordReader{in}, ingest.Options{}); err != nil {
			return rowSum{}, fmt.Errorf("grow ingest %d: %w", i, err)
		}
		total.add(in.sum)
		if progress != nil {
			progress(i)
		}
	}
	return total, nil
}

// rowSum is an order-independent checksum of a multiset of standard rows:
// the count, and the sum of a 64-bit hash of every row. A row lost, added
// or changed changes it (but for a 2^-64 chance).
type rowSum struct {
	rows int64
	sum  uint64
}

func (s *rowSum) add(o rowSum) { s.rows, s.sum = s.rows+o.rows, s.sum+o.sum }

// addBatch adds every row of rec, whose columns are the standard row's
// (key, a, b, c).
func (s *rowSum) addBatch(rec arrow.RecordBatch) {
	key := rec.Column(0).(*array.String)
	a := rec.Column(1).(*array.Int64)
	b := rec.Column(2).(*array.Float64)
	c := rec.Column(3).(*array.String)
	var buf []byte
	for i := range int(rec.NumRows()) {
		buf = binary.AppendUvarint(buf[:0], uint64(len(key.Value(i))))
		buf = append(buf, key.Value(i)...)
		buf = appendNullable(buf, a.IsNull(i), uint64(a.Value(i)))
		buf = appendNullable(buf, b.IsNull(i), math.Float64bits(b.Value(i)))
		if c.IsNull(i) {
			buf = append(buf, 0)
		} else {
			buf = append(buf, 1)
			buf = append(buf, c.Value(i)...)
		}
		s.sum += mix64(fnv64(buf))
	}
	s.rows += rec.NumRows()
}

func appendNullable(buf []byte, null bool, v uint64) []byte {
	if null {
		return append(buf, 0)
	}
	return binary.LittleEndian.AppendUint64(append(buf, 1), v)
}

func fnv64(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// mix64 is splitmix64's finaliser: hashes summed stay independent.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// summingReader passes a generator's batches to an ingest, summing them.
type summingReader struct {
	*gen.Rows
	sum rowSum
}

func (r *summingReader) Next() (arrow.RecordBatch, error) {
	rec, err := r.Rows.Next()
	if err == nil {
		r.sum.addBatch(rec)
	}
	return rec, err
}

// growTableChecksum reads every row of t's current state and sums it.
func growTableChecksum(ctx context.Context, t *table.Table) (rowSum, error) {
	s, seq, err := t.State(ctx)
	if err != nil {
		return rowSum{}, err
	}
	scan := engine.NewTableScan(t, s, seq, []int{0, 1, 2, 3})
	op, err := scan.Open(&engine.ExecContext{Ctx: ctx, Stats: &engine.Stats{}, Parallelism: runtime.GOMAXPROCS(0)})
	if err != nil {
		return rowSum{}, err
	}
	defer op.Close()
	var sum rowSum
	for {
		rec, err := op.Next(ctx)
		if err == io.EOF {
			return sum, nil
		}
		if err != nil {
			return rowSum{}, err
		}
		sum.addBatch(rec)
		rec.Release()
	}
}

// growShapeOf describes t's current layout.
func growShapeOf(ctx context.Context, t *table.Table, threshold int64) (growShape, error) {
	s, _, err := t.State(ctx)
	if err != nil {
		return growShape{}, err
	}
	opts, err := compactor.PlanOptionsFor(t.Def)
	if err != nil {
		return growShape{}, err
	}
	var g growShape
	g.MinLeafRows = math.MaxInt64
	for _, leaf := range s.Partitions.Leaves() {
		refs := s.PartitionRefs(leaf.ID)
		g.Leaves++
		g.Files += len(refs)
		g.MaxFiles = max(g.MaxFiles, len(refs))
		for _, r := range refs {
			if !r.Whole {
				g.PartialRefs++
			}
		}
		rows := s.PartitionRows(leaf.ID)
		g.MaxLeafRows, g.MinLeafRows = max(g.MaxLeafRows, rows), min(g.MinLeafRows, rows)
		if rows > threshold {
			g.OverThreshld++
		}
	}
	if g.Leaves > 0 {
		g.MeanFiles = float64(g.Files) / float64(g.Leaves)
	}
	g.PendingJobs = len(s.Jobs())
	g.PlannedJobs = len(compactor.Plan(s, opts))
	return g, nil
}

// waitDrained polls t until its workers have nothing left to do: no job
// pending or running, none a creator would make, no leaf over the
// threshold. That is final: none of them has anything to start.
func waitDrained(ctx context.Context, t *table.Table, threshold int64, w *growWorkers) (growShape, error) {
	for {
		g, err := growShapeOf(ctx, t, threshold)
		if err != nil {
			return growShape{}, err
		}
		if g.PendingJobs == 0 && g.PlannedJobs == 0 && g.OverThreshld == 0 {
			return g, nil
		}
		if err := w.exited(); err != nil {
			return growShape{}, err
		}
		select {
		case <-ctx.Done():
			return growShape{}, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// growJobStats sums the compaction jobs the table's log committed and
// counts its splits.
func growJobStats(ctx context.Context, t *table.Table, rep *growReport) error {
	_, seq, err := t.State(ctx)
	if err != nil {
		return err
	}
	entries, err := t.Entries(ctx, 1, seq)
	if err != nil {
		return err
	}
	for _, e := range entries {
		for _, txn := range e.Txns {
			if op := txn.ReplaceFiles; op != nil {
				rep.Compaction.Jobs++
				rep.Compaction.InputRows += op.InputRows
				rep.Compaction.OutputRows += op.OutputRows
			}
			if txn.SplitPartition != nil {
				rep.Splits++
			}
		}
	}
	return nil
}

// growWorkers are the compactor and splitter child processes.
type growWorkers struct {
	cmds    []*exec.Cmd
	done    []chan error
	err     []error
	stopped bool
}

func startGrowWorkers(ctx context.Context, cfg config, url string) (*growWorkers, error) {
	w := &growWorkers{}
	for _, args := range [][]string{
		{"compactor", "--workers", "2"},
		{"split"},
	} {
		args = append(args, "--store", url, "--table", growTable, "--interval", "1s", "--log-level", "error")
		cmd := exec.CommandContext(ctx, cfg.dormouse, args...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		// Interrupt, not kill, so that a worker releases what it holds.
		cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
		if err := cmd.Start(); err != nil {
			w.stop()
			return nil, fmt.Errorf("start dormouse %s: %w", strings.Join(args, " "), err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		w.cmds, w.done = append(w.cmds, cmd), append(w.done, done)
		w.err = append(w.err, nil)
	}
	return w, nil
}

// exited returns an error if a worker has stopped by itself.
func (w *growWorkers) exited() error {
	for i, d := range w.done {
		select {
		case err := <-d:
			w.done[i] = nil
			return fmt.Errorf("dormouse %s exited early: %v", strings.Join(w.cmds[i].Args[1:], " "), err)
		default:
		}
	}
	return nil
}

// stop interrupts the workers and waits for them; a second call does
// nothing.
func (w *growWorkers) stop() error {
	if w.stopped {
		return nil
	}
	w.stopped = true
	var errs []error
	for _, c := range w.cmds {
		c.Process.Signal(os.Interrupt)
	}
	for i, d := range w.done {
		if d == nil {
			continue
		}
		select {
		case err := <-d:
			var ee *exec.ExitError
			if err != nil && !(errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signaled()) {
				errs = append(errs, fmt.Errorf("dormouse %s: %w", strings.Join(w.cmds[i].Args[1:], " "), err))
			}
		case <-time.After(time.Minute):
			w.cmds[i].Process.Kill()
			errs = append(errs, fmt.Errorf("dormouse %s did not stop within a minute of an interrupt", strings.Join(w.cmds[i].Args[1:], " ")))
		}
	}
	return errors.Join(errs...)
}

// timeGrowQueries runs each of growQueries once untimed and growRepeat
// times timed, on a fresh engine over the store at url, in this process.
func timeGrowQueries(ctx context.Context, url, when string, shape growShape) ([]growTimed, error) {
	db, err := storage.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	sess := dsql.NewEngine(db, dsql.Config{}).NewSession()
	var out []growTimed
	for _, q := range growQueries {
		tm, err := timeGrowQuery(ctx, sess, q.SQL)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", q.SQL, err)
		}
		tm.When, tm.Query, tm.SQL, tm.Leaves, tm.Files = when, q.ID, q.SQL, shape.Leaves, shape.Files
		logf("  %s (%s): %d leaves, %d files: best %.0f ms, median %.0f ms", q.ID, when, tm.Leaves, tm.Files, tm.BestMs, tm.MedianMs)
		out = append(out, tm)
	}
	return out, nil
}

func timeGrowQuery(ctx context.Context, sess *dsql.Session, text string) (growTimed, error) {
	run := func() (string, error) {
		rows, err := sess.Run(ctx, text)
		if err != nil {
			return "", err
		}
		res, err := dsql.Collect(ctx, rows)
		if err != nil {
			return "", err
		}
		var parts []string
		for _, row := range res.Rows {
			for _, v := range row {
				if v == nil {
					parts = append(parts, "NULL")
				} else {
					parts = append(parts, *v)
				}
			}
		}
		return strings.Join(parts, ", "), nil
	}
	var tm growTimed
	var err error
	if tm.Answer, err = run(); err != nil {
		return tm, err
	}
	var walls, cpus []float64
	for range growRepeat {
		runtime.GC()
		cpu0, start := processCPU(), time.Now()
		if _, err := run(); err != nil {
			return tm, err
		}
		walls = append(walls, float64(time.Since(start).Microseconds())/1000)
		cpus = append(cpus, float64((processCPU()-cpu0).Microseconds())/1000)
	}
	tm.BestMs, tm.MedianMs = bestMedian(walls)
	tm.BestCPUMs, _ = bestMedian(cpus)
	return tm, nil
}

func (r *growReport) print(w io.Writer) {
	fmt.Fprintf(w, "\nGrow: a table of one partition receives %s standard rows in %d ingests while a compactor\n", count(r.Rows), r.Batches)
	fmt.Fprintf(w, "(2 workers) and a splitter run as child processes, then they drain; split_threshold %s, %d CPUs\n", count(r.SplitThreshold), r.CPUs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "moment\tleaves\tfiles\tfiles/leaf max\tmean\trows/leaf min\tmax\tpartial refs\tjobs\t")
	for _, x := range []struct {
		name string
		g    growShape
	}{{"end of ingests", r.EndOfIngest}, {"drained", r.Drained}} {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.1f\t%s\t%s\t%d\t%d\t\n", x.name, x.g.Leaves, x.g.Files, x.g.MaxFiles, x.g.MeanFiles,
			count(x.g.MinLeafRows), count(x.g.MaxLeafRows), x.g.PartialRefs, x.g.PendingJobs)
	}
	tw.Flush()
	fmt.Fprintf(w, "time: ingests %.1fs (%s rows/s, workers running), drain %.1fs more, total %.1fs\n",
		r.IngestSeconds, count(int64(float64(r.Rows)/r.IngestSeconds)), r.DrainSeconds, r.TotalSeconds)
	fmt.Fprintf(w, "compaction: %d jobs committed, %s rows read (%.1fx the rows ingested); %d partition splits\n",
		r.Compaction.Jobs, count(r.Compaction.InputRows), float64(r.Compaction.InputRows)/float64(r.Rows), r.Splits)
	fmt.Fprintf(w, "every row still there: %v (%s; ingested %s)\n", r.RowsOK, r.Checksum, r.Expected)
	fmt.Fprintf(w, "every leaf within split_threshold: %v (largest %s rows)\n", r.LeavesOK, count(r.Drained.MaxLeafRows))
	fmt.Fprintf(w, "\nQueries in process, best and median of %d runs after one untimed:\n", growRepeat)
	for _, q := range growQueries {
		fmt.Fprintf(w, "  %s: %s\n", q.ID, q.SQL)
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "query\ttable\tleaves\tfiles\tbest ms\tmedian ms\tbest CPU ms\tanswer\t")
	for _, q := range growQueries {
		for _, t := range r.Timing {
			if t.Query == q.ID {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.1f\t%.1f\t%.1f\t%s\t\n", t.Query, t.When, t.Leaves, t.Files, t.BestMs, t.MedianMs, t.BestCPUMs, t.Answer)
			}
		}
	}
	tw.Flush()
	for _, n := range r.Notes {
		fmt.Fprintln(w, "note:", n)
	}
}
