package datafile_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"

	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/schema"
)

// TestSortedIntRows searches random selections of sorted integer keys,
// with repeats, for random spans and compares the rows found with a scan
// of every value, in files whose keys are PLAIN or dictionary-encoded.
func TestSortedIntRows(t *testing.T) {
	const n = 5000
	yes := true
	for _, typ := range []schema.Type{schema.BigInt, schema.Integer} {
		sch := &schema.Schema{RowKeys: []schema.Column{{Name: "k", Type: typ}}, Values: []schema.Column{{Name: "v", Type: schema.BigInt}}}
		keys := make([]int64, n)
		rows := make([][]any, n)
		rng := rand.New(rand.NewPCG(3, 4))
		k := int64(-3000)
		for i := range rows {
			k += int64(rng.IntN(3)) // repeats and gaps
			keys[i] = k
			var kv any = k
			if typ == schema.Integer {
				kv = int32(k)
			}
			rows[i] = []any{kv, int64(i)}
		}
		all := batch(t, memory.DefaultAllocator, sch, rows...)
		base := []parquet.WriterProperty{parquet.WithStats(true), parquet.WithPageIndexEnabled(true),
			parquet.WithMaxRowGroupLength(2000), parquet.WithDataPageSize(512), parquet.WithBatchSize(64)}
		for _, v := range []struct {
			name     string
			props    []parquet.WriterProperty // nil: our Writer
			searches *bool                    // nil: either (our Writer keeps a dictionary while it pays)
		}{
			{name: "writer"},
			{name: "v2-zstd-plain", props: append([]parquet.WriterProperty{parquet.WithDataPageVersion(parquet.DataPageV2), parquet.WithCompression(compress.Codecs.Zstd), parquet.WithDictionaryDefault(false)}, base...), searches: &yes},
			{name: "v1-snappy-dict", props: append([]parquet.WriterProperty{parquet.WithCompression(compress.Codecs.Snappy), parquet.WithDictionaryDefault(true)}, base...), searches: &yes},
		} {
			t.Run(fmt.Sprint(typ, "/", v.name), func(t *testing.T) {
				store := newTestStore(t)
				key := "t/search.parquet"
				if v.props == nil {
					writeFile(t, store, key, sch, datafile.WriterOptions{RowGroupRows: 2000, PageSizeBytes: 512}, all)
				} else {
					writeWithProps(t, store, key, all, v.props)
				}
				r, err := datafile.Open(context.Background(), store, key, sch, datafile.WithPageCache(datafile.NewPageCache(1<<20)))
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				searched, keyRows := false, false
				for iter := range 300 {
					rg := rng.IntN(r.NumRowGroups())
					groupRows := min(int64(2000), int64(n)-int64(rg)*2000)
					var sel datafile.Selection
					sel.RowGroup = rg
					for start := int64(rng.IntN(50)); start < groupRows; {
						end := min(groupRows, start+1+int64(rng.IntN(400)))
						sel.Rows = append(sel.Rows, datafile.RowRange{Start: start, End: end})
						start = end + int64(rng.IntN(600))
					}
					if len(sel.Rows) == 0 {
						continue
					}
					var spans []datafile.IntSpan
					for lo := int64(-3100 + rng.IntN(500)); lo < 4000 && len(spans) < 3; {
						hi := lo + 1 + int64(rng.IntN(40))
						spans = append(spans, datafile.IntSpan{Lo: lo, Hi: hi, Open: rng.IntN(10) == 0})
						if spans[len(spans)-1].Open {
							break
						}
						lo = hi + int64(rng.IntN(3000))
					}
					// The rows of the selection in the spans, by brute force.
					want := func(sel []datafile.RowRange) []datafile.RowRange {
						var want []datafile.RowRange
						for _, rr := range sel {
							for row := rr.Start; row < rr.End; row++ {
								val := keys[int64(rg)*2000+row]
								in := slices.ContainsFunc(spans, func(s datafile.IntSpan) bool { return val >= s.Lo && (s.Open || val < s.Hi) })
								if !in {
									continue
								}
								if k := len(want); k > 0 && want[k-1].End == row {
									want[k-1].End++
								} else {
									want = append(want, datafile.RowRange{Start: row, End: row + 1})
								}
							}
						}
						return want
					}
					same := func(got, want []datafile.RowRange) bool {
						return fmt.Sprint(got) == fmt.Sprint(want) || (len(got) == 0 && len(want) == 0)
					}
					// The whole row group, its pages found by their lowest
					// values.
					if got, ok, err := r.SortedIntKeyRows(rg, spans); err != nil {
						t.Fatal(err)
					} else if ok {
						keyRows = true
						if w := want([]datafile.RowRange{{Start: 0, End: groupRows}}); !same(got, w) {
							t.Fatalf("iteration %d, row group %d, spans %v: SortedIntKeyRows\ngot  %v\nwant %v", iter, rg, spans, got, w)
						}
					}
					got, ok, err := r.SortedIntRows(sel, 0, spans)
					if err != nil {
						t.Fatal(err)
					}
					if !ok {
						continue
					}
					searched = true
					if w := want(sel.Rows); !same(got, w) {
						t.Fatalf("iteration %d, row group %d, selection %v, spans %v:\ngot  %v\nwant %v", iter, rg, sel.Rows, spans, got, w)
					}
				}
				if v.searches != nil && searched != *v.searches {
					t.Errorf("searched %v, want %v", searched, *v.searches)
				}
				if v.searches != nil && keyRows != *v.searches {
					t.Errorf("SortedIntKeyRows answered %v, want %v", keyRows, *v.searches)
				}
			})
		}
		all.Release()
	}
}

// TestPointReadsDeepInPage reads every row of pages of PLAIN strings one
// at a time, first from the file, then from the page cache, where a read
// deep in a page jumps to its value by the page's value offsets.
func TestPointReadsDeepInPage(t *testing.T) {
	sch := &schema.Schema{RowKeys: []schema.Column{{Name: "k", Type: schema.BigInt}}, Values: []schema.Column{{Name: "s", Type: schema.Varchar, Nullable: true}}}
	const n = 3000
	rows := make([][]any, n)
	for i := range rows {
		var s any = fmt.Sprintf("value-%d-%s", i, strings.Repeat("x", i%17))
		if i%7 == 3 {
			s = nil
		}
		rows[i] = []any{int64(i), s}
	}
	all := batch(t, memory.DefaultAllocator, sch, rows...)
	defer all.Release()
	store := newTestStore(t)
	writeFile(t, store, "t/deep.parquet", sch, datafile.WriterOptions{PageSizeBytes: 16 << 10}, all)
	cache := datafile.NewPageCache(8 << 20)
	r, err := datafile.Open(context.Background(), store, "t/deep.parquet", sch, datafile.WithPageCache(cache))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	want := all.Column(1).(*array.String)
	for pass := range 2 {
		for i := 0; i < n; i++ {
			got := readDirectSelection(t, r, []int{1}, []datafile.Selection{{RowGroup: 0, Rows: []datafile.RowRange{{Start: int64(i), End: int64(i + 1)}}}})
			s := got[0].(*array.String)
			if s.Len() != 1 || s.IsNull(0) != want.IsNull(i) || (!want.IsNull(i) && s.Value(0) != want.Value(i)) {
				t.Fatalf("pass %d, row %d: read %v, want %q", pass, i, s, want.Value(i))
			}
			releaseAll(got)
		}
	}
	if st := cache.Stats(); st.Hits == 0 {
		t.Fatalf("the page cache served nothing: %+v", st)
	}
}
