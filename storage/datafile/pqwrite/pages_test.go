package pqwrite_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"

	"github.com/dormousedb/dormouse/storage/datafile/pqwrite"
)

// TestNullPagesAfterValues writes, in every type and encoding, a page of
// values, then pages of only NULLs, then values again, then NULLs to the
// end of the row group: the pages arrow-go's delta encoders wrote with
// stale bytes. arrow-go must read every page back, and the column index
// must call the NULL pages so.
func TestNullPagesAfterValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	const pageRows = 100
	for _, typ := range allTypes {
		for _, enc := range encodingsOf(typ) {
			for _, codec := range []compress.Compression{compress.Codecs.Zstd, compress.Codecs.Uncompressed} {
				t.Run(fmt.Sprintf("%s/%s/%s", typ, enc, codec), func(t *testing.T) {
					b := array.NewBuilder(memory.DefaultAllocator, typ)
					defer b.Release()
					// rows: 100 values, 250 NULLs, 100 values, 150 NULLs;
					// pages of 100 rows: values, NULLs, NULLs, 50/50,
					// values 50/NULLs 50, NULLs.
					for _, run := range []struct {
						n    int
						null bool
					}{{100, false}, {250, true}, {100, false}, {150, true}} {
						for i := range run.n {
							if run.null {
								b.AppendNull()
							} else {
								appendGen(rng, b, i, randomValues)
							}
						}
					}
					a := b.NewArray()
					defer a.Release()
					col := pqwrite.Column{Name: "c", Type: typ, Nullable: true, Encoding: enc, Fallback: deltaOf(typ)}
					opts := pqwrite.Options{Codec: codec, PageRows: pageRows, RowGroupRows: 600}
					checkFile(t, []pqwrite.Column{col}, []arrow.Array{a}, 70, opts)
					data := writeFile(t, []pqwrite.Column{col}, []arrow.Array{a}, 600, opts)
					pir, err := openFile(t, data).GetPageIndexReader().RowGroup(0)
					if err != nil {
						t.Fatal(err)
					}
					ci, err := pir.GetColumnIndex(0)
					if err != nil || ci == nil {
						t.Fatalf("no column index (%v)", err)
					}
					if want := []bool{false, true, true, false, false, true}; !slices.Equal(ci.GetNullPages(), want) {
						t.Errorf("null pages %v, want %v", ci.GetNullPages(), want)
					}
				})
			}
		}
	}
}

// TestEncodingsUsed checks, in the column chunk metadata and the page
// headers, which encodings the pages got: the column's, a dictionary
// while it pays and its fallback when it does not or outgrows its limit.
func TestEncodingsUsed(t *testing.T) {
	const n = 20000
	rng := rand.New(rand.NewPCG(1, 1))
	few := genColumn(rng, arrow.BinaryTypes.String, n, someNulls, fewValues)
	defer few.Release()
	random := genColumn(rng, arrow.PrimitiveTypes.Float64, n, noNulls, randomValues)
	defer random.Release()
	sorted := genColumn(rng, arrow.BinaryTypes.String, n, noNulls, sortedValues)
	defer sorted.Release()
	ints := genColumn(rng, arrow.PrimitiveTypes.Int64, n, nullRuns, randomValues)
	defer ints.Release()
	dbp, dba, dict, plain := parquet.Encodings.DeltaBinaryPacked, parquet.Encodings.DeltaByteArray, parquet.Encodings.RLEDict, parquet.Encodings.Plain
	for _, tc := range []struct {
		name    string
		col     pqwrite.Column
		a       arrow.Array
		outgrow bool               // the values follow repeated ones, under a small dictionary limit
		want    []parquet.Encoding // of the data pages, in order of first use
	}{
		{"few values keep the dictionary", pqwrite.Column{Type: few.DataType(), Nullable: true, Encoding: pqwrite.Dictionary, Fallback: pqwrite.DeltaByteArray}, few, false, []parquet.Encoding{dict}},
		{"random doubles drop it", pqwrite.Column{Type: random.DataType(), Encoding: pqwrite.Dictionary, Fallback: pqwrite.Plain}, random, false, []parquet.Encoding{plain}},
		{"unique strings drop it", pqwrite.Column{Type: sorted.DataType(), Encoding: pqwrite.Dictionary, Fallback: pqwrite.DeltaByteArray}, sorted, false, []parquet.Encoding{dba}},
		{"a full dictionary falls back", pqwrite.Column{Type: few.DataType(), Nullable: true, Encoding: pqwrite.Dictionary, Fallback: pqwrite.DeltaByteArray}, sorted, true, []parquet.Encoding{dict, dba}},
		{"delta integers", pqwrite.Column{Type: ints.DataType(), Nullable: true, Encoding: pqwrite.DeltaBinaryPacked}, ints, false, []parquet.Encoding{dbp}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.col.Name = "c"
			opts := pqwrite.Options{Codec: compress.Codecs.Snappy, PageRows: 1000, RowGroupRows: 2 * n}
			if tc.outgrow {
				// The trial passes on repeated values, then the dictionary
				// fills with unique ones.
				opts.DictionaryBytes = 4096
				tc.a = concat(t, few, tc.a)
				defer tc.a.Release()
			}
			data := writeFile(t, []pqwrite.Column{tc.col}, []arrow.Array{tc.a}, 3000, opts)
			pf, got := readBack(t, data)
			defer releaseAll(got)
			if !sameValues(tc.a, got[0]) {
				t.Fatal("read back differs")
			}
			rg := pf.MetaData().RowGroup(0)
			cc, err := rg.ColumnChunk(0)
			if err != nil {
				t.Fatal(err)
			}
			var pages []parquet.Encoding
			for _, s := range cc.EncodingStats() {
				if s.PageType == 0 && !slices.Contains(pages, s.Encoding) { // data pages
					pages = append(pages, s.Encoding)
				}
			}
			if !slices.Equal(pages, tc.want) {
				t.Errorf("data pages encoded %v, want %v", pages, tc.want)
			}
			if cc.HasDictionaryPage() != slices.Contains(tc.want, dict) {
				t.Errorf("dictionary page %v with pages %v", cc.HasDictionaryPage(), tc.want)
			}
			// The page headers say the same, page by page.
			rgr := pf.RowGroup(0)
			pr, err := rgr.GetColumnPageReader(0)
			if err != nil {
				t.Fatal(err)
			}
			var seen []parquet.Encoding
			for pr.Next() {
				p := pr.Page()
				if p.Type() == 0 && !slices.Contains(seen, parquet.Encoding(p.Encoding())) {
					seen = append(seen, parquet.Encoding(p.Encoding()))
				}
			}
			if err := pr.Err(); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(seen, tc.want) {
				t.Errorf("page headers say %v, want %v", seen, tc.want)
			}
		})
	}
}

