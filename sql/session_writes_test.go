package sql_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/splitter"
	"github.com/dormousedb/dormouse/sql"
	"github.com/dormousedb/dormouse/storage"
	"github.com/dormousedb/dormouse/storage/gc"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/storagetest"
)

// txnEnv is one store seen by two engines, as two processes would see it:
// sessions a and b of the first, c of the second.
type txnEnv struct {
	db      *storage.DB
	e, e2   *sql.Engine
	a, b, c *sql.Session
}

func newTxnEnv(t *testing.T) *txnEnv { return newTxnEnvOn(t, storagetest.LocalStore(t)) }

func newTxnEnvOn(t *testing.T, store objstore.Store) *txnEnv {
	t.Helper()
	db := storagetest.NewDB(t, store)
	db2, err := storage.OpenDB(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	e, e2 := sql.NewEngine(db, sql.Config{}), sql.NewEngine(db2, sql.Config{})
	return &txnEnv{db: db, e: e, e2: e2, a: e.NewSession(), b: e.NewSession(), c: e2.NewSession()}
}

// runErr runs q and returns its error's SQLSTATE, "" when it succeeds.
func runErr(s *sql.Session, q string) string {
	rows, err := s.Run(context.Background(), q)
	if err == nil {
		if _, err = sql.Collect(context.Background(), rows); err != nil {
			s.StatementFailed() // as a front door does for errors met reading rows
		}
	}
	return sqlerr.Code(err)
}

// contents is a table's rows, one "k|v" line each in key order.
func contents(t *testing.T, s *sql.Session, table string) string {
	t.Helper()
	return rowsText(mustRun(t, s, "SELECT * FROM "+table+" ORDER BY 1").Rows)
}

// orphans counts objects under a table's data prefix that no state
// references.
func orphans(t *testing.T, db *storage.DB, name string) int {
	t.Helper()
	tb, err := db.Table(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	o, err := tb.Orphans(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(o)
}

func TestTransactionCommitVisibleAtCommit(t *testing.T) {
	env := newTxnEnv(t)
	mustRun(t, env.a, "CREATE TABLE t (k bigint PRIMARY KEY, v text)")
	mustRun(t, env.a, "INSERT INTO t VALUES (1, 'before')")
	before := contents(t, env.b, "t")

	mustRun(t, env.a, "BEGIN")
	mustRun(t, env.a, "INSERT INTO t VALUES (2, 'two'), (3, 'three')")
	mustRun(t, env.a, "INSERT INTO t SELECT k + 10, v || '!' FROM t") // reads its own rows
	// The session reads its own writes; the others do not see them.
	if got, want := contents(t, env.a, "t"), "1|before\n2|two\n3|three\n11|before!\n12|two!\n13|three!\n"; got != want {
		t.Errorf("in the transaction:\n%s\nwant\n%s", got, want)
	}
	for _, s := range []*sql.Session{env.b, env.c} {
		if got := contents(t, s, "t"); got != before {
			t.Errorf("another session before COMMIT:\n%s\nwant\n%s", got, before)
		}
	}
	if n := mustRun(t, env.a, "SELECT count(*) FROM t a JOIN t b USING (k)").Rows[0][0]; *n != "6" {
		t.Errorf("self-join in the transaction: %s rows, want 6", *n)
	}
	res := mustRun(t, env.a, "COMMIT")
	if res.Tag != "COMMIT" {
		t.Errorf("tag %q", res.Tag)
	}
	want := "1|before\n2|two\n3|three\n11|before!\n12|two!\n13|three!\n"
	for _, s := range []*sql.Session{env.a, env.b, env.c} {
		if got := contents(t, s, "t"); got != want {
			t.Errorf("after COMMIT:\n%s\nwant\n%s", got, want)
		}
	}
	// One AddFiles for the transaction's two INSERTs.
	res = mustRun(t, env.a, "SELECT count(*) FROM dormouse.transactions WHERE table_name = 't' AND kind = 'add_files'")
	if got := *res.Rows[0][0]; got != "2" {
		t.Errorf("%s add_files transactions, want 2 (the INSERT before and the COMMIT)", got)
	}
}

func TestTransactionRollback(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) { testTransactionRollback(t, newTxnEnvOn(t, store)) })
}

func testTransactionRollback(t *testing.T, env *txnEnv) {
	mustRun(t, env.a, "CREATE TABLE t (k bigint PRIMARY KEY, v text)")
	mustRun(t, env.a, "INSERT INTO t VALUES (1, 'one'), (5, 'five')")
	before := contents(t, env.a, "t")
	for _, end := range []string{"ROLLBACK", "failed ROLLBACK", "failed COMMIT"} {
		mustRun(t, env.a, "BEGIN")
		mustRun(t, env.a, "INSERT INTO t VALUES (2, 'two')")
		mustRun(t, env.a, "INSERT INTO t SELECT k + 100, v FROM t")
		if n := *mustRun(t, env.a, "SELECT count(*) FROM t").Rows[0][0]; n != "6" {
			t.Errorf("%s: %s rows in the transaction, want 6", end, n)
		}
		if strings.HasPrefix(end, "failed") {
			if code := runErr(env.a, "SELECT 1/0"); code != sqlerr.DivisionByZero {
				t.Fatalf("1/0: %q", code)
			}
			if env.a.TxnStatus() != sql.TxnFailed {
				t.Fatalf("status %c after an error", env.a.TxnStatus())
			}
		}
		res := mustRun(t, env.a, strings.TrimPrefix(end, "failed "))
		if res.Tag != "ROLLBACK" || env.a.TxnStatus() != sql.TxnIdle {
			t.Errorf("%s: tag %q, status %c", end, res.Tag, env.a.TxnStatus())
		}
		for _, s := range []*sql.Session{env.a, env.c} {
			if got := contents(t, s, "t"); got != before {
				t.Errorf("after %s:\n%s\nwant\n%s", end, got, before)
			}
		}
		if n := orphans(t, env.db, "t"); n != 0 {
			t.Errorf("after %s: %d files left behind", end, n)
		}
	}
}

// TestTransactionSessionClosed: a session that ends mid-transaction (a
// connection that went away) loses its writes and deletes their files; one
// that never ends (a process that died) leaves orphans that the garbage
// collector removes after gc_delay, and the table is still whole.
func TestTransactionSessionClosed(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) { testTransactionSessionClosed(t, newTxnEnvOn(t, store)) })
}

