package pqwrite_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/compress"

	"github.com/dormousedb/dormouse/storage/datafile/pqwrite"
)

// storedFrame is how a page the Writer stored rather than compressed
// begins: the zstd magic, then a frame header descriptor with a
// four-byte content size and a single segment. libzstd
// gives the pages of these tests (below 64 KiB) a two-byte size.
var storedFrame = []byte{0x28, 0xb5, 0x2f, 0xfd, 0xa0}

// TestIncompressiblePagesStored checks that a zstd column whose pages do
// not compress has all but one page in planPages stored (the
// codec is tried again on the others), that a compressible column is
// compressed throughout, that no other codec stores, and that every
// file reads back whole.
func TestIncompressiblePagesStored(t *testing.T) {
	const rows, pageRows = 64 << 10, 1 << 10
	rng := rand.New(rand.NewPCG(3, 4))
	random := array.NewInt64Builder(memory.DefaultAllocator)
	steady := array.NewInt64Builder(memory.DefaultAllocator)
	for i := range rows {
		random.Append(rng.Int64())
		steady.Append(int64(i % 7))
	}
	cols := []arrow.Array{random.NewArray(), steady.NewArray()}
	defer releaseAll(cols)
	for _, tc := range []struct {
		name   string
		col    int
		enc    pqwrite.Encoding
		codec  compress.Compression
		stored int
	}{
		// 64 pages: the 1st, 17th, 33rd and 49th are compressed.
		{"random-delta-zstd", 0, pqwrite.DeltaBinaryPacked, compress.Codecs.Zstd, 60},
		{"random-plain-zstd", 0, pqwrite.Plain, compress.Codecs.Zstd, 60},
		{"steady-plain-zstd", 1, pqwrite.Plain, compress.Codecs.Zstd, 0},
		{"random-plain-snappy", 0, pqwrite.Plain, compress.Codecs.Snappy, 0},
		{"random-plain-lz4", 0, pqwrite.Plain, compress.Codecs.Lz4Raw, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			schema := []pqwrite.Column{{Name: "x", Type: arrow.PrimitiveTypes.Int64, Encoding: tc.enc}}
			data := writeFile(t, schema, cols[tc.col:tc.col+1], 10_000, pqwrite.Options{Codec: tc.codec, CompressionLevel: 1, PageRows: pageRows})
			if got := bytes.Count(data, storedFrame); got != tc.stored {
				t.Errorf("%d pages stored, want %d", got, tc.stored)
			}
			if !readsBackAs(t, data, cols[tc.col]) {
				t.Fatal("the column read back differs")
			}
		})
	}
}

// readsBackAs reports whether data's first column reads back (pqarrow)
// as col.
func readsBackAs(t *testing.T, data []byte, col arrow.Array) bool {
	t.Helper()
	_, back := readBack(t, data)
	defer releaseAll(back)
	return array.Equal(back[0], col)
}

// countStored counts the pages frameKinds found stored.
func countStored(kinds []bool) int {
	n := 0
	for _, s := range kinds {
		if s {
			n++
		}
	}
	return n
}
