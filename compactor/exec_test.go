package compactor

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/ingest"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/schema"
	"github.com/dormousedb/dormouse/storage/state"
	"github.com/dormousedb/dormouse/storage/storagetest"
	"github.com/dormousedb/dormouse/storage/table"
)

// execJob makes a table of two ingested files and a job over both,
// claimed by worker "w".
func execJob(t *testing.T, store objstore.Store) (*table.Table, *state.Job) {
	t.Helper()
	ctx := context.Background()
	sch, err := schema.Parse("k:varchar:key, v:bigint")
	if err != nil {
		t.Fatal(err)
	}
	db := storagetest.NewDB(t, store)
	tb, err := db.CreateTable(ctx, catalog.TableDef{Name: "e", Schema: sch})
	if err != nil {
		t.Fatal(err)
	}
	for _, csv := range []string{"k,v\na,1\nc,2\n", "k,v\nb,3\nc,4\n"} {
		r, err := ingest.NewCSVReader(strings.NewReader(csv), "e.csv", sch, ingest.CSVOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ingest.Ingest(ctx, tb, []ingest.RecordReader{r}, ingest.Options{}); err != nil {
			t.Fatal(err)
		}
		r.Close()
	}
	s, _, err := tb.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leaf := s.Partitions.Leaves()[0].ID
	var files []string
	for _, r := range s.PartitionRefs(leaf) {
		files = append(files, r.File)
	}
	for _, txn := range []*state.Txn{
		{AssignJob: &state.AssignJob{Job: "j1", Partition: leaf, Files: files}},
		{ClaimJob: &state.ClaimJob{Job: "j1", Worker: "w", Lease: time.Hour}},
	} {
		if _, err := tb.Commit(ctx, txn); err != nil {
			t.Fatal(err)
		}
	}
	s, _, err = tb.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	j, _ := s.Job("j1")
	return tb, j
}

// execOutput writes the job's output without committing it.
func execOutput(t *testing.T, tb *table.Table, j *state.Job, opts RunOptions) (*Result, *datafile.Info) {
	t.Helper()
	ctx := context.Background()
	s, seq, err := tb.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := s.Partitions.Get(j.Partition)
	res := &Result{Job: j.ID, Started: time.Now()}
	out, err := writeOutput(ctx, tb, s, seq, j, leaf, newMemoryPlan(tb, s, j, DefaultMemory), opts.withDefaults(), res)
	if err != nil || out == nil {
		t.Fatalf("write output: %v, %v", out, err)
	}
	return res, out
}

// TestCommitRetried: a commit that finds its own transaction applied is a
// success and keeps the output; a commit for a job that is gone deletes
// its output and reports ErrJobLost.
func TestCommitRetried(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		ctx := context.Background()
		tb, j := execJob(t, store)
		opts := RunOptions{Worker: "w"}
		res, out := execOutput(t, tb, j, opts)
		if res.InputRows != 4 || res.OutputRows != 4 {
			t.Fatalf("result %+v", res)
		}
		if err := commit(ctx, tb, j, opts, res, out); err != nil {
			t.Fatal(err)
		}
		if err := commit(ctx, tb, j, opts, res, out); err != nil {
			t.Fatalf("retried commit: %v", err)
		}
		if _, err := tb.Store.Stat(ctx, out.Key); err != nil {
			t.Fatalf("the committed output is gone after a retried commit: %v", err)
		}
		s, _, err := tb.State(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if refs := s.PartitionRefs(j.Partition); len(refs) != 1 || refs[0].File != out.Key {
			t.Fatalf("references %+v, want the output", refs)
		}
		hist := s.JobHistory()
		if n := len(hist); n == 0 || hist[n-1].ID != "j1" || hist[n-1].Status != state.JobFinished ||
			hist[n-1].InputRows != 4 || hist[n-1].OutputRows != 4 || hist[n-1].Worker != "w" {
			t.Fatalf("job history %+v", hist)
		}

		// A second output for the job, now gone, is refused and deleted.
		_, other := execOutput(t, tb, &state.Job{ID: j.ID, Partition: j.Partition, Files: []string{out.Key}}, opts)
		err = commit(ctx, tb, j, opts, res, other)
		if !errors.Is(err, ErrJobLost) {
			t.Fatalf("commit of a gone job: %v, want ErrJobLost", err)
		}
		for _, k := range []string{other.Key, other.SketchKey} {
			if _, err := tb.Store.Stat(ctx, k); !errors.Is(err, objstore.ErrNotFound) {
				t.Fatalf("%s after a refused commit: %v, want it deleted", k, err)
			}
		}
	})
}

func TestMemoryPlan(t *testing.T) {
	tb, j := execJob(t, storagetest.LocalStore(t))
	s, _, err := tb.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var prev memoryPlan
	for i, bound := range []int64{1 << 10, 4 << 20, 256 << 20, 64 << 30} {
		p := newMemoryPlan(tb, s, j, bound)
		t.Logf("bound %d: %+v", bound, p)
		if p.batchRows < minBatchRows || p.batchRows > maxBatchRows || p.rowGroupRows < minRowGroupRows ||
			p.rowGroupRows > tb.Def.Properties.Int("row_group_rows") {
			t.Errorf("bound %d: plan %+v out of its limits", bound, p)
		}
		if i > 0 && (p.batchRows < prev.batchRows || p.rowGroupRows < prev.rowGroupRows) {
			t.Errorf("bound %d: plan %+v holds less than %+v for a smaller bound", bound, p, prev)
		}
		prev = p
	}
	if p := newMemoryPlan(tb, s, j, 1<<10); p.batchRows != minBatchRows || p.rowGroupRows != minRowGroupRows {
		t.Errorf("tiny bound: %+v, want the least", p)
	}
	if p := newMemoryPlan(tb, s, j, 64<<30); p.batchRows != maxBatchRows || p.rowGroupRows != tb.Def.Properties.Int("row_group_rows") {
		t.Errorf("huge bound: %+v, want the most", p)
	}
}
