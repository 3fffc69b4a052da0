package export_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/internal/testtools"
	"github.com/dormousedb/dormouse/sql"
	"github.com/dormousedb/dormouse/storage"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/objstore/s3/s3test"
	"github.com/dormousedb/dormouse/storage/storagetest"
)

// session opens an engine over store (checked at the end of the test)
// and a session on it.
func session(t *testing.T, store objstore.Store, cfg sql.Config) (*storage.DB, *sql.Session) {
	t.Helper()
	db := storagetest.NewDB(t, store)
	return db, sql.NewEngine(db, cfg).NewSession()
}

func mustRun(t *testing.T, s *sql.Session, q string) *sql.Result {
	t.Helper()
	res, err := run(s, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return res
}

func run(s *sql.Session, q string) (*sql.Result, error) {
	rows, err := s.Run(context.Background(), q)
	if err != nil {
		return nil, err
	}
	return sql.Collect(context.Background(), rows)
}

// wantError runs q and checks that it fails with SQLSTATE code and a
// message holding msg.
func wantError(t *testing.T, s *sql.Session, q, code, msg string) {
	t.Helper()
	_, err := run(s, q)
	if err == nil {
		t.Fatalf("%s: no error, want %s %q", q, code, msg)
	}
	if got := sqlerr.Code(err); got != code || !strings.Contains(err.Error(), msg) {
		t.Fatalf("%s: error %s %q, want %s %q", q, got, err, code, msg)
	}
}

// allTypes creates table name with a column of every type, split at
// 'g', 'n' and 't', and fills it with rows rows (NULLs in every value
// column, repeated keys, awkward strings).
func allTypes(t *testing.T, s *sql.Session, name string, rows int) {
	t.Helper()
	mustRun(t, s, "CREATE TABLE "+name+` (k text, sk integer, n bigint, i integer, x double precision, b boolean, s text, y bytea,
		ts timestamp, d date, PRIMARY KEY (k)) WITH (sort_keys = 'sk', split_points = 'g,n,t')`)
	if rows > 0 {
		mustRun(t, s, fmt.Sprintf(`INSERT INTO %s SELECT
			chr(97 + (g * 7) %% 26) || lpad((g %% 500)::text, 4, '0'),
			g %% 3,
			CASE WHEN g %% 11 = 0 THEN NULL ELSE g::bigint * 1000003 - 5000000000 END,
			CASE WHEN g %% 13 = 0 THEN NULL ELSE (g %% 70000) - 35000 END,
			CASE WHEN g %% 17 = 0 THEN NULL ELSE g / 7.0 - 100 END,
			CASE WHEN g %% 5 = 0 THEN NULL ELSE g %% 3 = 0 END,
			CASE WHEN g %% 19 = 0 THEN NULL WHEN g %% 23 = 0 THEN '' ELSE 'ä "q", ' || g END,
			CASE WHEN g %% 29 = 0 THEN NULL ELSE ('\x' || lpad(to_hex(g), 6, '0'))::bytea END,
			CASE WHEN g %% 31 = 0 THEN NULL ELSE timestamp '1999-12-31 23:59:59.123456' + g * interval '1 minute 1.5 seconds' END,
			CASE WHEN g %% 37 = 0 THEN NULL ELSE date '1969-06-01' + g END
			FROM generate_series(1, %d) AS t(g)`, name, rows))
	}
}

// canonical runs q and renders every row as readback.py does, sorted.
func canonical(t *testing.T, s *sql.Session, q string) []string {
	t.Helper()
	rows, err := s.Run(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for {
		rec, err := rows.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for r := 0; r < int(rec.NumRows()); r++ {
			parts := make([]string, rec.NumCols())
			for c, col := range rec.Columns() {
				parts[c] = canonicalValue(col, r)
			}
			out = append(out, strings.Join(parts, "|"))
		}
		rec.Release()
	}
	sort.Strings(out)
	return out
}

func canonicalValue(col arrow.Array, r int) string {
	if col.IsNull(r) {
		return `\N`
	}
	switch a := col.(type) {
	case *array.Int64:
		return strconv.FormatInt(a.Value(r), 10)
	case *array.Int32:
		return strconv.FormatInt(int64(a.Value(r)), 10)
	case *array.Float64:
		return fmt.Sprintf("%016x", math.Float64bits(a.Value(r)))
	case *array.Boolean:
		if a.Value(r) {
			return "t"
		}
		return "f"
	case *array.String:
		return a.Value(r)
	case *array.Binary:
		return hex.EncodeToString(a.Value(r))
	case *array.Timestamp:
		return strconv.FormatInt(int64(a.Value(r)), 10)
	case *array.Date32:
		return strconv.FormatInt(int64(a.Value(r)), 10)
	}
	return col.ValueStr(r)
}

// python runs testdata/readback.py (independent readers: pyarrow, DuckDB)
// with the test venv's Python.
func python(t *testing.T, args ...string) []string {
	t.Helper()
	return testtools.PythonLines(t, "export/testdata/readback.py", args...)
}

// targets returns the export targets of a test's backend: a directory
// (local) or a prefix of the test bucket (s3), with the environment that
// lets the exporter open it the standard AWS way.
func target(t *testing.T, store objstore.Store, name string) string {
	t.Helper()
	u := store.URL()
	if !strings.HasPrefix(u, "s3://") {
		return filepath.Join(t.TempDir(), name) + "/"
	}
	endpoint, _ := s3test.Env(t)
	t.Setenv("AWS_ENDPOINT_URL_S3", endpoint)
	t.Setenv("DORMOUSE_S3_PATH_STYLE", "true")
	return strings.TrimSuffix(u, "/") + "/exports/" + name + "/"
}

func equalLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: row %d is\n  %s\nwant\n  %s", what, i, got[i], want[i])
		}
	}
}
