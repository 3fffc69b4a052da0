package datafile_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/schema"
)

// TestOrderCheckEveryKeyType holds the Writer's order check, which
// compares neighbouring rows in place with a comparison per type, to the
// definition of key order: bytes.Compare of the plain encodings
// (schema.AppendValue). For each key type, random batches of a few values
// are written as they come: Write must fail with ErrUnsorted exactly when
// some row's encoding sorts before the previous row's, within a batch or
// across two.
func TestOrderCheckEveryKeyType(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	types := []struct {
		typ schema.Type
		gen func() any
	}{
		{schema.BigInt, func() any { return int64(rng.IntN(5)) - 2 }},
		{schema.Integer, func() any { return int32(rng.IntN(5)) - 2 }},
		{schema.Double, func() any { return []float64{-1.5, -0.0, 0, 0.25, 2}[rng.IntN(5)] }},
		{schema.Boolean, func() any { return rng.IntN(2) == 0 }},
		{schema.Varchar, func() any { return []string{"", "a", "ab", "b", "\xff"}[rng.IntN(5)] }},
		{schema.Varbinary, func() any { return [][]byte{{}, {0}, {0, 0}, {1}, {255}}[rng.IntN(5)] }},
		{schema.Timestamp, func() any { return arrow.Timestamp(rng.IntN(5) - 2) }},
		{schema.Date, func() any { return arrow.Date32(rng.IntN(5) - 2) }},
	}
	for _, tc := range types {
		t.Run(tc.typ.String(), func(t *testing.T) {
			sch := &schema.Schema{
				RowKeys: []schema.Column{{Name: "k", Type: tc.typ}},
				Values:  []schema.Column{{Name: "v", Type: schema.BigInt, Nullable: true}},
			}
			mem := newMem(t)
			store := newTestStore(t)
			for iter := range 200 {
				batches := make([][][]any, 1+rng.IntN(3))
				var encs [][]byte
				for b := range batches {
					for range 1 + rng.IntN(4) {
						v := tc.gen()
						batches[b] = append(batches[b], []any{v, nil})
						encs = append(encs, encode(t, mem, sch, v))
					}
				}
				sorted := slices.IsSortedFunc(encs, bytes.Compare)
				w, err := datafile.NewWriter(context.Background(), store, fmt.Sprintf("t/%d.parquet", iter), sch, datafile.WriterOptions{Allocator: mem})
				if err != nil {
					t.Fatal(err)
				}
				var werr error
				for _, rows := range batches {
					b := batch(t, mem, sch, rows...)
					werr = w.Write(b)
					b.Release()
					if werr != nil {
						break
					}
				}
				if sorted != (werr == nil) {
					t.Fatalf("batches %v: Write = %v, want sorted = %v", batches, werr, sorted)
				}
				if werr != nil {
					if !errors.Is(werr, datafile.ErrUnsorted) {
						t.Fatalf("Write = %v, want ErrUnsorted", werr)
					}
					if err := w.Abort(); err != nil {
						t.Fatal(err)
					}
					continue
				}
				info, err := w.Close()
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(info.MinKey[0], encs[0]) || !bytes.Equal(info.MaxKey[0], encs[len(encs)-1]) {
					t.Fatalf("keys %x..%x, want %x..%x", info.MinKey[0], info.MaxKey[0], encs[0], encs[len(encs)-1])
				}
			}
		})
	}
}

// encode returns the plain encoding of one key value.
func encode(t *testing.T, mem memory.Allocator, sch *schema.Schema, v any) []byte {
	t.Helper()
	b := batch(t, mem, sch, []any{v, nil})
	defer b.Release()
	return schema.AppendValue(nil, b.Column(0), 0)
}

