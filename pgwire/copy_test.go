package pgwire_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestCopyFromBinary is pgx's CopyFrom, which sends binary COPY data.
func TestCopyFromBinary(t *testing.T) {
	s := startServer(t)
	conn := s.connect(t)
	ctx := context.Background()
	execSQL(t, conn, "CREATE TABLE cb (k bigint PRIMARY KEY, i integer, d double precision, b boolean, s text, by bytea, dt date, ts timestamp)")
	day := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	var rows [][]any
	for i := 0; i < 10_000; i++ {
		row := []any{int64(i), int32(i * 2), float64(i) / 4, i%2 == 0, fmt.Sprintf("s%d", i), []byte{byte(i)}, day.AddDate(0, 0, i%30), day.Add(time.Duration(i) * time.Second)}
		if i%7 == 0 {
			row[4] = nil
		}
		rows = append(rows, row)
	}
	n, err := conn.CopyFrom(ctx, pgx.Identifier{"cb"}, []string{"k", "i", "d", "b", "s", "by", "dt", "ts"}, pgx.CopyFromRows(rows))
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(rows)) {
		t.Fatalf("copied %d rows, want %d", n, len(rows))
	}
	var count, nulls int64
	var sum float64
	if err := conn.QueryRow(ctx, "SELECT count(*), count(*) - count(s), sum(d) FROM cb").Scan(&count, &nulls, &sum); err != nil {
		t.Fatal(err)
	}
	if count != 10_000 || nulls != 1429 || sum != 9999*10000/2/4.0 {
		t.Fatalf("count %d nulls %d sum %v", count, nulls, sum)
	}
	var str string
	var ts time.Time
	if err := conn.QueryRow(ctx, "SELECT s, ts FROM cb WHERE k = 4321").Scan(&str, &ts); err != nil {
		t.Fatal(err)
	}
	if str != "s4321" || !ts.Equal(day.Add(4321*time.Second)) {
		t.Fatalf("row 4321: %q %v", str, ts)
	}

	// A subset of the columns: the others are NULL; a key left out fails.
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"cb"}, []string{"k", "s"}, pgx.CopyFromRows([][]any{{int64(-1), "only"}})); err != nil {
		t.Fatal(err)
	}
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"cb"}, []string{"s"}, pgx.CopyFromRows([][]any{{"x"}}))
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "23502" {
		t.Fatalf("COPY without the key: %v", err)
	}
}

// copyIn sends data with COPY … FROM STDIN as psql's \copy does.
func copyIn(t *testing.T, conn *pgx.Conn, stmt, data string) (pgconn.CommandTag, error) {
	t.Helper()
	return conn.PgConn().CopyFrom(context.Background(), strings.NewReader(data), stmt)
}

func TestCopyFromText(t *testing.T) {
	s := startServer(t)
	conn := s.connect(t)
	ctx := context.Background()
	execSQL(t, conn, "CREATE TABLE ct (k bigint PRIMARY KEY, s text, b boolean, v bytea)")
	data := "1\tplain\tt\t\\\\x0102\n" +
		"2\t\\N\tf\t\\N\n" +
		"3\ttab\\there\\nnewline \\\\ back\\\\slash\tt\t\\\\x\n" +
		"4\toctal\\101 hex\\x42\tf\t\\\\xff\n"
	tag, err := copyIn(t, conn, "COPY ct FROM STDIN", data)
	if err != nil {
		t.Fatal(err)
	}
	if tag.String() != "COPY 4" {
		t.Errorf("tag %q", tag)
	}
	got := queryStrings(t, conn, "SELECT k, s, b, v FROM ct ORDER BY k")
	want := [][]string{
		{"1", "plain", "t", `\x0102`},
		{"2", "<NULL>", "f", "<NULL>"},
		{"3", "tab\there\nnewline \\ back\\slash", "t", `\x`},
		{"4", "octalA hexB", "f", `\xff`},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read back %q, want %q", got, want)
	}

	// Round trip through COPY TO.
	var out bytes.Buffer
	if _, err := conn.PgConn().CopyTo(ctx, &out, "COPY ct TO STDOUT"); err != nil {
		t.Fatal(err)
	}
	if want := strings.Replace(data, `octal\101 hex\x42`, "octalA hexB", 1); out.String() != want {
		t.Errorf("COPY TO wrote\n%q\nwant\n%q", out.String(), want)
	}
}

