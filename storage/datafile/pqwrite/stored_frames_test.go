package pqwrite_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/compress"

	"github.com/dormousedb/dormouse/storage/datafile/pqwrite"
)

// zstdMagic starts every zstd frame; a stored page's frame has the
// descriptor storedFrame[4] after it.
var zstdMagic = storedFrame[:4]

// frameKinds returns, in file order, whether each zstd frame in
// data[from:to] is a stored one: the pages of a column chunk, one frame
// each (random page bodies hold the magic by chance with odds of about
// 2^-32 a byte). A stored frame has storedFrame's descriptor and a first
// block that is raw and as long as the content or 128 KiB; libzstd
// makes such frames too, of bytes it cannot compress, so the tests give
// the pages that must be compressed values that compress.
func frameKinds(data []byte, from, to int64) []bool {
	var kinds []bool
	b := data[from:to]
	for {
		i := bytes.Index(b, zstdMagic)
		if i < 0 || i+12 > len(b) {
			return kinds
		}
		f := b[i:]
		stored := false
		if f[4] == storedFrame[4] {
			size := int(binary.LittleEndian.Uint32(f[5:9]))
			h := int(f[9]) | int(f[10])<<8 | int(f[11])<<16
			stored = (h>>1)&3 == 0 && h>>3 == min(size, 128<<10)
		}
		kinds = append(kinds, stored)
		b = b[i+4:]
	}
}

// chunkRange returns the file range of row group rg's column c, and
// where its data pages start.
func chunkRange(t *testing.T, data []byte, rg, c int) (start, dataStart, end int64) {
	t.Helper()
	pf := openFile(t, data)
	cc, err := pf.MetaData().RowGroup(rg).ColumnChunk(c)
	if err != nil {
		t.Fatal(err)
	}
	start, dataStart = cc.DataPageOffset(), cc.DataPageOffset()
	if cc.HasDictionaryPage() {
		start = cc.DictionaryPageOffset()
	}
	return start, dataStart, start + cc.TotalCompressedSize()
}

func randomInt64s(rng *rand.Rand, n int, nullable bool) arrow.Array {
	b := array.NewInt64Builder(memory.DefaultAllocator)
	defer b.Release()
	for range n {
		if nullable && rng.IntN(4) == 0 {
			b.AppendNull()
		} else {
			b.Append(rng.Int64())
		}
	}
	return b.NewArray()
}

// TestStoredBigPages writes pages of random byte arrays far above
// zstd's 128 KiB block (several blocks per stored frame), nullable and
// not, and reads them back with arrow-go.
func TestStoredBigPages(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	const rows = 600
	for _, nullable := range []bool{false, true} {
		b := array.NewBinaryBuilder(memory.DefaultAllocator, arrow.BinaryTypes.Binary)
		for i := range rows {
			if nullable && i%5 == 2 {
				b.AppendNull()
				continue
			}
			v := make([]byte, 1000+rng.IntN(5000))
			for j := range v {
				v[j] = byte(rng.Uint32())
			}
			b.Append(v)
		}
		col := b.NewArray()
		b.Release()
		schema := []pqwrite.Column{{Name: "w", Type: arrow.BinaryTypes.Binary, Nullable: nullable}}
		data := writeFile(t, schema, []arrow.Array{col}, 97, pqwrite.Options{Codec: compress.Codecs.Zstd, CompressionLevel: 1, PageRows: 100, PageBytes: 64 << 20})
		start, _, end := chunkRange(t, data, 0, 0)
		// 6 pages of ~350 KB: frames of three blocks and more (the first
		// page's frame is libzstd's, of raw blocks too: random bytes).
		if kinds := frameKinds(data, start, end); len(kinds) != 6 || !kinds[1] || !kinds[5] {
			t.Errorf("nullable %v: frames %v, want 6, the 2nd to 6th stored", nullable, kinds)
		}
		if !readsBackAs(t, data, col) {
			t.Errorf("nullable %v: the column read back differs", nullable)
		}
		col.Release()
	}
}