func concat(t *testing.T, arrs ...arrow.Array) arrow.Array {
	t.Helper()
	out, err := array.Concatenate(arrs, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBadUse refuses what does not fit the columns, and a Writer that
// failed or was aborted writes nothing more.
func TestBadUse(t *testing.T) {
	cols := []pqwrite.Column{{Name: "k", Type: arrow.PrimitiveTypes.Int64}, {Name: "v", Type: arrow.BinaryTypes.String, Nullable: true}}
	rng := rand.New(rand.NewPCG(2, 2))
	k := genColumn(rng, arrow.PrimitiveTypes.Int64, 10, noNulls, sortedValues)
	kNull := genColumn(rng, arrow.PrimitiveTypes.Int64, 10, someNulls, sortedValues)
	v := genColumn(rng, arrow.BinaryTypes.String, 10, someNulls, randomValues)
	short := genColumn(rng, arrow.BinaryTypes.String, 9, someNulls, randomValues)
	wrong := genColumn(rng, arrow.PrimitiveTypes.Int32, 10, noNulls, randomValues)
	defer releaseAll([]arrow.Array{k, kNull, v, short, wrong})
	for _, tc := range []struct {
		name  string
		batch []arrow.Array
	}{
		{"too few arrays", []arrow.Array{k}},
		{"a NULL in a NOT NULL column", []arrow.Array{kNull, v}},
		{"lengths differ", []arrow.Array{k, short}},
		{"wrong type", []arrow.Array{wrong, v}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := pqwrite.NewWriter(&bytes.Buffer{}, cols, pqwrite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(tc.batch); err == nil {
				t.Error("Write accepted the batch")
			}
			w.Abort()
			if err := w.Write([]arrow.Array{k, v}); !errors.Is(err, pqwrite.ErrClosed) {
				t.Errorf("Write after Abort = %v", err)
			}
		})
	}
	for _, c := range []pqwrite.Column{
		{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Encoding: pqwrite.Dictionary},
		{Name: "d", Type: arrow.PrimitiveTypes.Float64, Encoding: pqwrite.DeltaBinaryPacked},
		{Name: "s", Type: arrow.BinaryTypes.String, Encoding: pqwrite.Dictionary, Fallback: pqwrite.Dictionary},
		{Name: "t", Type: &arrow.TimestampType{Unit: arrow.Millisecond}},
		{Name: "l", Type: arrow.BinaryTypes.LargeString},
	} {
		if _, err := pqwrite.NewWriter(&bytes.Buffer{}, []pqwrite.Column{c}, pqwrite.Options{}); err == nil {
			t.Errorf("column %s (%s, %s) accepted", c.Name, c.Type, c.Encoding)
		}
	}
	if _, err := pqwrite.NewWriter(&bytes.Buffer{}, cols, pqwrite.Options{Codec: compress.Codecs.Gzip}); err == nil {
		t.Error("gzip accepted")
	}
}

// TestWriteAllocations writes batches into a warmed-up Writer: encoding
// and cutting pages allocate nothing per row, nor, but for the page
// index's growth, per page.
func TestWriteAllocations(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	const n = 4096
	var cols []pqwrite.Column
	var batch []arrow.Array
	for i, typ := range allTypes {
		for _, enc := range encodingsOf(typ) {
			cols = append(cols, pqwrite.Column{Name: fmt.Sprintf("c%d_%s", i, enc), Type: typ, Nullable: true, Encoding: enc, Fallback: deltaOf(typ)})
			vals := randomValues
			if enc == pqwrite.Dictionary {
				vals = fewValues // no new entries once warm
			}
			batch = append(batch, genColumn(rng, typ, n, someNulls, vals))
		}
	}
	defer releaseAll(batch)
	w, err := pqwrite.NewWriter(&countingWriter{}, cols, pqwrite.Options{Codec: compress.Codecs.Zstd, PageRows: 1000, RowGroupRows: 1 << 40})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	for range 10 {
		if err := w.Write(batch); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(20, func() {
		if err := w.Write(batch); err != nil {
			t.Fatal(err)
		}
	})
	// A batch is 4096 rows and about 4 pages of each column: fewer
	// allocations than columns (the page index's slices growing) means
	// none per row or page.
	if allocs > float64(len(cols)) {
		t.Errorf("%.1f allocations per batch of %d rows and %d columns", allocs, n, len(cols))
	}
}
