package datafile_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/schema"
)

var bigintKey = &schema.Schema{
	RowKeys: []schema.Column{{Name: "k", Type: schema.BigInt}},
	Values:  []schema.Column{{Name: "v", Type: schema.Varchar, Nullable: true}},
}

// writeRange writes a file of the BIGINT keys [from, to) and returns the
// sketch of its row key read back from the store.
func writeRange(t *testing.T, store objstore.Store, key string, from, to int64) *datafile.Sketch {
	t.Helper()
	mem := newMem(t)
	rows := make([][]any, 0, to-from)
	for i := from; i < to; i++ {
		rows = append(rows, []any{i, nil})
	}
	b := batch(t, mem, bigintKey, rows...)
	defer b.Release()
	info := writeFile(t, store, key, bigintKey, datafile.WriterOptions{Allocator: mem}, b)
	sk, err := datafile.ReadSketches(context.Background(), store, info.SketchKey)
	if err != nil {
		t.Fatal(err)
	}
	if len(sk) != 1 || sk[0].N() != uint64(to-from) {
		t.Fatalf("sketches %v, want one of N = %d", sk, to-from)
	}
	return sk[0]
}

// assertNear checks that the sketch's quantile at rank decodes to within
// tol of want: k = 200 promises a rank error of about 1.65%.
func assertNear(t *testing.T, s *datafile.Sketch, rank float64, want, tol int64) {
	t.Helper()
	enc, err := s.Quantile(rank)
	if err != nil {
		t.Fatal(err)
	}
	got, err := schema.DecodeInt(enc)
	if err != nil {
		t.Fatal(err)
	}
	if d := got - want; d < -tol || d > tol {
		t.Errorf("quantile %g = %d, want %d ± %d", rank, got, want, tol)
	}
}

func TestSketchMedian(t *testing.T) {
	const n = 200_000
	s := writeRange(t, newTestStore(t), "t/f.parquet", 0, n)
	assertNear(t, s, 0.5, n/2, n/50)
	assertNear(t, s, 0.1, n/10, n/50)
	assertNear(t, s, 0, 0, 0)
	assertNear(t, s, 1, n-1, 0)
}

func TestSketchMerge(t *testing.T) {
	const n = 100_000
	store := newTestStore(t)
	a := writeRange(t, store, "t/a.parquet", 0, n)
	b := writeRange(t, store, "t/b.parquet", n, 3*n)
	a.Merge(b)
	if a.N() != 3*n {
		t.Errorf("merged N = %d, want %d", a.N(), 3*n)
	}
	if b.N() != 2*n {
		t.Errorf("merge changed its argument: N = %d", b.N())
	}
	assertNear(t, a, 0.5, 3*n/2, 3*n/50)
	assertNear(t, a, 0, 0, 0)
	assertNear(t, a, 1, 3*n-1, 0)

	// A merge into an empty sketch, as the splitter starts.
	total := datafile.NewSketch()
	total.Merge(a)
	assertNear(t, total, 0.5, 3*n/2, 3*n/50)
}

// TestSketchRank checks ranks (the share of values strictly below a key)
// exactly on a small sketch, which keeps every value, and within the KLL
// error on a large one.
func TestSketchRank(t *testing.T) {
	small := datafile.NewSketch()
	for _, v := range []string{"a", "b", "b", "c"} {
		small.Update([]byte(v))
	}
	for _, tc := range []struct {
		key  string
		want float64
	}{{"", 0}, {"a", 0}, {"aa", 0.25}, {"b", 0.25}, {"c", 0.75}, {"c\x00", 1}, {"d", 1}} {
		got, err := small.Rank([]byte(tc.key))
		if err != nil || got != tc.want {
			t.Errorf("Rank(%q) = %g, %v; want %g", tc.key, got, err, tc.want)
		}
	}

	const n = 200_000
	large := writeRange(t, newTestStore(t), "t/f.parquet", 0, n)
	for _, k := range []int64{-5, 0, n / 10, n / 4, n / 2, 9 * n / 10, n - 1, n, 2 * n} {
		got, err := large.Rank(schema.EncodeInt(k))
		if err != nil {
			t.Fatal(err)
		}
		want := min(max(float64(k)/n, 0), 1)
		if d := got - want; d < -0.02 || d > 0.02 {
			t.Errorf("Rank(%d) = %g, want %g ± 0.02", k, got, want)
		}
		if k <= 0 && got != 0 || k >= n && got != 1 {
			t.Errorf("Rank(%d) = %g outside the values seen, want exactly 0 or 1", k, got)
		}
	}

	if _, err := datafile.NewSketch().Rank([]byte("a")); !errors.Is(err, datafile.ErrEmptySketch) {
		t.Errorf("Rank of an empty sketch: %v, want ErrEmptySketch", err)
	}
}

