package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/ingest"
	"github.com/dormousedb/dormouse/storage/schema"
	"github.com/dormousedb/dormouse/storage/storagetest"
	"github.com/dormousedb/dormouse/storage/table"
)

// iterScanTable creates (k bigint key, v bigint, note varchar) with
// aggregations sum(v), last(note).
func iterScanTable(t *testing.T) *table.Table {
	t.Helper()
	sch, err := schema.Parse("k:bigint:key, v:bigint, note:varchar")
	if err != nil {
		t.Fatal(err)
	}
	db := storagetest.NewDB(t, storagetest.LocalStore(t))
	tb, err := db.CreateTable(context.Background(), catalog.TableDef{Name: "it", Schema: sch,
		Properties: catalog.Properties{"aggregations": "sum(v), last(note)"}})
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func iterScanIngest(t *testing.T, tb *table.Table, csv string) {
	t.Helper()
	r, err := ingest.NewCSVReader(strings.NewReader("k,v,note\n"+csv), "it.csv", tb.Def.Schema, ingest.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := ingest.Ingest(context.Background(), tb, []ingest.RecordReader{r}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
}

// TestScanIteratorsAgeOrder: a partition's files are merged oldest first
// (by Seq), not in the order of their random keys, so last() takes the
// newest ingest's value; Files restricts a part to some of them.
func TestScanIteratorsAgeOrder(t *testing.T) {
	tb := iterScanTable(t)
	ctx := context.Background()
	// Ingest until the file with the greatest key is not the newest, so
	// that a merge in key order would give another answer.
	for i := 1; ; i++ {
		iterScanIngest(t, tb, fmt.Sprintf("1,%d,n%d\n", i, i))
		s, _, err := tb.State(ctx)
		if err != nil {
			t.Fatal(err)
		}
		refs := s.PartitionRefs(s.Partitions.Leaves()[0].ID)
		newest, _ := s.File(refs[0].File)
		for _, r := range refs {
			if f, _ := s.File(r.File); f.Seq > newest.Seq {
				newest = f
			}
		}
		if i >= 3 && refs[len(refs)-1].File != newest.Key {
			break
		}
	}
	mem := tMem(t)
	scan := scanTestScan(t, tb, []int{0, 1, 2}, nil)
	got := tRun(t, tEC(t, mem, 0), scan)
	n := len(scan.State.PartitionRefs(scan.State.Partitions.Leaves()[0].ID))
	want := fmt.Sprint([][]any{{int64(1), int64(n * (n + 1) / 2), fmt.Sprintf("n%d", n)}})
	if fmt.Sprint(got) != want {
		t.Fatalf("got %v, want %v", got, want)
	}

	// The two oldest files only, named in any order.
	s := scan.State
	leaf := s.Partitions.Leaves()[0]
	var oldest []string
	for _, r := range s.PartitionRefs(leaf.ID) {
		if f, _ := s.File(r.File); f.Seq <= 2 {
			oldest = append([]string{r.File}, oldest...)
		}
	}
	part := &PartitionScan{Table: tb, State: s, Seq: scan.Seq, Partition: leaf, Columns: []int{2, 1}, Limit: -1, Files: oldest}
	if got := fmt.Sprint(tRun(t, tEC(t, mem, 0), part)); got != "[[n2 3]]" {
		t.Fatalf("two oldest files: %s, want [[n2 3]]", got)
	}
	part.Files = []string{"nope.parquet"}
	if err := tRunErr(t, tEC(t, mem, 0), part); !strings.Contains(err.Error(), "does not reference file nope.parquet") {
		t.Fatalf("unknown file: %v", err)
	}
}

// TestScanIteratorsLateFilters: a filter on an aggregated column applies to
// combined rows (and prunes nothing before), one on the key prunes files.
func TestScanIteratorsLateFilters(t *testing.T) {
	tb := iterScanTable(t)
	iterScanIngest(t, tb, "1,1,a\n2,5,b\n3,1,c\n")
	iterScanIngest(t, tb, "1,2,d\n3,9,e\n")
	iterScanIngest(t, tb, "1,3,\n")
	enc := func(v int64) []byte { return schema.EncodeInt(v) }
	for _, tc := range []struct {
		name    string
		filters []ColumnSpans
		want    string
		files   [2]int64
	}{
		// No single row of k = 1 has v >= 6; together they do.
		{"value", []ColumnSpans{{Column: 1, Spans: Ge(schema.BigInt, enc(6))}}, "[[1 6 <nil>] [3 10 e]]", [2]int64{3, 3}},
		{"value none", []ColumnSpans{{Column: 1, Spans: Eq(schema.BigInt, enc(2))}}, "[]", [2]int64{3, 3}},
		{"null note", []ColumnSpans{{Column: 2, Spans: AllSpans()}}, "[[2 5 b] [3 10 e]]", [2]int64{3, 3}},
		{"key", []ColumnSpans{{Column: 0, Spans: Ge(schema.BigInt, enc(2))}}, "[[2 5 b] [3 10 e]]", [2]int64{2, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scan := scanTestScan(t, tb, []int{0, 1, 2}, tc.filters)
			ec := scanTestExec(t, tMem(t))
			got := tRun(t, ec, scan)
			if fmt.Sprint(got) != tc.want {
				t.Fatalf("got %v, want %s", got, tc.want)
			}
			if c := scanTestCounter(ec, scan, "files"); c != tc.files {
				t.Fatalf("files %v, want %v", c, tc.files)
			}
		})
	}
	if d := scanTestScan(t, tb, []int{0}, nil).Describe(); !strings.HasSuffix(d, " merged with iterators [sum(v), last(note)]") {
		t.Fatalf("describe: %s", d)
	}
}
