package pqwrite_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/compress"

	"github.com/dormousedb/dormouse/storage/datafile/pqwrite"
)

// dictRows makes a column of type typ: probe rows of a few repeated
// values (the dictionary's trial passes), then unique ones of about
// width bytes (or 8 for numbers), NULLs among them if nullable.
func dictRows(typ arrow.DataType, probe, unique, width int, nullable bool) arrow.Array {
	b := array.NewBuilder(memory.DefaultAllocator, typ)
	defer b.Release()
	for i := range probe + unique {
		if nullable && i%7 == 3 {
			b.AppendNull()
			continue
		}
		u := i >= probe
		switch b := b.(type) {
		case *array.StringBuilder:
			if u {
				b.Append(fmt.Sprintf("%0*d", width, i))
			} else {
				b.Append(fmt.Sprintf("few-%d", i%3))
			}
		case *array.Float64Builder:
			if u {
				b.Append(float64(i) + 0.5)
			} else {
				b.Append(float64(i % 3))
			}
		case *array.Int64Builder:
			if u {
				b.Append(int64(i) * 1000003)
			} else {
				b.Append(int64(i % 3))
			}
		}
	}
	return b.NewArray()
}

// TestReviewDictionaryLimit fills a chunk's dictionary past its limit
// after a passing trial, in batches of every size up to one batch for
// the whole chunk: the dictionary page must stay near the limit (it grew
// by a whole batch before the check, without bound), the chunk must go
// on in its fallback encoding from the page that filled it, never back,
// and everything else must hold (verifyFile).
func TestReviewDictionaryLimit(t *testing.T) {
	for _, tc := range []struct {
		typ      arrow.DataType
		fallback pqwrite.Encoding
		width    int
	}{
		{arrow.BinaryTypes.String, pqwrite.DeltaByteArray, 1000},
		{arrow.BinaryTypes.String, pqwrite.Plain, 100},
		{arrow.PrimitiveTypes.Float64, pqwrite.Plain, 8},
		{arrow.PrimitiveTypes.Int64, pqwrite.DeltaBinaryPacked, 8},
	} {
		for _, batchRows := range []int{1000, 30000} {
			for _, nullable := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/batch=%d/nullable=%v", tc.typ, tc.fallback, batchRows, nullable), func(t *testing.T) {
					const limit = 64 << 10
					unique := 3 * limit / tc.width
					a := dictRows(tc.typ, 5000, unique, tc.width, nullable)
					defer a.Release()
					schema := []pqwrite.Column{{Name: "c", Type: tc.typ, Nullable: nullable, Encoding: pqwrite.Dictionary, Fallback: tc.fallback}}
					opts := pqwrite.Options{Codec: compress.Codecs.Snappy, DictionaryBytes: limit, PageBytes: 1 << 20,
						PageRows: 1 << 20, RowGroupRows: 1 << 20}
					batches := sliceBatches([]arrow.Array{a}, []int{batchRows})
					defer releaseBatches(batches)
					data := writeBatches(t, schema, batches, opts)
					lay := verifyFile(t, schema, []arrow.Array{a}, data, opts)
					pages := lay.pages[0][0]
					if pages[0].typ != 2 {
						t.Fatalf("no dictionary page: the trial should have passed")
					}
					// The dictionary may pass its limit by what one put
					// adds: at most a sixteenth of the limit and a value.
					if got, most := int(pages[0].uncomp), limit+limit/16+tc.width+4; got > most {
						t.Errorf("dictionary page of %d bytes, limit %d (at most %d)", got, limit, most)
					}
					var encs []int64
					for _, p := range pages[1:] {
						if len(encs) == 0 || encs[len(encs)-1] != p.encoding {
							encs = append(encs, p.encoding)
						}
					}
					fb := map[pqwrite.Encoding]int64{pqwrite.Plain: 0, pqwrite.DeltaBinaryPacked: 5, pqwrite.DeltaByteArray: 7}[tc.fallback]
					if !slices.Equal(encs, []int64{8, fb}) {
						t.Errorf("data pages encoded %v in turn, want the dictionary's then the fallback's", encs)
					}
				})
			}
		}
	}
}
