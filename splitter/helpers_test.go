package splitter_test

import (
	"context"
	"maps"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/storage/ingest"
	"github.com/dormousedb/dormouse/storage/schema"
	"github.com/dormousedb/dormouse/storage/storagetest"
	"github.com/dormousedb/dormouse/storage/table"
)

// keysSchema returns a schema of BIGINT row keys with the given names, a
// BIGINT sort key n and a nullable VARCHAR value.
func keysSchema(names ...string) *schema.Schema {
	s := &schema.Schema{
		SortKeys: []schema.Column{{Name: "n", Type: schema.BigInt}},
		Values:   []schema.Column{{Name: "v", Type: schema.Varchar, Nullable: true}},
	}
	for _, n := range names {
		s.RowKeys = append(s.RowKeys, schema.Column{Name: n, Type: schema.BigInt})
	}
	return s
}

// model is the multiset of rows a table should hold, as storagetest.Rows
// reports it: composite key -> occurrences.
type model map[string]int

// ingestRows ingests rows of the table's key columns (row keys, then n),
// with a NULL value, in one ingest, and adds them to m.
func ingestRows(t testing.TB, tb *table.Table, m model, rows [][]int64) {
	t.Helper()
	sch := tb.Def.Schema
	b := array.NewRecordBuilder(memory.DefaultAllocator, sch.Arrow())
	for _, r := range rows {
		for c, v := range r {
			b.Field(c).(*array.Int64Builder).Append(v)
		}
		b.Field(len(r)).AppendNull()
	}
	rec := b.NewRecordBatch()
	b.Release()
	var key []byte
	for row := 0; row < int(rec.NumRows()); row++ {
		key = schema.AppendRowKey(key[:0], rec, sch.NumKeys(), row)
		m[string(key)]++
	}
	in := storagetest.NewBatches(rec)
	defer in.Close()
	if _, err := ingest.Ingest(context.Background(), tb, []ingest.RecordReader{in}, ingest.Options{MemoryBytes: 64 << 20}); err != nil {
		t.Fatal(err)
	}
}

// checkRows fails t unless the table holds exactly the rows of m, and
// returns the table's rows.
func checkRows(t testing.TB, tb *table.Table, m model) map[string]int {
	t.Helper()
	got := storagetest.Rows(t, tb)
	if !maps.Equal(got, map[string]int(m)) {
		missing, extra := 0, 0
		for k, n := range m {
			missing += max(n-got[k], 0)
		}
		for k, n := range got {
			extra += max(n-m[k], 0)
		}
		t.Fatalf("table holds %d distinct rows, want %d: %d missing, %d extra", len(got), len(m), missing, extra)
	}
	return got
}

// leafRows counts the rows (as storagetest.Rows returns them) that fall in
// each leaf of the table's current partition tree.
func leafRows(t testing.TB, tb *table.Table, rows map[string]int) map[string]int64 {
	t.Helper()
	s, _, err := tb.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sch := tb.Def.Schema
	var types []schema.Type
	for _, c := range append(append([]schema.Column(nil), sch.RowKeys...), sch.SortKeys...) {
		types = append(types, c.Type)
	}
	out := map[string]int64{}
	for k, n := range rows {
		vals, err := schema.SplitComposite(types, []byte(k))
		if err != nil {
			t.Fatal(err)
		}
		out[s.Partitions.LeafFor(vals[:len(sch.RowKeys)]).ID] += int64(n)
	}
	return out
}