// TestSketchBinary round-trips sketches of awkward items: the empty
// string, NUL and 0xFF bytes, a single item, many items.
func TestSketchBinary(t *testing.T) {
	for _, tc := range []struct {
		name  string
		items [][]byte
	}{
		{"empty", nil},
		{"one empty item", [][]byte{{}}},
		{"one item", [][]byte{{0, 0xff, 0}}},
		{"few", [][]byte{{}, {0}, {0, 0}, {0xff}, []byte("abc")}},
		{"many", manyItems(10_000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := datafile.NewSketch()
			for _, it := range tc.items {
				s.Update(it)
			}
			data, err := s.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var back datafile.Sketch
			if err := back.UnmarshalBinary(data); err != nil {
				t.Fatal(err)
			}
			if back.N() != s.N() {
				t.Fatalf("N = %d, want %d", back.N(), s.N())
			}
			if s.N() == 0 {
				return
			}
			for _, rank := range []float64{0, 0.25, 0.5, 0.75, 1} {
				want, _ := s.Quantile(rank)
				got, err := back.Quantile(rank)
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("quantile %g = %x (%v), want %x", rank, got, err, want)
				}
			}
			again, _ := back.MarshalBinary()
			if !bytes.Equal(again, data) {
				t.Error("re-encoding differs")
			}
		})
	}
}

func manyItems(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = schema.EncodeInt(int64((i * 7919) % n))
	}
	return out
}

// TestSketchCorrupt rejects damaged sketch objects with ErrBadSketch and
// never panics.
func TestSketchCorrupt(t *testing.T) {
	store := newTestStore(t)
	writeRange(t, store, "t/f.parquet", 0, 5000)
	good, err := store.Get(context.Background(), "t/f.sketch")
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{
		"empty":     {},
		"no magic":  []byte("nope"),
		"version":   append([]byte("DMSK\x09"), good[5:]...),
		"truncated": good[:len(good)/2],
		"trailing":  append(append([]byte{}, good...), 0),
	}
	for cut := 6; cut < len(good); cut += len(good) / 40 {
		cases[fmt.Sprintf("cut at %d", cut)] = good[:cut]
	}
	for name, data := range cases {
		if err := store.Put(context.Background(), "t/bad.sketch", data); err != nil {
			t.Fatal(err)
		}
		if _, err := datafile.ReadSketches(context.Background(), store, "t/bad.sketch"); !errors.Is(err, datafile.ErrBadSketch) {
			t.Errorf("%s: ReadSketches = %v, want ErrBadSketch", name, err)
		}
	}
	var one datafile.Sketch
	if err := one.UnmarshalBinary([]byte{1, 2, 3}); !errors.Is(err, datafile.ErrBadSketch) {
		t.Errorf("UnmarshalBinary of junk = %v, want ErrBadSketch", err)
	}
	if _, err := datafile.ReadSketches(context.Background(), store, "t/missing.sketch"); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("missing sketch: %v, want ErrNotFound", err)
	}
}

// TestSketchSortedStrings sketches string keys, whose order is byte
// order, not UTF-8 collation.
func TestSketchSortedStrings(t *testing.T) {
	s := datafile.NewSketch()
	for _, v := range []string{"a", "b", "\xff", "\x00", "ab"} {
		s.Update([]byte(v))
	}
	lo, _ := s.Quantile(0)
	hi, _ := s.Quantile(1)
	if string(lo) != "\x00" || string(hi) != "\xff" {
		t.Errorf("min %q max %q", lo, hi)
	}
	if s.N() != 5 {
		t.Errorf("N = %d, want 5", s.N())
	}
}
