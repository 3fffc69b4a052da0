package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/dormousedb/dormouse/engine/expr"
)

// lifecyclePlans are one plan of every operator, over enough rows for
// several batches.
func lifecyclePlans() map[string]Plan {
	sch := tSchema("k", tI64, "s", tStr)
	var rows [][]any
	for i := range 3 * BatchRows / 2 {
		rows = append(rows, []any{i % 1000, fmt.Sprint(i % 77)})
	}
	src := func() Plan { return tNewSource(sch, 10_000, rows...) }
	k := []expr.Expr{tCol(0, "k", tI64)}
	return map[string]Plan{
		"filter":    &Filter{Input: src(), Cond: tPred(0, "k > 1", func(v int64) bool { return v > 1 })},
		"project":   NewProject(src(), k, nil),
		"limit":     &Limit{Input: src(), Count: 70_000},
		"aggregate": &HashAggregate{Input: src(), GroupBy: k, Aggs: []AggCall{call("count")}},
		"global":    &HashAggregate{Input: src(), Aggs: []AggCall{call("count")}},
		"sort":      &Sort{Input: src(), Keys: []SortKey{Desc(0)}},
		"topn":      &TopN{Input: src(), Keys: []SortKey{Desc(0)}, N: 100},
		"hashjoin":  &HashJoin{Left: src(), Right: tNewSource(sch, 100, rows[:500]...), Kind: JoinFull, LeftKeys: k, RightKeys: k},
		"semijoin":  &HashJoin{Left: src(), Right: tNewSource(sch, 100, rows[:500]...), Kind: JoinSemi, LeftKeys: k, RightKeys: k},
		"loopjoin":  &NestedLoopJoin{Left: src(), Right: tNewSource(sch, 100, rows[:3]...), Kind: JoinLeft},
		"distinct":  &Distinct{Input: src()},
		"setop":     &SetOp{Left: src(), Right: src(), Kind: Intersect, All: true},
		"union":     &Union{Inputs: []Plan{src(), src()}},
		"gather":    &Gather{Inputs: []Plan{src(), src(), src()}},
		"concat":    &OrderedConcat{Inputs: []Plan{src(), src()}},
		"window":    &Window{Input: src(), Funcs: []WindowCall{{Func: "row_number", PartitionBy: []expr.Expr{tCol(1, "s", tStr)}, OrderBy: []SortKey{Asc(0)}}}},
	}
}

// TestOperatorLifecycle closes every operator early, after one batch, and
// runs it under a cancelled context: nothing may leak, and cancellation
// must surface as the context's error.
func TestOperatorLifecycle(t *testing.T) {
	for name, p := range lifecyclePlans() {
		t.Run(name, func(t *testing.T) {
			mem := tMem(t)
			ec := tEC(t, mem, 0)
			t.Run("close before next", func(t *testing.T) {
				op, err := OpenPlan(ec, p)
				if err != nil {
					t.Fatal(err)
				}
				if err := op.Close(); err != nil {
					t.Fatal(err)
				}
			})
			t.Run("close after one batch", func(t *testing.T) {
				op, err := OpenPlan(ec, p)
				if err != nil {
					t.Fatal(err)
				}
				rec, err := op.Next(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				rec.Release()
				if err := op.Close(); err != nil {
					t.Fatal(err)
				}
				if err := op.Close(); err != nil {
					t.Fatalf("second close: %v", err)
				}
			})
			t.Run("cancelled", func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				ec := tEC(t, mem, 0)
				ec.Ctx = ctx
				op, err := OpenPlan(ec, p)
				if err != nil {
					t.Fatal(err)
				}
				rec, err := op.Next(ctx)
				if err != nil {
					t.Fatal(err)
				}
				rec.Release()
				cancel()
				for {
					rec, err := op.Next(ctx)
					if err == io.EOF {
						break // what was left needed no more work
					}
					if err != nil {
						if !errors.Is(err, context.Canceled) {
							t.Fatalf("err = %v", err)
						}
						break
					}
					rec.Release()
				}
				op.Close()
				if used := ec.Mem.used.Load(); used != 0 {
					t.Fatalf("%d bytes still reserved", used)
				}
			})
			t.Run("explain analyze", func(t *testing.T) {
				ec := tEC(t, mem, 0)
				ec.Stats = &Stats{}
				recs, err := Run(ec, p)
				if err != nil {
					t.Fatal(err)
				}
				releaseBatches(recs)
				out := ExplainAnalyze(p, ec.Stats)
				if out == "" {
					t.Fatal("no output")
				}
			})
		})
	}
}
