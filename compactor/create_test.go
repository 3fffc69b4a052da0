package compactor

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/partition"
	"github.com/dormousedb/dormouse/storage/schema"
	"github.com/dormousedb/dormouse/storage/state"
	"github.com/dormousedb/dormouse/storage/storagetest"
	"github.com/dormousedb/dormouse/storage/table"
	"github.com/dormousedb/dormouse/storage/txlog"
)

// planState builds a state from transactions without a store.
type planState struct {
	t *testing.T
	m state.Machine
	s *state.State
	n int
}

func newPlanState(t *testing.T) *planState {
	m := state.Machine{Initial: partition.New(1)}
	return &planState{t: t, m: m, s: m.New()}
}

func (p *planState) apply(txn *state.Txn) *planState {
	p.t.Helper()
	p.n++
	txn.ID = fmt.Sprint("t", p.n)
	next := p.m.Clone(p.s)
	if err := p.m.Apply(next, txn, txlog.Meta{Seq: uint64(p.n), Time: time.Unix(int64(p.n), 0).UTC()}); err != nil {
		p.t.Fatal(err)
	}
	if err := next.Check(); err != nil {
		p.t.Fatal(err)
	}
	p.s = next
	return p
}

// add ingests a file of rows keys lo..hi into the root (pushed down to the
// leaves its keys meet).
func (p *planState) add(name string, rows, lo, hi int64) *planState {
	return p.apply(&state.Txn{AddFiles: &state.AddFiles{Files: []state.NewFile{{
		File: state.File{Key: name, Rows: rows, MinKey: [][]byte{schema.EncodeInt(lo)}, MaxKey: [][]byte{schema.EncodeInt(hi)}},
		Refs: []state.PartRows{{Partition: partition.RootID, Rows: rows}},
	}}}})
}

func (p *planState) split(part string, at int64, l, r string) *planState {
	return p.apply(&state.Txn{SplitPartition: &state.SplitPartition{Partition: part, Point: schema.EncodeInt(at), Left: l, Right: r}})
}

func (p *planState) assign(job, part string, files ...string) *planState {
	return p.apply(&state.Txn{AssignJob: &state.AssignJob{Job: job, Partition: part, Files: files}})
}

// renderPlan writes jobs as "partition:kind:f1,f2; ...".
func renderPlan(jobs []PlannedJob) string {
	var parts []string
	for _, j := range jobs {
		parts = append(parts, j.Partition+":"+j.Kind+":"+strings.Join(j.Files, ","))
	}
	return strings.Join(parts, "; ")
}

