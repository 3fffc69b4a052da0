package sql_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dormousedb/dormouse/sql"
	"github.com/dormousedb/dormouse/storage/storagetest"
)

// FuzzSQL runs arbitrary text through a session holding a small table:
// parsing, binding, planning and execution may reject it, but only with
// an error — never a panic or a hang.
func FuzzSQL(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.slt")
	for _, p := range files {
		data, _ := os.ReadFile(p)
		for _, block := range strings.Split(string(data), "\n\n") {
			lines := strings.Split(block, "\n")
			for i, l := range lines {
				if strings.HasPrefix(l, "query") || strings.HasPrefix(l, "statement") {
					var stmt []string
					for _, s := range lines[i+1:] {
						if s == "----" {
							break
						}
						stmt = append(stmt, s)
					}
					f.Add(strings.Join(stmt, "\n"))
					break
				}
			}
		}
	}
	db := storagetest.NewDB(f, storagetest.LocalStore(f))
	setup := sql.NewEngine(db, sql.Config{}).NewSession()
	ctx := context.Background()
	for _, s := range []string{
		"CREATE TABLE t (k bigint PRIMARY KEY, s text, d double precision, b boolean, ts timestamp) WITH (split_points = '10,20')",
		"INSERT INTO t VALUES (1, 'a', 1.5, true, '2024-01-01'), (15, NULL, -2, false, NULL), (25, 'zz', NULL, NULL, '2023-06-01 12:00')",
	} {
		if err := setup.Script(ctx, s, func(r sql.Rows) error { _, err := sql.Collect(ctx, r); return err }); err != nil {
			f.Fatal(err)
		}
	}
	eng := sql.NewEngine(db, sql.Config{WorkMem: 64 << 20})
	f.Fuzz(func(t *testing.T, text string) {
		if strings.Contains(strings.ToLower(text), "generate_series") {
			return // bounded, but may be slow on huge ranges
		}
		lower := strings.ToLower(text)
		for _, w := range []string{"insert", "create", "drop", "alter", "copy"} {
			if strings.Contains(lower, w) {
				return // keep the table as it is
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s := eng.NewSession()
		_ = s.Script(ctx, text, func(r sql.Rows) error { _, err := sql.Collect(ctx, r); return err })
	})
}
