package gc_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/storage"
	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/ingest"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/schema"
	"github.com/dormousedb/dormouse/storage/state"
	"github.com/dormousedb/dormouse/storage/storagetest"
	"github.com/dormousedb/dormouse/storage/table"
)

var testSchema = &schema.Schema{
	RowKeys: []schema.Column{{Name: "k", Type: schema.BigInt}},
	Values:  []schema.Column{{Name: "v", Type: schema.Varchar, Nullable: true}},
}

// newTable creates table name, split at k = 1000 into two leaves, in a
// database on store whose tables are checked when the test ends.
func newTable(t testing.TB, store objstore.Store, name string) *table.Table {
	t.Helper()
	db := storagetest.NewDB(t, store)
	tb, err := db.CreateTable(context.Background(), catalog.TableDef{
		Name: name, Schema: testSchema, SplitPoints: [][]byte{schema.EncodeInt(1000)},
		Properties: catalog.Properties{"gc_delay": "1h"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// reopen returns another handle on the table, with its own log cache, as
// another process would have; store may wrap the table's store.
func reopen(t testing.TB, tb *table.Table, store objstore.Store) *table.Table {
	t.Helper()
	db, err := storage.OpenDB(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	h, err := db.Table(context.Background(), tb.Def.Name)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// ingestKeys ingests the rows with keys in [from, to) and returns the files
// written.
func ingestKeys(t testing.TB, tb *table.Table, from, to int64) []state.File {
	t.Helper()
	b := array.NewRecordBuilder(memory.DefaultAllocator, testSchema.Arrow())
	for k := from; k < to; k++ {
		b.Field(0).(*array.Int64Builder).Append(k)
		b.Field(1).(*array.StringBuilder).Append("value")
	}
	in := storagetest.NewBatches(b.NewRecordBatch())
	b.Release()
	defer in.Close()
	res, err := ingest.Ingest(context.Background(), tb, []ingest.RecordReader{in}, ingest.Options{MemoryBytes: 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return res.Files
}

// unreference drops partition p's references to files, as a compaction
// whose rows all aged off would: a job takes them and commits no output.
func unreference(t testing.TB, tb *table.Table, p string, files ...string) {
	t.Helper()
	ctx := context.Background()
	job := catalog.NewID()
	if _, err := tb.Commit(ctx, &state.Txn{AssignJob: &state.AssignJob{Job: job, Partition: p, Files: files}}); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.Commit(ctx, &state.Txn{ReplaceFiles: &state.ReplaceFiles{Job: job}}); err != nil {
		t.Fatal(err)
	}
}

// partitionOf returns the one partition that references file.
func partitionOf(t testing.TB, tb *table.Table, file string) string {
	t.Helper()
	s, _, err := tb.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, leaf := range s.Partitions.Leaves() {
		if _, ok := s.Ref(leaf.ID, file); ok {
			return leaf.ID
		}
	}
	t.Fatalf("no partition references %s", file)
	return ""
}

func exists(t testing.TB, store objstore.Store, key string) bool {
	t.Helper()
	_, err := store.Stat(context.Background(), key)
	if err != nil && !errors.Is(err, objstore.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

// hookStore is a store that calls hooks around some calls, to stage races
// and crashes at exact points.
type hookStore struct {
	objstore.Store
	mu sync.Mutex
	// beforeList runs once, before the first List of a key under its
	// prefix.
	listPrefix string
	beforeList func()
	// afterDelete runs after every Delete with the number of Deletes so far.
	afterDelete func(n int)
	deletes     int
}

func (h *hookStore) List(ctx context.Context, prefix string) ([]objstore.Info, error) {
	h.mu.Lock()
	hook := h.beforeList
	if hook != nil && prefix == h.listPrefix {
		h.beforeList = nil
	} else {
		hook = nil
	}
	h.mu.Unlock()
	if hook != nil {
		hook()
	}
	return h.Store.List(ctx, prefix)
}

func (h *hookStore) Delete(ctx context.Context, key string) error {
	err := h.Store.Delete(ctx, key)
	h.mu.Lock()
	h.deletes++
	n, hook := h.deletes, h.afterDelete
	h.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	return err
}
