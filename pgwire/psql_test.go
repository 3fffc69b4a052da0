package pgwire_test

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// The psql tests run Debian's psql 15 (make setup installs it with
// postgresql-15) against the server: queries with -c, \copy both ways,
// and the \d family, whose catalog queries are compared with what the
// same psql prints against PostgreSQL 15 when DORMOUSE_TEST_PG_URL names
// one.

// psqlTarget is a server psql connects to.
type psqlTarget struct{ host, port, user, db string }

func psqlBinary(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("psql")
	if err != nil {
		if os.Getenv("DORMOUSE_SKIP_CLIENTS") != "" {
			t.Skip("psql not installed and DORMOUSE_SKIP_CLIENTS is set")
		}
		t.Fatal("psql not found: run make setup (Debian's postgresql-client-15)")
	}
	return path
}

func dormouseTarget(s *testServer) psqlTarget {
	host, port, _ := strings.Cut(s.addr, ":")
	return psqlTarget{host: host, port: port, user: "postgres", db: "dormouse"}
}

// pgTarget is the oracle PostgreSQL, if the environment names one.
func pgTarget(t *testing.T) (psqlTarget, bool) {
	raw := os.Getenv("DORMOUSE_TEST_PG_URL")
	if raw == "" {
		return psqlTarget{}, false
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := strings.Cut(u.Host, ":")
	return psqlTarget{host: host, port: port, user: u.User.Username(), db: strings.TrimPrefix(u.Path, "/")}, true
}

// psql runs psql with args and returns its standard output; stderr goes
// to the error.
func psql(t *testing.T, to psqlTarget, dir string, args ...string) (string, error) {
	t.Helper()
	bin := psqlBinary(t)
	base := []string{"-X", "-q", "-h", to.host, "-p", to.port, "-U", to.user, "-d", to.db, "-v", "ON_ERROR_STOP=1"}
	cmd := exec.Command(bin, append(base, args...)...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "PGCONNECT_TIMEOUT=20", "LANG=C.UTF-8", "PGTZ=UTC"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), &psqlError{err: err, stderr: stderr.String()}
	}
	return stdout.String(), nil
}

type psqlError struct {
	err    error
	stderr string
}

func (e *psqlError) Error() string { return e.err.Error() + ": " + e.stderr }

func mustPsql(t *testing.T, to psqlTarget, dir string, args ...string) string {
	t.Helper()
	out, err := psql(t, to, dir, args...)
	if err != nil {
		t.Fatalf("psql %q: %v", args, err)
	}
	return out
}

func TestPsqlQueries(t *testing.T) {
	s := startServer(t)
	to := dormouseTarget(s)
	dir := t.TempDir()
	mustPsql(t, to, dir, "-c", "CREATE TABLE ps (k bigint PRIMARY KEY, v text, d double precision)")
	mustPsql(t, to, dir, "-c", "INSERT INTO ps VALUES (1, 'one', 1.5), (2, 'two', NULL), (3, NULL, -2)")
	out := mustPsql(t, to, dir, "-c", "SELECT k, v, d FROM ps ORDER BY k")
	want := ` k |  v  |  d  
---+-----+-----
 1 | one | 1.5
 2 | two |    
 3 |     |  -2
(3 rows)

`
	if out != want {
		t.Errorf("SELECT printed\n%s\nwant\n%s", out, want)
	}
	out = mustPsql(t, to, dir, "-A", "-t", "-c", "SELECT count(*), sum(k) FROM ps WHERE k >= 2")
	if out != "2|5\n" {
		t.Errorf("unaligned count printed %q", out)
	}
	// Several statements from standard input, an error stopping the script.
	cmd := exec.Command(psqlBinary(t), "-X", "-h", to.host, "-p", to.port, "-U", "x", "-d", "any", "-v", "ON_ERROR_STOP=1", "-A", "-t")
	cmd.Stdin = strings.NewReader("SELECT 1;\nSELECT v FROM ps WHERE k = 1;\nSELECT * FROM nowhere;\nSELECT 2;\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err == nil || stdout.String() != "1\none\n" || !strings.Contains(stderr.String(), `relation "nowhere" does not exist`) {
		t.Errorf("script: err %v, stdout %q, stderr %q", err, stdout.String(), stderr.String())
	}
}

