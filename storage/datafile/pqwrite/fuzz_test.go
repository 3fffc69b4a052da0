package pqwrite_test

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/compress"

	"github.com/dormousedb/dormouse/storage/datafile/pqwrite"
)

// fuzzSource hands out the fuzz input's bytes as choices; past its end,
// zeros.
type fuzzSource struct{ b []byte }

func (s *fuzzSource) byte() byte {
	if len(s.b) == 0 {
		return 0
	}
	c := s.b[0]
	s.b = s.b[1:]
	return c
}

func (s *fuzzSource) intn(n int) int { return int(s.byte()) % n }

func (s *fuzzSource) u16() int { return int(s.byte()) | int(s.byte())<<8 }

// fuzzCase is a file the fuzz input describes.
type fuzzCase struct {
	schema  []pqwrite.Column
	whole   []arrow.Array // each column's rows
	batches [][]arrow.Array
	opts    pqwrite.Options
}

func (c *fuzzCase) String() string {
	var b strings.Builder
	for _, col := range c.schema {
		fmt.Fprintf(&b, "%s %s null=%v %s/%s; ", col.Name, col.Type, col.Nullable, col.Encoding, col.Fallback)
	}
	fmt.Fprintf(&b, "%d rows in %d batches, options %+v", c.whole[0].Len(), len(c.batches), c.opts)
	return b.String()
}

func (c *fuzzCase) release() {
	releaseAll(c.whole)
	releaseBatches(c.batches)
}

// newFuzzCase builds a file from the fuzz input: columns of any type and
// encoding, rows in any shape (those of genColumn, long byte arrays, a
// dictionary's trial passed and then outgrown), sliced at odd offsets,
// in batches of any size, and any page, row group and dictionary limits.
func newFuzzCase(data []byte) *fuzzCase {
	s := &fuzzSource{b: data}
	c := &fuzzCase{}
	ncols := 1 + s.intn(4)
	for i := range ncols {
		typ := allTypes[s.intn(len(allTypes))]
		encs := encodingsOf(typ)
		col := pqwrite.Column{Name: fmt.Sprintf("c%d", i), Type: typ, Nullable: s.intn(3) != 0, Encoding: encs[s.intn(len(encs))]}
		if col.Encoding == pqwrite.Dictionary && s.intn(2) == 0 {
			col.Fallback = deltaOf(typ)
		}
		c.schema = append(c.schema, col)
	}
	c.opts = pqwrite.Options{
		Codec: []compress.Compression{compress.Codecs.Uncompressed, compress.Codecs.Snappy, compress.Codecs.Zstd, compress.Codecs.Lz4Raw}[s.intn(4)],
	}
	switch s.intn(4) {
	case 0:
		c.opts.PageRows = int64(1 + s.intn(8))
	case 1:
		c.opts.PageRows = int64(1 + s.u16()%5000)
	}
	switch s.intn(4) {
	case 0:
		c.opts.PageBytes = int64(1 + s.intn(64))
	case 1:
		c.opts.PageBytes = int64(1 + s.u16())
	}
	switch s.intn(3) {
	case 0:
		c.opts.RowGroupRows = int64(1 + s.intn(16))
	case 1:
		c.opts.RowGroupRows = int64(1 + s.u16()%6000)
	}
	if s.intn(2) == 0 {
		c.opts.DictionaryBytes = int64(1 + s.u16())
	}
	n := s.u16() % 12000
	if s.intn(4) != 0 {
		n %= 600
	}
	rng := rand.New(rand.NewPCG(uint64(s.u16()), uint64(s.u16())))
	for _, col := range c.schema {
		lead := s.intn(9) // rows before the slice: odd offsets
		a := fuzzColumn(rng, s, col, lead+n+s.intn(3))
		c.whole = append(c.whole, array.NewSlice(a, int64(lead), int64(lead+n)))
		a.Release()
	}
	// Batches: sizes from the input, zeros among them.
	var sizes []int
	for range 1 + s.intn(6) {
		switch s.intn(4) {
		case 0:
			sizes = append(sizes, s.intn(3))
		case 1:
			sizes = append(sizes, 1+s.u16()%4000)
		default:
			sizes = append(sizes, 1+s.intn(200))
		}
	}
	if sizes[len(sizes)-1] == 0 && len(sizes) == 1 {
		sizes = append(sizes, 1)
	}
	hasPositive := false
	for _, k := range sizes {
		hasPositive = hasPositive || k > 0
	}
	if !hasPositive {
		sizes = append(sizes, 1)
	}
	c.batches = sliceBatches(c.whole, sizes)
	return c
}

// fuzzColumn makes n rows of col.
func fuzzColumn(rng *rand.Rand, s *fuzzSource, col pqwrite.Column, n int) arrow.Array {
	nulls := noNulls
	if col.Nullable {
		nulls = nullShape(s.intn(4))
	}
	isBytes := col.Type.ID() == arrow.STRING || col.Type.ID() == arrow.BINARY
	shape := s.intn(7)
	switch {
	case shape < 4:
		return genColumn(rng, col.Type, n, nulls, valueShape(shape))
	case shape == 4 && isBytes: // long values among short ones
		b := array.NewBuilder(memory.DefaultAllocator, col.Type)
		defer b.Release()
		for range n {
			if nulls != noNulls && rng.IntN(3) == 0 {
				b.AppendNull()
				continue
			}
			v := fmt.Sprintf("v%05d", rng.IntN(1000))
			if rng.IntN(40) == 0 {
				v = strings.Repeat(string(rune('a'+rng.IntN(26))), 4090+rng.IntN(12)) + v
			}
			if rng.IntN(500) == 0 {
				v = strings.Repeat("\xff", 70000)
			}
			appendBytes(b, v)
		}
		return b.NewArray()
	default: // few values, then unique ones: a dictionary passes its trial and outgrows its limit
		b := array.NewBuilder(memory.DefaultAllocator, col.Type)
		defer b.Release()
		switchAt := rng.IntN(n + 1)
		for i := range n {
			if nulls != noNulls && rng.IntN(4) == 0 {
				b.AppendNull()
				continue
			}
			if i < switchAt {
				appendGen(rng, b, i, fewValues)
			} else {
				appendGen(rng, b, i, []valueShape{randomValues, sortedValues}[shape%2])
			}
		}
		return b.NewArray()
	}
}

func appendBytes(b array.Builder, v string) {
	switch b := b.(type) {
	case *array.StringBuilder:
		b.Append(v)
	case *array.BinaryBuilder:
		b.Append([]byte(v))
	}
}

// FuzzReviewRoundTrip writes the file the input describes and checks
// everything verifyFile checks: arrow-go reads back the rows; the
// statistics, page index, definition levels and layout are the rows'; the
// statistics are arrow-go's.
func FuzzReviewRoundTrip(f *testing.F) {
	rng := rand.New(rand.NewPCG(23, 24))
	for range 40 {
		seed := make([]byte, 64)
		for i := range seed {
			seed[i] = byte(rng.Uint32())
		}
		f.Add(seed)
	}
	f.Add([]byte{})
	f.Add(binary.LittleEndian.AppendUint64(nil, 0xffffffffffffffff))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := newFuzzCase(data)
		defer c.release()
		file := writeBatches(t, c.schema, c.batches, c.opts)
		t.Logf("case: %s", c)
		verifyFile(t, c.schema, c.whole, file, c.opts)
	})
}
