package sql

import (
	"context"
	"strings"
	"time"

	"github.com/dormousedb/dormouse/export"
)

// The dormouse.exports and dormouse.export_tasks views: every export and
// import the store's exports log remembers, and their tasks.

var exportsView = &virtualTable{schema: "dormouse", name: "exports", cols: cols(
	"export_id", tText, "kind", tText, "status", tText, "target", tText, "format", tText, "table_name", tText,
	"query", tText, "tasks", tInt8, "tasks_done", tInt8, "tasks_running", tInt8, "tasks_failed", tInt8,
	"rows", tInt8, "bytes", tInt8, "files", tInt8, "created", tTSTZ, "finished", tTSTZ, "seconds", tFloat8,
	"error", tText),
	rows: exportsRows}

var exportTasksView = &virtualTable{schema: "dormouse", name: "export_tasks", cols: cols(
	"export_id", tText, "task", tInt8, "partition_id", tText, "inputs", tText, "status", tText, "worker", tText,
	"attempts", tInt8, "rows", tInt8, "bytes", tInt8, "files", tInt8, "started", tTSTZ, "finished", tTSTZ,
	"error", tText),
	rows: exportTasksRows}

func exportsState(ctx context.Context, snap *snapshot) (*export.State, error) {
	l, err := export.OpenLog(ctx, snap.db.Store)
	if err != nil {
		return nil, err
	}
	s, _, err := l.State(ctx)
	return s, err
}

func orNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func timeOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func exportsRows(ctx context.Context, snap *snapshot) ([][]any, error) {
	s, err := exportsState(ctx, snap)
	if err != nil {
		return nil, err
	}
	var out [][]any
	for _, e := range export.Summarise(s, time.Now()) {
		out = append(out, []any{e.ID, e.Kind, e.Status, e.Target, e.Format, orNull(e.Table), orNull(e.Query),
			int64(e.Tasks), int64(e.Done), int64(e.Running), int64(e.Failed), e.Rows, e.Bytes, int64(e.Files),
			e.Created, timeOrNull(e.Finished), e.Duration.Seconds(), orNull(e.Error)})
	}
	return out, nil
}

func exportTasksRows(ctx context.Context, snap *snapshot) ([][]any, error) {
	s, err := exportsState(ctx, snap)
	if err != nil {
		return nil, err
	}
	var out [][]any
	for _, t := range export.Tasks(s) {
		out = append(out, []any{t.Export, int64(t.Task), orNull(t.Partition), orNull(strings.Join(t.Inputs, ", ")),
			t.Status, orNull(t.Worker), int64(t.Attempts), t.Rows, t.Bytes, int64(t.Files),
			timeOrNull(t.Started), timeOrNull(t.Finished), orNull(t.Error)})
	}
	return out, nil
}