func testTransactionSessionClosed(t *testing.T, env *txnEnv) {
	ctx := context.Background()
	mustRun(t, env.a, "CREATE TABLE t (k bigint PRIMARY KEY, v text) WITH (gc_delay = '1h')")
	mustRun(t, env.a, "INSERT INTO t VALUES (1, 'one')")
	before := contents(t, env.a, "t")

	mustRun(t, env.b, "BEGIN")
	mustRun(t, env.b, "INSERT INTO t VALUES (2, 'two')")
	if !env.b.HasPendingWrites() {
		t.Fatal("no pending writes")
	}
	env.b.Close()
	if got := contents(t, env.a, "t"); got != before {
		t.Errorf("after Close:\n%s\nwant\n%s", got, before)
	}
	if n := orphans(t, env.db, "t"); n != 0 {
		t.Errorf("Close left %d files", n)
	}

	dead := env.e.NewSession()
	mustRun(t, dead, "BEGIN")
	mustRun(t, dead, "INSERT INTO t VALUES (3, 'three'), (4, 'four')")
	if n := orphans(t, env.db, "t"); n == 0 {
		t.Fatal("the transaction wrote no files")
	}
	tb, err := env.db.Table(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	// Within gc_delay the collector keeps them: the transaction may commit.
	if res, err := gc.Run(ctx, tb, gc.Options{}); err != nil || res.Orphans != 0 {
		t.Fatalf("gc within the delay: %+v, %v", res, err)
	}
	res, err := gc.Run(ctx, tb, gc.Options{Now: time.Now().Add(2 * time.Hour)})
	if err != nil || res.Orphans == 0 {
		t.Fatalf("gc after the delay: %+v, %v", res, err)
	}
	if n := orphans(t, env.db, "t"); n != 0 {
		t.Errorf("%d files left after gc", n)
	}
	if got := contents(t, env.a, "t"); got != before {
		t.Errorf("after gc:\n%s\nwant\n%s", got, before)
	}
	if err := tb.Check(ctx); err != nil {
		t.Error(err)
	}
}

// TestTransactionTooOld: a transaction whose first write is nearly
// gc_delay old can no longer commit (the collector may take its files).
func TestTransactionTooOld(t *testing.T) {
	env := newTxnEnv(t)
	var skew time.Duration
	sql.SetClock(env.e, func() time.Time { return time.Now().Add(skew) })
	mustRun(t, env.a, "CREATE TABLE t (k bigint PRIMARY KEY) WITH (gc_delay = '10m')")
	for _, end := range []string{"SELECT 1", "COMMIT"} {
		skew = 0
		mustRun(t, env.a, "BEGIN")
		mustRun(t, env.a, "INSERT INTO t VALUES (1)")
		skew = 9 * time.Minute // past gc_delay less its margin
		if code := runErr(env.a, end); code != "25P04" {
			t.Fatalf("%s: %q, want 25P04", end, code)
		}
		if end != "COMMIT" {
			mustRun(t, env.a, "ROLLBACK")
		}
		if env.a.TxnStatus() != sql.TxnIdle {
			t.Fatalf("status %c", env.a.TxnStatus())
		}
		if n := *mustRun(t, env.b, "SELECT count(*) FROM t").Rows[0][0]; n != "0" {
			t.Errorf("%s rows committed", n)
		}
	}
}

// TestTransactionSeveralTables: a transaction's writes to several tables
// commit together; if one of them cannot commit (its table was dropped),
// none does.
func TestTransactionSeveralTables(t *testing.T) {
	env := newTxnEnv(t)
	for _, name := range []string{"a", "b"} {
		mustRun(t, env.a, fmt.Sprintf("CREATE TABLE %s (k bigint PRIMARY KEY, v text)", name))
	}
	mustRun(t, env.a, "BEGIN")
	mustRun(t, env.a, "INSERT INTO b VALUES (1, 'b1')")
	mustRun(t, env.a, "INSERT INTO a VALUES (1, 'a1')")
	mustRun(t, env.a, "INSERT INTO a SELECT k + 1, v FROM b")
	if got := *mustRun(t, env.c, "SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM b)").Rows[0][0]; got != "0" {
		t.Errorf("%s rows visible before COMMIT", got)
	}
	mustRun(t, env.a, "COMMIT")
	if got := contents(t, env.c, "a") + contents(t, env.c, "b"); got != "1|a1\n2|b1\n1|b1\n" {
		t.Errorf("after COMMIT:\n%s", got)
	}

	mustRun(t, env.a, "BEGIN")
	mustRun(t, env.a, "INSERT INTO a VALUES (10, 'x')")
	mustRun(t, env.a, "INSERT INTO b VALUES (10, 'x')")
	mustRun(t, env.b, "DROP TABLE b")
	mustRun(t, env.b, "CREATE TABLE b (k bigint PRIMARY KEY, v text)")
	if code := runErr(env.a, "COMMIT"); code != "40001" {
		t.Fatalf("COMMIT after b was dropped: %q, want 40001", code)
	}
	if env.a.TxnStatus() != sql.TxnIdle {
		t.Errorf("status %c after a failed COMMIT", env.a.TxnStatus())
	}
	if got := contents(t, env.c, "a") + contents(t, env.c, "b"); got != "1|a1\n2|b1\n" {
		t.Errorf("after the failed COMMIT:\n%s", got)
	}
	if n := orphans(t, env.db, "a"); n != 0 {
		t.Errorf("the failed COMMIT left %d files of a", n)
	}
}

// TestTransactionAcrossSplit: a leaf split between a write and its COMMIT
// gets the rows on the right new leaves.
func TestTransactionAcrossSplit(t *testing.T) {
	env := newTxnEnv(t)
	ctx := context.Background()
	mustRun(t, env.a, "CREATE TABLE t (k bigint PRIMARY KEY) WITH (split_threshold = 100)")
	mustRun(t, env.a, "INSERT INTO t SELECT * FROM generate_series(1, 1000)")
	mustRun(t, env.b, "BEGIN")
	mustRun(t, env.b, "INSERT INTO t SELECT * FROM generate_series(1001, 1500)")
	tb, err := env.db.Table(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	splits, err := splitter.Run(ctx, tb, splitter.Options{})
	if err != nil || len(splits) == 0 {
		t.Fatalf("split: %v, %v", splits, err)
	}
	if n := *mustRun(t, env.b, "SELECT count(*) FROM t WHERE k > 990").Rows[0][0]; n != "510" {
		t.Errorf("%s rows above 990 in the transaction after the split, want 510", n)
	}
	mustRun(t, env.b, "COMMIT")
	res := mustRun(t, env.c, "SELECT count(*), count(DISTINCT k), sum(k) FROM t")
	if got := rowsText(res.Rows); got != "1500|1500|1125750\n" {
		t.Errorf("after COMMIT: %s", got)
	}
	if err := tb.Check(ctx); err != nil {
		t.Error(err)
	}
}

// TestTransactionRefusals: DDL and bulk imports cannot be part of a block;
// a read-only block refuses writes as before.
func TestTransactionRefusals(t *testing.T) {
	env := newTxnEnv(t)
	mustRun(t, env.a, "CREATE TABLE t (k bigint PRIMARY KEY)")
	for _, q := range []string{
		"CREATE TABLE u (k bigint PRIMARY KEY)",
		"DROP TABLE t",
		"ALTER TABLE t SET (gc_delay = '1h')",
		"COPY t FROM '/nonexistent/dir/'",
	} {
		mustRun(t, env.a, "BEGIN")
		mustRun(t, env.a, "SELECT count(*) FROM t")
		if code := runErr(env.a, q); code != sqlerr.FeatureNotSupported {
			t.Errorf("%s in a block: %q, want 0A000", q, code)
		}
		if res := mustRun(t, env.a, "COMMIT"); res.Tag != "ROLLBACK" {
			t.Errorf("COMMIT of the failed block: %q", res.Tag)
		}
	}
	mustRun(t, env.a, "BEGIN READ ONLY")
	if code := runErr(env.a, "INSERT INTO t VALUES (1)"); code != sqlerr.ReadOnlySQLTransaction {
		t.Errorf("INSERT in a read-only block: %q", code)
	}
	mustRun(t, env.a, "ROLLBACK")
	// Outside a block DDL runs as before.
	mustRun(t, env.a, "CREATE TABLE u (k bigint PRIMARY KEY)")
}

// TestImplicitTransaction: the statements of one implicit transaction
// (a simple Query's, or the messages up to a Sync) commit together at its
// end, or not at all if one failed.
func TestImplicitTransaction(t *testing.T) {
	env := newTxnEnv(t)
	ctx := context.Background()
	mustRun(t, env.a, "CREATE TABLE t (k bigint PRIMARY KEY)")

	env.a.BeginImplicit()
	mustRun(t, env.a, "INSERT INTO t VALUES (1)")
	if n := *mustRun(t, env.a, "SELECT count(*) FROM t").Rows[0][0]; n != "1" {
		t.Errorf("%s rows in the implicit transaction, want 1", n)
	}
	if n := *mustRun(t, env.b, "SELECT count(*) FROM t").Rows[0][0]; n != "0" {
		t.Errorf("%s rows visible before its end", n)
	}
	if err := env.a.EndImplicit(ctx, false); err != nil {
		t.Fatal(err)
	}
	if n := *mustRun(t, env.b, "SELECT count(*) FROM t").Rows[0][0]; n != "1" {
		t.Errorf("%s rows after its end, want 1", n)
	}

	env.a.BeginImplicit()
	mustRun(t, env.a, "INSERT INTO t VALUES (2)")
	if code := runErr(env.a, "SELECT 1/0"); code != sqlerr.DivisionByZero {
		t.Fatal(code)
	}
	if err := env.a.EndImplicit(ctx, true); err != nil {
		t.Fatal(err)
	}
	if got := contents(t, env.b, "t"); got != "1\n" {
		t.Errorf("after a failed implicit transaction:\n%s", got)
	}
	if n := orphans(t, env.db, "t"); n != 0 {
		t.Errorf("%d files left", n)
	}
}
