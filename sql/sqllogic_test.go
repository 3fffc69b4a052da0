package sql_test

import (
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dormousedb/dormouse/sql"
	"github.com/dormousedb/dormouse/sql/slt"
	"github.com/dormousedb/dormouse/sql/slt/sltsession"
	"github.com/dormousedb/dormouse/storage/storagetest"
)

var rewrite = flag.Bool("rewrite", false,
	"rewrite the expected output of sql/testdata/*.slt from Dormouse's actual results (review the diff: the files' results come from PostgreSQL)")

// TestSQLLogic runs every sql/testdata/*.slt file, each on a fresh
// database of its own, as engine "dormouse". The files' expected results
// are PostgreSQL's (sql/slt/cmd/sltpg; sql/slt/pgoracle checks that they
// still are), so a failure here is a difference from PostgreSQL.
//
//	go test ./sql/ -run SQLLogic                      all files
//	go test ./sql/ -run SQLLogic/joins                one file
//	go test ./sql/ -run SQLLogic -rewrite             take the expected output from Dormouse
func TestSQLLogic(t *testing.T) {
	files, err := filepath.Glob("testdata/*.slt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/*.slt files")
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".slt"), func(t *testing.T) {
			db := storagetest.NewDB(t, storagetest.LocalStore(t))
			s := sql.NewEngine(db, sql.Config{}).NewSession()
			r := &slt.Runner{Engine: "dormouse", Rewrite: *rewrite}
			r.Test(t, path, sltsession.New(s))
		})
	}
}
