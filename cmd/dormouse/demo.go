package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/dormousedb/dormouse/bench/gen"
	"github.com/dormousedb/dormouse/storage"
	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/ingest"
	"github.com/dormousedb/dormouse/storage/schema"
	"github.com/dormousedb/dormouse/storage/table"
)

// runDemo creates the demo table if it is missing, ingests a batch of
// generated rows and prints the partition and file reports: what `make run`
// shows until the server arrives.
func runDemo(ctx context.Context, args []string) error {
	fs, store := newFlags("demo", "")
	rows := fs.Int64("rows", 1_000_000, "rows to generate and ingest")
	name := fs.String("table", "demo", "table name")
	if _, err := parseFlags(fs, args); err != nil {
		return orUsage(err, fs, "")
	}
	db, err := openDB(ctx, *store)
	if err != nil {
		return err
	}
	t, created, err := demoTable(ctx, db, *name)
	if err != nil {
		return err
	}
	if created {
		fmt.Printf("created table %s (%s) in %s, pre-split into 4 partitions\n", t.Def.Name, t.Def.Schema, db.Store.URL())
	}
	before, _, err := t.State(ctx)
	if err != nil {
		return err
	}
	start := time.Now()
	src := gen.NewRows(uint64(time.Now().UnixNano()), *rows, 64<<10, nil)
	bar := newProgressBar(os.Stderr)
	res, err := ingest.Ingest(ctx, t, []ingest.RecordReader{src}, ingest.Options{Progress: bar.update})
	bar.done()
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	fmt.Printf("ingested %d generated rows in %.2fs (%.0f rows/s) as log entry %d; the table had %d rows\n\n",
		res.Rows, secs, float64(res.Rows)/secs, res.Seq, before.TotalRows())
	rep, err := t.Report(ctx)
	if err != nil {
		return err
	}
	if err := rep.WritePartitions(os.Stdout); err != nil {
		return err
	}
	fmt.Println()
	if err := rep.WriteFiles(os.Stdout); err != nil {
		return err
	}
	fmt.Printf("\nnext: dormouse report files %s --store %s --json\n", t.Def.Name, db.Store.URL())
	return nil
}

// demoTable opens the demo table, creating it, pre-split into four
// partitions, if the store lacks it.
func demoTable(ctx context.Context, db *storage.DB, name string) (t *table.Table, created bool, err error) {
	t, err = db.Table(ctx, name)
	if !errors.Is(err, catalog.ErrNoTable) {
		return t, false, err
	}
	def := catalog.TableDef{Name: name, Schema: gen.Schema()}
	for _, p := range []string{"k250000000000000", "k500000000000000", "k750000000000000"} {
		enc, _ := schema.ParseValue(schema.Varchar, p)
		def.SplitPoints = append(def.SplitPoints, enc)
	}
	t, err = db.CreateTable(ctx, def)
	return t, err == nil, err
}

// createDemo creates the demo table and ingests rows generated rows into
// it, returning how many it committed.
func createDemo(ctx context.Context, db *storage.DB, name string, rows int64) (int64, error) {
	t, _, err := demoTable(ctx, db, name)
	if err != nil {
		return 0, err
	}
	src := gen.NewRows(uint64(time.Now().UnixNano()), rows, 64<<10, nil)
	res, err := ingest.Ingest(ctx, t, []ingest.RecordReader{src}, ingest.Options{})
	return res.Rows, err
}
