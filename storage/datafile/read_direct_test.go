package datafile_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/schema"
)

// directSchema has every column type, nullable values, a low-cardinality
// text column (dictionary-encoded) and unique ones (PLAIN).
var directSchema = &schema.Schema{
	RowKeys: []schema.Column{{Name: "k", Type: schema.BigInt}},
	Values: []schema.Column{
		{Name: "word", Type: schema.Varchar, Nullable: true},
		{Name: "text", Type: schema.Varchar, Nullable: true},
		{Name: "i", Type: schema.Integer, Nullable: true},
		{Name: "d", Type: schema.Double, Nullable: true},
		{Name: "b", Type: schema.Boolean, Nullable: true},
		{Name: "ts", Type: schema.Timestamp, Nullable: true},
		{Name: "day", Type: schema.Date, Nullable: true},
		{Name: "bin", Type: schema.Varbinary, Nullable: true},
		{Name: "small", Type: schema.BigInt},
	},
}

func directRows(t *testing.T, n int) arrow.RecordBatch {
	rng := rand.New(rand.NewPCG(7, 8))
	maybe := func(v any) any {
		if rng.IntN(5) == 0 {
			return nil
		}
		return v
	}
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{int64(i), maybe(fmt.Sprintf("w%d", rng.IntN(30))), maybe(fmt.Sprintf("text-%d-%d", i, rng.Int64())),
			maybe(int32(rng.Int32())), maybe(rng.NormFloat64()), maybe(rng.IntN(2) == 0),
			maybe(arrow.Timestamp(rng.Int64N(1 << 50))), maybe(arrow.Date32(rng.Int32N(40000))),
			maybe([]byte(fmt.Sprint(rng.Uint64()))), int64(rng.IntN(4))}
	}
	return batch(t, memory.DefaultAllocator, directSchema, rows...)
}

// TestDirectReadMatchesPqarrow reads random small selections of files in
// every shape the direct path decodes (our Writer's files; data pages v2;
// snappy, uncompressed; dictionaries kept everywhere) through it and
// through pqarrow, and compares the rows; read again through a page cache,
// the answers are the same and come from the cache. Whole row groups are
// streamed page by page by the direct path too (read_scan.go).
func TestDirectReadMatchesPqarrow(t *testing.T) {
	const n = 6000
	all := directRows(t, n)
	defer all.Release()
	base := []parquet.WriterProperty{parquet.WithStats(true), parquet.WithPageIndexEnabled(true),
		parquet.WithMaxRowGroupLength(2500), parquet.WithDataPageSize(1 << 10), parquet.WithBatchSize(64)}
	variants := []struct {
		name  string
		props []parquet.WriterProperty // nil: our Writer
	}{
		{name: "writer"},
		{name: "v2-zstd", props: append([]parquet.WriterProperty{parquet.WithDataPageVersion(parquet.DataPageV2), parquet.WithCompression(compress.Codecs.Zstd)}, base...)},
		{name: "v1-snappy-dict", props: append([]parquet.WriterProperty{parquet.WithCompression(compress.Codecs.Snappy), parquet.WithDictionaryDefault(true)}, base...)},
		{name: "v2-none-plain", props: append([]parquet.WriterProperty{parquet.WithDataPageVersion(parquet.DataPageV2), parquet.WithDictionaryDefault(false)}, base...)},
		// Every encoding the direct path recodes to PLAIN, in pages v1
		// and v2, compressed or not.
		{name: "v1-zstd-delta", props: append(encodingProps(map[string]parquet.Encoding{
			"k": parquet.Encodings.DeltaBinaryPacked, "word": parquet.Encodings.DeltaByteArray, "text": parquet.Encodings.DeltaLengthByteArray,
			"i": parquet.Encodings.DeltaBinaryPacked, "d": parquet.Encodings.ByteStreamSplit, "ts": parquet.Encodings.ByteStreamSplit,
			"day": parquet.Encodings.ByteStreamSplit, "bin": parquet.Encodings.DeltaByteArray, "small": parquet.Encodings.DeltaBinaryPacked,
		}), append([]parquet.WriterProperty{parquet.WithCompression(compress.Codecs.Zstd)}, base...)...)},
		{name: "v2-none-delta", props: append(encodingProps(map[string]parquet.Encoding{
			"k": parquet.Encodings.ByteStreamSplit, "word": parquet.Encodings.DeltaLengthByteArray, "text": parquet.Encodings.DeltaByteArray,
			"i": parquet.Encodings.ByteStreamSplit, "ts": parquet.Encodings.DeltaBinaryPacked, "day": parquet.Encodings.DeltaBinaryPacked,
			"bin": parquet.Encodings.DeltaLengthByteArray, "small": parquet.Encodings.ByteStreamSplit,
		}), append([]parquet.WriterProperty{parquet.WithDataPageVersion(parquet.DataPageV2)}, base...)...)},
	}
	for _, v := range variants {
		for _, cacheBytes := range []int64{64 << 20, 6 << 10} {
			t.Run(fmt.Sprintf("%s/cache=%d", v.name, cacheBytes), func(t *testing.T) {
				testDirectRead(t, all, v.props, cacheBytes)
			})
		}
	}
}

