package datafile_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/schema"
)

// The files pqwrite writes that arrow-go's writer never did, read by
// every path of the Reader (direct scans, selections, ReadSmall,
// SortedIntKeyRows, the page cache) and by pqarrow: a column chunk whose
// dictionary passes its trial and then outgrows its 1 MiB limit, so that
// RLE_DICTIONARY pages are followed by DELTA_BYTE_ARRAY (or PLAIN) ones;
// nullable delta-encoded integers at their extremes; values longer than
// the statistics keep and than a page; a value column all NULL for a
// whole row group; doubles with signed zeros and infinities.

// reviewSchema is a table of each type, the values nullable.
func reviewSchema() *schema.Schema {
	return &schema.Schema{
		RowKeys: []schema.Column{{Name: "k", Type: schema.BigInt}},
		Values: []schema.Column{
			{Name: "dict", Type: schema.Varchar, Nullable: true},   // few values, then unique ones past the dictionary's limit
			{Name: "dictd", Type: schema.Double, Nullable: true},   // likewise, doubles (PLAIN fallback)
			{Name: "long", Type: schema.Varbinary, Nullable: true}, // long values
			{Name: "x", Type: schema.BigInt, Nullable: true},       // extremes
			{Name: "y", Type: schema.Integer, Nullable: true},      // extremes
			{Name: "ts", Type: schema.Timestamp, Nullable: true},
			{Name: "dt", Type: schema.Date, Nullable: true},
			{Name: "f", Type: schema.Double, Nullable: true},   // zeros, infinities
			{Name: "b", Type: schema.Boolean, Nullable: true},  // runs
			{Name: "z", Type: schema.Varchar, Nullable: true},  // all NULL in row group 1
			{Name: "e", Type: schema.Varchar, Nullable: false}, // empty strings mostly
		},
	}
}

// reviewRows makes n rows of reviewSchema in row groups of rg rows.
func reviewRows(rng *rand.Rand, n, rg int) [][]any {
	rows := make([][]any, n)
	for i := range rows {
		pos := i % rg // the dictionary's trial is each chunk's first 4096 rows
		var dict, dictd any
		if pos < 5000 {
			dict, dictd = fmt.Sprintf("word-%d", rng.IntN(4)), float64(rng.IntN(4))
		} else {
			dict, dictd = fmt.Sprintf("%0400d", i), float64(i)+0.25
		}
		var long any = []byte(fmt.Sprintf("l%d", rng.IntN(100)))
		switch rng.IntN(300) {
		case 0:
			long = bytes.Repeat([]byte{0xff}, 4097+rng.IntN(3000))
		case 1:
			long = []byte{}
		}
		if i == n/2 {
			long = bytes.Repeat([]byte{'m'}, 2<<20) // larger than a page
		}
		x := [...]int64{math.MinInt64, math.MaxInt64, 0, -1}[rng.IntN(4)]
		y := [...]int32{math.MinInt32, math.MaxInt32, 0, 1}[rng.IntN(4)]
		// (No NaN: array.Equal, which the read-back checks use, finds
		// NaN unequal to itself; pqwrite's own tests cover NaN.)
		f := [...]float64{math.MaxFloat64, math.Copysign(0, -1), 0, math.Inf(1), math.Inf(-1), 1.5}[rng.IntN(6)]
		var z any = fmt.Sprint(i % 10)
		if i/rg == 1 {
			z = nil
		}
		e := ""
		if rng.IntN(50) == 0 {
			e = "é"
		}
		row := []any{int64(i), dict, dictd, long, x, y, arrow.Timestamp(x), arrow.Date32(y), f, (i/37)%2 == 0, z, e}
		for c := 1; c < len(row)-2; c++ {
			if rng.IntN(9) == 0 {
				row[c] = nil
			}
		}
		rows[i] = row
	}
	return rows
}

