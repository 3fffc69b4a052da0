package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/dormousedb/dormouse/bench/gen"
	"github.com/dormousedb/dormouse/storage"
	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/partition"
	"github.com/dormousedb/dormouse/storage/state"
	"github.com/dormousedb/dormouse/storage/table"
)

// commitCase is the commit rate of one store with some number of
// committers, each committing one small transaction after another.
type commitCase struct {
	Store      string `json:"store"` // local or s3
	Mode       string `json:"mode"`  // goroutines (one process) or processes
	Committers int    `json:"committers"`
	Commits    int64  `json:"commits"`
	Failed     int64  `json:"failed"`
	// Entries is how many log entries held the commits: group commit packs
	// the transactions that queue up in one process into one entry.
	Entries       uint64  `json:"log_entries"`
	Seconds       float64 `json:"seconds"`
	CommitsPerSec float64 `json:"commits_per_sec"`
	EntriesPerSec float64 `json:"log_entries_per_sec"`
	TxnsPerEntry  float64 `json:"txns_per_entry"`
	P50Ms         float64 `json:"p50_ms"`
	P99Ms         float64 `json:"p99_ms"`
}

// commitTarget is a store to measure, as a URL prefix for fresh stores.
type commitTarget struct {
	name string
	url  func(caseName string) string
	done func()
}

func benchCommits(ctx context.Context, cfg config, rep *report) error {
	targets, note := commitTargets(cfg)
	if note != "" {
		rep.Notes = append(rep.Notes, note)
	}
	for _, tg := range targets {
		for _, n := range []int{1, 4, 16} {
			c, err := commitsInProcess(ctx, tg, n, cfg.commitTime)
			if err != nil {
				return err
			}
			rep.Commits = append(rep.Commits, c)
		}
		for _, n := range []int{4, 16} {
			c, err := commitsInProcesses(ctx, tg, n, cfg.commitTime)
			if err != nil {
				return err
			}
			rep.Commits = append(rep.Commits, c)
		}
		tg.done()
	}
	return nil
}

// commitTargets are the local disk under the work directory and, when
// scripts/with-s3.sh provides one, the S3 server.
func commitTargets(cfg config) ([]commitTarget, string) {
	local := filepath.Join(cfg.out, "commits")
	targets := []commitTarget{{
		name: "local",
		url:  func(c string) string { return "file://" + filepath.Join(local, c) },
		done: func() { os.RemoveAll(local) },
	}}
	endpoint, bucket := os.Getenv("DORMOUSE_TEST_S3_ENDPOINT"), os.Getenv("DORMOUSE_TEST_S3_BUCKET")
	if endpoint == "" || bucket == "" {
		return targets, "S3 commit cases skipped: DORMOUSE_TEST_S3_ENDPOINT is not set (run under scripts/with-s3.sh)"
	}
	// storage.Open takes the endpoint the standard AWS way; the children
	// inherit it.
	os.Setenv("AWS_ENDPOINT_URL_S3", endpoint)
	os.Setenv("DORMOUSE_S3_PATH_STYLE", "true")
	var b [4]byte
	rand.Read(b[:])
	prefix := "bench-" + hex.EncodeToString(b[:])
	targets = append(targets, commitTarget{
		name: "s3",
		url:  func(c string) string { return fmt.Sprintf("s3://%s/%s/%s/", bucket, prefix, c) },
		done: func() {}, // with-s3.sh throws the server's data away
	})
	return targets, ""
}

// openCommitTable creates the throwaway table a case commits to.
func openCommitTable(ctx context.Context, url string) (*table.Table, error) {
	db, err := storage.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	return db.CreateTable(ctx, catalog.TableDef{Name: "commits", Schema: gen.Schema(), Properties: catalog.Properties{}})
}

// tinyAdd is a transaction adding one fake one-row file to the root
// partition: the smallest real ingest commit, without the data file.
func tinyAdd(t *table.Table) *state.Txn {
	return &state.Txn{AddFiles: &state.AddFiles{Files: []state.NewFile{{
		File: state.File{Key: t.NewFileKey(partition.RootID), Rows: 1, Bytes: 1},
		Refs: []state.PartRows{{Partition: partition.RootID, Rows: 1}},
	}}}}
}

// committerResult is one committer's count and latencies.
type committerResult struct {
	Commits   int64   `json:"commits"`
	Failed    int64   `json:"failed"`
	LastError string  `json:"last_error,omitempty"`
	LatencyUs []int64 `json:"latency_us"`
	EndNanos  int64   `json:"end_unix_nanos"`
}

// commitUntil commits one small transaction after another until deadline.
func commitUntil(ctx context.Context, t *table.Table, deadline time.Time) committerResult {
	var r committerResult
	for time.Now().Before(deadline) && ctx.Err() == nil {
		start := time.Now()
		if _, err := t.Commit(ctx, tinyAdd(t)); err != nil {
			r.Failed++
			r.LastError = err.Error()
			continue
		}
		r.LatencyUs = append(r.LatencyUs, time.Since(start).Microseconds())
		r.Commits++
	}
	r.EndNanos = time.Now().UnixNano()
	return r
}