// testDirectRead is TestDirectReadMatchesPqarrow for one kind of file
// (props; nil: our Writer's) and a page cache of cacheBytes (a small one
// evicts pages all the time: every read must be the same).
func testDirectRead(t *testing.T, all arrow.RecordBatch, props []parquet.WriterProperty, cacheBytes int64) {
	store := newTestStore(t)
	key := "t/direct.parquet"
	if props == nil {
		writeFile(t, store, key, directSchema, datafile.WriterOptions{RowGroupRows: 2500, PageSizeBytes: 1 << 10}, all)
	} else {
		writeWithProps(t, store, key, all, props)
	}
	cache := datafile.NewPageCache(cacheBytes)
	ctx := context.Background()
	direct, err := datafile.Open(ctx, store, key, directSchema, datafile.WithPageCache(cache), datafile.WithBatchRows(300))
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	plain, err := datafile.Open(ctx, store, key, directSchema)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	datafile.SetDirect(plain, false)
	rng := rand.New(rand.NewPCG(9, 10))
	cols := allColumns(directSchema)
	small := 0
	for iter := range 40 {
		var sel []datafile.Selection
		for rg := range direct.NumRowGroups() {
			rows := direct.NumRows() - int64(rg)*2500
			s := datafile.Selection{RowGroup: rg}
			if rng.IntN(4) == 0 { // the whole row group, streamed
				sel = append(sel, s)
				continue
			}
			for start := int64(rng.IntN(100)); start < min(rows, 2500); {
				end := min(rows, 2500, start+1+int64(rng.IntN(700)))
				s.Rows = append(s.Rows, datafile.RowRange{Start: start, End: end})
				start = end + int64(rng.IntN(900))
			}
			if len(s.Rows) > 0 {
				sel = append(sel, s)
			}
		}
		rng.Shuffle(len(cols), func(i, j int) { cols[i], cols[j] = cols[j], cols[i] })
		pick := cols[:1+rng.IntN(len(cols))]
		for pass := range 2 {
			got := readDirectSelection(t, direct, pick, sel)
			want := readDirectSelection(t, plain, pick, sel)
			for i := range pick {
				if !array.Equal(got[i], want[i]) {
					t.Fatalf("iteration %d pass %d, column %s of %v:\ngot  %v\nwant %v", iter, pass, directSchema.Columns()[pick[i]].Name, sel, got[i], want[i])
				}
			}
			releaseAll(got)
			releaseAll(want)
		}
		// ReadSmall reads each selection of rows as one array per
		// column.
		for _, s := range sel {
			if s.Rows == nil {
				continue
			}
			got, ok, err := direct.ReadSmall(s, pick)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				continue
			}
			small++
			if n := datafile.ScratchPages(direct); n != 0 {
				t.Fatalf("the reader holds %d pages after ReadSmall", n)
			}
			want := readDirectSelection(t, plain, pick, []datafile.Selection{s})
			for i := range pick {
				if !array.Equal(got[i], want[i]) {
					t.Fatalf("iteration %d, ReadSmall, column %s of %v:\ngot  %v\nwant %v", iter, directSchema.Columns()[pick[i]].Name, s, got[i], want[i])
				}
			}
			releaseAll(got)
			releaseAll(want)
		}
	}
	if small == 0 {
		t.Errorf("ReadSmall read no selection")
	}
	if st := cache.Stats(); st.Hits == 0 || st.Pages == 0 {
		t.Fatalf("page cache unused: %+v", st)
	}
}