func TestPlan(t *testing.T) {
	sizeRatio := PlanOptions{Strategy: SizeRatio{Ratio: 3, BatchSize: 12}, BatchSize: 12}
	basic2 := PlanOptions{Strategy: Basic{BatchSize: 2}, BatchSize: 2}
	cases := []struct {
		name  string
		build func(p *planState)
		opts  PlanOptions
		want  string
	}{
		{"files that meet the size ratio", func(p *planState) {
			p.add("a", 10, 0, 9).add("b", 10, 0, 9).add("c", 10, 0, 9).add("d", 10, 0, 9)
		}, sizeRatio, "root:compact:a,b,c,d"},
		{"files held by a job are not planned again", func(p *planState) {
			p.add("a", 10, 0, 9).add("b", 10, 0, 9).add("c", 10, 0, 9).add("d", 10, 0, 9).add("e", 10, 0, 9).add("f", 10, 0, 9)
			p.assign("j", partition.RootID, "a", "b")
		}, sizeRatio, "root:compact:c,d,e,f"},
		{"a split leaves partial references that splitting jobs rewrite", func(p *planState) {
			p.add("big", 100, 0, 99).split(partition.RootID, 50, "L", "R").add("small", 10, 0, 9)
		}, sizeRatio, "L:split:big; R:split:big"},
		{"the strategy's jobs take partial references too", func(p *planState) {
			p.add("big", 100, 0, 99).split(partition.RootID, 50, "L", "R").add("a", 50, 0, 9).add("b", 50, 0, 9).add("c", 50, 0, 9)
		}, sizeRatio, "L:compact:a,b,big,c; R:split:big"},
		{"splitting jobs are batched", func(p *planState) {
			p.add("a", 10, 0, 99).add("b", 10, 0, 99).add("c", 10, 0, 99).split(partition.RootID, 50, "L", "R")
		}, PlanOptions{Strategy: SizeRatio{Ratio: 100, BatchSize: 2}, BatchSize: 2}, "L:split:a,b; L:split:c; R:split:a,b; R:split:c"},
		{"contiguous: splitting jobs never span a whole file", func(p *planState) {
			p.add("p1", 10, 0, 99).split(partition.RootID, 50, "L", "R").add("w", 1000, 0, 9)
			p.add("p2", 10, 0, 99) // lands in L and R, partial
			p.add("p3", 10, 0, 99)
		}, PlanOptions{Strategy: SizeRatio{Ratio: 100, BatchSize: 12}, BatchSize: 12, Contiguous: true},
			"L:split:p1; L:split:p2,p3; R:split:p1,p2,p3"},
		{"not contiguous: splitting jobs take any partial references", func(p *planState) {
			p.add("p1", 10, 0, 99).split(partition.RootID, 50, "L", "R").add("w", 1000, 0, 9)
			p.add("p2", 10, 0, 99)
			p.add("p3", 10, 0, 99)
		}, PlanOptions{Strategy: SizeRatio{Ratio: 100, BatchSize: 12}, BatchSize: 12},
			"L:split:p1,p2,p3; R:split:p1,p2,p3"},
		{"contiguous: a job's files never span a held file", func(p *planState) {
			p.add("a", 10, 0, 9).add("b", 10, 0, 9).add("c", 10, 0, 9).add("d", 10, 0, 9).add("e", 10, 0, 9)
			p.assign("j", partition.RootID, "c")
		}, PlanOptions{Strategy: basic2.Strategy, BatchSize: 2, Contiguous: true}, "root:compact:a,b; root:compact:d,e"},
		{"contiguous follows the age order, not the names", func(p *planState) {
			p.add("z", 10, 0, 9).add("y", 10, 0, 9).add("x", 10, 0, 9)
		}, PlanOptions{Strategy: basic2.Strategy, BatchSize: 2, Contiguous: true}, "root:compact:y,z"},
		{"a compaction output keeps its inputs' place in the age order", func(p *planState) {
			p.add("a", 10, 0, 9).add("b", 10, 0, 9).add("c", 10, 0, 9)
			p.assign("j", partition.RootID, "a", "b")
			p.apply(&state.Txn{ReplaceFiles: &state.ReplaceFiles{Job: "j", Outputs: []state.NewFile{{
				File: state.File{Key: "ab", Rows: 20, MinKey: [][]byte{schema.EncodeInt(0)}, MaxKey: [][]byte{schema.EncodeInt(9)}},
				Refs: []state.PartRows{{Partition: partition.RootID, Rows: 20}}}}}})
			p.add("d", 10, 0, 9)
		}, PlanOptions{Strategy: basic2.Strategy, BatchSize: 2, Contiguous: true}, "root:compact:ab,c"},
		{"a backlog the size ratio leaves is compacted anyway, smallest first", func(p *planState) {
			p.add("a", 100, 0, 9).add("b", 3, 0, 9).add("c", 40, 0, 9).add("d", 1, 0, 9).add("e", 300, 0, 9)
		}, PlanOptions{Strategy: SizeRatio{Ratio: 3, BatchSize: 2}, BatchSize: 2}, "root:compact:b,d"},
		{"contiguous backlog: the window with the fewest rows", func(p *planState) {
			p.add("a", 100, 0, 9).add("b", 3, 0, 9).add("c", 40, 0, 9).add("d", 1, 0, 9).add("e", 300, 0, 9)
		}, PlanOptions{Strategy: SizeRatio{Ratio: 3, BatchSize: 2}, BatchSize: 2, Contiguous: true}, "root:compact:c,d"},
		{"no files, no jobs", func(p *planState) {}, sizeRatio, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newPlanState(t)
			c.build(p)
			got := Plan(p.s, c.opts)
			if r := renderPlan(got); r != c.want {
				t.Fatalf("got  %q\nwant %q", r, c.want)
			}
			// Every plan applies: no job overlaps another or a held file.
			for i, j := range got {
				p.assign(fmt.Sprint("planned", i), j.Partition, j.Files...)
			}
			if again := Plan(p.s, c.opts); len(again) != 0 {
				t.Fatalf("after assigning the plan, planned again: %s", renderPlan(again))
			}
		})
	}
}