// TestStoredDictionaryNeverStored writes a dictionary column whose
// dictionary (random 16-byte values) and indexes do not compress: the
// data pages are stored, the dictionary page never is.
func TestStoredDictionaryNeverStored(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	// Values that compress (the dictionary page must be compressed),
	// 4000 of them drawn at random (12-bit indexes that do not).
	dict := make([][]byte, 4000)
	for i := range dict {
		dict[i] = fmt.Appendf(nil, "value-%012d", i)
	}
	b := array.NewBinaryBuilder(memory.DefaultAllocator, arrow.BinaryTypes.Binary)
	for range 64 << 10 {
		b.Append(dict[rng.IntN(len(dict))])
	}
	col := b.NewArray()
	b.Release()
	defer col.Release()
	schema := []pqwrite.Column{{Name: "d", Type: arrow.BinaryTypes.Binary, Encoding: pqwrite.Dictionary}}
	data := writeFile(t, schema, []arrow.Array{col}, 10_000, pqwrite.Options{Codec: compress.Codecs.Zstd, CompressionLevel: 1, PageRows: 1024})
	start, dataStart, end := chunkRange(t, data, 0, 0)
	if start == dataStart {
		t.Fatal("no dictionary page")
	}
	if k := frameKinds(data, start, dataStart); len(k) != 1 || k[0] {
		t.Errorf("dictionary page frames %v, want one not stored", k)
	}
	kinds := frameKinds(data, dataStart, end)
	stored := countStored(kinds)
	if len(kinds) != 64 || stored != 60 {
		t.Errorf("%d data pages, %d stored; want 64, 60", len(kinds), stored)
	}
	if !readsBackAs(t, data, col) {
		t.Fatal("the column read back differs")
	}
}

// TestStoredTurnsCompressible writes a chunk whose values are
// random for 20 pages then constant: at most planPages-1 (15) of the
// constant pages are stored, and the rest compressed.
func TestStoredTurnsCompressible(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	b := array.NewInt64Builder(memory.DefaultAllocator)
	for i := range 60 << 10 {
		if i < 20<<10 {
			b.Append(rng.Int64())
		} else {
			b.Append(42)
		}
	}
	col := b.NewArray()
	b.Release()
	defer col.Release()
	schema := []pqwrite.Column{{Name: "x", Type: arrow.PrimitiveTypes.Int64}}
	data := writeFile(t, schema, []arrow.Array{col}, 10_000, pqwrite.Options{Codec: compress.Codecs.Zstd, CompressionLevel: 1, PageRows: 1024})
	start, _, end := chunkRange(t, data, 0, 0)
	kinds := frameKinds(data, start, end)
	if len(kinds) != 60 {
		t.Fatalf("%d pages, want 60", len(kinds))
	}
	stored := countStored(kinds[20:])
	if stored > 15 || kinds[59] {
		t.Errorf("%d of the 40 constant pages stored (want at most 15, the last not): %v", stored, kinds)
	}
	if !readsBackAs(t, data, col) {
		t.Fatal("the column read back differs")
	}
}

// TestStoredRowGroupStartsFresh: a row group's chunk starts with
// its first data page compressed, whatever the previous row group's
// pages were: chunk.reset makes its first page a trial (chunk.plan),
// which would otherwise leave a compressible row group after an
// incompressible one with up to 15 pages stored uncompressed.
func TestStoredRowGroupStartsFresh(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	b := array.NewInt64Builder(memory.DefaultAllocator)
	for i := range 10 << 10 {
		if i < 5<<10 {
			b.Append(rng.Int64()) // row group 0: 5 incompressible pages
		} else {
			b.Append(int64(i % 3)) // row group 1: 5 compressible pages
		}
	}
	col := b.NewArray()
	b.Release()
	defer col.Release()
	schema := []pqwrite.Column{{Name: "x", Type: arrow.PrimitiveTypes.Int64}}
	data := writeFile(t, schema, []arrow.Array{col}, 1024, pqwrite.Options{Codec: compress.Codecs.Zstd, CompressionLevel: 1, PageRows: 1024, RowGroupRows: 5 << 10})
	start, _, end := chunkRange(t, data, 1, 0)
	if kinds := frameKinds(data, start, end); len(kinds) != 5 || kinds[0] {
		t.Errorf("row group 1's pages %v (true: stored), want 5 compressed", kinds)
	}
	if !readsBackAs(t, data, col) {
		t.Fatal("the column read back differs")
	}
}

// TestStoredNullableRandom: nullable random int64 columns (PLAIN
// and DELTA_BINARY_PACKED) store their pages like non-nullable ones and
// read back whole.
func TestStoredNullableRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	col := randomInt64s(rng, 64<<10, true)
	defer col.Release()
	for _, enc := range []pqwrite.Encoding{pqwrite.Plain, pqwrite.DeltaBinaryPacked} {
		schema := []pqwrite.Column{{Name: "x", Type: arrow.PrimitiveTypes.Int64, Nullable: true, Encoding: enc}}
		data := writeFile(t, schema, []arrow.Array{col}, 7_000, pqwrite.Options{Codec: compress.Codecs.Zstd, CompressionLevel: 1, PageRows: 1024})
		// 64 pages, of which at least 4 compressed (the 1st, 17th, …); a
		// page tried again that compresses by 1/32 (the delta encoding's
		// block headers, the levels) is followed by another try.
		if n := bytes.Count(data, storedFrame); n < 56 || n > 60 {
			t.Errorf("encoding %v: %d pages stored, want 56 to 60", enc, n)
		}
		if !readsBackAs(t, data, col) {
			t.Errorf("encoding %v: the column read back differs", enc)
		}
	}
}
