package compactor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/iterator"
	"github.com/dormousedb/dormouse/storage/state"
	"github.com/dormousedb/dormouse/storage/table"
)

// PlannedJob is a job a creator means to assign: the files of one leaf.
type PlannedJob struct {
	Partition string
	Files     []string // sorted
	Kind      string   // state.KindCompact or state.KindSplit
}

// PlanOptions say how to choose jobs.
type PlanOptions struct {
	Strategy Strategy
	// BatchSize bounds the files of a splitting job (the table's
	// compaction_files_batch_size).
	BatchSize int
	// Contiguous restricts every job to files adjacent in their leaf's age
	// order, for tables with order-dependent iterators.
	Contiguous bool
}

// PlanOptionsFor returns the options a table's properties select.
func PlanOptionsFor(def *catalog.TableDef) (PlanOptions, error) {
	strat, err := StrategyFor(def)
	if err != nil {
		return PlanOptions{}, err
	}
	spec, err := iterator.FromDef(def)
	if err != nil {
		return PlanOptions{}, fmt.Errorf("table %s: %w", def.Name, err)
	}
	return PlanOptions{
		Strategy:   strat,
		BatchSize:  int(def.Properties.Int("compaction_files_batch_size")),
		Contiguous: spec.OrderDependent(),
	}, nil
}

// Plan chooses jobs for every leaf of s from the references no job holds:
// first the strategy's groups, then splitting jobs that rewrite into the
// leaf every remaining reference a partition split left partial (not
// Whole), so that after splits each file ends up whole in one leaf. It
// reads s only and is deterministic.
func Plan(s *state.State, opts PlanOptions) []PlannedJob {
	var out []PlannedJob
	for _, leaf := range s.Partitions.Leaves() {
		out = append(out, planLeaf(s, leaf.ID, opts)...)
	}
	return out
}

// slot is one reference of a leaf in age order, with whether it is taken.
type slot struct {
	c     Candidate
	taken bool // held by a job, or put in one by this plan
}

func planLeaf(s *state.State, leaf string, opts PlanOptions) []PlannedJob {
	refs := s.PartitionRefs(leaf)
	if len(refs) == 0 {
		return nil
	}
	slots := make([]slot, len(refs))
	for i, r := range refs {
		var seq uint64
		if f, ok := s.File(r.File); ok {
			seq = f.Seq
		}
		slots[i] = slot{c: Candidate{File: r.File, Rows: r.Rows, Whole: r.Whole, Seq: seq}, taken: r.Job != ""}
	}
	slices.SortFunc(slots, func(a, b slot) int {
		return cmp.Or(cmp.Compare(a.c.Seq, b.c.Seq), cmp.Compare(a.c.File, b.c.File))
	})
	at := make(map[string]int, len(slots))
	for i, sl := range slots {
		at[sl.c.File] = i
	}
	var out []PlannedJob
	take := func(group []Candidate, kind string) {
		files := make([]string, len(group))
		for i, c := range group {
			files[i] = c.File
			slots[at[c.File]].taken = true
		}
		slices.Sort(files)
		out = append(out, PlannedJob{Partition: leaf, Files: files, Kind: kind})
	}
	for _, run := range freeRuns(slots, opts.Contiguous) {
		for _, g := range opts.Strategy.Groups(run, opts.Contiguous) {
			take(g, state.KindCompact)
		}
	}
	batch := max(opts.BatchSize, 1)
	for _, run := range freeRuns(slots, opts.Contiguous) {
		for _, g := range partialBatches(run, batch, opts.Contiguous) {
			take(g, state.KindSplit)
		}
	}
	// A strategy may leave files of very different sizes alone for ever
	// (size-ratio, worse when groups must be contiguous): a leaf whose free
	// files reach twice the batch size is compacted anyway, a batch of its
	// smallest files (the contiguous window with the fewest rows when
	// contiguous) at a time, so that files per partition stay bounded.
	for batch > 1 {
		var free []Candidate
		for _, run := range freeRuns(slots, false) {
			free = append(free, run...)
		}
		if len(free) < 2*batch {
			break
		}
		g := smallestBatch(slots, batch, opts.Contiguous)
		if len(g) < 2 {
			break
		}
		take(g, state.KindCompact)
	}
	return out
}

// smallestBatch returns batch free files with the fewest rows: the smallest
// ones, or the contiguous window of free files with the fewest rows.
func smallestBatch(slots []slot, batch int, contiguous bool) []Candidate {
	if !contiguous {
		var free []Candidate
		for _, sl := range slots {
			if !sl.taken {
				free = append(free, sl.c)
			}
		}
		slices.SortStableFunc(free, func(a, b Candidate) int { return cmp.Compare(a.Rows, b.Rows) })
		return free[:batch]
	}
	var best []Candidate
	var bestRows int64
	for _, run := range freeRuns(slots, true) {
		for i := 0; i+batch <= len(run); i++ {
			var rows int64
			for _, c := range run[i : i+batch] {
				rows += c.Rows
			}
			if best == nil || rows < bestRows {
				best, bestRows = run[i:i+batch], rows
			}
		}
	}
	if best == nil {
		// Held files split every free run below a batch: take the longest
		// run (the caller wants two files or more).
		for _, run := range freeRuns(slots, true) {
			if len(run) > len(best) {
				best = run
			}
		}
	}
	return best
}

