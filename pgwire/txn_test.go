package pgwire_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// tableText is a table's rows in key order, one "k v" line each.
func tableText(t *testing.T, conn *pgx.Conn, table string) string {
	t.Helper()
	rows, err := conn.Query(context.Background(), "SELECT k, v FROM "+table+" ORDER BY k")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for rows.Next() {
		var k int64
		var v *string
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		s := "NULL"
		if v != nil {
			s = *v
		}
		fmt.Fprintf(&b, "%d %s\n", k, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func countRows(t *testing.T, conn *pgx.Conn, table string) int64 {
	t.Helper()
	var n int64
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPgxTransactionWrites: a transaction's writes are read by itself,
// seen by other connections only after COMMIT, and gone after ROLLBACK.
func TestPgxTransactionWrites(t *testing.T) {
	s := startServer(t)
	a, b := s.connect(t), s.connect(t)
	ctx := context.Background()
	execSQL(t, a, "CREATE TABLE tw (k bigint PRIMARY KEY, v text)", "INSERT INTO tw VALUES (1, 'one'), (9, NULL)")
	before := tableText(t, b, "tw")

	tx, err := a.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO tw VALUES ($1, $2)", 2, "two"); err != nil {
		t.Fatal(err)
	}
	batch := &pgx.Batch{}
	batch.Queue("INSERT INTO tw VALUES ($1, $2)", 3, "three")
	batch.Queue("INSERT INTO tw SELECT k + 100, v FROM tw WHERE k < 9")
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM tw WHERE k = $1", 103).Scan(&n); err != nil || n != 1 {
		t.Errorf("the transaction reads its own row 103: %d, %v", n, err)
	}
	if got := tableText(t, b, "tw"); got != before {
		t.Errorf("another connection before COMMIT:\n%s\nwant\n%s", got, before)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	want := "1 one\n2 two\n3 three\n9 NULL\n101 one\n102 two\n103 three\n"
	if got := tableText(t, b, "tw"); got != want {
		t.Errorf("another connection after COMMIT:\n%s\nwant\n%s", got, want)
	}

	// ROLLBACK, and the ROLLBACK of a failed transaction, leave the table
	// exactly as it was.
	before = tableText(t, b, "tw")
	for _, fail := range []bool{false, true} {
		tx, err := a.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO tw SELECT k + 1000, 'x' FROM tw"); err != nil {
			t.Fatal(err)
		}
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM tw").Scan(&n); err != nil || n != 14 {
			t.Errorf("in the transaction: %d rows, %v", n, err)
		}
		if fail {
			var pe *pgconn.PgError
			if _, err := tx.Exec(ctx, "SELECT 1/0"); !errors.As(err, &pe) || pe.Code != "22012" {
				t.Fatalf("1/0: %v", err)
			}
		}
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		for _, c := range []*pgx.Conn{a, b} {
			if got := tableText(t, c, "tw"); got != before {
				t.Errorf("after ROLLBACK (failed %v):\n%s\nwant\n%s", fail, got, before)
			}
		}
	}
}

// TestPgxTransactionCopy: COPY FROM STDIN inside a transaction commits
// with it.
func TestPgxTransactionCopy(t *testing.T) {
	s := startServer(t)
	a, b := s.connect(t), s.connect(t)
	ctx := context.Background()
	execSQL(t, a, "CREATE TABLE tc (k bigint PRIMARY KEY, v text)")
	rows := [][]any{{int64(1), "a"}, {int64(2), "b"}, {int64(3), nil}}
	for _, commit := range []bool{false, true} {
		tx, err := a.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n, err := tx.CopyFrom(ctx, pgx.Identifier{"tc"}, []string{"k", "v"}, pgx.CopyFromRows(rows))
		if err != nil || n != 3 {
			t.Fatalf("CopyFrom: %d, %v", n, err)
		}
		// Text COPY through the simple protocol, as psql's \copy sends it.
		if _, err := tx.Conn().PgConn().CopyFrom(ctx, strings.NewReader("10\tten\n11\t\\N\n"), "COPY tc FROM STDIN"); err != nil {
			t.Fatal(err)
		}
		var in int64
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM tc").Scan(&in); err != nil || in != 5 {
			t.Errorf("in the transaction: %d rows, %v", in, err)
		}
		if got := countRows(t, b, "tc"); got != 0 {
			t.Errorf("another connection sees %d rows before COMMIT", got)
		}
		if commit {
			err = tx.Commit(ctx)
		} else {
			err = tx.Rollback(ctx)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if got, want := tableText(t, b, "tc"), "1 a\n2 b\n3 NULL\n10 ten\n11 NULL\n"; got != want {
		t.Errorf("after COMMIT:\n%s\nwant\n%s", got, want)
	}
}

// TestPgxTransactionDisconnect: a connection that goes away mid-
// transaction loses its writes, and its files are deleted.
func TestPgxTransactionDisconnect(t *testing.T) {
	s := startServer(t)
	a := s.connect(t)
	ctx := context.Background()
	execSQL(t, a, "CREATE TABLE td (k bigint PRIMARY KEY, v text)", "INSERT INTO td VALUES (1, 'kept')")

	gone, err := pgx.Connect(ctx, s.url())
	if err != nil {
		t.Fatal(err)
	}
	execSQL(t, gone, "BEGIN", "INSERT INTO td VALUES (2, 'lost'), (3, 'lost')")
	tb, err := s.eng.DB().Table(ctx, "td")
	if err != nil {
		t.Fatal(err)
	}
	if o, err := tb.Orphans(ctx); err != nil || len(o) == 0 {
		t.Fatalf("the transaction's files: %v, %v", o, err)
	}
	// Drop the connection without a word, as a crashed client does.
	if err := gone.PgConn().Conn().Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		o, err := tb.Orphans(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(o) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dropped connection's files are still there: %v", o)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := tableText(t, a, "td"); got != "1 kept\n" {
		t.Errorf("after the connection dropped:\n%s", got)
	}
}

// TestPgxTransactionDDL: DDL inside a block is refused with 0A000 and
// fails the block; queries in a block (JDBC with autocommit off) work.
func TestPgxTransactionDDL(t *testing.T) {
	s := startServer(t)
	a := s.connect(t)
	ctx := context.Background()
	tx, err := a.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var one int
	if err := tx.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec(ctx, "CREATE TABLE tddl (k bigint PRIMARY KEY)")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "0A000" || pe.Message != "CREATE TABLE cannot run inside a transaction block" {
		t.Fatalf("CREATE TABLE in a block: %v", err)
	}
	if st := a.PgConn().TxStatus(); st != 'E' {
		t.Errorf("status %c, want E", st)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	execSQL(t, a, "CREATE TABLE tddl (k bigint PRIMARY KEY)")
}
