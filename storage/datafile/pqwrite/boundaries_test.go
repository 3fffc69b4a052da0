package pqwrite_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/compress"

	"github.com/dormousedb/dormouse/storage/datafile/pqwrite"
)

// Boundary cases of the review: each written and checked by verifyFile
// (values, layout, statistics, page index, definition levels, arrow-go's
// statistics for the same rows).

// TestReviewTinyBatches writes every type and encoding in batches of 0,
// 1 and a few rows (empty batches at the start, the end and between),
// with pages of 3 rows and row groups of 7, so that pages and row groups
// are cut at every place in a batch.
func TestReviewTinyBatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, nullable := range []bool{false, true} {
		t.Run(fmt.Sprint("nullable=", nullable), func(t *testing.T) {
			schema := allColumnsOf(nullable)
			nulls := noNulls
			if nullable {
				nulls = someNulls
			}
			var whole []arrow.Array
			for _, c := range schema {
				whole = append(whole, genColumn(rng, c.Type, 61, nulls, randomValues))
			}
			defer releaseAll(whole)
			batches := sliceBatches(whole, []int{0, 1, 0, 0, 2, 1, 5, 0, 3, 9, 1})
			end := make([]arrow.Array, len(whole)) // an empty batch at the end
			for c, a := range whole {
				end[c] = array.NewSlice(a, int64(a.Len()), int64(a.Len()))
			}
			batches = append(batches, end)
			defer releaseBatches(batches)
			for _, codec := range []compress.Compression{compress.Codecs.Uncompressed, compress.Codecs.Lz4Raw} {
				opts := pqwrite.Options{Codec: codec, PageRows: 3, RowGroupRows: 7}
				data := writeBatches(t, schema, batches, opts)
				verifyFile(t, schema, whole, data, opts)
			}
		})
	}
}

// TestReviewOffsets writes arrays that are slices at odd offsets of
// larger ones (validity bitmaps and boolean values not starting on a
// byte), in batches that are slices of those again.
func TestReviewOffsets(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	schema := allColumnsOf(true)
	var whole []arrow.Array
	for _, c := range schema {
		big := genColumn(rng, c.Type, 2000, nullShape(rng.IntN(3)), valueShape(rng.IntN(4)))
		whole = append(whole, array.NewSlice(big, 3, 1995))
		big.Release()
	}
	defer releaseAll(whole)
	for _, sizes := range [][]int{{1}, {7, 13, 5}, {250}, {1992}} {
		batches := sliceBatches(whole, sizes)
		opts := pqwrite.Options{Codec: compress.Codecs.Snappy, PageRows: 37, RowGroupRows: 301, PageBytes: 700}
		data := writeBatches(t, schema, batches, opts)
		verifyFile(t, schema, whole, data, opts)
		releaseBatches(batches)
	}
}

// TestReviewNullRowGroups writes nullable columns whose rows are all
// NULL for a whole row group between row groups of values, and a row
// group of values between all-NULL ones.
func TestReviewNullRowGroups(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	schema := allColumnsOf(true)
	const rg = 500
	var whole []arrow.Array
	for _, c := range schema {
		b := array.NewBuilder(memory.DefaultAllocator, c.Type)
		for g := range 5 {
			for i := range rg {
				if g == 1 || g == 3 || g == 4 {
					b.AppendNull()
				} else {
					appendGen(rng, b, i, fewValues)
				}
			}
		}
		whole = append(whole, b.NewArray())
		b.Release()
	}
	defer releaseAll(whole)
	for _, sizes := range [][]int{{rg * 5}, {333}, {rg}} {
		batches := sliceBatches(whole, sizes)
		opts := pqwrite.Options{Codec: compress.Codecs.Zstd, PageRows: 100, RowGroupRows: rg}
		data := writeBatches(t, schema, batches, opts)
		verifyFile(t, schema, whole, data, opts)
		releaseBatches(batches)
	}
}

