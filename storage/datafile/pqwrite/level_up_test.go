package pqwrite_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/compress"

	"github.com/dormousedb/dormouse/storage/datafile/pqwrite"
)

// TestLevelUpWherePays writes decimal-like DOUBLEs (the benchmark's
// column b) and a sorted VARCHAR key at zstd level 1 with level 2 as
// CompressionLevelUp: the DOUBLEs' chunk comes out byte for byte as at
// level 2, a tenth or more smaller than at level 1 alone, the key's as
// at level 1 alone (level 2 does not pay on it), and both read back.
func TestLevelUpWherePays(t *testing.T) {
	const rows = 400_000 // three pages of DOUBLEs and more
	rng := rand.New(rand.NewPCG(31, 32))
	db := array.NewFloat64Builder(memory.DefaultAllocator)
	defer db.Release()
	keys := make([]string, rows)
	for i := range rows {
		db.Append(float64(rng.Int64N(1_000_000)) / 1000)
		keys[i] = fmt.Sprintf("k%015d", rng.Int64N(1e15))
	}
	slices.Sort(keys)
	kb := array.NewStringBuilder(memory.DefaultAllocator)
	defer kb.Release()
	kb.AppendValues(keys, nil)
	cols := []arrow.Array{db.NewArray(), kb.NewArray()}
	defer releaseAll(cols)
	schema := []pqwrite.Column{
		{Name: "b", Type: arrow.PrimitiveTypes.Float64},
		{Name: "key", Type: arrow.BinaryTypes.String, Encoding: pqwrite.DeltaByteArray},
	}
	write := func(level, up int) []byte {
		return writeFile(t, schema, cols, 50_000, pqwrite.Options{Codec: compress.Codecs.Zstd,
			CompressionLevel: level, CompressionLevelUp: up, PageRows: 1 << 17})
	}
	chunk := func(data []byte, c int) []byte {
		start, _, end := chunkRange(t, data, 0, c)
		return data[start:end]
	}
	l1, l2, up := write(1, 0), write(2, 0), write(1, 2)
	if !bytes.Equal(chunk(up, 0), chunk(l2, 0)) {
		t.Errorf("DOUBLEs at level 1 up to 2: %d bytes, not level 2's %d", len(chunk(up, 0)), len(chunk(l2, 0)))
	}
	if n, n1 := len(chunk(up, 0)), len(chunk(l1, 0)); n > n1-n1/10 {
		t.Errorf("DOUBLEs at level 1 up to 2: %d bytes, level 1's %d: not a tenth smaller", n, n1)
	}
	if !bytes.Equal(chunk(up, 1), chunk(l1, 1)) {
		t.Errorf("key at level 1 up to 2: %d bytes, not level 1's %d", len(chunk(up, 1)), len(chunk(l1, 1)))
	}
	_, back := readBack(t, up)
	defer releaseAll(back)
	for i := range cols {
		if !array.Equal(back[i], cols[i]) {
			t.Errorf("column %s read back differs", schema[i].Name)
		}
	}
}

// TestLevelUpMustBeHigher: a CompressionLevelUp not above the level (or
// zstd's default level, 3) is an error for zstd; other codecs have no
// levels.
func TestLevelUpMustBeHigher(t *testing.T) {
	schema := []pqwrite.Column{{Name: "x", Type: arrow.PrimitiveTypes.Int64}}
	for _, c := range []struct {
		codec     compress.Compression
		level, up int
		ok        bool
	}{
		{compress.Codecs.Zstd, 1, 2, true},
		{compress.Codecs.Zstd, 1, 0, true},
		{compress.Codecs.Zstd, 2, 2, false},
		{compress.Codecs.Zstd, 3, 1, false},
		{compress.Codecs.Zstd, 0, 3, false},
		{compress.Codecs.Zstd, 0, 4, true},
		{compress.Codecs.Lz4Raw, 0, 1, true},
	} {
		_, err := pqwrite.NewWriter(&bytes.Buffer{}, schema, pqwrite.Options{Codec: c.codec, CompressionLevel: c.level, CompressionLevelUp: c.up})
		if (err == nil) != c.ok {
			t.Errorf("%s level %d up %d: error %v, want ok %v", c.codec, c.level, c.up, err, c.ok)
		}
	}
}
