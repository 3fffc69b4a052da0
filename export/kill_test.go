package export_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/export"
	"github.com/dormousedb/dormouse/sql"
	"github.com/dormousedb/dormouse/storage"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/storagetest"
)

// TestMain lets this test binary act as a separate exporter process.
func TestMain(m *testing.M) {
	if storagetest.IsChild("exporter") {
		if err := childExporter(); err != nil {
			fmt.Fprintln(os.Stderr, "child exporter:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// killLease is how long a killed child's claim holds its task.
const killLease = time.Second

// childExporter runs an exporter worker until there is nothing left to
// claim. With CHILD_SLOW its tasks hand on their rows 250 at a time, 20ms
// apart, so that a test can kill it in the middle of one.
func childExporter() error {
	ctx := context.Background()
	db, err := storage.Open(ctx, os.Getenv("CHILD_STORE"))
	if err != nil {
		return err
	}
	eng := sql.NewEngine(db, sql.Config{})
	l, err := eng.ExportsLog(ctx)
	if err != nil {
		return err
	}
	var runner export.Runner = eng.ExportRunner()
	if os.Getenv("CHILD_SLOW") != "" {
		runner = slowRunner{runner}
	}
	w := &export.Worker{Log: l, DB: db, Runner: runner, Name: os.Getenv("CHILD_NAME"), Lease: killLease,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	_, err = w.RunOnce(ctx)
	return err
}

func exporterChild(t *testing.T, store objstore.Store, name string, slow bool) *exec.Cmd {
	url, env := storagetest.URL(t, store)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	env = append(env, "DORMOUSE_TEST_CHILD=exporter", "CHILD_STORE="+url, "CHILD_NAME="+name)
	if slow {
		env = append(env, "CHILD_SLOW=1")
	}
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	return cmd
}

// slowRunner hands on a query's rows 250 at a time, 20ms apart.
type slowRunner struct{ export.Runner }

func (r slowRunner) RunQuery(ctx context.Context, q *export.Query, partition string) (export.Rows, error) {
	rows, err := r.Runner.RunQuery(ctx, q, partition)
	if err != nil {
		return nil, err
	}
	return &slowRows{Rows: rows}, nil
}

type slowRows struct {
	export.Rows
	cur arrow.RecordBatch
	off int64
}

func (s *slowRows) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for s.cur == nil || s.off >= s.cur.NumRows() {
		if s.cur != nil {
			s.cur.Release()
			s.cur = nil
		}
		rec, err := s.Rows.Next(ctx)
		if err != nil {
			return nil, err
		}
		s.cur, s.off = rec, 0
	}
	time.Sleep(20 * time.Millisecond)
	end := min(s.off+250, s.cur.NumRows())
	out := s.cur.NewSlice(s.off, end)
	s.off = end
	return out, nil
}

func (s *slowRows) Close() error {
	if s.cur != nil {
		s.cur.Release()
		s.cur = nil
	}
	return s.Rows.Close()
}

// TestKilledExporter kills an exporter process with SIGKILL in the middle
// of a task, after it wrote some of the task's files; another worker
// takes the task over once the lease is out and finishes the export. The
// manifest's files hold each row exactly once, and the target holds no
// other file.
func TestKilledExporter(t *testing.T) {
	if testing.Short() {
		t.Skip("kills processes")
	}
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		ctx := context.Background()
		db, s := session(t, store, sql.Config{})
		allTypes(t, s, "src", 20000)
		want := canonical(t, s, "SELECT * FROM src")
		dir := target(t, store, "killed")
		opts := export.DefaultOptions()
		if err := opts.Set("max_file_rows", "1000", true); err != nil {
			t.Fatal(err)
		}
		e, err := s.StartExport(ctx, "SELECT * FROM src", dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		l, err := sql.NewEngine(db, sql.Config{}).ExportsLog(ctx)
		if err != nil {
			t.Fatal(err)
		}
		child := exporterChild(t, store, "victim", true)
		if err := child.Start(); err != nil {
			t.Fatal(err)
		}
		victim := waitForFile(t, ctx, l, e.ID, dir, "victim")
		child.Process.Signal(syscall.SIGKILL)
		var exit *exec.ExitError
		if err := child.Wait(); err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}

		w := &export.Worker{Log: l, DB: db, Runner: sql.NewEngine(db, sql.Config{}).ExportRunner(), Name: "survivor",
			Lease: killLease, Slots: 2, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		done, err := export.Execute(ctx, w, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if done.Tasks[victim].Attempts != 2 || !strings.HasPrefix(done.Tasks[victim].Worker, "survivor") {
			t.Fatalf("the killed task took %d attempts", done.Tasks[victim].Attempts)
		}
		m := manifestOf(t, dir)
		checkManifest(t, ctx, dir, m, int64(len(want)))
		var got []string
		for _, f := range m.Files {
			got = append(got, readParquet(t, ctx, dir, f.Name)...)
		}
		equalLines(t, "files after the kill", sortedCopy(got), want)
	})
}

// waitForFile waits until the named worker holds a task of the export and
// has finished that task's first file, and returns the task.
func waitForFile(t *testing.T, ctx context.Context, l *export.Log, id, dir, worker string) int {
	t.Helper()
	st := openTarget(t, ctx, dir)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		e, err := l.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for i, task := range e.Tasks {
			if task.Status != export.TaskRunning || !strings.HasPrefix(task.Worker, worker) {
				continue
			}
			if _, err := st.Stat(ctx, export.FileName(task.Partition, 0, "parquet")); err == nil {
				return i
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the child never got into a task")
	return -1
}

// TestFailedExport fails one task of an export for good after it wrote a
// file: the export fails, and every file it wrote is deleted.
func TestFailedExport(t *testing.T) {
	ctx := context.Background()
	store := storagetest.LocalStore(t)
	db, s := session(t, store, sql.Config{})
	allTypes(t, s, "src", 4000)
	dir := target(t, store, "failing")
	opts := export.DefaultOptions()
	opts.Set("max_file_rows", "100", true)
	e, err := s.StartExport(ctx, "SELECT * FROM src", dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	l, err := sql.NewEngine(db, sql.Config{}).ExportsLog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bad := e.Tasks[len(e.Tasks)-1].Partition
	w := &export.Worker{Log: l, DB: db, Runner: failingRunner{sql.NewEngine(db, sql.Config{}).ExportRunner(), bad},
		Slots: 1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ended, err := export.Execute(ctx, w, e.ID)
	if !errors.Is(err, export.ErrFailed) || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("export gave %v", err)
	}
	if ended.Status != export.StatusFailed || !ended.Cleaned {
		t.Fatalf("export is %s, cleaned %v", ended.Status, ended.Cleaned)
	}
	infos, err := openTarget(t, ctx, dir).List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 0 {
		t.Fatalf("a failed export left %d files, first %s", len(infos), infos[0].Key)
	}
}

// failingRunner fails one partition's rows after two batches, for good.
type failingRunner struct {
	export.Runner
	partition string
}

func (r failingRunner) RunQuery(ctx context.Context, q *export.Query, partition string) (export.Rows, error) {
	rows, err := r.Runner.RunQuery(ctx, q, partition)
	if err != nil || partition != r.partition {
		return rows, err
	}
	return &failingRows{Rows: &slowRows{Rows: rows}}, nil
}

type failingRows struct {
	export.Rows
	n int
}

func (f *failingRows) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if f.n++; f.n > 2 {
		return nil, export.Permanent(errors.New("disk on fire"))
	}
	return f.Rows.Next(ctx)
}
