// Package pgoracle connects tests to the real PostgreSQL 15 that
// scripts/with-pg.sh starts (make test does so): the oracle that
// sqllogictest files and the differential test take their expected
// results from.
//
// Tests that need it never skip silently: without DORMOUSE_TEST_PG_URL
// they fail, unless DORMOUSE_SKIP_PG=1 asks for a (loud) skip.
//
// A Conn runs one statement at a time over the simple query protocol, so
// every value comes back in PostgreSQL's text output format, the format
// sql.Result holds, and errors come back as *sqlerr.Error with the
// server's SQLSTATE and position.
package pgoracle

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/sql/slt"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The environment the oracle tests read; scripts/with-pg.sh sets EnvURL.
const (
	EnvURL  = "DORMOUSE_TEST_PG_URL" // postgres://postgres@127.0.0.1:PORT/dormouse_oracle?sslmode=disable
	EnvSkip = "DORMOUSE_SKIP_PG"     // "1" skips the oracle tests instead of failing them
)

// URL returns the oracle's connection URL. Without it, it fails t, or
// skips it if DORMOUSE_SKIP_PG=1.
func URL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	if os.Getenv(EnvSkip) == "1" {
		t.Skipf("SKIPPING POSTGRESQL ORACLE TEST: %s=1 is set. This test did NOT run; "+
			"run it with `make test` (scripts/with-pg.sh).", EnvSkip)
	}
	t.Fatalf("%s is not set: run the tests with `make test`, or "+
		"`./scripts/with-pg.sh go test ./...`, which start a throwaway PostgreSQL 15 "+
		"(or set %s=1 to skip them, loudly)", EnvURL, EnvSkip)
	return ""
}

// Conn is a connection to the oracle. It is not safe for concurrent use.
type Conn struct {
	pg     *pgx.Conn
	types  map[uint32]string // type OID → format_type name
	schema string            // the private schema, if any
}

// Connect connects to a PostgreSQL server.
func Connect(ctx context.Context, url string) (*Conn, error) {
	pg, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	c := &Conn{pg: pg, types: map[uint32]string{}}
	rows, err := pg.Query(ctx, "SELECT oid, format_type(oid, NULL) FROM pg_type")
	if err != nil {
		pg.Close(ctx)
		return nil, fmt.Errorf("read type names: %w", err)
	}
	for rows.Next() {
		var oid uint32
		var name string
		if err := rows.Scan(&oid, &name); err != nil {
			pg.Close(ctx)
			return nil, fmt.Errorf("read type names: %w", err)
		}
		c.types[oid] = name
	}
	if err := rows.Err(); err != nil {
		pg.Close(ctx)
		return nil, fmt.Errorf("read type names: %w", err)
	}
	return c, nil
}

// Open connects t to the oracle (see URL) in a schema of its own, first on
// its search_path, so that tests may create tables by any name. The schema
// is dropped and the connection closed when t ends.
func Open(t testing.TB) *Conn {
	t.Helper()
	ctx := context.Background()
	c, err := Connect(ctx, URL(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.UseNewSchema(ctx, t.Name()); err != nil {
		c.Close(ctx)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.DropSchema(ctx); err != nil {
			t.Errorf("pgoracle: %v", err)
		}
		c.Close(ctx)
	})
	return c
}

// UseNewSchema creates a fresh schema named after hint and puts it first
// on the search path.
func (c *Conn) UseNewSchema(ctx context.Context, hint string) error {
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := "t_" + slug(hint) + "_" + hex.EncodeToString(b[:])
	if _, err := c.pg.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	if _, err := c.pg.Exec(ctx, "SET search_path TO "+name); err != nil {
		return fmt.Errorf("set search_path: %w", err)
	}
	c.schema = name
	return nil
}

// Schema is the name of the schema UseNewSchema made ("" if none).
func (c *Conn) Schema() string { return c.schema }

// DropSchema drops the schema UseNewSchema made, with everything in it.
func (c *Conn) DropSchema(ctx context.Context) error {
	if c.schema == "" {
		return nil
	}
	if _, err := c.pg.Exec(ctx, "DROP SCHEMA "+c.schema+" CASCADE"); err != nil {
		return fmt.Errorf("drop schema %s: %w", c.schema, err)
	}
	c.schema = ""
	return nil
}

func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	out := b.String()
	if len(out) > 40 {
		out = out[len(out)-40:]
	}
	return out
}

// PGX is the underlying connection, for COPY and the like.
func (c *Conn) PGX() *pgx.Conn { return c.pg }

// Close closes the connection.
func (c *Conn) Close(ctx context.Context) error { return c.pg.Close(ctx) }

// Exec runs one statement with the simple query protocol and returns its
// result with values in text format. A PostgreSQL error is returned as a
// *sqlerr.Error. With several statements in sql, the last one's result is
// returned.
func (c *Conn) Exec(ctx context.Context, sql string) (*slt.Result, error) {
	mrr := c.pg.PgConn().Exec(ctx, sql)
	var out *slt.Result
	for mrr.NextResult() {
		rr := mrr.ResultReader()
		r := &slt.Result{}
		for rr.NextRow() {
			row := make([]*string, len(rr.Values()))
			for j, v := range rr.Values() {
				if v != nil {
					s := string(v)
					row[j] = &s
				}
			}
			r.Rows = append(r.Rows, row)
		}
		// Read after the rows: a result without rows still has columns.
		for _, fd := range rr.FieldDescriptions() {
			r.Columns = append(r.Columns, slt.Column{Name: fd.Name, Type: c.typeName(fd.DataTypeOID)})
		}
		tag, err := rr.Close()
		if err != nil {
			mrr.Close()
			return nil, convertError(err)
		}
		r.Tag = tag.String()
		out = r
	}
	if err := mrr.Close(); err != nil {
		return nil, convertError(err)
	}
	if out == nil {
		out = &slt.Result{}
	}
	return out, nil
}

func (c *Conn) typeName(oid uint32) string {
	if n, ok := c.types[oid]; ok {
		return n
	}
	return fmt.Sprintf("oid %d", oid)
}

// convertError turns a server error into a *sqlerr.Error.
func convertError(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	return &sqlerr.Error{Code: pe.Code, Message: pe.Message, Detail: pe.Detail, Hint: pe.Hint,
		Position: int(pe.Position), Err: err}
}