func readDirectSelection(t *testing.T, r *datafile.Reader, cols []int, sel []datafile.Selection) []arrow.Array {
	t.Helper()
	return readSel(t, r, directSchema, cols, sel)
}

// encodingProps sets the encodings of the named columns, without
// dictionaries.
func encodingProps(encs map[string]parquet.Encoding) []parquet.WriterProperty {
	var props []parquet.WriterProperty
	for name, enc := range encs {
		props = append(props, parquet.WithDictionaryFor(name, false), parquet.WithEncodingFor(name, enc))
	}
	return props
}

// TestReadLargeSelection reads selections of more rows than the direct
// path decodes at once, streamed a page at a time, through the direct
// path and through pqarrow, with a checked allocator: the same rows, and
// every buffer released.
func TestReadLargeSelection(t *testing.T) {
	const n = 50000
	all := directRows(t, n)
	defer all.Release()
	store := newTestStore(t)
	writeFile(t, store, "t/large.parquet", directSchema, datafile.WriterOptions{RowGroupRows: n, PageSizeBytes: 4 << 10}, all)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := context.Background()
	direct, err := datafile.Open(ctx, store, "t/large.parquet", directSchema, datafile.WithAllocator(mem), datafile.WithBatchRows(3000))
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	plain, err := datafile.Open(ctx, store, "t/large.parquet", directSchema)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	datafile.SetDirect(plain, false)
	cols := allColumns(directSchema)
	rng := rand.New(rand.NewPCG(11, 12))
	for iter := range 5 {
		s := datafile.Selection{}
		for start := int64(rng.IntN(500)); start < n; {
			end := min(n, start+1+int64(rng.IntN(9000)))
			s.Rows = append(s.Rows, datafile.RowRange{Start: start, End: end})
			start = end + int64(rng.IntN(3000))
		}
		got := readDirectSelection(t, direct, cols, []datafile.Selection{s})
		want := readDirectSelection(t, plain, cols, []datafile.Selection{s})
		if got[0].Len() <= 16<<10 {
			t.Fatalf("iteration %d selects %d rows: not a large selection", iter, got[0].Len())
		}
		for i := range cols {
			if !array.Equal(got[i], want[i]) {
				t.Fatalf("iteration %d, column %s differs", iter, directSchema.Columns()[cols[i]].Name)
			}
		}
		releaseAll(got)
		releaseAll(want)
	}
}

// writeWithProps writes rec with pqarrow and the given properties: files in
// shapes our Writer does not make, which the reader must still read.
func writeWithProps(t *testing.T, store objstore.Store, key string, rec arrow.RecordBatch, props []parquet.WriterProperty) {
	t.Helper()
	w, err := store.Create(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	fw, err := pqarrow.NewFileWriter(rec.Schema(), w, parquet.NewWriterProperties(props...), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		t.Fatal(err)
	}
	if err := fw.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
}

// FuzzPageHeader feeds arbitrary bytes to the page header decoder: an
// error or a header, never a panic or a read past the input.
func FuzzPageHeader(f *testing.F) {
	f.Add([]byte{0x15, 0x00, 0x15, 0x80, 0x01, 0x15, 0x40, 0x2c, 0x15, 0x10, 0x15, 0x00, 0x15, 0x06, 0x15, 0x06, 0x00, 0x00})
	f.Add([]byte{0x19, 0xfc, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := datafile.ReadPageHeader(b)
		if err == nil && (n < 0 || n > len(b)) {
			t.Fatalf("header of %d bytes in %d", n, len(b))
		}
	})
}
