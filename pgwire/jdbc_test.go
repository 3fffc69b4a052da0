package pgwire_test

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The JDBC test compiles and runs testdata/jdbc/JdbcCheck.java with
// Debian's pgJDBC (libpostgresql-jdbc-java, 42.5.5) and Java 17: database
// metadata as Trino's PostgreSQL connector reads it, a read-only
// transaction fetching 10 000 rows 100 at a time (portal suspension), a
// PreparedStatement with int8 and varchar parameters, the SQL shapes
// Trino sends, and its page sink's batched INSERTs in a transaction. What it prints is compared with what it prints against
// PostgreSQL 15 when DORMOUSE_TEST_PG_URL names one.

const jdbcJar = "/usr/share/java/postgresql.jar"

func javaTools(t *testing.T) (javac, java string) {
	t.Helper()
	var err1, err2 error
	javac, err1 = exec.LookPath("javac")
	java, err2 = exec.LookPath("java")
	_, err3 := os.Stat(jdbcJar)
	if err1 != nil || err2 != nil || err3 != nil {
		if os.Getenv("DORMOUSE_SKIP_CLIENTS") != "" {
			t.Skip("Java or pgJDBC not installed and DORMOUSE_SKIP_CLIENTS is set")
		}
		t.Fatalf("Java 17 and pgJDBC are needed: run make setup (javac %v, java %v, %s %v)", err1, err2, jdbcJar, err3)
	}
	return javac, java
}

func TestJDBC(t *testing.T) {
	javac, java := javaTools(t)
	dir := t.TempDir()
	src, err := filepath.Abs("testdata/jdbc/JdbcCheck.java")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(javac, "-cp", jdbcJar, "-d", dir, src).CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	run := func(jdbcURL, user string) []string {
		t.Helper()
		cmd := exec.Command(java, "-cp", dir+string(os.PathListSeparator)+jdbcJar, "JdbcCheck", jdbcURL, user)
		out, err := cmd.Output()
		if err != nil {
			stderr := ""
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("JdbcCheck %s: %v\n%s\n%s", jdbcURL, err, out, stderr)
		}
		return strings.Split(strings.TrimSpace(string(out)), "\n")
	}

	counts := &messageCounts{}
	s := startServerWith(t, counts.wrap)
	got := run(fmt.Sprintf("jdbc:postgresql://%s/dormouse", s.addr), "trino")
	for _, want := range []string{
		"copied: 10000",
		"batch: [1, 1, 1]",
		"lookup: name=n2 | amount=2500.5",
		"fetched: 10003 rows, sum 50035006",
		"primary key: TABLE_NAME=jdbc_events | COLUMN_NAME=id | KEY_SEQ=1 | PK_NAME=jdbc_events_pkey",
		"range: id=11 | name=n1 | amount=2.75",
		"three-part name: n=10003",
		"read-only insert: 25006",
		"sink before rollback: own 5, other 0",
		"sink after rollback: own 0, other 0",
		"sink before commit: own 5, other 0",
		"sink after commit: own 5, other 5",
		"~reltuples: 10003",
	} {
		if !contains(got, want) {
			t.Errorf("JdbcCheck against Dormouse did not print %q; it printed\n%s", want, strings.Join(got, "\n"))
		}
	}
	// 10 000 rows 100 at a time: at least 99 suspensions (and 1 for the
	// range query read 2 at a time).
	if n := counts.get('s'); n < 100 {
		t.Errorf("%d PortalSuspended messages, want the fetch size to page the result", n)
	}

	raw := os.Getenv("DORMOUSE_TEST_PG_URL")
	if raw == "" {
		t.Log("DORMOUSE_TEST_PG_URL is not set: not compared with PostgreSQL")
		return
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := run("jdbc:postgresql://"+u.Host+u.Path, u.User.Username())
	if g, w := comparable(got), comparable(want); strings.Join(g, "\n") != strings.Join(w, "\n") {
		t.Errorf("JdbcCheck against Dormouse printed\n%s\nagainst PostgreSQL\n%s", strings.Join(g, "\n"), strings.Join(w, "\n"))
	}
}

func contains(lines []string, s string) bool {
	for _, l := range lines {
		if l == s {
			return true
		}
	}
	return false
}

// comparable drops the lines whose values differ by design.
func comparable(lines []string) []string {
	var out []string
	for _, l := range lines {
		if !strings.HasPrefix(l, "~") {
			out = append(out, l)
		}
	}
	return out
}