func TestCopyFromCSV(t *testing.T) {
	s := startServer(t)
	conn := s.connect(t)
	execSQL(t, conn, "CREATE TABLE cc (k bigint PRIMARY KEY, s text, n integer)")
	tag, err := copyIn(t, conn, "COPY cc (n, k, s) FROM STDIN WITH (FORMAT csv, HEADER)",
		"n,k,s\n10,1,\"a,b\"\n,2,\n30,3,\"\"\n40,4,\"multi\nline\"\n")
	if err != nil {
		t.Fatal(err)
	}
	if tag.String() != "COPY 4" {
		t.Errorf("tag %q", tag)
	}
	got := queryStrings(t, conn, "SELECT k, s, n FROM cc ORDER BY k")
	want := [][]string{{"1", "a,b", "10"}, {"2", "<NULL>", "<NULL>"}, {"3", "", "30"}, {"4", "multi\nline", "40"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read back %q, want %q", got, want)
	}
	if _, err := copyIn(t, conn, "COPY cc FROM STDIN (FORMAT csv, DELIMITER ';', NULL 'none')", "5;none;50\n"); err != nil {
		t.Fatal(err)
	}
	if got := queryStrings(t, conn, "SELECT s, n FROM cc WHERE k = 5"); !reflect.DeepEqual(got, [][]string{{"<NULL>", "50"}}) {
		t.Errorf("delimiter and null: %q", got)
	}
	var out bytes.Buffer
	if _, err := conn.PgConn().CopyTo(context.Background(), &out, "COPY (SELECT k, s FROM cc WHERE k < 5 ORDER BY k) TO STDOUT WITH (FORMAT csv, HEADER)"); err != nil {
		t.Fatal(err)
	}
	if want := "k,s\n1,\"a,b\"\n2,\n3,\"\"\n4,\"multi\nline\"\n"; out.String() != want {
		t.Errorf("COPY TO CSV wrote %q, want %q", out.String(), want)
	}
}

// TestCopyBadLine checks that a bad line fails the COPY with its line
// number, and that nothing of the COPY is committed.
func TestCopyBadLine(t *testing.T) {
	s := startServer(t)
	conn := s.connect(t)
	execSQL(t, conn, "CREATE TABLE bad (k bigint PRIMARY KEY, s text)", "INSERT INTO bad VALUES (0, 'before')")
	for _, c := range []struct {
		stmt, data, code, where string
	}{
		{"COPY bad FROM STDIN", "1\ta\n2\tb\nthree\tc\n4\td\n", "22P02", "COPY bad, line 3, column k"},
		{"COPY bad FROM STDIN", "1\ta\n2\tmulti\\nline\n3\tc\textra\n", "22P04", "COPY bad, line 3"},
		{"COPY bad FROM STDIN (FORMAT csv, HEADER)", "k,s\n1,a\nx,b\n", "22P02", "COPY bad, line 3, column k"},
		{"COPY bad FROM STDIN (FORMAT csv)", "1,a\n\\N,b\n", "22P02", "COPY bad, line 2, column k"},
		{"COPY bad FROM STDIN (FORMAT csv)", "1,a\n,b\n", "23502", "COPY bad, line 2, column k"},
	} {
		_, err := copyIn(t, conn, c.stmt, c.data)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) {
			t.Fatalf("%s %q: %v, want an error", c.stmt, c.data, err)
		}
		if pe.Code != c.code || !strings.HasPrefix(pe.Where, c.where) {
			t.Errorf("%s %q: %s %q (%s), want %s %q", c.stmt, c.data, pe.Code, pe.Where, pe.Message, c.code, c.where)
		}
	}
	if got := queryStrings(t, conn, "SELECT count(*) FROM bad"); got[0][0] != "1" {
		t.Errorf("a failed COPY left rows: %q", got)
	}
}

// queryStrings reads a result in text, NULL as <NULL>.
func queryStrings(t *testing.T, conn *pgx.Conn, sql string) [][]string {
	t.Helper()
	res := conn.PgConn().ExecParams(context.Background(), sql, nil, nil, nil, nil).Read()
	if res.Err != nil {
		t.Fatalf("%s: %v", sql, res.Err)
	}
	var out [][]string
	for _, r := range res.Rows {
		row := make([]string, len(r))
		for i, v := range r {
			if v == nil {
				row[i] = "<NULL>"
			} else {
				row[i] = string(v)
			}
		}
		out = append(out, row)
	}
	return out
}
