package compactor

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/dormousedb/dormouse/storage"
	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/ingest"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/schema"
	"github.com/dormousedb/dormouse/storage/storagetest"
	"github.com/dormousedb/dormouse/storage/table"
)

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// testTable is a table of (k varchar key, v bigint) rows.
type testTable struct {
	*table.Table
	db *storage.DB
}

// newTable creates a table on store, checked when the test ends.
func newTable(t *testing.T, store objstore.Store, props catalog.Properties, splitPoints ...string) *testTable {
	t.Helper()
	sch, err := schema.Parse("k:varchar:key, v:bigint")
	if err != nil {
		t.Fatal(err)
	}
	var points [][]byte
	for _, p := range splitPoints {
		points = append(points, []byte(p))
	}
	db := storagetest.NewDB(t, store)
	tb, err := db.CreateTable(context.Background(), catalog.TableDef{Name: "t", Schema: sch, SplitPoints: points, Properties: props})
	if err != nil {
		t.Fatal(err)
	}
	return &testTable{Table: tb, db: db}
}

// openAgain opens tb through a database of its own, as another process
// would: its own log, its own cache.
func openAgain(t *testing.T, store objstore.Store, tb *testTable) *testTable {
	t.Helper()
	db, err := storage.OpenDB(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	o, err := db.Table(context.Background(), tb.Def.Name)
	if err != nil {
		t.Fatal(err)
	}
	return &testTable{Table: o, db: db}
}

// ingest commits one ingest of the given keys, v = 1 for each.
func (tb *testTable) ingest(t *testing.T, keys ...string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("k,v\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "%s,1\n", k)
	}
	r, err := ingest.NewCSVReader(strings.NewReader(b.String()), "test.csv", tb.Def.Schema, ingest.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := ingest.Ingest(context.Background(), tb.Table, []ingest.RecordReader{r}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
}