// commitsInProcess runs n committing goroutines on one open table, so
// their transactions meet in the log's group commit.
func commitsInProcess(ctx context.Context, tg commitTarget, n int, d time.Duration) (commitCase, error) {
	t, err := openCommitTable(ctx, tg.url(fmt.Sprintf("goroutines-%d", n)))
	if err != nil {
		return commitCase{}, err
	}
	_, seq0, err := t.State(ctx)
	if err != nil {
		return commitCase{}, err
	}
	logf("commits: %s, %d goroutines, %s", tg.name, n, d)
	start := time.Now()
	results := make([]committerResult, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i] = commitUntil(ctx, t, start.Add(d)) })
	}
	wg.Wait()
	return finishCase(ctx, t, tg.name, "goroutines", seq0, start, results)
}

// commitsInProcesses runs n child processes, each committing from one
// goroutine through its own view of the log, so that they race for each
// entry (a conditional write) instead of grouping.
func commitsInProcesses(ctx context.Context, tg commitTarget, n int, d time.Duration) (commitCase, error) {
	url := tg.url(fmt.Sprintf("processes-%d", n))
	t, err := openCommitTable(ctx, url)
	if err != nil {
		return commitCase{}, err
	}
	_, seq0, err := t.State(ctx)
	if err != nil {
		return commitCase{}, err
	}
	self, err := os.Executable()
	if err != nil {
		return commitCase{}, err
	}
	logf("commits: %s, %d processes, %s", tg.name, n, d)
	// Every child opens the table first, then all start together.
	start := time.Now().Add(time.Second + time.Duration(n)*100*time.Millisecond)
	end := start.Add(d)
	results := make([]committerResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			cmd := exec.CommandContext(ctx, self, "commit-child", url, "commits",
				strconv.FormatInt(start.UnixNano(), 10), strconv.FormatInt(end.UnixNano(), 10))
			cmd.Stderr = os.Stderr
			out, err := cmd.Output()
			if err != nil {
				errs[i] = fmt.Errorf("commit child %d: %w", i, err)
				return
			}
			errs[i] = json.Unmarshal(out, &results[i])
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return commitCase{}, err
	}
	return finishCase(ctx, t, tg.name, "processes", seq0, start, results)
}

// commitChild is `compare commit-child URL TABLE START END`: commit from
// START to END (Unix nanoseconds) and print a committerResult.
func commitChild(ctx context.Context, args []string) error {
	if len(args) != 4 {
		return fmt.Errorf("want URL TABLE START END, got %q", args)
	}
	startNs, err1 := strconv.ParseInt(args[2], 10, 64)
	endNs, err2 := strconv.ParseInt(args[3], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	db, err := storage.Open(ctx, args[0])
	if err != nil {
		return err
	}
	t, err := db.Table(ctx, args[1])
	if err != nil {
		return err
	}
	time.Sleep(time.Until(time.Unix(0, startNs)))
	return json.NewEncoder(os.Stdout).Encode(commitUntil(ctx, t, time.Unix(0, endNs)))
}

// finishCase counts the log entries written since seq0 and sums the
// committers' results.
func finishCase(ctx context.Context, t *table.Table, store, mode string, seq0 uint64, start time.Time, results []committerResult) (commitCase, error) {
	_, seq1, err := t.State(ctx)
	if err != nil {
		return commitCase{}, err
	}
	c := commitCase{Store: store, Mode: mode, Committers: len(results), Entries: seq1 - seq0}
	var lat []int64
	var end int64
	var lastErr string
	for _, r := range results {
		c.Commits += r.Commits
		c.Failed += r.Failed
		lat = append(lat, r.LatencyUs...)
		end = max(end, r.EndNanos)
		if r.LastError != "" {
			lastErr = r.LastError
		}
	}
	if c.Commits == 0 {
		return c, fmt.Errorf("%s %d %s: no commit succeeded: %s", store, len(results), mode, lastErr)
	}
	if lastErr != "" {
		logf("  %d commits failed; the last: %s", c.Failed, lastErr)
	}
	c.Seconds = time.Duration(end - start.UnixNano()).Seconds()
	c.CommitsPerSec = float64(c.Commits) / c.Seconds
	c.EntriesPerSec = float64(c.Entries) / c.Seconds
	c.TxnsPerEntry = float64(c.Commits) / float64(c.Entries)
	slices.Sort(lat)
	c.P50Ms = float64(lat[len(lat)/2]) / 1000
	c.P99Ms = float64(lat[len(lat)*99/100]) / 1000
	logf("  %.0f commits/s, %.0f log entries/s, p50 %.1fms p99 %.1fms", c.CommitsPerSec, c.EntriesPerSec, c.P50Ms, c.P99Ms)
	return c, nil
}
