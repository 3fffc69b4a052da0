package pqwrite_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"

	"github.com/dormousedb/dormouse/storage/datafile/internal/compact/thrifttest"
	"github.com/dormousedb/dormouse/storage/datafile/pqwrite"
)

// fieldIDs returns the ids of a struct's fields, sorted.
func fieldIDs(s thrifttest.Struct) []int16 {
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
	schema, cols := everyType(rng, 500)
	defer releaseAll(cols)
	ours := checkLayout(t, writeFile(t, schema, cols, 500, pqwrite.Options{Codec: compress.Codecs.Zstd, SortingColumns: 1})).footer
	theirs, _ := decodeFooter(t, writePqarrow(t, schema, cols, parquet.WithDictionaryDefault(false), parquet.WithPageIndexEnabled(true),
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
	compare := func(what string, a, b thrifttest.Struct) {
		var missing []int16
		for _, id := range fieldIDs(b) {
			if !a.Has(id) && !slices.Contains(allowed[what], id) {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			t.Errorf("%s: arrow-go writes fields %v that pqwrite does not (pqwrite %v, arrow-go %v)", what, missing, fieldIDs(a), fieldIDs(b))
		}
		var extra []int16
		for _, id := range fieldIDs(a) {
			if !b.Has(id) {
				extra = append(extra, id)
			}
		}
		if len(extra) > 0 {
			t.Logf("%s: pqwrite writes fields %v arrow-go does not", what, extra)
		}
	}
	compare("FileMetaData", ours, theirs)
	for i := range ours.List(2) {
		compare(fmt.Sprintf("SchemaElement %d", i), ours.List(2)[i].(thrifttest.Struct), theirs.List(2)[i].(thrifttest.Struct))
	}
	rgA, rgB := ours.List(4)[0].(thrifttest.Struct), theirs.List(4)[0].(thrifttest.Struct)
	compare("RowGroup", rgA, rgB)
	for c := range rgA.List(1) {
		ca, cb := rgA.List(1)[c].(thrifttest.Struct), rgB.List(1)[c].(thrifttest.Struct)
		compare("ColumnChunk", ca, cb)
		compare("ColumnMetaData", ca.Sub(3), cb.Sub(3))
		compare("Statistics", ca.Sub(3).Sub(12), cb.Sub(3).Sub(12))
	}
	var keysA, keysB []string
	for _, kv := range ours.List(5) {
		keysA = append(keysA, kv.(thrifttest.Struct)[1].(string))
	}
	for _, kv := range theirs.List(5) {
		keysB = append(keysB, kv.(thrifttest.Struct)[1].(string))
	}
	sort.Strings(keysA)
	t.Logf("key-value keys: pqwrite %v, arrow-go %v; created_by %q, arrow-go %q", keysA, keysB, ours[6], theirs[6])
	if len(ours.List(7)) != len(theirs.List(7)) {
		t.Errorf("%d column orders, arrow-go %d", len(ours.List(7)), len(theirs.List(7)))
	}
}