func TestPsqlCopy(t *testing.T) {
	s := startServer(t)
	to := dormouseTarget(s)
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("k,name,score\n")
	for i := 0; i < 5000; i++ {
		csv.WriteString(strings.Join([]string{strconv.Itoa(i), "name " + strconv.Itoa(i), strconv.Itoa(i % 97)}, ","))
		csv.WriteString("\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "in.csv"), []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	mustPsql(t, to, dir, "-c", "CREATE TABLE pc (k bigint PRIMARY KEY, name text, score integer)")
	mustPsql(t, to, dir, "-c", `\copy pc FROM 'in.csv' WITH (FORMAT csv, HEADER)`)
	if got := mustPsql(t, to, dir, "-A", "-t", "-c", "SELECT count(*), sum(score) FROM pc"); got != "5000|"+strconv.Itoa(sumMod(5000, 97))+"\n" {
		t.Errorf("after \\copy: %q", got)
	}
	mustPsql(t, to, dir, "-c", `\copy pc TO 'out.csv' WITH (FORMAT csv, HEADER)`)
	back, err := os.ReadFile(filepath.Join(dir, "out.csv"))
	if err != nil {
		t.Fatal(err)
	}
	// COPY t TO writes in key order, which is the input's order here.
	if string(back) != csv.String() {
		t.Errorf("\\copy TO wrote %d bytes, want the %d bytes read in", len(back), csv.Len())
	}
	// The text format, through standard input and output.
	cmd := exec.Command(psqlBinary(t), "-X", "-q", "-h", to.host, "-p", to.port, "-U", "u", "-v", "ON_ERROR_STOP=1",
		"-c", `\copy pc (k, name) FROM STDIN`)
	cmd.Stdin = strings.NewReader("-1\twith\\ttab\n-2\t\\N\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("\\copy FROM STDIN: %v: %s", err, out)
	}
	if got := mustPsql(t, to, dir, "-c", `\copy (SELECT k, name, score FROM pc WHERE k < 0 ORDER BY k) TO STDOUT`); got != "-2\t\\N\t\\N\n-1\twith\\ttab\t\\N\n" {
		t.Errorf("\\copy (query) TO STDOUT printed %q", got)
	}
	// A bad line: the error names it, and nothing is loaded.
	if err := os.WriteFile(filepath.Join(dir, "bad.csv"), []byte("7007,a,1\n7008,b,x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = psql(t, to, dir, "-c", `\copy pc FROM 'bad.csv' CSV`)
	if err == nil || !strings.Contains(err.Error(), "line 2, column score") {
		t.Errorf("bad line: %v", err)
	}
	if got := mustPsql(t, to, dir, "-A", "-t", "-c", "SELECT count(*) FROM pc WHERE k IN (7007, 7008)"); got != "0\n" {
		t.Errorf("a failed \\copy loaded rows: %q", got)
	}
}

func sumMod(n, m int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += i % m
	}
	return s
}

// TestPsqlDescribe runs the \d family. Against PostgreSQL too (when the
// oracle is there) the same table is described, and the outputs of \d t,
// \d+ t and \dt t must be the same.
func TestPsqlDescribe(t *testing.T) {
	s := startServer(t)
	to := dormouseTarget(s)
	dir := t.TempDir()
	const create = "CREATE TABLE pgt_psql_d (id bigint PRIMARY KEY, name text NOT NULL, score double precision, born date, seen timestamp, flag boolean, blob bytea, n integer, code varchar(12), label character varying)"
	mustPsql(t, to, dir, "-c", create)
	for _, c := range []struct {
		cmd      string
		contains []string
	}{
		{`\l`, []string{"dormouse", "UTF8"}},
		{`\dn`, []string{"public"}},
		{`\dt`, []string{"pgt_psql_d", "table"}},
		{`\d`, []string{"pgt_psql_d"}},
		{`\d pgt_psql_d`, []string{`Table "public.pgt_psql_d"`, "id ", "bigint", "not null", "timestamp without time zone", "PRIMARY KEY"}},
		{`\d+ pgt_psql_d`, []string{`Table "public.pgt_psql_d"`, "Storage", "plain", "extended"}},
		// Their queries read tableoid. Dormouse has no procedural
		// language, so \dL lists none (PostgreSQL lists plpgsql).
		{`\dd`, []string{"Object descriptions", "(0 rows)"}},
		{`\dL`, []string{"List of languages", "(0 rows)"}},
	} {
		out, err := psql(t, to, dir, "-c", c.cmd)
		if err != nil {
			t.Errorf("%s: %v", c.cmd, err)
			continue
		}
		for _, want := range c.contains {
			if !strings.Contains(out, want) {
				t.Errorf("%s printed\n%s\nwithout %q", c.cmd, out, want)
			}
		}
	}
	pg, ok := pgTarget(t)
	if !ok {
		t.Log("DORMOUSE_TEST_PG_URL is not set: not compared with PostgreSQL")
		return
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, os.Getenv("DORMOUSE_TEST_PG_URL"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP TABLE IF EXISTS pgt_psql_d"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, create); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(ctx, "DROP TABLE pgt_psql_d")
	pg.user = "postgres"
	for _, cmd := range []string{`\d pgt_psql_d`, `\d+ pgt_psql_d`, `\dt pgt_psql_d`, `\dd pgt_psql_d`, `\dd`} {
		want := mustPsql(t, pg, dir, "-c", cmd)
		got, err := psql(t, to, dir, "-c", cmd)
		if err != nil {
			t.Errorf("%s: %v", cmd, err)
			continue
		}
		if got != want {
			t.Errorf("%s printed\n%s\nPostgreSQL printed\n%s", cmd, got, want)
		}
	}
}
