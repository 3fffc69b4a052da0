//go:build duckdb_arrow

package main

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// duckReader reads the Flight SQL benchmark's Parquet files with DuckDB,
// results as Arrow batches through duckdb-go's Arrow interface.
type duckReader struct {
	db    *sql.DB
	conn  *sql.Conn
	query string
	mode  string
}

func newDuckReader(ctx context.Context, files []string) (*duckReader, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	quoted := make([]string, len(files))
	for i, f := range files {
		quoted[i] = quote(f)
	}
	return &duckReader{db: db, conn: conn, mode: "Arrow batches",
		query: fmt.Sprintf("SELECT * FROM read_parquet([%s])", strings.Join(quoted, ", "))}, nil
}

func (d *duckReader) read(ctx context.Context) (rows, bytes int64, err error) {
	err = d.conn.Raw(func(dc any) error {
		ar, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		rdr, err := ar.QueryContext(ctx, d.query)
		if err != nil {
			return err
		}
		defer rdr.Release()
		for rdr.Next() {
			rec := rdr.RecordBatch()
			rows += rec.NumRows()
			bytes += arrowBytes(rec)
		}
		return rdr.Err()
	})
	return rows, bytes, err
}

func (d *duckReader) Close() error {
	d.conn.Close()
	return d.db.Close()
}
