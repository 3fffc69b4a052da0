package splitter_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/dormousedb/dormouse/splitter"
	"github.com/dormousedb/dormouse/storage"
	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/partition"
	"github.com/dormousedb/dormouse/storage/schema"
	"github.com/dormousedb/dormouse/storage/state"
	"github.com/dormousedb/dormouse/storage/storagetest"
	"github.com/dormousedb/dormouse/storage/table"
)

// sketchError is the share of a file's rows by which a sketch may misplace
// a rank (KLL k = 200 promises about 1.65%), with some room.
const sketchError = 0.02

func createTable(t testing.TB, db *storage.DB, name string, sch *schema.Schema, props catalog.Properties) *table.Table {
	t.Helper()
	tb, err := db.CreateTable(context.Background(), catalog.TableDef{Name: name, Schema: sch, Properties: props})
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// testLogger logs warnings and errors to t; split lines are too many.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

func run(t testing.TB, tb *table.Table, opts splitter.Options) []splitter.Split {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	splits, err := splitter.Run(context.Background(), tb, opts)
	if err != nil {
		t.Fatal(err)
	}
	return splits
}

// tolerance is how far a leaf's estimated rows may be from its true rows:
// a reference to a whole file is exact, one to part of a file is placed by
// the file's sketch ranks at the leaf's bounds.
func tolerance(s *state.State, leaf string) int64 {
	var tol float64
	for _, r := range s.PartitionRefs(leaf) {
		if !r.Whole {
			f, _ := s.File(r.File)
			tol += 2*sketchError*float64(f.Rows) + 1
		}
	}
	return int64(tol)
}

// checkSplits checks the splits Runs reported against the tree: each split
// partition is now internal, with the children the split named, none was
// reported twice, and every internal partition was split by one of them.
func checkSplits(t testing.TB, s *state.State, splits []splitter.Split) {
	t.Helper()
	seen := map[string]bool{}
	for _, sp := range splits {
		if seen[sp.Partition] {
			t.Errorf("partition %s reported split twice", sp.Partition)
		}
		seen[sp.Partition] = true
		p, ok := s.Partitions.Get(sp.Partition)
		if !ok || p.IsLeaf() || p.Children[0] != sp.Left || p.Children[1] != sp.Right || p.Dim != sp.Dim {
			t.Errorf("split %+v is not in the tree: %+v", sp, p)
		}
	}
	if internal := s.Partitions.Len() - len(s.Partitions.Leaves()); internal != len(splits) {
		t.Errorf("tree has %d split partitions, Runs reported %d splits", internal, len(splits))
	}
}

// checkLeaves checks that every leaf is estimated at or under the
// threshold, and that its true rows are within the sketch error of the
// estimate when exact is set.
func checkLeaves(t testing.TB, tb *table.Table, rows map[string]int, threshold int64, exact bool) []*partition.Partition {
	t.Helper()
	s, _, err := tb.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	actual := leafRows(t, tb, rows)
	leaves := s.Partitions.Leaves()
	worst := 0.0
	for _, leaf := range leaves {
		est, got := s.PartitionRows(leaf.ID), actual[leaf.ID]
		if est > threshold {
			t.Errorf("leaf %s is estimated at %d rows, over the threshold %d", leaf.ID, est, threshold)
		}
		if !exact {
			continue
		}
		tol := tolerance(s, leaf.ID)
		if d := got - est; d > tol || -d > tol {
			t.Errorf("leaf %s holds %d rows, estimated %d ± %d", leaf.ID, got, est, tol)
		}
		worst = max(worst, float64(got-est)/float64(threshold), float64(est-got)/float64(threshold))
	}
	if exact {
		t.Logf("%d leaves; worst estimate off by %.1f%% of the threshold", len(leaves), 100*worst)
	}
	return leaves
}

// TestSplitGrowsFromOnePartition feeds a table that starts as one
// partition with many ingests, splitting between them as a background
// splitter would, until it has hundreds of leaves: each ends at or under
// the threshold by its estimate and, counted, within the sketch error of
// it, and every row is still there once.
func TestSplitGrowsFromOnePartition(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		const threshold, batches, batchRows = 400, 8, 10_000
		db := storagetest.NewDB(t, store)
		tb := createTable(t, db, "grow", keysSchema("k"), catalog.Properties{"split_threshold": fmt.Sprint(threshold)})
		rng := rand.New(rand.NewPCG(1, 2))
		m := model{}
		var splits []splitter.Split
		var splitting time.Duration
		n := int64(0)
		for b := range batches {
			rows := make([][]int64, batchRows)
			for i := range rows {
				k := rng.Int64N(1_000_000)
				if i%3 == 0 {
					k = 500_000 + rng.Int64N(2_000) // a dense range: many equal keys
				}
				rows[i] = []int64{k, n}
				n++
			}
			ingestRows(t, tb, m, rows)
			if b%2 == 1 {
				start := time.Now()
				splits = append(splits, run(t, tb, splitter.Options{})...)
				splitting += time.Since(start)
			}
		}
		t.Logf("%d splits in %v", len(splits), splitting)
		if again := run(t, tb, splitter.Options{}); len(again) != 0 {
			t.Errorf("a second Run split %d more partitions", len(again))
		}
		rows := checkRows(t, tb, m)
		leaves := checkLeaves(t, tb, rows, threshold, true)
		if min := batches * batchRows / threshold; len(leaves) < min {
			t.Errorf("%d leaves, want at least %d", len(leaves), min)
		}
		s, _, _ := tb.State(t.Context())
		checkSplits(t, s, splits)
	})
}