// TestReviewLongStrings writes byte arrays longer than a statistic keeps
// (4096 bytes) and longer than a page, among short ones: in pages of
// their own, as a page's min or max and as neither, empty strings too.
func TestReviewLongStrings(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	var schema []pqwrite.Column
	for _, typ := range []arrow.DataType{arrow.BinaryTypes.String, arrow.BinaryTypes.Binary} {
		for _, enc := range encodingsOf(typ) {
			for _, fb := range []pqwrite.Encoding{pqwrite.Plain, pqwrite.DeltaByteArray} {
				if enc != pqwrite.Dictionary && fb != pqwrite.Plain {
					continue
				}
				schema = append(schema, pqwrite.Column{Name: fmt.Sprintf("c%d", len(schema)), Type: typ, Nullable: true, Encoding: enc, Fallback: fb})
			}
		}
	}
	long := func(c byte, n int) string { return strings.Repeat(string(c), n) }
	// Row groups of 40 rows: 0 has a long max, 1 a long min, 2 a long
	// value that is neither (but a page's max), 3 only short values, 4 a
	// value longer than a page, 5 only empty strings and NULLs, 6 exactly
	// 4096 bytes.
	var rows []string
	for g := range 7 {
		for i := range 40 {
			v := fmt.Sprintf("m%03d", rng.IntN(1000))
			if g == 2 { // pages of 7 rows: page 4's max is the long value, row 0 the chunk's max
				v = fmt.Sprintf("m%03d", i)
			}
			switch {
			case g == 2 && i == 0:
				v = "m999"
			case g == 0 && i == 17:
				v = long('z', 5000)
			case g == 1 && i == 3:
				v = "a" + long('a', 4200)
			case g == 2 && i == 30:
				v = "m" + long('5', 9000)
			case g == 4 && i == 20:
				v = long('q', 70000)
			case g == 5:
				v = ""
			case g == 6 && i == 0:
				v = long('~', 4096)
			}
			if g == 5 && i%3 == 0 || g != 5 && i%11 == 5 {
				v = "\x00NULL"
			}
			rows = append(rows, v)
		}
	}
	var whole []arrow.Array
	for _, c := range schema {
		b := array.NewBuilder(memory.DefaultAllocator, c.Type)
		for _, v := range rows {
			switch {
			case v == "\x00NULL":
				b.AppendNull()
			case c.Type.ID() == arrow.STRING:
				b.(*array.StringBuilder).Append(v)
			default:
				b.(*array.BinaryBuilder).Append([]byte(v))
			}
		}
		whole = append(whole, b.NewArray())
		b.Release()
	}
	defer releaseAll(whole)
	for _, pageRows := range []int64{7, 40} {
		batches := sliceBatches(whole, []int{13, 40, 1})
		opts := pqwrite.Options{Codec: compress.Codecs.Zstd, PageRows: pageRows, PageBytes: 16 << 10, RowGroupRows: 40}
		data := writeBatches(t, schema, batches, opts)
		verifyFile(t, schema, whole, data, opts)
		releaseBatches(batches)
	}
}

// TestReviewDeltaExtremes writes integers whose differences overflow:
// the types' extremes alternating, runs that wrap, single values, and
// runs of 31 to 257 values around the miniblock and block sizes, each
// row group its own pattern.
func TestReviewDeltaExtremes(t *testing.T) {
	var schema []pqwrite.Column
	for _, typ := range []arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Int32, &arrow.TimestampType{Unit: arrow.Microsecond}, arrow.FixedWidthTypes.Date32} {
		for _, nullable := range []bool{false, true} {
			for _, enc := range []pqwrite.Encoding{pqwrite.DeltaBinaryPacked, pqwrite.Dictionary} {
				schema = append(schema, pqwrite.Column{Name: fmt.Sprintf("c%d", len(schema)), Type: typ, Nullable: nullable, Encoding: enc, Fallback: pqwrite.DeltaBinaryPacked})
			}
		}
	}
	patterns := []func(i int, lo, hi int64) int64{
		func(i int, lo, hi int64) int64 { // extremes alternating
			if i%2 == 0 {
				return lo
			}
			return hi
		},
		func(i int, lo, hi int64) int64 { return hi - int64(i%3) }, // near the top
		func(i int, lo, hi int64) int64 { // wrapping ramp
			return lo + int64(uint64(i)*uint64(hi/3))
		},
		func(i int, lo, hi int64) int64 { return 42 }, // width 0
		func(i int, lo, hi int64) int64 { // one huge jump in a block of small ones
			if i%128 == 77 {
				return lo
			}
			return int64(i)
		},
		func(i int, lo, hi int64) int64 { // descending by the most
			return hi - int64(uint64(i)*uint64(hi/2))
		},
	}
	sizes := []int{1, 2, 31, 32, 33, 127, 128, 129, 255, 256, 257, 1000}
	rng := rand.New(rand.NewPCG(19, 20))
	var whole []arrow.Array
	for _, c := range schema {
		b := array.NewBuilder(memory.DefaultAllocator, c.Type)
		lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
		if c.Type.(arrow.FixedWidthDataType).BitWidth() == 32 {
			lo, hi = math.MinInt32, math.MaxInt32
		}
		for _, pat := range patterns {
			for _, n := range sizes {
				for i := range n {
					if c.Nullable && rng.IntN(5) == 0 {
						b.AppendNull()
						continue
					}
					v := pat(i, lo, hi)
					if lo == math.MinInt32 {
						v = int64(int32(v))
					}
					switch b := b.(type) {
					case *array.Int64Builder:
						b.Append(v)
					case *array.Int32Builder:
						b.Append(int32(v))
					case *array.TimestampBuilder:
						b.Append(arrow.Timestamp(v))
					case *array.Date32Builder:
						b.Append(arrow.Date32(v))
					}
				}
			}
		}
		whole = append(whole, b.NewArray())
		b.Release()
	}
	defer releaseAll(whole)
	// Runs of each pattern meet pages (and their delta blocks) at many
	// offsets: pages of one row, of a miniblock and one, a block and one,
	// and as large as a row group.
	for _, pageRows := range []int64{1, 33, 128, 129, 20000} {
		batches := sliceBatches(whole, []int{100, 7, 2048})
		opts := pqwrite.Options{Codec: compress.Codecs.Uncompressed, PageRows: pageRows, RowGroupRows: 4096}
		data := writeBatches(t, schema, batches, opts)
		verifyFile(t, schema, whole, data, opts)
		releaseBatches(batches)
	}
}
