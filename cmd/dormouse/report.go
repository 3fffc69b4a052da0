package main

import (
	"context"
	"flag"
	"os"
	"time"

	"github.com/dormousedb/dormouse/storage/table"
)

func runReport(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "exports" {
		fs, store := newFlags("report exports", "")
		asJSON := fs.Bool("json", false, "print JSON")
		pos, err := parseFlags(fs, args[1:])
		if err != nil || len(pos) != 0 {
			return orUsage(err, fs, "report exports takes no table")
		}
		return reportExports(ctx, *store, *asJSON)
	}
	if len(args) == 0 || (args[0] != "partitions" && args[0] != "files" && args[0] != "jobs") {
		return usageError{"usage: dormouse report partitions|files|jobs TABLE [--json], or report exports [--json]"}
	}
	what := args[0]
	fs, store := newFlags("report "+what, "TABLE")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseFlags(fs, args[1:])
	if err != nil || len(pos) != 1 {
		return orUsage(err, fs, "report "+what+" takes one table name")
	}
	t, err := openTable(ctx, *store, pos[0])
	if err != nil {
		return err
	}
	if what == "jobs" {
		s, seq, err := t.State(ctx)
		if err != nil {
			return err
		}
		jobs := table.JobsReport(s, time.Now())
		if *asJSON {
			return printJSON(map[string]any{"table": t.Def.Name, "log_seq": seq, "jobs": jobs})
		}
		return table.WriteJobs(os.Stdout, t.Def.Name, seq, jobs)
	}
	rep, err := t.Report(ctx)
	if err != nil {
		return err
	}
	switch {
	case *asJSON && what == "partitions":
		return printJSON(map[string]any{"table": rep.Table, "log_seq": rep.Seq, "rows": rep.Rows, "partitions": rep.Partitions})
	case *asJSON:
		return printJSON(map[string]any{"table": rep.Table, "log_seq": rep.Seq, "rows": rep.Rows, "files": rep.Files})
	case what == "partitions":
		return rep.WritePartitions(os.Stdout)
	}
	return rep.WriteFiles(os.Stdout)
}

// orUsage turns a parse failure or a wrong argument count into a usage
// error, printing the command's flags.
func orUsage(err error, fs *flag.FlagSet, msg string) error {
	if err == errHelp {
		return nil
	}
	if err != nil {
		return err
	}
	fs.Usage()
	return usageError{msg}
}