// TestGivenSketches: a Writer given sketches that count its rows stores
// them as they are and sketches no row itself; given sketches that count
// otherwise fail Close and leave nothing in the store, and do not weaken
// the order check.
func TestGivenSketches(t *testing.T) {
	ctx := context.Background()
	sch := &schema.Schema{RowKeys: []schema.Column{{Name: "k", Type: schema.Varchar}}}
	rows := func(keys ...string) [][]any {
		var out [][]any
		for _, k := range keys {
			out = append(out, []any{k})
		}
		return out
	}
	sketchOf := func(keys ...string) []*datafile.Sketch {
		s := datafile.NewSketch()
		for _, k := range keys {
			s.Update([]byte(k))
		}
		return []*datafile.Sketch{s}
	}

	t.Run("counted", func(t *testing.T) {
		mem := newMem(t)
		store := newTestStore(t)
		// The sketch says "x" and "y": had the Writer sketched its rows,
		// the stored sketch would hold "a".."c".
		b := batch(t, mem, sch, rows("a", "b", "c")...)
		defer b.Release()
		info := writeFile(t, store, "t/f.parquet", sch, datafile.WriterOptions{Allocator: mem, Sketches: sketchOf("x", "y", "y")}, b)
		sk, err := datafile.ReadSketches(ctx, store, info.SketchKey)
		if err != nil {
			t.Fatal(err)
		}
		lo, _ := sk[0].Quantile(0)
		if sk[0].N() != 3 || string(lo) != "x" {
			t.Fatalf("stored sketch: N %d, least %q; want the given sketch (3, \"x\")", sk[0].N(), lo)
		}
	})

	t.Run("miscounted", func(t *testing.T) {
		mem := newMem(t)
		store := newTestStore(t)
		w, err := datafile.NewWriter(ctx, store, "t/f.parquet", sch, datafile.WriterOptions{Allocator: mem, Sketches: sketchOf("a", "b")})
		if err != nil {
			t.Fatal(err)
		}
		b := batch(t, mem, sch, rows("a", "b", "c")...)
		defer b.Release()
		if err := w.Write(b); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Close(); err == nil {
			t.Fatal("Close with a sketch of 2 rows for a file of 3 succeeded")
		}
		assertEmptyStore(t, store)
	})

	t.Run("unsorted", func(t *testing.T) {
		mem := newMem(t)
		store := newTestStore(t)
		w, err := datafile.NewWriter(ctx, store, "t/f.parquet", sch, datafile.WriterOptions{Allocator: mem, Sketches: sketchOf("b", "a")})
		if err != nil {
			t.Fatal(err)
		}
		b := batch(t, mem, sch, rows("b", "a")...)
		defer b.Release()
		if err := w.Write(b); !errors.Is(err, datafile.ErrUnsorted) {
			t.Fatalf("Write = %v, want ErrUnsorted", err)
		}
		if err := w.Abort(); err != nil {
			t.Fatal(err)
		}
		assertEmptyStore(t, store)
	})

	// The order check of a single VARCHAR key with given sketches
	// (firstDescent), on batches sliced from a larger one so that their
	// offsets do not start at 0.
	for _, tc := range []struct {
		name string
		keys []string
		bad  int // the row of the batch that sorts too early, or -1
	}{
		{"sorted with repeats", []string{"", "", "a", "a", "ab", "b", "b"}, -1},
		{"middle", []string{"a", "b", "c", "bz", "d"}, 3},
		{"prefix", []string{"a", "ab", "a"}, 2},
		{"empty last", []string{"a", "b", ""}, 2},
		{"last", []string{"a", "b", "c", "d", "c"}, 4},
		// Around the 16-byte heads compared first (schema.Head).
		{"past the head", []string{"abcdefghijklmnopa", "abcdefghijklmnopz", "abcdefghijklmnopb"}, 2},
		{"at the head's end", []string{"abcdefghijklmnoa", "abcdefghijklmnoz", "abcdefghijklmnob"}, 2},
		{"trailing NUL", []string{"x", "x\x00", "x\x00\x00", "x\x00"}, 3},
		{"sorted past the head", []string{"abcdefghijklmnop", "abcdefghijklmnop\x00", "abcdefghijklmnopq"}, -1},
	} {
		t.Run("order/"+tc.name, func(t *testing.T) {
			mem := newMem(t)
			store := newTestStore(t)
			w, err := datafile.NewWriter(ctx, store, "t/f.parquet", sch, datafile.WriterOptions{Allocator: mem, Sketches: sketchOf(tc.keys...)})
			if err != nil {
				t.Fatal(err)
			}
			all := batch(t, mem, sch, rows(append([]string{"!", "~"}, tc.keys...)...)...)
			defer all.Release()
			b := all.NewSlice(2, all.NumRows())
			defer b.Release()
			err = w.Write(b)
			if tc.bad < 0 {
				if err != nil {
					t.Fatal(err)
				}
				if _, err := w.Close(); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, datafile.ErrUnsorted) || !strings.Contains(err.Error(), fmt.Sprintf("row %d of the batch", tc.bad)) {
				t.Fatalf("Write = %v, want ErrUnsorted at row %d", err, tc.bad)
			}
			if err := w.Abort(); err != nil {
				t.Fatal(err)
			}
			assertEmptyStore(t, store)
		})
	}

	t.Run("wrong number", func(t *testing.T) {
		store := newTestStore(t)
		two := append(sketchOf("a"), datafile.NewSketch())
		if _, err := datafile.NewWriter(ctx, store, "t/f.parquet", sch, datafile.WriterOptions{Sketches: two}); err == nil {
			t.Fatal("NewWriter with two sketches for one row key succeeded")
		}
		assertEmptyStore(t, store)
	})
}
