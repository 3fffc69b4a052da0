package datafile_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"

	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/schema"
)

// TestArrowGoLongMaxNotPruned reads a file as arrow-go's writer made
// them before our own (pqarrow, statistics and page index on) whose
// VARCHAR column's largest value passes 4096 bytes: arrow-go writes the
// chunk's min alone and its reader reports the max empty, which read as
// statistics would say no value above the min exists. Neither the row
// group's nor the page's statistics may then bound the column below the
// long value, or a query for it would prune the rows that hold it
// (without the rule in reader.go's ordered, the row group's statistics
// say max "" and this test fails).
func TestArrowGoLongMaxNotPruned(t *testing.T) {
	sch := &schema.Schema{
		RowKeys: []schema.Column{{Name: "k", Type: schema.BigInt}},
		Values:  []schema.Column{{Name: "v", Type: schema.Varchar, Nullable: true}},
	}
	long := strings.Repeat("z", 5000)
	vals := []string{"m", "n", long, "p"}
	kb := array.NewInt64Builder(memory.DefaultAllocator)
	vb := array.NewStringBuilder(memory.DefaultAllocator)
	for i, v := range vals {
		kb.Append(int64(i))
		vb.Append(v)
	}
	rec := array.NewRecordBatch(sch.Arrow(), []arrow.Array{kb.NewArray(), vb.NewArray()}, int64(len(vals)))
	defer rec.Release()
	store := newTestStore(t)
	writeWithProps(t, store, "old.parquet", rec, []parquet.WriterProperty{
		parquet.WithStats(true), parquet.WithPageIndexEnabled(true), parquet.WithCompression(compress.Codecs.Zstd)})

	// The file is the case in point: arrow-go reports a min and an empty max.
	pf := parquetFile(t, store, "old.parquet")
	st, err := pf.MetaData().RowGroup(0).ColumnChunk(1)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := st.Statistics()
	if err != nil || raw == nil || !raw.HasMinMax() || len(raw.EncodeMax()) != 0 || string(raw.EncodeMin()) != "m" {
		t.Fatalf("arrow-go no longer writes the min alone (min %q, max %q, %v): this test needs another file", raw.EncodeMin(), raw.EncodeMax(), err)
	}

	r := openFile(t, store, "old.parquet", sch, memory.DefaultAllocator)
	// Statistics must bound the column below min "m" and above the long value.
	check := func(what string, cs datafile.ColumnStats) {
		if cs.HasMinMax && (bytes.Compare(cs.Max, []byte(long)) < 0 || bytes.Compare(cs.Min, []byte("m")) > 0) {
			t.Errorf("%s: min %.10q max %.10q leave out %d bytes of z", what, cs.Min, cs.Max, len(long))
		}
	}
	rg, err := r.RowGroupStats(0)
	if err != nil {
		t.Fatal(err)
	}
	check("row group", rg.Columns[1])
	// arrow-go leaves such a column without a column index: PageStats
	// then fails, and the scan prunes no page by it (scanPageRows).
	pages, _ := r.PageStats(0, 1)
	for i, p := range pages {
		check(fmt.Sprintf("page %d", i), p.ColumnStats)
	}
}
