package background

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/dormousedb/dormouse/compactor"
	"github.com/dormousedb/dormouse/sql"
	"github.com/dormousedb/dormouse/storage"
	"github.com/dormousedb/dormouse/storage/gc"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/storagetest"
	"github.com/dormousedb/dormouse/storage/table"
)

// TestMain lets this test binary act as a separate compactor process for
// TestKilledCompactor.
func TestMain(m *testing.M) {
	if storagetest.IsChild("compactor") {
		if err := childCompactor(); err != nil {
			fmt.Fprintln(os.Stderr, "child compactor:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// killLease is how long a killed child's claim holds its job.
const killLease = 1500 * time.Millisecond

func childCompactor() error {
	ctx := context.Background()
	db, err := storage.Open(ctx, os.Getenv("CHILD_STORE"))
	if err != nil {
		return err
	}
	tb, err := db.Table(ctx, os.Getenv("CHILD_TABLE"))
	if err != nil {
		return err
	}
	w := &compactor.Worker{Tables: compactor.OneTable(tb), CreateJobs: true, Lease: killLease,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	_, err = w.RunOnce(ctx)
	return err
}

func compactorChild(t *testing.T, store objstore.Store, name string) *exec.Cmd {
	url, env := storagetest.URL(t, store)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append(env, "DORMOUSE_TEST_CHILD=compactor", "CHILD_STORE="+url, "CHILD_TABLE="+name)...)
	cmd.Stderr = os.Stderr
	return cmd
}

// TestKilledCompactor kills compactor processes with SIGKILL at random
// points of a job — before it claims, while it reads and writes, after its
// output is written, around its commit — and checks after each kill that
// the table holds exactly its rows. Then the job, held by a dead worker
// until its lease runs out, is taken by another and finished, and the
// garbage collector removes what the dead workers left.
func TestKilledCompactor(t *testing.T) {
	if testing.Short() {
		t.Skip("kills processes")
	}
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		ctx := context.Background()
		db := storagetest.NewDB(t, store)
		ses := sql.NewEngine(db, sql.Config{}).NewSession()
		const files, rows = 8, 25000
		for _, name := range []string{"probe", "victim"} {
			mustExec(t, ses, "CREATE TABLE "+name+" (k text PRIMARY KEY, v bigint, w text) WITH (compaction_strategy = 'basic', compaction_files_batch_size = 8)")
			for f := 0; f < files; f++ {
				mustExec(t, ses, fmt.Sprintf("INSERT INTO %s SELECT 'k' || lpad(((i * 7919 + %d) %% 60000)::text, 6, '0'), i, 'w%d' FROM generate_series(1, %d) i", name, f, f, rows))
			}
		}
		want := queryRows(t, ses, "SELECT count(*), count(DISTINCT k), sum(v), max(w) FROM victim")
		wantRows := queryRows(t, ses, "SELECT k, v, w FROM victim")

		// One compaction run to its end, on an identical table, says how
		// long a job takes.
		start := time.Now()
		if err := compactorChild(t, store, "probe").Run(); err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		tb, err := db.Table(ctx, "victim")
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
		for i := 1; i <= 6; i++ {
			cmd := compactorChild(t, store, "victim")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Duration(rng.Int64N(int64(took) * 6 / 5)))
			cmd.Process.Signal(syscall.SIGKILL)
			var exit *exec.ExitError
			if err := cmd.Wait(); err != nil && !errors.As(err, &exit) {
				t.Fatal(err)
			}
			if got := queryRows(t, ses, "SELECT count(*), count(DISTINCT k), sum(v), max(w) FROM victim"); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("kill %d: table holds %v, want %v", i, got, want)
			}
			if err := tb.Check(ctx); err != nil {
				t.Fatalf("kill %d: %v", i, err)
			}
			time.Sleep(killLease) // so that the next child may take the job a dead one held
		}

		// A live worker finishes whatever is left.
		w := &compactor.Worker{Tables: compactor.OneTable(tb), CreateJobs: true, Lease: killLease,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		if _, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		s, _, err := tb.State(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(s.Jobs()); n != 0 {
			t.Fatalf("%d jobs left after a live worker ran", n)
		}
		leaf := s.Partitions.Leaves()[0]
		if n := s.NumRefs(leaf.ID); n != 1 {
			t.Fatalf("the table has %d files, want 1 after compaction", n)
		}
		if got := queryRows(t, ses, "SELECT k, v, w FROM victim"); fmt.Sprint(got) != fmt.Sprint(wantRows) {
			t.Fatalf("rows changed by the compaction")
		}
		attempts := 0
		for _, r := range s.JobHistory() {
			attempts = max(attempts, r.Attempts)
		}

		// The garbage collector removes the inputs and what the killed
		// workers wrote and never committed.
		orphans, err := tb.Orphans(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gc.Run(ctx, tb, gc.Options{Delay: time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		left, err := tb.Orphans(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(left) != 0 {
			t.Fatalf("%d orphans left after gc: %v", len(left), left)
		}
		if err := checkAllObjectsKnown(ctx, tb); err != nil {
			t.Fatal(err)
		}
		t.Logf("a job takes %v; the finished job took %d attempts; %d orphans collected", took, attempts, len(orphans))
	})
}

// checkAllObjectsKnown checks that every data object of tb is a file the
// state knows and references.
func checkAllObjectsKnown(ctx context.Context, tb *table.Table) error {
	s, _, err := tb.State(ctx)
	if err != nil {
		return err
	}
	for _, f := range s.SortedFiles() {
		if f.Refs == 0 {
			return fmt.Errorf("file %s is unreferenced after gc", f.Key)
		}
	}
	return nil
}
