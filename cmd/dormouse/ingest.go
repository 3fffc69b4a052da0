package main

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/dormousedb/dormouse/storage/ingest"
)

func runIngest(ctx context.Context, args []string) error {
	fs, store := newFlags("ingest", "TABLE FILE...")
	noHeader := fs.Bool("no-header", false, "CSV files have no header row: columns are in table order")
	delim := fs.String("delimiter", "", "CSV field delimiter (default ',' or tab for .tsv)")
	null := fs.String("null", "", "CSV text that stands for NULL (default: an unquoted empty field)")
	format := fs.String("format", "", "csv or parquet (default: by file name)")
	mem := byteSize(ingest.DefaultMemory)
	fs.Var(&mem, "memory", "memory bound, e.g. 512MiB; larger input spills sorted runs to --tmp")
	tmp := fs.String("tmp", "", "directory for spilled sort runs (default: the system's temp dir)")
	pos, err := parseFlags(fs, args)
	if err != nil || len(pos) < 2 {
		return orUsage(err, fs, "ingest takes a table name and at least one file")
	}
	open := ingest.OpenOptions{Format: *format, CSV: ingest.CSVOptions{NoHeader: *noHeader, Null: *null}}
	if *delim != "" {
		r := []rune(*delim)
		if len(r) != 1 {
			return usageError{"--delimiter takes one character"}
		}
		open.CSV.Delimiter = r[0]
	}
	t, err := openTable(ctx, *store, pos[0])
	if err != nil {
		return err
	}
	opts := ingest.Options{MemoryBytes: int64(mem), TempDir: *tmp}
	if os.Getenv("GOMEMLIMIT") == "" {
		// Make the garbage collector work to keep the whole process near
		// the bound, not only the buffers the ingest counts.
		debug.SetMemoryLimit(int64(mem) + int64(mem)/4 + 64<<20)
	}
	bar := newProgressBar(os.Stderr)
	opts.Progress = bar.update
	start := time.Now()
	res, err := ingest.IngestFiles(ctx, t, pos[1:], open, opts)
	bar.done()
	if err != nil {
		return fmt.Errorf("ingest into %s: %w (nothing was committed)", t.Def.Name, err)
	}
	secs := time.Since(start).Seconds()
	fmt.Printf("ingested %d rows into %s: %d files, log entry %d, %.2fs (%.0f rows/s)\n",
		res.Rows, t.Def.Name, len(res.Files), res.Seq, secs, float64(res.Rows)/secs)
	return nil
}

// progressBar draws ingest progress on a terminal, and nothing elsewhere.
type progressBar struct {
	on   bool
	last time.Time
	out  *os.File
}

func newProgressBar(out *os.File) *progressBar {
	return &progressBar{on: isTerminal(out), out: out}
}

func (b *progressBar) update(p ingest.Progress) {
	if !b.on || time.Since(b.last) < 100*time.Millisecond {
		return
	}
	b.last = time.Now()
	switch p.Stage {
	case "read":
		fmt.Fprintf(b.out, "\r\033[Kreading: %d rows", p.RowsRead)
	case "write":
		const width = 30
		fill := int(float64(width) * float64(p.RowsWrote) / float64(max(p.RowsRead, 1)))
		fmt.Fprintf(b.out, "\r\033[Kwriting: [%-*s] %d/%d rows, %d files", width, bar(fill), p.RowsWrote, p.RowsRead, p.Files)
	case "commit":
		fmt.Fprintf(b.out, "\r\033[Kcommitting %d rows", p.RowsWrote)
	}
}

func bar(n int) string {
	s := make([]byte, n)
	for i := range s {
		s[i] = '='
	}
	return string(s)
}

func (b *progressBar) done() {
	if b.on {
		fmt.Fprint(b.out, "\r\033[K")
	}
}