// TestCreatorsRace runs creators on separate opens of one table (as
// separate processes would) at the same time, over several rounds of
// ingests: every file ends up in at most one job, each creator's returned
// jobs are real and disjoint from the other's, and nothing plannable is
// left behind by the creator that lost a race.
func TestCreatorsRace(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		ctx := context.Background()
		tb := newTable(t, store, catalog.Properties{"compaction_files_batch_size": "3", "size_ratio": "1"}, "g", "n", "t")
		others := []*testTable{tb, openAgain(t, store, tb), openAgain(t, store, tb)}
		seen := map[string]string{} // partition/file -> job
		total := 0
		// Every creator plans from the same state before any commits, so
		// their plans collide; the losers must plan again.
		var barrier sync.WaitGroup
		var mu sync.Mutex
		replanned := 0
		createHook = func(_ *table.Table, round int) {
			if round == 0 {
				barrier.Done()
				barrier.Wait()
				return
			}
			mu.Lock()
			replanned++
			mu.Unlock()
		}
		t.Cleanup(func() { createHook = nil })
		for round := range 3 {
			for i := range 4 {
				tb.ingest(t, fmt.Sprintf("a%d-%d", round, i), fmt.Sprintf("h%d-%d", round, i), fmt.Sprintf("p%d-%d", round, i), fmt.Sprintf("x%d-%d", round, i))
			}
			barrier.Add(len(others))
			var wg sync.WaitGroup
			results := make([][]*state.Job, len(others))
			errs := make([]error, len(others))
			for i, o := range others {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i], errs[i] = CreateJobs(ctx, o.Table, CreateOptions{Logger: quietLog})
				}()
			}
			wg.Wait()
			s, _, err := tb.State(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for i, jobs := range results {
				if errs[i] != nil {
					t.Fatalf("creator %d: %v", i, errs[i])
				}
				for _, j := range jobs {
					total++
					got, ok := s.Job(j.ID)
					if !ok || strings.Join(got.Files, ",") != strings.Join(j.Files, ",") {
						t.Fatalf("creator %d returned job %s that the state does not hold as %v", i, j.ID, j.Files)
					}
					for _, f := range j.Files {
						k := j.Partition + "/" + f
						if other, dup := seen[k]; dup {
							t.Fatalf("%s is in jobs %s and %s", k, other, j.ID)
						}
						seen[k] = j.ID
					}
				}
			}
			if total != len(s.Jobs()) {
				t.Fatalf("round %d: creators returned %d jobs, state holds %d", round, total, len(s.Jobs()))
			}
			opts, _ := PlanOptionsFor(tb.Def)
			if left := Plan(s, opts); len(left) > 0 {
				t.Fatalf("round %d: work left unplanned: %s", round, renderPlan(left))
			}
		}
		if len(seen) == 0 || replanned == 0 {
			t.Fatalf("%d jobs created, %d plans made again after losing a race", len(seen), replanned)
		}
	})
}

func TestCreateJobsHonoursContiguity(t *testing.T) {
	ctx := context.Background()
	store := storagetest.LocalStore(t)
	tb := newTable(t, store, catalog.Properties{"aggregations": "last(v)", "compaction_strategy": "basic", "compaction_files_batch_size": "2"})
	for i := range 5 {
		tb.ingest(t, fmt.Sprint("k", i))
	}
	s, _, _ := tb.State(ctx)
	files := s.PartitionRefs(partition.RootID)
	// Hold the middle file in age order, as a job of another creator would.
	var mid string
	for _, r := range files {
		if f, _ := s.File(r.File); f.Seq == 3 {
			mid = r.File
		}
	}
	if _, err := tb.Commit(ctx, &state.Txn{AssignJob: &state.AssignJob{Job: "held", Partition: partition.RootID, Files: []string{mid}}}); err != nil {
		t.Fatal(err)
	}
	jobs, err := CreateJobs(ctx, tb.Table, CreateOptions{Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	s, _, _ = tb.State(ctx)
	var got []string
	for _, j := range jobs {
		var seqs []int
		for _, f := range j.Files {
			file, _ := s.File(f)
			seqs = append(seqs, int(file.Seq))
		}
		slices.Sort(seqs)
		got = append(got, fmt.Sprint(seqs))
	}
	slices.Sort(got)
	if strings.Join(got, " ") != "[1 2] [4 5]" {
		t.Fatalf("jobs by file age: %v", got)
	}
}
