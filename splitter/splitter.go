package splitter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/partition"
	"github.com/dormousedb/dormouse/storage/schema"
	"github.com/dormousedb/dormouse/storage/state"
	"github.com/dormousedb/dormouse/storage/table"
	"github.com/dormousedb/dormouse/storage/txlog"
)

// Options configures Run. The zero value is usable.
type Options struct {
	// Logger receives a line per split and per leaf over the threshold that
	// cannot be split; nil means slog.Default().
	Logger *slog.Logger
	// MaxSplits bounds the splits of one Run, so that a worker serving many
	// tables comes back to the others; 0 means no bound.
	MaxSplits int
	// Parallel is how many sketch objects are read at once; 0 means 16.
	Parallel int
}

// Split is a split Run committed.
type Split struct {
	Partition string // the leaf that was split
	Dim       int    // the row key dimension it was split on
	// Point is the plain key encoding of the split: Left holds the keys
	// below it on Dim, Right the rest.
	Point       []byte
	Left, Right string   // the new leaves
	Rows        [2]int64 // estimated rows of Left and Right when committed
	Seq         uint64   // the log entry that holds the split
}

// Run splits every leaf partition of t whose estimated rows exceed the
// table's split_threshold, again and again until none does, and returns
// the splits it committed in order. A leaf that cannot be split (every
// sketched key of every allowed dimension is equal, or no file of it has a
// sketch) is left as it is with a log line. Splits committed before an
// error are returned with it.
func Run(ctx context.Context, t *table.Table, opts Options) ([]Split, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Parallel <= 0 {
		opts.Parallel = 16
	}
	dims, err := t.Def.Properties.SplitDimensions(t.Def.Schema)
	if err != nil {
		return nil, fmt.Errorf("split table %s: %w", t.Def.Name, err)
	}
	r := &run{
		t: t, opts: opts, dims: dims,
		threshold: t.Def.Properties.Int("split_threshold"),
		sketches:  newSketchCache(t.Store, opts.Parallel),
		skip:      map[string]bool{},
	}
	var done []Split
	for {
		s, _, err := t.State(ctx)
		if err != nil {
			return done, fmt.Errorf("split table %s: %w", t.Def.Name, err)
		}
		leaves := r.overThreshold(s)
		if len(leaves) == 0 {
			return done, nil
		}
		for _, leaf := range leaves {
			if opts.MaxSplits > 0 && len(done) >= opts.MaxSplits {
				return done, nil
			}
			if err := ctx.Err(); err != nil {
				return done, err
			}
			sp, ok, err := r.splitLeaf(ctx, s, leaf)
			if err != nil {
				return done, fmt.Errorf("split table %s partition %s: %w", t.Def.Name, leaf.ID, err)
			}
			if ok {
				done = append(done, sp)
			}
		}
	}
}

// run is the state of one Run.
type run struct {
	t         *table.Table
	opts      Options
	dims      []int
	threshold int64
	sketches  *sketchCache
	// skip holds leaves this Run will not try again: they cannot be split,
	// or another process split them first.
	skip map[string]bool
}

// overThreshold returns the leaves of s, in key order, whose estimated rows
// exceed the threshold and that this Run has not given up on.
func (r *run) overThreshold(s *state.State) []*partition.Partition {
	var out []*partition.Partition
	for _, leaf := range s.Partitions.Leaves() {
		if !r.skip[leaf.ID] && s.PartitionRows(leaf.ID) > r.threshold {
			out = append(out, leaf)
		}
	}
	return out
}

