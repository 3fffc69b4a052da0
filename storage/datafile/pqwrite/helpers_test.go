package pqwrite_test

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/dormousedb/dormouse/storage/datafile/pqwrite"
)

// The types a file can hold.
var allTypes = []arrow.DataType{
	arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Float64,
	arrow.FixedWidthTypes.Boolean, arrow.BinaryTypes.String, arrow.BinaryTypes.Binary,
	&arrow.TimestampType{Unit: arrow.Microsecond}, arrow.FixedWidthTypes.Date32,
}

// encodingsOf are the encodings a type can have.
func encodingsOf(t arrow.DataType) []pqwrite.Encoding {
	switch t.ID() {
	case arrow.BOOL:
		return []pqwrite.Encoding{pqwrite.Plain}
	case arrow.FLOAT64:
		return []pqwrite.Encoding{pqwrite.Plain, pqwrite.Dictionary}
	case arrow.STRING, arrow.BINARY:
		return []pqwrite.Encoding{pqwrite.Plain, pqwrite.Dictionary, pqwrite.DeltaByteArray}
	}
	return []pqwrite.Encoding{pqwrite.Plain, pqwrite.Dictionary, pqwrite.DeltaBinaryPacked}
}

// deltaOf is the type's delta encoding, or Plain.
func deltaOf(t arrow.DataType) pqwrite.Encoding {
	switch t.ID() {
	case arrow.STRING, arrow.BINARY:
		return pqwrite.DeltaByteArray
	case arrow.INT32, arrow.INT64, arrow.DATE32, arrow.TIMESTAMP:
		return pqwrite.DeltaBinaryPacked
	}
	return pqwrite.Plain
}

// nullShape is how NULLs fall in a generated column.
type nullShape int

const (
	noNulls   nullShape = iota
	someNulls           // scattered, about a third
	nullRuns            // long runs of NULLs and of values: whole pages of NULLs after pages of values
	allNulls
)

func (s nullShape) String() string {
	return [...]string{"none", "some", "runs", "all"}[s]
}

// valueShape is how values are drawn.
type valueShape int

const (
	randomValues valueShape = iota
	sortedValues
	fewValues // a handful of distinct values: a dictionary pays
	extremes  // the type's extremes, NaNs, zeros, empty strings
)

func (s valueShape) String() string {
	return [...]string{"random", "sorted", "few", "extremes"}[s]
}

// genColumn makes n values of type t.
func genColumn(rng *rand.Rand, t arrow.DataType, n int, nulls nullShape, vals valueShape) arrow.Array {
	b := array.NewBuilder(memory.DefaultAllocator, t)
	defer b.Release()
	inRun := false
	for i := range n {
		null := false
		switch nulls {
		case someNulls:
			null = rng.IntN(3) == 0
		case nullRuns:
			if rng.IntN(400) == 0 {
				inRun = !inRun
			}
			null = inRun
		case allNulls:
			null = true
		}
		if null {
			b.AppendNull()
			continue
		}
		appendGen(rng, b, i, vals)
	}
	return b.NewArray()
}

func appendGen(rng *rand.Rand, b array.Builder, i int, vals valueShape) {
	pick := func() int64 {
		switch vals {
		case sortedValues:
			return int64(i)*3 - 1000
		case fewValues:
			return int64(rng.IntN(5)) * 1000
		case extremes:
			return [...]int64{math.MinInt64, math.MaxInt64, 0, -1, 1, math.MinInt32, math.MaxInt32}[rng.IntN(7)]
		}
		return rng.Int64() >> rng.IntN(64)
	}
	switch b := b.(type) {
	case *array.Int64Builder:
		b.Append(pick())
	case *array.Int32Builder:
		b.Append(int32(pick()))
	case *array.TimestampBuilder:
		b.Append(arrow.Timestamp(pick()))
	case *array.Date32Builder:
		b.Append(arrow.Date32(int32(pick())))
	case *array.Float64Builder:
		if vals == extremes {
			b.Append([...]float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), 1e-300, -2.5}[rng.IntN(7)])
		} else {
			b.Append(float64(pick()) / 7)
		}
	case *array.BooleanBuilder:
		b.Append(pick()&1 == 1)
	case *array.StringBuilder:
		b.Append(strings.ToValidUTF8(genString(rng, i, vals), "\u00ff"))
	case *array.BinaryBuilder:
		b.Append([]byte(genString(rng, i, vals)))
	default:
		panic(fmt.Sprintf("no generator for %T", b))
	}
}

