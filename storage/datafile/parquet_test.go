package datafile_test

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/apache/arrow-go/v18/arrow"
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/schema"
)

// TestParquetMetadata reads a data file with the Parquet library alone and
// checks what other engines rely on: zstd, statistics, column and offset
// indexes, sorting columns, the stored Arrow schema.
func TestParquetMetadata(t *testing.T) {
	mem := newMem(t)
	store := newTestStore(t)
	b := batch(t, mem, multiSchema, multiRows(3000)...)
	defer b.Release()
	info := writeFile(t, store, "t/f.parquet", multiSchema,
		datafile.WriterOptions{Allocator: mem, RowGroupRows: 1000, PageSizeBytes: 1 << 10}, b)

	data, err := store.Get(context.Background(), info.Key)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(data)) != info.Bytes {
		t.Errorf("file has %d bytes, Info says %d", len(data), info.Bytes)
	}
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	md := pf.MetaData()

	if md.NumRowGroups() != 3 {
		t.Errorf("%d row groups, want 3", md.NumRowGroups())
	}
	kv := md.KeyValueMetadata()
	if kv.FindValue("ARROW:schema") == nil {
		t.Error("no ARROW:schema in the footer")
	}
	if s := kv.FindValue("dormouse.schema"); s == nil {
		t.Error("no dormouse.schema in the footer")
	} else {
		var got schema.Schema
		if err := json.Unmarshal([]byte(*s), &got); err != nil || !reflect.DeepEqual(&got, multiSchema) {
			t.Errorf("dormouse.schema = %s (%v)", *s, err)
		}
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, mem)
	if err != nil {
		t.Fatal(err)
	}
	got, err := fr.Schema()
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range multiSchema.Arrow().Fields() {
		if g := got.Field(i); g.Name != f.Name || !arrow.TypeEqual(g.Type, f.Type) || g.Nullable != f.Nullable {
			t.Errorf("Arrow field %d = %v, want %v", i, g, f)
		}
	}

	wantSorting := []parquet.SortingColumn{{ColumnIdx: 0}, {ColumnIdx: 1}, {ColumnIdx: 2}}
	for g := 0; g < md.NumRowGroups(); g++ {
		rg := md.RowGroup(g)
		if got := rg.SortingColumns(); !reflect.DeepEqual(got, wantSorting) {
			t.Errorf("row group %d sorting columns = %v, want %v", g, got, wantSorting)
		}
		pir, err := pf.GetPageIndexReader().RowGroup(g)
		if err != nil {
			t.Fatal(err)
		}
		for c := 0; c < rg.NumColumns(); c++ {
			cc, err := rg.ColumnChunk(c)
			if err != nil {
				t.Fatal(err)
			}
			if cc.Compression() != compress.Codecs.Zstd {
				t.Errorf("row group %d column %d compression = %v", g, c, cc.Compression())
			}
			if ok, err := cc.StatsSet(); !ok || err != nil {
				t.Errorf("row group %d column %d has no statistics (%v)", g, c, err)
			}
			ci, err := pir.GetColumnIndex(c)
			if err != nil || ci == nil {
				t.Errorf("row group %d column %d has no column index (%v)", g, c, err)
				continue
			}
			oi, err := pir.GetOffsetIndex(c)
			if err != nil || oi == nil {
				t.Errorf("row group %d column %d has no offset index (%v)", g, c, err)
				continue
			}
			if len(oi.GetPageLocations()) != len(ci.GetMinValues()) {
				t.Errorf("row group %d column %d: offset and column indexes disagree", g, c)
			}
			if c == 0 && ci.GetBoundaryOrder() != metadata.Ascending {
				t.Errorf("row group %d: first key's pages are %v, want ascending", g, ci.GetBoundaryOrder())
			}
		}
	}
}
