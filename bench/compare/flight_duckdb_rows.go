//go:build !duckdb_arrow

package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// duckReader reads the Flight SQL benchmark's Parquet files with DuckDB
// through database/sql rows (built without the duckdb_arrow tag, which
// `make bench` sets for the Arrow interface).
type duckReader struct {
	db    *sql.DB
	query string
	mode  string
}

func newDuckReader(ctx context.Context, files []string) (*duckReader, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, err
	}
	quoted := make([]string, len(files))
	for i, f := range files {
		quoted[i] = quote(f)
	}
	return &duckReader{db: db, mode: "database/sql rows",
		query: fmt.Sprintf("SELECT * FROM read_parquet([%s])", strings.Join(quoted, ", "))}, nil
}

func (d *duckReader) read(ctx context.Context) (rows, bytes int64, err error) {
	rs, err := d.db.QueryContext(ctx, d.query)
	if err != nil {
		return 0, 0, err
	}
	defer rs.Close()
	var key, c sql.RawBytes
	var a int64
	var b float64
	for rs.Next() {
		if err := rs.Scan(&key, &a, &b, &c); err != nil {
			return rows, bytes, err
		}
		rows++
		bytes += int64(len(key)+len(c)) + 16
	}
	return rows, bytes, rs.Err()
}

func (d *duckReader) Close() error { return d.db.Close() }
