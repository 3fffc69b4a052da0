package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/dormousedb/dormouse/pgwire"
	"github.com/dormousedb/dormouse/sql"
	"github.com/dormousedb/dormouse/storage"
	"github.com/dormousedb/dormouse/storage/catalog"
)

// DefaultListen is where `dormouse serve` answers the PostgreSQL protocol:
// beside a PostgreSQL on the usual 5432.
const DefaultListen = "127.0.0.1:5433"

// pgwireLoop listens on addr and returns the loop that serves the
// PostgreSQL protocol there until its context ends. Listening happens now,
// so that a port in use fails the command at once.
func pgwireLoop(eng *sql.Engine, addr string, log *slog.Logger) (func(context.Context) error, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for PostgreSQL clients: %w", err)
	}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	log.Info("serving the PostgreSQL protocol", "addr", ln.Addr().String())
	fmt.Printf("connect with: psql -h %s -p %s\n", host, port)
	srv := &pgwire.Server{Engine: eng, Logger: log}
	return func(ctx context.Context) error { return srv.Serve(ctx, ln) }, nil
}

// ensureDemo creates the demo table with a few generated rows unless the
// store has it already: what `make run` serves on first start.
func ensureDemo(ctx context.Context, db *storage.DB, rows int64, log *slog.Logger) error {
	_, err := db.Table(ctx, "demo")
	if err == nil {
		return nil
	}
	if !errors.Is(err, catalog.ErrNoTable) {
		return err
	}
	n, err := createDemo(ctx, db, "demo", rows)
	if err != nil {
		return fmt.Errorf("create the demo table: %w", err)
	}
	log.Info("created table demo", "rows", n)
	return nil
}
