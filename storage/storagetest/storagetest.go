// Package storagetest helps tests of the storage layer and everything above
// it: it runs a test against every object store backend (a local directory
// and the test S3 server), opens databases whose tables' invariants are
// checked when the test ends, and reads tables back row by row.
package storagetest

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/storage"
	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/objstore/local"
	"github.com/dormousedb/dormouse/storage/objstore/s3/s3test"
	"github.com/dormousedb/dormouse/storage/schema"
	"github.com/dormousedb/dormouse/storage/table"
)

// Backends runs fn as a subtest on each backend: "local" on a fresh
// directory and "s3" on a fresh prefix of the test S3 server (which fails
// the test when absent; see s3test).
func Backends(t *testing.T, fn func(t *testing.T, store objstore.Store)) {
	t.Run("local", func(t *testing.T) { fn(t, LocalStore(t)) })
	t.Run("s3", func(t *testing.T) { fn(t, s3test.NewStore(t)) })
}

// LocalStore returns a store on a fresh temporary directory.
func LocalStore(t testing.TB) objstore.Store {
	s, err := local.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// NewDB opens a database on store. When the test ends, every table in it
// is checked (table.Check): the state's invariants hold and every file it
// knows exists with its recorded size.
func NewDB(t testing.TB, store objstore.Store) *storage.DB {
	t.Helper()
	db, err := storage.OpenDB(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Check(t, db) })
	return db
}

// Check checks every table of db.
func Check(t testing.TB, db *storage.DB) {
	t.Helper()
	ctx := context.Background()
	defs, err := db.Tables(ctx)
	if err != nil {
		t.Errorf("list tables: %v", err)
		return
	}
	for _, d := range defs {
		tb, err := db.Table(ctx, d.Name)
		if err != nil {
			t.Errorf("open table %s: %v", d.Name, err)
			continue
		}
		if err := tb.Check(ctx); err != nil {
			t.Errorf("invariants: %v", err)
		}
	}
}

// URL returns the URL and extra environment a child process needs to open
// the same store with storage.Open.
func URL(t testing.TB, store objstore.Store) (string, []string) {
	u := store.URL()
	if strings.HasPrefix(u, "s3://") {
		endpoint, _ := s3test.Env(t)
		return u, []string{"AWS_ENDPOINT_URL_S3=" + endpoint, "DORMOUSE_S3_PATH_STYLE=true"}
	}
	return u, nil
}

// Rows reads every row of a table at the head of its log and returns the
// composite key of each row (schema.AppendRowKey over all key columns)
// with the number of times it occurs. A row of a file counts when the leaf
// whose region holds it references the file; each file is read once,
// however many partitions reference it.
func Rows(t testing.TB, tb *table.Table) map[string]int {
	t.Helper()
	ctx := context.Background()
	s, _, err := tb.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	refs := map[string]map[string]bool{} // file -> leaves that reference it
	var files []string
	for _, leaf := range s.Partitions.Leaves() {
		for _, ref := range s.PartitionRefs(leaf.ID) {
			if refs[ref.File] == nil {
				refs[ref.File] = map[string]bool{}
				files = append(files, ref.File)
			}
			refs[ref.File][leaf.ID] = true
		}
	}
	out := map[string]int{}
	sch := tb.Def.Schema
	dims := len(sch.RowKeys)
	for _, file := range files {
		r, err := datafile.Open(ctx, tb.Store, file, sch)
		if err != nil {
			t.Fatal(err)
		}
		rr, err := r.Records(ctx, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		var buf []byte
		key := make([][]byte, dims)
		for {
			rec, err := rr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			for row := 0; row < int(rec.NumRows()); row++ {
				for d := range key {
					key[d] = schema.AppendValue(key[d][:0], rec.Column(d), row)
				}
				if !refs[file][s.Partitions.LeafFor(key).ID] {
					continue
				}
				buf = schema.AppendRowKey(buf[:0], rec, sch.NumKeys(), row)
				out[string(buf)]++
			}
			rec.Release()
		}
		rr.Close()
		r.Close()
	}
	return out
}

// IsChild reports whether this test binary was started as a child process
// by RunChild, with the given role.
func IsChild(role string) bool { return os.Getenv("DORMOUSE_TEST_CHILD") == role }

// Batches is an ingest.RecordReader over record batches held in memory. It
// hands each batch on to the reader's caller, and releases those it never
// handed on when closed.
type Batches struct{ recs []arrow.RecordBatch }

// NewBatches returns a reader over recs, in order.
func NewBatches(recs ...arrow.RecordBatch) *Batches { return &Batches{recs: recs} }

// Next returns the next batch, or io.EOF.
func (b *Batches) Next() (arrow.RecordBatch, error) {
	if len(b.recs) == 0 {
		return nil, io.EOF
	}
	r := b.recs[0]
	b.recs = b.recs[1:]
	return r, nil
}

// Close releases the batches not read.
func (b *Batches) Close() error {
	for _, r := range b.recs {
		r.Release()
	}
	b.recs = nil
	return nil
}