// TestSplitDimensions checks the choice of dimension: past a first row
// key that cannot divide the rows, as split_dimensions says, and not at all
// when every key is equal.
func TestSplitDimensions(t *testing.T) {
	const threshold, total = 1000, 6000
	type gen func(rng *rand.Rand, i int) (a, b int64)
	for _, tc := range []struct {
		name  string
		props catalog.Properties
		gen   gen
		check func(t *testing.T, splits []splitter.Split)
	}{{
		name: "first key constant",
		gen:  func(rng *rand.Rand, i int) (int64, int64) { return 7, rng.Int64N(1 << 40) },
		check: func(t *testing.T, splits []splitter.Split) {
			for _, sp := range splits {
				if sp.Dim != 1 {
					t.Errorf("split on dimension %d, want 1", sp.Dim)
				}
			}
		},
	}, {
		name:  "split_dimensions names the second key",
		props: catalog.Properties{"split_dimensions": "b"},
		gen:   func(rng *rand.Rand, i int) (int64, int64) { return rng.Int64N(1 << 40), rng.Int64N(1 << 40) },
		check: func(t *testing.T, splits []splitter.Split) {
			for _, sp := range splits {
				if sp.Dim != 1 {
					t.Errorf("split on dimension %d, want 1", sp.Dim)
				}
			}
		},
	}, {
		// One value holds 90% of the first key: no point on it leaves a
		// quarter of the rows on each side, so the second key is used.
		name: "first key mostly one value",
		gen: func(rng *rand.Rand, i int) (int64, int64) {
			if i%10 == 0 {
				return rng.Int64N(1 << 40), rng.Int64N(1 << 40)
			}
			return 1 << 39, rng.Int64N(1 << 40)
		},
		check: func(t *testing.T, splits []splitter.Split) {
			if splits[0].Dim != 1 {
				t.Errorf("first split on dimension %d, want 1", splits[0].Dim)
			}
		},
	}, {
		name: "every key equal",
		gen:  func(rng *rand.Rand, i int) (int64, int64) { return 7, 7 },
		check: func(t *testing.T, splits []splitter.Split) {
			if len(splits) != 0 {
				t.Errorf("%d splits of a leaf whose keys are all equal", len(splits))
			}
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
				db := storagetest.NewDB(t, store)
				props, err := tc.props.With("split_threshold", fmt.Sprint(threshold))
				if err != nil {
					t.Fatal(err)
				}
				tb := createTable(t, db, "dims", keysSchema("a", "b"), props)
				rng := rand.New(rand.NewPCG(3, 4))
				m := model{}
				for part := range 2 {
					rows := make([][]int64, total/2)
					for i := range rows {
						a, b := tc.gen(rng, i)
						rows[i] = []int64{a, b, int64(part*total + i)}
					}
					ingestRows(t, tb, m, rows)
				}
				splits := run(t, tb, splitter.Options{MaxSplits: 1})
				if tc.name != "every key equal" && len(splits) != 1 {
					t.Fatalf("Run with MaxSplits 1 made %d splits", len(splits))
				}
				splits = append(splits, run(t, tb, splitter.Options{})...)
				tc.check(t, splits)
				rows := checkRows(t, tb, m)
				s, _, _ := tb.State(t.Context())
				checkSplits(t, s, splits)
				if tc.name == "every key equal" {
					if n := len(s.Partitions.Leaves()); n != 1 {
						t.Errorf("%d leaves, want 1", n)
					}
					return
				}
				checkLeaves(t, tb, rows, threshold, true)
			})
		})
	}
}

// TestSplittersRace runs two splitters, each with its own handle on the
// table as two processes would have, while a third ingests: no leaf is
// split twice, every split reported is in the tree, and no row is lost.
func TestSplittersRace(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		const threshold = 500
		ctx := t.Context()
		db := storagetest.NewDB(t, store)
		tb := createTable(t, db, "race", keysSchema("k"), catalog.Properties{"split_threshold": fmt.Sprint(threshold)})
		handle := func() *table.Table {
			other, err := storage.OpenDB(ctx, store)
			if err != nil {
				t.Fatal(err)
			}
			h, err := other.Table(ctx, "race")
			if err != nil {
				t.Fatal(err)
			}
			return h
		}
		rng := rand.New(rand.NewPCG(5, 6))
		next := int64(0)
		rows := func(n int) [][]int64 {
			out := make([][]int64, n)
			for i := range out {
				out[i] = []int64{rng.Int64N(1_000_000), next}
				next++
			}
			return out
		}
		m := model{}
		ingestRows(t, tb, m, rows(10_000))
		more := [][][]int64{rows(2000), rows(2000), rows(2000)}

		var wg sync.WaitGroup
		results := make([][]splitter.Split, 2)
		errs := make([]error, 2)
		for i := range 2 {
			h := handle()
			wg.Go(func() {
				results[i], errs[i] = splitter.Run(ctx, h, splitter.Options{Logger: testLogger(t)})
			})
		}
		ingester := handle()
		wg.Go(func() {
			for _, r := range more {
				ingestRows(t, ingester, m, r)
			}
		})
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("racing splitters made %d and %d splits", len(results[0]), len(results[1]))
		all := append(append(results[0], results[1]...), run(t, tb, splitter.Options{})...)
		s, _, err := tb.State(ctx)
		if err != nil {
			t.Fatal(err)
		}
		checkSplits(t, s, all)
		got := checkRows(t, tb, m)
		// Files an ingest committed after a splitter read the state share
		// their rows evenly between the children, so only the estimates are
		// held to the threshold here.
		checkLeaves(t, tb, got, threshold, false)
	})
}
