package export_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/dormousedb/dormouse/export"
	"github.com/dormousedb/dormouse/sql"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/storagetest"
)

// TestImportByWorkers imports 20 Parquet files, one task each, with three
// worker processes, one of which is killed in the middle and started
// again; the statement's own worker finishes what is left. The table ends
// with exactly the rows of the files — none lost, none doubled — and each
// task committed once. Throughout, another session queries the table: it
// answers, and sees whole tasks only (a multiple of a file's 1,000 rows),
// never fewer than before.
func TestImportByWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		ctx := context.Background()
		db, s := session(t, store, sql.Config{})
		allTypes(t, s, "src", 20000)
		want := canonical(t, s, "SELECT * FROM src")
		dir := target(t, store, "twenty")
		mustRun(t, s, "COPY (SELECT * FROM src ORDER BY n) TO '"+dir+"' WITH (MAX_FILE_ROWS 1000)") // one task: 20 files
		if n := len(manifestOf(t, dir).Files); n != 20 {
			t.Fatalf("%d files, want 20", n)
		}
		allTypes(t, s, "dst", 0)
		opts := export.DefaultOptions()
		opts.Set("job_bytes", "1", true)
		e, err := s.StartImport(ctx, "dst", dir+"*.parquet", opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(e.Tasks) != 20 {
			t.Fatalf("%d tasks, want 20", len(e.Tasks))
		}
		watching := watchCount(t, sql.NewEngine(db, sql.Config{}).NewSession(), "dst", 1000)
		var children []*exec.Cmd
		for _, name := range []string{"w1", "w2", "w3"} {
			c := exporterChild(t, store, name, false)
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			children = append(children, c)
		}
		l, err := sql.NewEngine(db, sql.Config{}).ExportsLog(ctx)
		if err != nil {
			t.Fatal(err)
		}
		waitForTask(t, ctx, l, e.ID, "w2")
		children[1].Process.Signal(syscall.SIGKILL)
		children[1] = exporterChild(t, store, "w2again", false)
		if err := children[1].Start(); err != nil {
			t.Fatal(err)
		}
		for _, c := range children {
			var exit *exec.ExitError
			if err := c.Wait(); err != nil && !errors.As(err, &exit) {
				t.Fatal(err)
			}
		}
		w := &export.Worker{Log: l, DB: db, Name: "statement", Lease: killLease,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		done, err := export.Execute(ctx, w, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if seen := watching(); seen < 2 {
			t.Logf("the watching session saw %d distinct counts", seen)
		}
		if rows, _ := done.Rows(); rows != int64(len(want)) {
			t.Fatalf("the import counts %d rows, want %d", rows, len(want))
		}
		retried, by := 0, map[string]int{}
		for _, task := range done.Tasks {
			if task.Attempts > 1 {
				retried++
			}
			by[task.Worker[:2]]++
		}
		t.Logf("tasks by worker %v; %d taken over from the killed one", by, retried)
		equalLines(t, "imported by three workers", canonical(t, s, "SELECT * FROM dst"), want)
		if n := *mustRun(t, s, "SELECT count(*) FROM dormouse.transactions WHERE table_name = 'dst' AND kind = 'add_files'").Rows[0][0]; n != "20" {
			t.Fatalf("%s commits, want one per task", n)
		}
	})
}

// waitForTask waits until the named worker holds a task of the export.
func waitForTask(t *testing.T, ctx context.Context, l *export.Log, id, worker string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		e, err := l.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range e.Tasks {
			if task.Status == export.TaskRunning && len(task.Worker) >= len(worker) && task.Worker[:len(worker)] == worker {
				return
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("worker %s never took a task", worker)
}

// watchCount queries count(*) of table in s over and over until the
// returned stop is called (which returns how many distinct counts it
// saw), failing the test if a query fails, a count goes down or is not a
// multiple of unit.
func watchCount(t *testing.T, s *sql.Session, table string, unit int64) (stop func() int) {
	t.Helper()
	done, finished := make(chan struct{}), make(chan struct{})
	var errs []string
	seen := map[int64]bool{}
	go func() {
		defer close(finished)
		last := int64(0)
		for {
			select {
			case <-done:
				return
			default:
			}
			res, err := run(s, "SELECT count(*) FROM "+table)
			if err != nil {
				errs = append(errs, err.Error())
				return
			}
			n, _ := strconv.ParseInt(*res.Rows[0][0], 10, 64)
			if n < last || n%unit != 0 {
				errs = append(errs, fmt.Sprintf("count %d after %d (a task has %d rows)", n, last, unit))
				return
			}
			last, seen[n] = n, true
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return func() int {
		close(done)
		<-finished
		for _, e := range errs {
			t.Errorf("querying %s during the import: %s", table, e)
		}
		return len(seen)
	}
}