// freeRuns returns the references no job holds: as maximal runs of
// consecutive free slots when contiguous, else as one group.
func freeRuns(slots []slot, contiguous bool) [][]Candidate {
	var runs [][]Candidate
	var cur []Candidate
	for _, sl := range slots {
		if sl.taken {
			if contiguous && len(cur) > 0 {
				runs = append(runs, cur)
				cur = nil
			}
			continue
		}
		cur = append(cur, sl.c)
	}
	if len(cur) > 0 {
		runs = append(runs, cur)
	}
	return runs
}

// partialBatches groups the partial references of a run into batches of at
// most batch files; when contiguous, only references adjacent in the run
// share a batch.
func partialBatches(run []Candidate, batch int, contiguous bool) [][]Candidate {
	var out [][]Candidate
	var cur []Candidate
	flush := func() {
		if len(cur) > 0 {
			out = append(out, cur)
			cur = nil
		}
	}
	for _, c := range run {
		if c.Whole {
			if contiguous {
				flush()
			}
			continue
		}
		cur = append(cur, c)
		if len(cur) == batch {
			flush()
		}
	}
	flush()
	return out
}

// CreateOptions tune CreateJobs. The zero value is usable.
type CreateOptions struct {
	// Plan overrides the options the table's properties select.
	Plan *PlanOptions
	// Logger receives a line per created job (default slog.Default()).
	Logger *slog.Logger
}

// maxCreateRounds bounds how often CreateJobs re-reads the state after
// losing references to a concurrent creator.
const maxCreateRounds = 5

// createHook, when set by a test, runs after each round's plan.
var createHook func(t *table.Table, round int)

// maxInFlight bounds concurrent AssignJob commits; the log writes the
// commits in flight together as one entry.
const maxInFlight = 64

// CreateJobs reads the table's state, plans jobs (Plan) and commits one
// AssignJob per job, returning the jobs it created. The state refuses a job
// whose references another job holds, so two creators racing never create
// overlapping jobs: the loser re-reads the state and plans again from what
// is left.
func CreateJobs(ctx context.Context, t *table.Table, opts CreateOptions) ([]*state.Job, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	var plan PlanOptions
	if opts.Plan != nil {
		plan = *opts.Plan
	} else {
		var err error
		if plan, err = PlanOptionsFor(t.Def); err != nil {
			return nil, err
		}
	}
	var created []*state.Job
	for round := range maxCreateRounds {
		s, _, err := t.State(ctx)
		if err != nil {
			return created, fmt.Errorf("create jobs: %w", err)
		}
		planned := Plan(s, plan)
		if createHook != nil {
			createHook(t, round)
		}
		if len(planned) == 0 {
			return created, nil
		}
		jobs, refused, err := assign(ctx, t, planned)
		created = append(created, jobs...)
		for _, j := range jobs {
			log.Info("compaction job created", "table", t.Def.Name, "job", j.ID, "kind", j.Kind,
				"partition", j.Partition, "files", len(j.Files))
		}
		if err != nil || refused == 0 {
			return created, err
		}
		log.Debug("compaction jobs lost to a concurrent creator; planning again", "table", t.Def.Name, "refused", refused)
	}
	return created, nil
}

// assign commits an AssignJob per planned job, concurrently, and returns
// the jobs created and how many the state refused.
func assign(ctx context.Context, t *table.Table, planned []PlannedJob) ([]*state.Job, int, error) {
	type outcome struct {
		id  string
		err error
	}
	results := make([]outcome, len(planned))
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	for i, p := range planned {
		id := catalog.NewID()
		results[i].id = id
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			_, results[i].err = t.Commit(ctx, &state.Txn{AssignJob: &state.AssignJob{
				Job: id, Partition: p.Partition, Files: p.Files, Kind: p.Kind}})
		}()
	}
	wg.Wait()
	s, _ := t.Cached()
	var jobs []*state.Job
	var errs []error
	refused := 0
	for i, r := range results {
		switch {
		case r.err == nil:
			j, ok := s.Job(r.id)
			if !ok {
				// Already claimed and finished, or dropped by a split since:
				// report it as planned.
				j = &state.Job{ID: r.id, Partition: planned[i].Partition, Files: planned[i].Files, Kind: planned[i].Kind}
			}
			jobs = append(jobs, j)
		case errors.Is(r.err, state.ErrInvalid):
			refused++
		default:
			errs = append(errs, r.err)
		}
	}
	return jobs, refused, errors.Join(errs...)
}
