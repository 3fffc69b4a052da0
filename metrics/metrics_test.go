package metrics

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/partition"
	"github.com/dormousedb/dormouse/storage/schema"
	"github.com/dormousedb/dormouse/storage/state"
	"github.com/dormousedb/dormouse/storage/storagetest"
	"github.com/dormousedb/dormouse/storage/table"
)

func TestMetrics(t *testing.T) {
	ctx := context.Background()
	db := storagetest.NewDB(t, storagetest.LocalStore(t))
	tb, err := db.CreateTable(ctx, catalog.TableDef{Name: "m", Schema: &schema.Schema{
		RowKeys: []schema.Column{{Name: "k", Type: schema.BigInt}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	m := New(func() []*table.Table { return []*table.Table{tb} })
	table.SetObserver(m)
	defer table.SetObserver(nil)

	// Two committed file additions and one refused transaction.
	for i, key := range []string{"a", "b"} {
		f := state.File{Key: tb.DataPrefix() + key + ".parquet", Rows: int64(10 * (i + 1)), Bytes: 100}
		if err := tb.Store.Put(ctx, f.Key, make([]byte, f.Bytes)); err != nil {
			t.Fatal(err)
		}
		if _, err := tb.Commit(ctx, &state.Txn{AddFiles: &state.AddFiles{Files: []state.NewFile{{File: f,
			Refs: []state.PartRows{{Partition: partition.RootID, Rows: f.Rows}}}}}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tb.Commit(ctx, &state.Txn{DeleteFiles: &state.DeleteFiles{Files: []string{"nope"}}}); err == nil {
		t.Fatal("deleting an unknown file committed")
	}
	m.JobEnded("m", "compact", "finished", 30, 2*time.Second)

	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(body)
	for _, want := range []string{
		`dormouse_commits_total{kind="add_files",table="m"} 2`,
		`dormouse_commit_errors_total{kind="delete_files",table="m"} 1`,
		`dormouse_commit_seconds_count{table="m"} 2`,
		`dormouse_table_leaf_partitions{table="m"} 1`,
		`dormouse_table_files{table="m"} 2`,
		`dormouse_table_rows{table="m"} 30`,
		`dormouse_table_files_per_partition_bucket{table="m",le="2"} 1`,
		`dormouse_table_files_per_partition_bucket{table="m",le="1"} 0`,
		`dormouse_table_jobs{state="pending",table="m"} 0`,
		`dormouse_jobs_total{kind="compact",status="finished",table="m"} 1`,
		`dormouse_job_rows_total{table="m"} 30`,
		`go_goroutines`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", text)
	}
}
