package export_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dormousedb/dormouse/sql"
	"github.com/dormousedb/dormouse/storage/storagetest"
)

// TestRefusals checks that each statement that cannot work says why with
// its SQLSTATE, and writes and commits nothing: a local path outside the
// export directory (also through .. and a symbolic link), an unknown
// format, a target that holds an export, and inputs that cannot be read
// as the table's rows.
func TestRefusals(t *testing.T) {
	store := storagetest.LocalStore(t)
	root := t.TempDir()
	exports := filepath.Join(root, "exports")
	_, s := session(t, store, sql.Config{ExportDir: exports})
	allTypes(t, s, "src", 500)
	allTypes(t, s, "dst", 0)
	outside := filepath.Join(root, "elsewhere")
	if err := os.MkdirAll(exports, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(root, filepath.Join(exports, "link")); err != nil {
		t.Fatal(err)
	}

	for _, q := range []string{
		"COPY src TO '" + outside + "/'",
		"COPY src TO 'file://" + exports + "/../elsewhere/'",
		"COPY src TO '" + exports + "/link/elsewhere/'",
		"COPY dst FROM '" + outside + "/'",
	} {
		wantError(t, s, q, "42501", "export directory")
	}
	if _, err := os.Stat(outside); !os.IsNotExist(err) {
		t.Fatalf("a refused export created %s: %v", outside, err)
	}
	wantError(t, s, "COPY src TO '"+exports+"/x/' WITH (FORMAT xml)", "0A000", `FORMAT "xml" is not supported`)
	wantError(t, s, "COPY src TO '"+exports+"/x/' WITH (FORMAT parquet, HEADER)", "22023", "FORMAT csv only")
	wantError(t, s, "COPY src TO 'relative/dir/'", "22023", "absolute")
	wantError(t, s, "COPY src TO 'ftp://host/dir/'", "22023", "want s3://")
	if _, err := os.Stat(filepath.Join(exports, "x")); !os.IsNotExist(err) {
		t.Fatalf("a refused export created its target: %v", err)
	}

	// A target that holds an export is refused, and left as it was;
	// OVERWRITE replaces it, deleting the old files.
	dir := filepath.Join(exports, "once")
	mustRun(t, s, "COPY src TO '"+dir+"/' WITH (MAX_FILE_ROWS 50)")
	before := listDir(t, dir)
	wantError(t, s, "COPY src TO '"+dir+"/'", "58P02", "already holds an export")
	if after := listDir(t, dir); !slices.Equal(before, after) {
		t.Fatalf("the refused export changed the target:\n%v\n%v", before, after)
	}
	mustRun(t, s, "COPY (SELECT k FROM src WHERE k < 'c') TO '"+dir+"/' WITH (OVERWRITE true)")
	m := manifestOf(t, dir+"/")
	checkManifest(t, context.Background(), dir+"/", m, int64(len(canonical(t, s, "SELECT k FROM src WHERE k < 'c'"))))

	// Inputs that cannot be read as the table's rows commit nothing.
	bad := filepath.Join(exports, "bad")
	os.MkdirAll(bad, 0o755)
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(bad, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	seq := logSeq(t, s, "dst")
	wantError(t, s, "COPY dst FROM '"+exports+"/nothing-here/'", "58P01", "nothing-here")
	wantError(t, s, "COPY dst FROM '"+bad+"/*.parquet'", "58P01", "no parquet file")
	write("a.parquet", "not parquet at all")
	wantError(t, s, "COPY dst FROM '"+bad+"/'", "22P04", "a.parquet")
	os.Remove(filepath.Join(bad, "a.parquet"))
	mustRun(t, s, "COPY (SELECT n, s FROM src) TO '"+exports+"/nokey/'")
	wantError(t, s, "COPY dst FROM '"+exports+"/nokey/'", "22P04", `"k"`)
	write("rows.csv", "k,sk,n\nabc,1,5\nabd,1,x7\n")
	wantError(t, s, "COPY dst FROM '"+bad+"/rows.csv' WITH (FORMAT csv, HEADER)", "22P04", `rows.csv:3: column "n"`)
	write("head.csv", "k,sk,nope\nabc,1,5\n")
	wantError(t, s, "COPY dst FROM '"+bad+"/head.csv' WITH (FORMAT csv, HEADER)", "22P04", "head.csv")
	if got := logSeq(t, s, "dst"); got != seq {
		t.Fatalf("refused imports committed: log %s, was %s", got, seq)
	}
	if n := *mustRun(t, s, "SELECT count(*) FROM dst").Rows[0][0]; n != "0" {
		t.Fatalf("dst has %s rows after refused imports", n)
	}
	res := mustRun(t, s, "SELECT status, error FROM dormouse.exports WHERE kind = 'import' AND status = 'failed'")
	if len(res.Rows) != 1 || !strings.Contains(*res.Rows[0][1], `rows.csv:3: column "n"`) {
		t.Fatalf("dormouse.exports shows failed imports %v", res.Rows)
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		info, _ := e.Info()
		out = append(out, fmt.Sprintf("%s %d %v", e.Name(), info.Size(), info.ModTime().UnixNano()))
	}
	return out
}

func logSeq(t *testing.T, s *sql.Session, table string) string {
	return *mustRun(t, s, "SELECT log_seq FROM dormouse.tables WHERE table_name = '"+table+"'").Rows[0][0]
}