// TestReviewPqwriteFilesReadBack writes reviewSchema's rows with the
// Writer (the table's default page size and a small one) and reads them
// back every way (checkRoundTripFile). With DORMOUSE_REVIEW_EXPORT set to
// a directory, it also leaves the files there for other readers.
func TestReviewPqwriteFilesReadBack(t *testing.T) {
	const n, rg = 24000, 10000
	rng := rand.New(rand.NewPCG(31, 32))
	sch := reviewSchema()
	rows := reviewRows(rng, n, rg)
	all := batch(t, memory.DefaultAllocator, sch, rows...)
	defer all.Release()
	for _, pageBytes := range []int64{0, 4 << 10} {
		t.Run(fmt.Sprint("page=", pageBytes), func(t *testing.T) {
			store := newTestStore(t)
			opts := datafile.WriterOptions{RowGroupRows: rg, PageSizeBytes: pageBytes, Codec: "zstd"}
			var batches []arrow.RecordBatch
			for off := int64(0); off < n; {
				k := min(n-off, 1+rng.Int64N(9000))
				batches = append(batches, all.NewSlice(off, off+k))
				off += k
			}
			info := writeFile(t, store, "t/review.parquet", sch, opts, batches...)
			for _, b := range batches {
				b.Release()
			}
			// The dictionary column fell back in every row group.
			pf := parquetFile(t, store, info.Key)
			for g := range n / rg { // the full ones: the last has no unique values
				cc, err := pf.MetaData().RowGroup(g).ColumnChunk(1)
				if err != nil {
					t.Fatal(err)
				}
				var kinds []string
				for _, s := range cc.EncodingStats() {
					if s.PageType == 0 {
						kinds = append(kinds, s.Encoding.String())
					}
				}
				if len(kinds) != 2 {
					t.Errorf("row group %d: the dictionary column's data pages are %v, want the dictionary's and the fallback's", g, kinds)
				}
			}
			f := &roundTripFile{sch: sch, all: all, store: store, key: info.Key, opts: opts}
			checkRoundTripFile(t, rng, f, nil)
			cache := datafile.NewPageCache(64 << 20)
			checkRoundTripFile(t, rng, f, cache)
			checkRoundTripFile(t, rng, f, cache)
			checkStatsCoverRows(t, store, info.Key, sch, all, rg)
			if dir := os.Getenv("DORMOUSE_REVIEW_EXPORT"); dir != "" {
				data, err := store.Get(context.Background(), info.Key)
				if err != nil {
					t.Fatal(err)
				}
				name := filepath.Join(dir, fmt.Sprintf("review-page%d.parquet", pageBytes))
				if err := os.WriteFile(name, data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// checkStatsCoverRows checks that every row lies within its row group's
// and its page's statistics as the Reader decodes them (RowGroupStats,
// PageStats): a bound that leaves a row out would prune it from queries.
func checkStatsCoverRows(t *testing.T, store objstore.Store, key string, sch *schema.Schema, all arrow.RecordBatch, rg int) {
	t.Helper()
	r := openFile(t, store, key, sch, memory.DefaultAllocator)
	defer r.Close()
	for g := range r.NumRowGroups() {
		st, err := r.RowGroupStats(g)
		if err != nil {
			t.Fatal(err)
		}
		for c := range sch.Columns() {
			pages, perr := r.PageStats(g, c)
			cs := st.Columns[c]
			nulls := int64(0)
			for i := g * rg; i < g*rg+int(st.Rows); i++ {
				col := all.Column(c)
				if col.IsNull(i) {
					nulls++
					continue
				}
				k := schema.AppendValue(nil, col, i)
				if f, ok := col.(*array.Float64); ok && math.IsNaN(f.Value(i)) {
					continue
				}
				if cs.HasMinMax && (bytes.Compare(k, cs.Min) < 0 || bytes.Compare(k, cs.Max) > 0) {
					t.Fatalf("row group %d column %s row %d: %x outside the statistics [%x, %x]", g, sch.Column(c).Name, i, shortKey(k), shortKey(cs.Min), shortKey(cs.Max))
				}
				if perr != nil {
					continue
				}
				row := int64(i - g*rg)
				p := len(pages) - 1
				for p > 0 && pages[p].FirstRow > row {
					p--
				}
				ps := pages[p]
				if !ps.HasMinMax {
					t.Fatalf("row group %d column %s row %d: a page holding a value without bounds", g, sch.Column(c).Name, i)
				}
				if bytes.Compare(k, ps.Min) < 0 || bytes.Compare(k, ps.Max) > 0 {
					t.Fatalf("row group %d column %s row %d: %x outside its page's bounds [%x, %x]", g, sch.Column(c).Name, i, shortKey(k), shortKey(ps.Min), shortKey(ps.Max))
				}
			}
			if cs.NullCount != nulls {
				t.Errorf("row group %d column %s: %d NULLs recorded, %d written", g, sch.Column(c).Name, cs.NullCount, nulls)
			}
			if perr != nil && !strings.Contains(sch.Column(c).Name, "long") && sch.Column(c).Type != schema.Double {
				t.Errorf("row group %d column %s: no page index: %v", g, sch.Column(c).Name, perr)
			}
		}
	}
}

func shortKey(b []byte) []byte {
	if len(b) > 16 {
		return b[:16]
	}
	return b
}
