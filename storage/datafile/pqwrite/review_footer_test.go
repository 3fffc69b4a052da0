package pqwrite_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/dormousedb/dormouse/storage/datafile/pqwrite"
)

// fieldIDs returns the ids of a struct's fields, sorted.
func fieldIDs(s tstruct) []int16 {
	var ids []int16
	for id := range s {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// TestReviewFooterFieldsAsArrowGo writes the same rows with pqwrite and
// with arrow-go (statistics and page index on, as the old Writer had
// them) and compares, structure by structure of the footer, which fields
// each writes. pqwrite may leave out only the fields listed, each for
// the reason given.
func TestReviewFooterFieldsAsArrowGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	var schema []pqwrite.Column
	var cols []arrow.Array
	for i, typ := range allTypes {
		for _, nullable := range []bool{false, true} {
			schema = append(schema, pqwrite.Column{Name: fmt.Sprintf("c%d_%v", i, nullable), Type: typ, Nullable: nullable})
			cols = append(cols, genColumn(rng, typ, 500, map[bool]nullShape{false: noNulls, true: someNulls}[nullable], randomValues))
		}
	}
	defer releaseAll(cols)
	ours := checkLayout(t, writeFile(t, schema, cols, 500, pqwrite.Options{Codec: compress.Codecs.Zstd, SortingColumns: 1})).footer
	theirs := decodeFooter(t, writeArrowGo(t, schema, cols, parquet.WithDictionaryDefault(false), parquet.WithPageIndexEnabled(true),
		parquet.WithCompression(compress.Codecs.Zstd), parquet.WithSortingColumns([]parquet.SortingColumn{{ColumnIdx: 0}})))
	// Fields arrow-go writes that pqwrite need not.
	allowed := map[string][]int16{
		// ColumnMetaData.size_statistics (16): unencoded byte array
		// sizes and level histograms, for planning; no reader of ours
		// uses them.
		"ColumnMetaData": {16},
		// Statistics.is_max_value_exact/is_min_value_exact (7, 8):
		// optional; absent means exact or unknown, and ours are exact.
		"Statistics": {7, 8},
		// FileMetaData.key_value_metadata extra keys are compared apart.
	}
	compare := func(what string, a, b tstruct) {
		var missing []int16
		for _, id := range fieldIDs(b) {
			if !a.has(id) && !slices.Contains(allowed[what], id) {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			t.Errorf("%s: arrow-go writes fields %v that pqwrite does not (pqwrite %v, arrow-go %v)", what, missing, fieldIDs(a), fieldIDs(b))
		}
		var extra []int16
		for _, id := range fieldIDs(a) {
			if !b.has(id) {
				extra = append(extra, id)
			}
		}
		if len(extra) > 0 {
			t.Logf("%s: pqwrite writes fields %v arrow-go does not", what, extra)
		}
	}
	compare("FileMetaData", ours, theirs)
	for i := range ours.list(2) {
		compare(fmt.Sprintf("SchemaElement %d", i), ours.list(2)[i].(tstruct), theirs.list(2)[i].(tstruct))
	}
	rgA, rgB := ours.list(4)[0].(tstruct), theirs.list(4)[0].(tstruct)
	compare("RowGroup", rgA, rgB)
	for c := range rgA.list(1) {
		ca, cb := rgA.list(1)[c].(tstruct), rgB.list(1)[c].(tstruct)
		compare("ColumnChunk", ca, cb)
		compare("ColumnMetaData", ca.sub(3), cb.sub(3))
		compare("Statistics", ca.sub(3).sub(12), cb.sub(3).sub(12))
	}
	var keysA, keysB []string
	for _, kv := range ours.list(5) {
		keysA = append(keysA, kv.(tstruct)[1].(string))
	}
	for _, kv := range theirs.list(5) {
		keysB = append(keysB, kv.(tstruct)[1].(string))
	}
	sort.Strings(keysA)
	t.Logf("key-value keys: pqwrite %v, arrow-go %v; created_by %q, arrow-go %q", keysA, keysB, ours[6], theirs[6])
	if len(ours.list(7)) != len(theirs.list(7)) {
		t.Errorf("%d column orders, arrow-go %d", len(ours.list(7)), len(theirs.list(7)))
	}
}

// writeArrowGo writes cols with arrow-go's pqarrow and the properties
// given.
func writeArrowGo(t testing.TB, schema []pqwrite.Column, cols []arrow.Array, props ...parquet.WriterProperty) []byte {
	t.Helper()
	fields := make([]arrow.Field, len(schema))
	for i, c := range schema {
		fields[i] = arrow.Field{Name: c.Name, Type: c.Type, Nullable: c.Nullable}
	}
	sch := arrow.NewSchema(fields, nil)
	var buf bytes.Buffer
	fw, err := pqarrow.NewFileWriter(sch, &buf, parquet.NewWriterProperties(props...), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		t.Fatal(err)
	}
	rec := array.NewRecordBatch(sch, cols, int64(cols[0].Len()))
	defer rec.Release()
	if err := fw.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// decodeFooter decodes a file's FileMetaData.
func decodeFooter(t testing.TB, data []byte) tstruct {
	t.Helper()
	n := int(uint32(data[len(data)-8]) | uint32(data[len(data)-7])<<8 | uint32(data[len(data)-6])<<16 | uint32(data[len(data)-5])<<24)
	f, _, err := decodeT(data[len(data)-8-n : len(data)-8])
	if err != nil {
		t.Fatal(err)
	}
	return f
}
