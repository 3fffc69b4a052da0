package datafile_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/storagetest"
)

// requestStore counts the bytes and the read requests of objects it opens,
// each request taking at least delay, as an object store's do.
type requestStore struct {
	objstore.Store
	bytes, requests atomic.Int64
	delay           time.Duration
}

func (s *requestStore) Open(ctx context.Context, key string) (objstore.Object, error) {
	o, err := s.Store.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	return &requestObject{Object: o, s: s}, nil
}

type requestObject struct {
	objstore.Object
	s *requestStore
}

func (o *requestObject) ReadAt(p []byte, off int64) (int, error) {
	time.Sleep(o.s.delay)
	n, err := o.Object.ReadAt(p, off)
	o.s.bytes.Add(int64(n))
	o.s.requests.Add(1)
	return n, err
}

// TestReadWholeRowGroupWindows reads one big row group whole: the Reader
// must stream its column chunks a fetch window at a time, holding at most
// two windows (the current one and, on a slow store, the one read ahead)
// per column, yet fetch each byte once, in requests of about a window, and
// give the rows written. With a window larger than the chunks it holds
// the whole row group, as a read of whole chunks does.
func TestReadWholeRowGroupWindows(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, base objstore.Store) {
		mem := newMem(t)
		store := &requestStore{Store: base}
		const n = 80000
		all := writePagedFile(t, store, mem, n, n, 4<<10)
		defer all.Release()
		cols := []int{0, 1, 2, 3}
		const window = 32 << 10

		read := func(window int64) (held, fetched, requests, aheads int64) {
			r, err := datafile.Open(context.Background(), store, "t/paged.parquet", pageSchema,
				datafile.WithAllocator(mem), datafile.WithBatchRows(4096), datafile.WithFetchWindow(window))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			bytes0, req0 := store.bytes.Load(), store.requests.Load()
			footer := r.BytesFetched()
			got := readSelection(t, r, mem, cols, []datafile.Selection{{RowGroup: 0}})
			defer releaseAll(got)
			for i, c := range cols {
				if !array.Equal(got[i], all.Column(c)) {
					t.Fatalf("window %d: column %d differs from what was written", window, c)
				}
			}
			if served := store.bytes.Load() - bytes0; served != r.BytesFetched()-footer {
				t.Errorf("window %d: the store served %d bytes, the Reader counted %d", window, served, r.BytesFetched()-footer)
			}
			return datafile.PeakFetchedHeld(r), store.bytes.Load() - bytes0, store.requests.Load() - req0, datafile.WindowsReadAhead(r)
		}

		wholeHeld, wholeBytes, wholeReqs, _ := read(1 << 40)
		t.Logf("whole chunks: held %d bytes, fetched %d in %d requests", wholeHeld, wholeBytes, wholeReqs)
		// Whole chunks are held until their column is read through: all
		// of them at once but for the columns that end first.
		if wholeHeld > wholeBytes || wholeHeld < wholeBytes/2 {
			t.Errorf("a read of whole chunks held %d bytes, fetched %d", wholeHeld, wholeBytes)
		}
		if bound := int64(len(cols)) * 2 * window; wholeHeld < 4*bound {
			t.Fatalf("the row group (%d bytes) is too small to test a bound of %d", wholeHeld, bound)
		}
		for _, tc := range []struct {
			window int64
			delay  time.Duration
		}{
			{window, 0},
			{window, 10 * time.Millisecond}, // slow: read ahead
			{1 << 10, 0},                    // smaller than a page
		} {
			window, delay := tc.window, tc.delay
			bound := int64(len(cols)) * 2 * window
			store.delay = delay
			held, bytes, reqs, aheads := read(window)
			t.Logf("window %d, %v per request: held %d bytes, fetched %d in %d requests, %d read ahead",
				window, delay, held, bytes, reqs, aheads)
			if held > bound {
				t.Errorf("held %d bytes at once, want at most %d (two windows per column)", held, bound)
			}
			if bytes != wholeBytes {
				t.Errorf("windows fetched %d bytes, whole chunks %d: bytes fetched twice or not at all", bytes, wholeBytes)
			}
			if most := bytes/window + 2*int64(len(cols)); reqs > most {
				t.Errorf("%d requests for %d bytes, want at most %d (about one per window)", reqs, bytes, most)
			}
			if delay > 0 && aheads == 0 {
				t.Errorf("no window was read ahead from a store taking %v per request", delay)
			}
		}
		store.delay = 0
	})
}

// BenchmarkReadWindows reads the benchmark file (one row group of a
// million rows, its chunks several MiB each) whole, with the default
// fetch window and with one larger than any chunk, which fetches whole
// chunks as the Reader did before windows: the windows must cost a full
// scan nothing measurable.
//
//	go test ./storage/datafile -run - -bench ReadWindows -count 5
func BenchmarkReadWindows(b *testing.B) {
	store, ctx := writeBenchFile(b), context.Background()
	for _, bc := range []struct {
		name   string
		window int64
	}{{"window=default", 0}, {"window=whole", 1 << 40}} {
		b.Run(bc.name, func(b *testing.B) {
			var opts []datafile.ReaderOption
			if bc.window > 0 {
				opts = append(opts, datafile.WithFetchWindow(bc.window))
			}
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				r, err := datafile.Open(ctx, store, "bench/f.parquet", benchSchema, opts...)
				if err != nil {
					b.Fatal(err)
				}
				n := readAllRows(b, r)
				b.ReportMetric(float64(datafile.PeakFetchedHeld(r))/(1<<20), "MiB-held")
				r.Close()
				if n != benchRows {
					b.Fatalf("read %d rows", n)
				}
			}
			reportRows(b, cpu0)
		})
	}
}
