package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/storage"
	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/ingest"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/schema"
	"github.com/dormousedb/dormouse/storage/storagetest"
	"github.com/dormousedb/dormouse/storage/table"
)

// TestMain lets this test binary act as a separate ingest process for the
// tests that need several (see runChild).
func TestMain(m *testing.M) {
	if storagetest.IsChild("ingest") {
		if err := childIngest(); err != nil {
			fmt.Fprintln(os.Stderr, "child ingest:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

var testSchema = &schema.Schema{
	RowKeys:  []schema.Column{{Name: "id", Type: schema.Varchar}},
	SortKeys: []schema.Column{{Name: "n", Type: schema.BigInt}},
	Values:   []schema.Column{{Name: "v", Type: schema.Double, Nullable: true}},
}

func splitPoints(vals ...string) [][]byte {
	out := make([][]byte, len(vals))
	for i, v := range vals {
		out[i] = []byte(v)
	}
	return out
}

func createTable(t testing.TB, db *storage.DB, name string) *table.Table {
	t.Helper()
	tb, err := db.CreateTable(context.Background(), catalog.TableDef{
		Name: name, Schema: testSchema, SplitPoints: splitPoints("w02", "w05"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// rowsOf makes rows with ids "<prefix>-<i>" for i in [0, n), in a shuffled
// order, with n = i as the sort key, in batches of at most batch rows.
type rowsOf struct {
	prefix string
	order  []int
	batch  int
	sch    *arrow.Schema
}

func newRows(prefix string, n, batch int, seed uint64) *rowsOf {
	order := rand.New(rand.NewPCG(seed, 1)).Perm(n)
	return &rowsOf{prefix: prefix, order: order, batch: batch, sch: testSchema.Arrow()}
}

func (r *rowsOf) Next() (arrow.RecordBatch, error) {
	if len(r.order) == 0 {
		return nil, io.EOF
	}
	n := min(r.batch, len(r.order))
	ib, nb, vb := array.NewStringBuilder(memory.DefaultAllocator), array.NewInt64Builder(memory.DefaultAllocator), array.NewFloat64Builder(memory.DefaultAllocator)
	for _, i := range r.order[:n] {
		ib.Append(fmt.Sprintf("%s-%07d", r.prefix, i))
		nb.Append(int64(i))
		if i%7 == 0 {
			vb.AppendNull()
		} else {
			vb.Append(float64(i) / 2)
		}
	}
	r.order = r.order[n:]
	cols := []arrow.Array{ib.NewArray(), nb.NewArray(), vb.NewArray()}
	rec := array.NewRecordBatch(r.sch, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	ib.Release()
	nb.Release()
	vb.Release()
	return rec, nil
}

func (r *rowsOf) Close() error { return nil }

// wantKeys is the composite key of every row newRows(prefix, n) makes.
func wantKeys(t testing.TB, prefix string, n int, into map[string]int) {
	src := newRows(prefix, n, n, 0)
	rec, err := src.Next()
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	for row := 0; row < n; row++ {
		into[string(schema.AppendRowKey(nil, rec, testSchema.NumKeys(), row))]++
	}
}

func childIngest() error {
	ctx := context.Background()
	db, err := storage.Open(ctx, os.Getenv("CHILD_STORE"))
	if err != nil {
		return err
	}
	tb, err := db.Table(ctx, os.Getenv("CHILD_TABLE"))
	if err != nil {
		return err
	}
	n, _ := strconv.Atoi(os.Getenv("CHILD_ROWS"))
	batches, _ := strconv.Atoi(os.Getenv("CHILD_COMMITS"))
	for b := range max(batches, 1) {
		prefix := fmt.Sprintf("%s%d", os.Getenv("CHILD_PREFIX"), b)
		if _, err := ingest.Ingest(ctx, tb, []ingest.RecordReader{newRows(prefix, n, 4096, uint64(b))}, ingest.Options{TempDir: os.Getenv("CHILD_TMP")}); err != nil {
			return err
		}
	}
	return nil
}

// child starts this test binary as an ingest process.
func child(t testing.TB, store objstore.Store, tableName, prefix string, rows, commits int) *exec.Cmd {
	url, env := storagetest.URL(t, store)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append(env,
		"DORMOUSE_TEST_CHILD=ingest",
		"CHILD_STORE="+url, "CHILD_TABLE="+tableName, "CHILD_PREFIX="+prefix,
		"CHILD_ROWS="+strconv.Itoa(rows), "CHILD_COMMITS="+strconv.Itoa(commits),
		"CHILD_TMP="+t.TempDir(),
	)...)
	cmd.Stderr = os.Stderr
	return cmd
}

// TestConcurrentIngest has 8 goroutines and 4 separate processes ingest
// into one table at once: every row is present exactly once and the log
// has no gap.
func TestConcurrentIngest(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		ctx := context.Background()
		db := storagetest.NewDB(t, store)
		tb := createTable(t, db, "events")
		const goroutines, procs, rows, commits = 8, 4, 500, 3
		want := map[string]int{}
		var cmds []*exec.Cmd
		for p := range procs {
			prefix := fmt.Sprintf("w%02dp", p)
			cmd := child(t, store, "events", prefix, rows, commits)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			cmds = append(cmds, cmd)
			for c := range commits {
				wantKeys(t, fmt.Sprintf("%s%d", prefix, c), rows, want)
			}
		}
		var wg sync.WaitGroup
		errs := make(chan error, goroutines*commits)
		for g := range goroutines {
			for c := range commits {
				wantKeys(t, fmt.Sprintf("w%02dg%d", g, c), rows, want)
			}
			wg.Go(func() {
				for c := range commits {
					src := newRows(fmt.Sprintf("w%02dg%d", g, c), rows, 97, uint64(g*10+c))
					if _, err := ingest.Ingest(ctx, tb, []ingest.RecordReader{src}, ingest.Options{TempDir: t.TempDir()}); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		for _, cmd := range cmds {
			if err := cmd.Wait(); err != nil {
				t.Fatalf("child ingest: %v", err)
			}
		}
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		got := storagetest.Rows(t, tb)
		if len(got) != len(want) {
			t.Fatalf("table has %d distinct rows, want %d", len(got), len(want))
		}
		for k, n := range got {
			if n != 1 || want[k] != 1 {
				t.Fatalf("row %q appears %d times, want once", k, n)
			}
		}
		s, seq, err := tb.State(ctx)
		if err != nil {
			t.Fatal(err)
		}
		entries, err := store.List(ctx, tb.Def.Prefix()+"log/")
		if err != nil {
			t.Fatal(err)
		}
		if uint64(len(entries)) != seq {
			t.Fatalf("%d log entries up to sequence %d: a gap", len(entries), seq)
		}
		if int(s.TotalRows()) != len(want) {
			t.Fatalf("state counts %d rows, want %d", s.TotalRows(), len(want))
		}
		t.Logf("%d ingests by %d goroutines and %d processes: %d rows, %d log entries", (goroutines+procs)*commits, goroutines, procs, len(want), seq)
	})
}

// TestKilledIngest kills an ingest process at random points: the table
// holds either none of its rows or all of them, and never anything else.
func TestKilledIngest(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		ctx := context.Background()
		db := storagetest.NewDB(t, store)
		tb := createTable(t, db, "victim")
		rng := rand.New(rand.NewPCG(7, 7))
		const rows = 200000
		// A first ingest runs to the end, to learn how long one takes; the
		// others are killed at random points within that time.
		start := time.Now()
		if err := child(t, store, "victim", "w00k", rows, 1).Run(); err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		committed := 0
		for i := 1; i <= 5; i++ {
			prefix := fmt.Sprintf("w%02dk", i)
			cmd := child(t, store, "victim", prefix, rows, 1)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Duration(rng.Int64N(int64(took)))) // a random point in the ingest
			cmd.Process.Signal(syscall.SIGKILL)
			err := cmd.Wait()
			var exit *exec.ExitError
			if err != nil && !errors.As(err, &exit) {
				t.Fatal(err)
			}
			got := storagetest.Rows(t, tb)
			n := 0
			for k := range got {
				if strings.HasPrefix(k, prefix) {
					n++
				}
			}
			switch n {
			case 0:
			case rows:
				committed++
			default:
				t.Fatalf("kill %d: table holds %d of the ingest's %d rows", i, n, rows)
			}
			if err := tb.Check(ctx); err != nil {
				t.Fatalf("kill %d: %v", i, err)
			}
		}
		orphans, err := tb.Orphans(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("one ingest takes %v; %d of 5 killed ingests had committed; %d orphan objects left for the garbage collector", took, committed, len(orphans))
	})
}

// TestBadInputCommitsNothing ingests a good file and a bad one together:
// the error names the file, line and column, and nothing is committed or
// left behind.
func TestBadInputCommitsNothing(t *testing.T) {
	ctx := context.Background()
	db := storagetest.NewDB(t, storagetest.LocalStore(t))
	tb := createTable(t, db, "strict")
	dir := t.TempDir()
	good := filepath.Join(dir, "good.csv")
	os.WriteFile(good, []byte("id,n,v\na,1,1.5\nb,2,\n"), 0o644)
	cases := []struct {
		name, body, want string
	}{
		{"bad.csv", "id,n,v\nc,3,2\nd,four,1\n", `bad.csv:3: column "n"`},
		{"extra.csv", "id,n,v,w\nc,3,2,1\n", `"w"`},
		{"missing.csv", "id,v\nc,2\n", `"n"`},
		{"nullkey.csv", "id,n,v\n,3,2\n", `bad.csv`},
	}
	cases[3].want = `nullkey.csv:2`
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bad := filepath.Join(dir, c.name)
			os.WriteFile(bad, []byte(c.body), 0o644)
			_, before, _ := tb.State(ctx)
			_, err := ingest.IngestFiles(ctx, tb, []string{good, bad}, ingest.OpenOptions{}, ingest.Options{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
			_, after, _ := tb.State(ctx)
			if after != before {
				t.Fatalf("log moved from %d to %d", before, after)
			}
			orphans, err := tb.Orphans(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(orphans) != 0 {
				t.Fatalf("failed ingest left %d objects", len(orphans))
			}
		})
	}
	if _, err := ingest.IngestFiles(ctx, tb, []string{good}, ingest.OpenOptions{}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	if n := len(storagetest.Rows(t, tb)); n != 2 {
		t.Fatalf("got %d rows, want 2", n)
	}
}

// TestSpillingIngest ingests more than the memory bound: the rows are
// spilled, merged and all present, sorted in their files.
func TestSpillingIngest(t *testing.T) {
	ctx := context.Background()
	db := storagetest.NewDB(t, storagetest.LocalStore(t))
	tb := createTable(t, db, "big")
	want := map[string]int{}
	var inputs []ingest.RecordReader
	for i := range 4 {
		prefix := fmt.Sprintf("w%02d", i*2)
		inputs = append(inputs, newRows(prefix, 30000, 1000, uint64(i)))
		wantKeys(t, prefix, 30000, want)
	}
	res, err := ingest.Ingest(ctx, tb, inputs, ingest.Options{MemoryBytes: 4 << 20, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 120000 || len(res.Files) != 3 {
		t.Fatalf("ingested %d rows into %d files, want 120000 into 3", res.Rows, len(res.Files))
	}
	got := storagetest.Rows(t, tb)
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d", len(got), len(want))
	}
}
