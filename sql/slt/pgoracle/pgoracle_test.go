package pgoracle

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/sql/slt"
)

func TestExec(t *testing.T) {
	c := Open(t)
	ctx := context.Background()
	if _, err := c.Exec(ctx, "CREATE TABLE t (a bigint, b double precision, c text, d boolean, e timestamp, f numeric)"); err != nil {
		t.Fatal(err)
	}
	r, err := c.Exec(ctx, "INSERT INTO t VALUES (1, 0.5, '', true, '2024-01-02 03:04:05.5', 2.50), (NULL, NULL, NULL, NULL, NULL, NULL)")
	if err != nil {
		t.Fatal(err)
	}
	if r.Tag != "INSERT 0 2" {
		t.Errorf("tag %q", r.Tag)
	}
	r, err = c.Exec(ctx, "SELECT a, b, c, d, e, f, a + 1 AS g FROM t ORDER BY a")
	if err != nil {
		t.Fatal(err)
	}
	wantTypes := []string{"bigint", "double precision", "text", "boolean", "timestamp without time zone", "numeric", "bigint"}
	for i, col := range r.Columns {
		if col.Type != wantTypes[i] {
			t.Errorf("column %d type %q, want %q", i, col.Type, wantTypes[i])
		}
	}
	if r.Columns[6].Name != "g" || r.Tag != "SELECT 2" {
		t.Errorf("columns %v, tag %q", r.Columns, r.Tag)
	}
	want := []string{"1", "0.5", "", "t", "2024-01-02 03:04:05.5", "2.50", "2"}
	for i, v := range r.Rows[0] {
		if v == nil || *v != want[i] {
			t.Errorf("value %d = %v, want %q", i, v, want[i])
		}
	}
	for i, v := range r.Rows[1] {
		if v != nil && i != 6 {
			t.Errorf("value %d of the NULL row = %q", i, *v)
		}
	}
	_, err = c.Exec(ctx, "SELECT 1 / 0")
	if slt.SQLState(err) != sqlerr.DivisionByZero {
		t.Errorf("1/0: %v (SQLSTATE %q)", err, slt.SQLState(err))
	}
	_, err = c.Exec(ctx, "SELECT nope FROM t")
	if e := sqlerr.As(err); e.Code != sqlerr.UndefinedColumn || e.Position != 8 {
		t.Errorf("unknown column: %+v", e)
	}
}

// TestSQLLogicFiles runs every sql/testdata/*.slt file against PostgreSQL:
// their expected results come from it (cmd/sltpg), so they must still
// agree with it, except for the records marked onlyif dormouse.
func TestSQLLogicFiles(t *testing.T) {
	files, err := filepath.Glob("../../testdata/*.slt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no sql/testdata/*.slt files")
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			c := Open(t)
			r := &slt.Runner{Engine: "postgresql"}
			r.Test(t, path, c)
		})
	}
}
