package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/dormousedb/dormouse/bench/gen"
	"github.com/dormousedb/dormouse/storage"
	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/ingest"
	_ "github.com/duckdb/duckdb-go/v2"
)

// duckdbChild is `compare duckdb-child CSV OUT TMPDIR [MEMORY]`: one COPY of
// the CSV to a Parquet file sorted by key, reported as JSON on stdout.
func duckdbChild(ctx context.Context, args []string) error {
	if len(args) != 4 {
		return fmt.Errorf("want CSV OUT TMPDIR MEMORY, got %q", args)
	}
	csv, out, tmp, memory := args[0], args[1], args[2], args[3]
	copySQL := fmt.Sprintf("COPY (SELECT * FROM read_csv(%s) ORDER BY key) TO %s (FORMAT parquet, COMPRESSION zstd)", quote(csv), quote(out))
	return duckdbCopy(ctx, tmp, memory, copySQL)
}

// duckdbCopy runs one COPY statement in a fresh in-memory DuckDB, spilling
// to tmp and within memory (DuckDB's default when ""), and reports it as
// JSON (duckdbResult) on stdout.
func duckdbCopy(ctx context.Context, tmp, memory, copySQL string) error {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer db.Close()
	// One connection: SET applies to the session that runs the COPY.
	db.SetMaxOpenConns(1)
	stmts := []string{"SET temp_directory = " + quote(tmp)}
	if memory != "" {
		stmts = append(stmts, "SET memory_limit = "+quote(memory))
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	var res duckdbResult
	if err := db.QueryRowContext(ctx, "SELECT version(), current_setting('threads')").Scan(&res.Version, &res.Threads); err != nil {
		return err
	}
	start := time.Now()
	r, err := db.ExecContext(ctx, copySQL)
	if err != nil {
		return fmt.Errorf("%s: %w", copySQL, err)
	}
	res.Seconds = time.Since(start).Seconds()
	if res.Rows, err = r.RowsAffected(); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// quote makes a SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// profileChild is `compare profile-child CSV STOREDIR PROFILE`: the work of
// `dormouse table create` + `dormouse ingest` with the default memory bound,
// in process, under the CPU profiler.
func profileChild(ctx context.Context, args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("want CSV STOREDIR PROFILE, got %q", args)
	}
	csv, dir, profile := args[0], args[1], args[2]
	db, err := storage.Open(ctx, "file://"+dir)
	if err != nil {
		return err
	}
	t, err := db.CreateTable(ctx, catalog.TableDef{Name: "bench", Schema: gen.Schema(), Properties: catalog.Properties{}})
	if err != nil {
		return err
	}
	f, err := os.Create(profile)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	start := time.Now()
	res, err := ingest.IngestFiles(ctx, t, []string{csv}, ingest.OpenOptions{}, ingest.Options{TempDir: dir})
	pprof.StopCPUProfile()
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	fmt.Fprintf(os.Stderr, "bench: profiled ingest: %d rows in %.1fs (%.0f rows/s)\n", res.Rows, secs, float64(res.Rows)/secs)
	return nil
}
