package datafile

import (
	"math/rand/v2"
	"sort"
	"testing"
)

// TestSearchFrom checks searchFrom against sort.Search over random
// thresholds, ranges and guesses, good and bad.
func TestSearchFrom(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		n := rng.IntN(40)
		lo := rng.IntN(5)
		hi := lo + n
		at := lo + rng.IntN(n+1) // f is true from at on
		f := func(i int) bool {
			if i < lo || i >= hi {
				t.Fatalf("probe %d outside [%d, %d)", i, lo, hi)
			}
			return i >= at
		}
		guess := lo - 3 + rng.IntN(n+7)
		want := lo + sort.Search(n, func(i int) bool { return lo+i >= at })
		if got := searchFrom(lo, hi, guess, f); got != want {
			t.Fatalf("[%d, %d) true from %d, guess %d: got %d, want %d", lo, hi, at, guess, got, want)
		}
	}
}

// TestInterpolate checks that a guess always lies in the range.
func TestInterpolate(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for range 20000 {
		lo, hi := rng.IntN(10), 0
		hi = lo + rng.IntN(100)
		first, last := rng.Int64()-rng.Int64(), rng.Int64()-rng.Int64()
		v := rng.Int64() - rng.Int64()
		if g := interpolate(lo, hi, first, last, v); hi > lo && (g < lo || g >= hi) {
			t.Fatalf("interpolate(%d, %d, %d, %d, %d) = %d", lo, hi, first, last, v, g)
		}
	}
}

// BenchmarkPageOf finds random rows' pages among 4,000 chunks of 475
// pages each (as a table of 16 files of a few columns, each in its
// reader), too many for the CPU's caches: bisection against searchFrom
// from the even-spread guess (pageOf).
func BenchmarkPageOf(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 10))
	chunks := make([]*chunkInfo, 4000)
	for c := range chunks {
		ci := &chunkInfo{pages: make([]pageLoc, 475)}
		row := int64(0)
		for p := range ci.pages {
			ci.pages[p] = pageLoc{firstRow: row}
			row += 1200 + int64(rng.IntN(200)) // variable-width values: pages of uneven rows
		}
		ci.numRows = row
		chunks[c] = ci
	}
	bisect := func(ci *chunkInfo, row int64) int {
		return sort.Search(len(ci.pages), func(i int) bool { return ci.pages[i].firstRow > row }) - 1
	}
	for _, c := range []struct {
		name string
		find func(*chunkInfo, int64) int
	}{{"bisect", bisect}, {"guess", pageOf}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				ci := chunks[rng.IntN(len(chunks))]
				row := rng.Int64N(ci.numRows)
				if p := c.find(ci, row); ci.pages[p].firstRow > row {
					b.Fatal("wrong page")
				}
			}
		})
	}
}