// splitLeaf plans and commits the split of one leaf. It reports false when
// the leaf cannot be split or another process changed it first.
func (r *run) splitLeaf(ctx context.Context, s *state.State, leaf *partition.Partition) (Split, bool, error) {
	refs := s.PartitionRefs(leaf.ID)
	files := make([]*state.File, 0, len(refs))
	for _, ref := range refs {
		if f, ok := s.File(ref.File); ok {
			files = append(files, f)
		}
	}
	if err := r.sketches.load(ctx, files, r.logger()); err != nil {
		return Split{}, false, err
	}
	rows := s.PartitionRows(leaf.ID)
	plan, ok := r.choose(s, leaf, refs, files)
	if !ok {
		r.skip[leaf.ID] = true
		r.logger().Info("partition over the split threshold cannot be split: its sketched row keys are all equal on every split dimension, or its files have no sketches",
			"partition", leaf.ID, "rows", rows, "split_threshold", r.threshold, "files", len(refs))
		return Split{}, false, nil
	}
	txn := &state.Txn{SplitPartition: plan.op}
	seq, err := r.t.Commit(ctx, txn)
	if errors.Is(err, state.ErrInvalid) {
		// Another splitter split it (or a concurrent change made the split
		// moot): the next state read shows what happened.
		r.skip[leaf.ID] = true
		r.logger().Debug("split refused; the partition changed under us", "partition", leaf.ID, "err", err)
		return Split{}, false, nil
	}
	if err != nil {
		return Split{}, false, err
	}
	sp := Split{
		Partition: leaf.ID, Dim: plan.op.Dim, Point: plan.op.Point,
		Left: plan.op.Left, Right: plan.op.Right, Rows: plan.rows, Seq: seq,
	}
	col := r.t.Def.Schema.RowKeys[sp.Dim]
	r.logger().Info("split partition", "partition", leaf.ID, "rows", rows,
		"on", col.Name, "at", schema.FormatValue(col.Type, sp.Point),
		"left", sp.Left, "left_rows", sp.Rows[0], "right", sp.Right, "right_rows", sp.Rows[1], "seq", seq)
	return sp, true, nil
}

func (r *run) logger() *slog.Logger { return r.opts.Logger.With("table", r.t.Def.Name) }

// plan is a split ready to commit, with the row estimates of its children
// as the state will count them.
type plan struct {
	op   *state.SplitPartition
	rows [2]int64
}

// balanced is the smallest share of the rows each side of a split should
// get for its dimension to be taken without looking at the next one: a
// median that falls on a run of equal keys can only split the leaf
// unevenly, and a later dimension may do better.
const balanced = 0.25

// choose finds the split of leaf: on the first dimension of r.dims whose
// median point leaves at least a quarter of the rows on each side, else on
// the dimension with the most even split that moves at least one row each
// way. It reports false when no dimension can split the leaf.
func (r *run) choose(s *state.State, leaf *partition.Partition, refs []*state.FileRef, files []*state.File) (plan, bool) {
	var best plan
	bestShare := -1.0
	sketches := r.sketches.of(files)
	for _, d := range r.dims {
		m, ok := median(leaf, d, refs, sketches)
		if !ok {
			continue
		}
		p, ok := r.apply(s, leaf, d, m)
		if !ok {
			continue
		}
		total := float64(p.rows[0] + p.rows[1])
		share := float64(min(p.rows[0], p.rows[1])) / total
		if share >= balanced {
			return p, true
		}
		if share > bestShare {
			best, bestShare = p, share
		}
	}
	return best, bestShare > 0
}

// apply builds the transaction that splits leaf on dimension d at m.point
// and applies it to a copy of s, both to check it and to learn the rows each
// child will count. It reports false if either child would count no rows:
// such a split would not bring the leaf nearer the threshold.
func (r *run) apply(s *state.State, leaf *partition.Partition, d int, m split) (plan, bool) {
	op := &state.SplitPartition{
		Partition: leaf.ID, Dim: d, Point: m.point,
		Left: catalog.NewID(), Right: catalog.NewID(),
		Rows: m.fileRows,
	}
	var machine state.Machine
	trial := machine.Clone(s)
	txn := &state.Txn{ID: "trial", SplitPartition: op}
	if err := machine.Apply(trial, txn, txlog.Meta{Time: time.Now()}); err != nil {
		r.logger().Warn("planned split does not apply", "partition", leaf.ID, "err", err)
		return plan{}, false
	}
	p := plan{op: op, rows: [2]int64{trial.PartitionRows(op.Left), trial.PartitionRows(op.Right)}}
	return p, p.rows[0] > 0 && p.rows[1] > 0
}
