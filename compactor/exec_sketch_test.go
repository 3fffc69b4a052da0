package compactor

import (
	"context"
	"testing"
	"time"

	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/state"
	"github.com/dormousedb/dormouse/storage/storagetest"
)

// TestMergedSketches: a job's output takes the merge of its inputs'
// sketches exactly when it gets every input row (whole references, no
// iterators); otherwise the writer sketches the rows it writes. Either way
// the output's sketch counts the output's rows.
func TestMergedSketches(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		ctx := context.Background()
		for _, tc := range []struct {
			name   string
			props  catalog.Properties
			split  bool // split the leaf at "m" first: references are partial
			drop   bool // delete an input's sketch object
			merged bool
		}{
			{name: "whole", merged: true},
			{name: "iterators", props: catalog.Properties{"aggregations": "sum(v)"}},
			{name: "partial", split: true},
			{name: "sketch missing", drop: true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tb := newTable(t, store, tc.props)
				tb.ingest(t, "a", "k", "q", "z")
				tb.ingest(t, "b", "n", "c")
				tb.ingest(t, "a", "y")
				s, _, err := tb.State(ctx)
				if err != nil {
					t.Fatal(err)
				}
				leaf := s.Partitions.Leaves()[0].ID
				if tc.split {
					if _, err := tb.Commit(ctx, &state.Txn{SplitPartition: &state.SplitPartition{
						Partition: leaf, Dim: 0, Point: []byte("m"), Left: "left", Right: "right"}}); err != nil {
						t.Fatal(err)
					}
					leaf = "left"
				}
				j := claimAll(t, tb, leaf)
				if tc.drop {
					f, _ := s.File(j.Files[0])
					if err := store.Delete(ctx, f.SketchKey); err != nil {
						t.Fatal(err)
					}
				}
				s, _, err = tb.State(ctx)
				if err != nil {
					t.Fatal(err)
				}
				sk, err := mergedSketches(ctx, tb.Table, s, j)
				if err != nil {
					t.Fatal(err)
				}
				if (sk != nil) != tc.merged {
					t.Fatalf("merged sketches %v, want merged = %v", sk, tc.merged)
				}
				if sk != nil {
					lo, _ := sk[0].Quantile(0)
					hi, _ := sk[0].Quantile(1)
					if sk[0].N() != 9 || string(lo) != "a" || string(hi) != "z" {
						t.Fatalf("merged sketch: N %d, %q..%q; want 9, a..z", sk[0].N(), lo, hi)
					}
				}
				res, err := Run(ctx, tb.Table, j, RunOptions{Worker: "w"})
				if err != nil {
					t.Fatal(err)
				}
				s, _, err = tb.State(ctx)
				if err != nil {
					t.Fatal(err)
				}
				out, ok := s.File(res.Output)
				if !ok {
					t.Fatalf("output %s not in the state", res.Output)
				}
				got, err := datafile.ReadSketches(ctx, store, out.SketchKey)
				if err != nil {
					t.Fatal(err)
				}
				if int64(got[0].N()) != res.OutputRows {
					t.Fatalf("output sketch counts %d rows, the output has %d", got[0].N(), res.OutputRows)
				}
				if err := tb.db.DropTable(ctx, "t"); err != nil {
					t.Fatal(err)
				}
			})
		}
	})
}

// claimAll assigns every reference of leaf to a job claimed by worker "w".
func claimAll(t *testing.T, tb *testTable, leaf string) *state.Job {
	t.Helper()
	ctx := context.Background()
	s, _, err := tb.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, r := range s.PartitionRefs(leaf) {
		files = append(files, r.File)
	}
	for _, txn := range []*state.Txn{
		{AssignJob: &state.AssignJob{Job: "j-" + leaf, Partition: leaf, Files: files}},
		{ClaimJob: &state.ClaimJob{Job: "j-" + leaf, Worker: "w", Lease: time.Hour}},
	} {
		if _, err := tb.Commit(ctx, txn); err != nil {
			t.Fatal(err)
		}
	}
	s, _, err = tb.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	j, ok := s.Job("j-" + leaf)
	if !ok {
		t.Fatal("job not in the state")
	}
	return j
}
