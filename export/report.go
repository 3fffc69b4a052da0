package export

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Summary is one export or import as `dormouse report exports` and the
// dormouse.exports view show it.
type Summary struct {
	ID      string `json:"id"`
	Kind    string `json:"kind"`
	Status  string `json:"status"`
	Target  string `json:"target"`
	Format  string `json:"format"`
	Table   string `json:"table,omitempty"`
	Query   string `json:"query,omitempty"`
	Tasks   int    `json:"tasks"`
	Done    int    `json:"tasks_done"`
	Running int    `json:"tasks_running"`
	Failed  int    `json:"tasks_failed"`
	// Rows and Bytes are of the finished tasks: rows written (export) or
	// committed (import), bytes written or read.
	Rows     int64         `json:"rows"`
	Bytes    int64         `json:"bytes"`
	Files    int           `json:"files"`
	Created  time.Time     `json:"created"`
	Finished time.Time     `json:"finished,omitzero"`
	Duration time.Duration `json:"duration_ns"`
	Error    string        `json:"error,omitempty"`
}

// Summarise describes the exports of a state, newest first; now is the
// end of a running export's duration so far.
func Summarise(s *State, now time.Time) []Summary {
	var out []Summary
	for _, e := range s.List() {
		sum := Summary{ID: e.ID, Kind: e.Kind, Status: e.Status, Target: e.Target.URL, Format: e.Options.Format,
			Table: e.Table, Tasks: len(e.Tasks), Done: e.Count(TaskDone), Running: e.Count(TaskRunning),
			Failed: e.Count(TaskFailed), Created: e.Created, Finished: e.Finished, Error: e.Error}
		if e.Query != nil {
			sum.Query = e.Query.SQL
		}
		sum.Rows, sum.Bytes = e.Rows()
		for _, t := range e.Tasks {
			sum.Files += len(t.Files)
			if e.Kind == KindImport {
				sum.Files += len(t.Inputs)
			}
		}
		end := e.Finished
		if end.IsZero() {
			end = now
		}
		sum.Duration = end.Sub(e.Created)
		out = append(out, sum)
	}
	return out
}

// TaskSummary is one task, for the dormouse.export_tasks view.
type TaskSummary struct {
	Export    string
	Task      int
	Partition string
	Inputs    []string
	Status    string
	Worker    string
	Attempts  int
	Rows      int64
	Bytes     int64
	Files     int
	Started   time.Time
	Finished  time.Time
	Error     string
}

// Tasks describes every task of the state's exports, newest export first.
func Tasks(s *State) []TaskSummary {
	var out []TaskSummary
	for _, e := range s.List() {
		for i, t := range e.Tasks {
			ts := TaskSummary{Export: e.ID, Task: i, Partition: t.Partition, Status: t.Status, Worker: t.Worker,
				Attempts: t.Attempts, Rows: t.Rows, Bytes: t.Bytes, Files: len(t.Files), Started: t.Started,
				Finished: t.Finished, Error: t.Error}
			for _, in := range t.Inputs {
				ts.Inputs = append(ts.Inputs, in.Name)
			}
			out = append(out, ts)
		}
	}
	return out
}

// WriteReport prints the summaries as a table.
func WriteReport(w io.Writer, seq uint64, sums []Summary) error {
	fmt.Fprintf(w, "exports log at %d: %d exports and imports\n", seq, len(sums))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tSTATUS\tTASKS\tROWS\tBYTES\tFILES\tSECONDS\tTARGET\tWHAT")
	for _, s := range sums {
		what := s.Query
		if s.Kind == KindImport {
			what = "into " + s.Table
		}
		if len(what) > 60 {
			what = what[:57] + "..."
		}
		tasks := fmt.Sprintf("%d/%d", s.Done, s.Tasks)
		if s.Running > 0 {
			tasks += fmt.Sprintf(" (%d running)", s.Running)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%.1f\t%s\t%s\n", s.ID, s.Kind, s.Status, tasks, s.Rows, s.Bytes,
			s.Files, s.Duration.Seconds(), s.Target, strings.Join(strings.Fields(what), " "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range sums {
		if s.Error != "" {
			fmt.Fprintf(w, "%s: %s\n", s.ID, s.Error)
		}
	}
	return nil
}