func genString(rng *rand.Rand, i int, vals valueShape) string {
	switch vals {
	case sortedValues:
		return fmt.Sprintf("key%09d", i*7)
	case fewValues:
		return fmt.Sprintf("word-%d", rng.IntN(5))
	case extremes:
		return [...]string{"", "\x00", "\xff\xff", "a", "ab", string(bytes.Repeat([]byte{'z'}, 300))}[rng.IntN(6)]
	}
	n := rng.IntN(40)
	b := make([]byte, n)
	for j := range b {
		b[j] = byte(rng.IntN(256))
	}
	return string(b)
}

// writeFile writes cols (each column's whole values) in batches of
// batchRows rows.
func writeFile(t testing.TB, schema []pqwrite.Column, cols []arrow.Array, batchRows int, opts pqwrite.Options) []byte {
	t.Helper()
	var batches [][]arrow.Array
	if len(cols) > 0 {
		batches = sliceBatches(cols, []int{batchRows})
		defer releaseBatches(batches)
	}
	return writeBatches(t, schema, batches, opts)
}

// writeBatches writes batches (each one array per column) and returns
// the file.
func writeBatches(t testing.TB, schema []pqwrite.Column, batches [][]arrow.Array, opts pqwrite.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := pqwrite.NewWriter(&buf, schema, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range batches {
		if err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sliceBatches cuts whole into batches of the given sizes, cycling
// through them (at least once, zeros included) until every row is in a
// batch: slices at non-zero offsets. sizes must hold a size above zero.
func sliceBatches(whole []arrow.Array, sizes []int) [][]arrow.Array {
	var out [][]arrow.Array
	n := whole[0].Len()
	for off, i := 0, 0; off < n || i < len(sizes); i++ {
		k := min(sizes[i%len(sizes)], n-off)
		b := make([]arrow.Array, len(whole))
		for c, a := range whole {
			b[c] = array.NewSlice(a, int64(off), int64(off+k))
		}
		out = append(out, b)
		off += k
	}
	return out
}

func releaseBatches(bs [][]arrow.Array) {
	for _, b := range bs {
		releaseAll(b)
	}
}

// concatBatches concatenates each column's arrays across batches.
func concatBatches(t testing.TB, schema []pqwrite.Column, batches [][]arrow.Array) []arrow.Array {
	t.Helper()
	out := make([]arrow.Array, len(schema))
	for c := range schema {
		var parts []arrow.Array
		for _, b := range batches {
			parts = append(parts, b[c])
		}
		if len(parts) == 0 {
			out[c] = array.MakeArrayOfNull(memory.DefaultAllocator, schema[c].Type, 0)
			continue
		}
		a, err := array.Concatenate(parts, memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		out[c] = a
	}
	return out
}

// allColumnsOf returns a column of every type in every encoding (a
// dictionary with each fallback), nullable or not as nullable says.
func allColumnsOf(nullable bool) []pqwrite.Column {
	var cols []pqwrite.Column
	for _, typ := range allTypes {
		for _, enc := range encodingsOf(typ) {
			fbs := []pqwrite.Encoding{pqwrite.Plain}
			if enc == pqwrite.Dictionary && deltaOf(typ) != pqwrite.Plain {
				fbs = append(fbs, deltaOf(typ))
			}
			for _, fb := range fbs {
				cols = append(cols, pqwrite.Column{Name: fmt.Sprintf("c%d", len(cols)), Type: typ, Nullable: nullable, Encoding: enc, Fallback: fb})
			}
		}
	}
	return cols
}

// everyType returns a column of each type, not nullable and nullable
// (scattered NULLs), with rows random values, in the default encoding.
func everyType(rng *rand.Rand, rows int) ([]pqwrite.Column, []arrow.Array) {
	var schema []pqwrite.Column
	var cols []arrow.Array
	for i, typ := range allTypes {
		for _, nullable := range []bool{false, true} {
			schema = append(schema, pqwrite.Column{Name: fmt.Sprintf("c%d_%v", i, nullable), Type: typ, Nullable: nullable})
			nulls := noNulls
			if nullable {
				nulls = someNulls
			}
			cols = append(cols, genColumn(rng, typ, rows, nulls, randomValues))
		}
	}
	return schema, cols
}

// mixedFile is a file of every type and encoding, in several row groups:
// its schema, its rows in batches of 97, each column's rows, and the
// options.
func mixedFile(rows int) ([]pqwrite.Column, [][]arrow.Array, []arrow.Array, pqwrite.Options) {
	rng := rand.New(rand.NewPCG(25, 26))
	schema := allColumnsOf(true)
	var whole []arrow.Array
	for _, c := range schema {
		whole = append(whole, genColumn(rng, c.Type, rows, someNulls, randomValues))
	}
	opts := pqwrite.Options{Codec: compress.Codecs.Zstd, PageRows: 50, RowGroupRows: int64(rows/3 + 1)}
	return schema, sliceBatches(whole, []int{97}), whole, opts
}

// openFile opens data with arrow-go's Parquet reader.
func openFile(t testing.TB, data []byte) *file.Reader {
	t.Helper()
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return pf
}

// readBack reads every column of data with pqarrow.
func readBack(t testing.TB, data []byte) (*file.Reader, []arrow.Array) {
	t.Helper()
	pf := openFile(t, data)
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1 << 16}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	out := make([]arrow.Array, tbl.NumCols())
	for i := range out {
		chunks := tbl.Column(i).Data().Chunks()
		if len(chunks) == 0 {
			out[i] = array.MakeArrayOfNull(memory.DefaultAllocator, tbl.Column(i).DataType(), 0)
			continue
		}
		out[i], err = array.Concatenate(chunks, memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
	}
	return pf, out
}

func releaseAll(arrs []arrow.Array) {
	for _, a := range arrs {
		a.Release()
	}
}

// writePqarrow writes cols with arrow-go's pqarrow, the reference, with
// the properties given (zstd unless they say otherwise).
func writePqarrow(t testing.TB, schema []pqwrite.Column, cols []arrow.Array, props ...parquet.WriterProperty) []byte {
	t.Helper()
	fields := make([]arrow.Field, len(schema))
	for i, c := range schema {
		fields[i] = arrow.Field{Name: c.Name, Type: c.Type, Nullable: c.Nullable}
	}
	sch := arrow.NewSchema(fields, nil)
	var buf bytes.Buffer
	props = append([]parquet.WriterProperty{parquet.WithCompression(compress.Codecs.Zstd)}, props...)
	fw, err := pqarrow.NewFileWriter(sch, &buf, parquet.NewWriterProperties(props...),
		pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
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

// checkRowGroups reads data, the file written of cols (each column's
// rows), back with arrow-go: the values must be cols', in row groups of
// opts.RowGroupRows rows (the last fewer). chunk is called for each
// column chunk with its row group g, the row group's page index and the
// row of cols the row group starts at. It returns the reader.
func checkRowGroups(t testing.TB, schema []pqwrite.Column, cols []arrow.Array, data []byte, opts pqwrite.Options,
	chunk func(g, c int, rg *metadata.RowGroupMetaData, pir *metadata.RowGroupPageIndexReader, start int64)) *file.Reader {
	t.Helper()
	pf, got := readBack(t, data)
	defer releaseAll(got)
	for i, a := range cols {
		if !sameValues(a, got[i]) {
			t.Fatalf("column %s (%s): read back differs (%d rows, %d read)", schema[i].Name, schema[i].Type, a.Len(), got[i].Len())
		}
	}
	md := pf.MetaData()
	start := int64(0)
	for g := range md.NumRowGroups() {
		rg := md.RowGroup(g)
		if want := min(opts.RowGroupRows, int64(cols[0].Len())-start); rg.NumRows() != want {
			t.Fatalf("row group %d has %d rows, want %d", g, rg.NumRows(), want)
		}
		pir, err := pf.GetPageIndexReader().RowGroup(g)
		if err != nil {
			t.Fatal(err)
		}
		for c := range cols {
			chunk(g, c, rg, pir, start)
		}
		start += rg.NumRows()
	}
	if start != int64(cols[0].Len()) {
		t.Fatalf("file holds %d rows, wrote %d", start, cols[0].Len())
	}
	return pf
}

// chunkStats returns column chunk c of rg and its statistics (nil if it
// has none).
func chunkStats(t testing.TB, rg *metadata.RowGroupMetaData, c int) (*metadata.ColumnChunkMetaData, metadata.TypedStatistics) {
	t.Helper()
	cc, err := rg.ColumnChunk(c)
	if err != nil {
		t.Fatal(err)
	}
	st, err := cc.Statistics()
	if err != nil {
		t.Fatalf("column chunk %d: %v", c, err)
	}
	return cc, st
}

// sameValues says whether a and b hold the same values, doubles compared
// bit for bit (NaNs, signed zeros).
func sameValues(a, b arrow.Array) bool {
	fa, ok := a.(*array.Float64)
	fb, ok2 := b.(*array.Float64)
	if !ok || !ok2 {
		return array.Equal(a, b)
	}
	if a.Len() != b.Len() {
		return false
	}
	for i := range a.Len() {
		if a.IsNull(i) != b.IsNull(i) || a.IsValid(i) && math.Float64bits(fa.Value(i)) != math.Float64bits(fb.Value(i)) {
			return false
		}
	}
	return true
}
