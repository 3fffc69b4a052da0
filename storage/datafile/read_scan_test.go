package datafile_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/schema"
)

// scanSchema has strings without NULLs, required and nullable, which a
// whole-row-group read decodes by its fast loops (short values moved as
// two words, longer ones copied), PLAIN and from a dictionary, and one
// with NULLs in stretches.
var scanSchema = &schema.Schema{
	RowKeys: []schema.Column{{Name: "key", Type: schema.Varchar}},
	Values: []schema.Column{
		{Name: "text", Type: schema.Varchar, Nullable: true},
		{Name: "some", Type: schema.Varchar, Nullable: true},
		{Name: "n", Type: schema.BigInt, Nullable: true},
		{Name: "tag", Type: schema.Varchar}, // few values: dictionary-encoded
	},
}

func scanRows(t *testing.T, n int) [][]any {
	rng := rand.New(rand.NewPCG(3, 4))
	word := func() string { return strings.Repeat("x", rng.IntN(41)) + fmt.Sprint(rng.IntN(10)) }
	rows := make([][]any, n)
	for i := range rows {
		var some any = word()
		if i/700%3 == 1 { // NULLs in stretches: pages all NULL, some, none
			some = nil
		}
		tag := fmt.Sprintf("tag-%d%s", rng.IntN(12), strings.Repeat("z", rng.IntN(3)*9))
		rows[i] = []any{fmt.Sprintf("k%07d%s", i, strings.Repeat("y", rng.IntN(20))), word(), some, int64(i), tag}
	}
	return rows
}

// TestScanReadsWholeRowGroups reads whole row groups (streamed, by the
// direct path) with and without a page cache, twice, and checks every
// value against what was written: the second read with the cache comes
// from the pages the first kept there, fetching nothing when the cache
// holds them all and less than the first when it holds some.
func TestScanReadsWholeRowGroups(t *testing.T) {
	const n = 12000
	rows := scanRows(t, n)
	all := batch(t, memory.DefaultAllocator, scanSchema, rows...)
	defer all.Release()
	store := newTestStore(t)
	key := "t/scan.parquet"
	writeFile(t, store, key, scanSchema, datafile.WriterOptions{RowGroupRows: 5000, PageSizeBytes: 4 << 10}, all)
	for _, cacheBytes := range []int64{0, 64 << 20, 256 << 10} {
		t.Run(fmt.Sprintf("cache=%d", cacheBytes), func(t *testing.T) {
			var cache *datafile.PageCache
			cached := cacheBytes > 0
			opts := []datafile.ReaderOption{datafile.WithBatchRows(777)}
			if cached {
				cache = datafile.NewPageCache(cacheBytes)
				opts = append(opts, datafile.WithPageCache(cache))
			}
			r, err := datafile.Open(context.Background(), store, key, scanSchema, opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var sel []datafile.Selection
			for rg := range r.NumRowGroups() {
				sel = append(sel, datafile.Selection{RowGroup: rg})
			}
			cols := allColumns(scanSchema)
			var fetched [2]int64
			for pass := range 2 {
				before := r.BytesFetched()
				got := readDirectSelection(t, r, cols, sel)
				fetched[pass] = r.BytesFetched() - before
				for i, c := range cols {
					if !array.Equal(got[i], all.Column(c)) {
						t.Fatalf("pass %d, column %s differs", pass, scanSchema.Columns()[c].Name)
					}
				}
				releaseAll(got)
				if !cached {
					continue
				}
				st := cache.Stats()
				switch {
				case pass == 0 && (st.ScanKept == 0 || st.Hits != 0):
					t.Fatalf("first scan: %+v, want pages kept and no hit", st)
				case pass == 1 && st.Hits < st.ScanKept:
					t.Fatalf("second scan: %+v, want every kept page hit", st)
				case pass == 1 && st.Bytes < st.Limit/2 && fetched[1] != 0:
					t.Fatalf("second scan fetched %d bytes, the cache holding every page: %+v", fetched[1], st)
				case pass == 1 && st.Bytes >= st.Limit/2 && (fetched[1] == 0 || fetched[1] >= fetched[0]):
					t.Fatalf("second scan fetched %d bytes, the first %d, the cache holding some pages: %+v", fetched[1], fetched[0], st)
				}
			}
			t.Logf("fetched %d bytes, then %d", fetched[0], fetched[1])
		})
	}
}

// TestScanSparesPointReadPages checks a scan of a file much bigger than
// the page cache leaves the pages point reads put there: a point read
// after the scan is served from the cache as before it.
func TestScanSparesPointReadPages(t *testing.T) {
	const n = 12000
	all := batch(t, memory.DefaultAllocator, scanSchema, scanRows(t, n)...)
	defer all.Release()
	store := newTestStore(t)
	key := "t/scan.parquet"
	writeFile(t, store, key, scanSchema, datafile.WriterOptions{RowGroupRows: 5000, PageSizeBytes: 4 << 10}, all)
	cache := datafile.NewPageCache(64 << 10) // a fraction of the file's decompressed pages
	r, err := datafile.Open(context.Background(), store, key, scanSchema, datafile.WithPageCache(cache))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cols := allColumns(scanSchema)
	point := []datafile.Selection{{RowGroup: 1, Rows: []datafile.RowRange{{Start: 2000, End: 2003}}}}
	releaseAll(readDirectSelection(t, r, cols, point))
	before := cache.Stats()
	if before.Pages == 0 {
		t.Fatalf("point read kept no page: %+v", before)
	}
	var sel []datafile.Selection
	for rg := range r.NumRowGroups() {
		sel = append(sel, datafile.Selection{RowGroup: rg})
	}
	releaseAll(readDirectSelection(t, r, cols, sel))
	scanned := cache.Stats()
	if scanned.Bytes > scanned.Limit || scanned.Pages < before.Pages {
		t.Fatalf("after the scan %+v, before %+v", scanned, before)
	}
	got := readDirectSelection(t, r, cols, point)
	defer releaseAll(got)
	after := cache.Stats()
	if after.Misses != scanned.Misses {
		t.Fatalf("the point read missed %d pages after the scan (before %+v, after %+v)", after.Misses-scanned.Misses, scanned, after)
	}
	for i, c := range cols {
		want := array.NewSlice(all.Column(c), 5000+2000, 5000+2003)
		if !array.Equal(got[i], want) {
			t.Fatalf("column %d: got %v, want %v", c, got[i], want)
		}
		want.Release()
	}
}

// BenchmarkReaderWarm reads the benchmark file of BenchmarkReader whole,
// as a repeated scan does with a page cache that holds all its pages: the
// CPU a warm scan costs per row, and the bytes it still fetches (which
// should be none).
func BenchmarkReaderWarm(b *testing.B) {
	store, ctx := writeBenchFile(b), context.Background()
	pc := datafile.NewPageCache(1 << 30)
	scan := func() int64 {
		r, err := datafile.Open(ctx, store, "bench/f.parquet", benchSchema, datafile.WithPageCache(pc))
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		n := readAllRows(b, r)
		if n != benchRows {
			b.Fatalf("read %d rows", n)
		}
		return r.BytesFetched()
	}
	scan() // fills the cache
	var fetched int64
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		fetched += scan()
	}
	reportRows(b, cpu0)
	b.ReportMetric(float64(fetched)/float64(b.N), "fetched-B/op")
}
