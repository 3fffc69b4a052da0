// Command dormouse is Dormouse's one binary: the command-line client for
// tables, ingest and reports now, and the server and background workers as
// they arrive. It parses flags and wires the storage packages together; the
// logic lives in those packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// command is one sub-command: `dormouse NAME args…`.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string) error
}

func commands() []command {
	return []command{
		{"table", "create, list, describe and drop tables", runTable},
		{"ingest", "ingest CSV or Parquet files into a table", runIngest},
		{"report", "report a table's partitions, files or jobs", runReport},
		{"query", "run SQL statements and print their results", runQuery},
		{"demo", "create a demo table, ingest generated rows and report it", runDemo},
		{"compactor", "create and run compaction jobs (long-running; --once for scripts)", runCompactor},
		{"split", "split partitions over their split_threshold (long-running; --once)", runSplit},
		{"gc", "delete unreferenced files, orphans and temporary files (long-running; --once)", runGC},
		{"serve", "answer the PostgreSQL protocol and run the background workers (the embedded mode)", runServe},
		{"export", "write a query's result to files, in parallel per partition (COPY … TO)", runExport},
		{"import", "load Parquet or CSV files into a table, in parallel (COPY … FROM)", runImport},
		{"exporter", "claim and run export and import tasks (long-running; --once)", runExporter},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "dormouse:", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage()
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:])
		}
	}
	usage()
	return usageError{fmt.Sprintf("unknown command %q", args[0])}
}

func usage() {
	var b strings.Builder
	b.WriteString("usage: dormouse COMMAND [flags] [args]\n\ncommands:\n")
	cs := commands()
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		fmt.Fprintf(&b, "  %-10s %s\n", c.name, c.summary)
	}
	b.WriteString("\nEvery command takes --store URL (file:///dir or s3://bucket/prefix);\n" +
		"the default is $DORMOUSE_STORE, else file://./data.\n" +
		"Run `dormouse COMMAND -h` for a command's flags.\n")
	fmt.Fprint(os.Stderr, b.String())
}

// usageError is a mistake in the command line (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }
