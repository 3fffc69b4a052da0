package pqwrite_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/dormousedb/dormouse/storage/datafile/pqwrite"
)

// failAfter accepts limit bytes, then fails: with an error, or (short)
// by writing less than it is given and saying nothing.
type failAfter struct {
	limit, n int
	short    bool
}

var errDiskFull = errors.New("disk full")

func (w *failAfter) Write(p []byte) (int, error) {
	room := w.limit - w.n
	if room >= len(p) {
		w.n += len(p)
		return len(p), nil
	}
	w.n += max(room, 0)
	if w.short {
		return max(room, 0), nil
	}
	return max(room, 0), errDiskFull
}

// reviewFile is a file of every type and encoding, in several row groups.
func reviewFile(t testing.TB, rows int) ([]pqwrite.Column, [][]arrow.Array, []arrow.Array, pqwrite.Options) {
	rng := rand.New(rand.NewPCG(25, 26))
	schema := allColumnsOf(true)
	var whole []arrow.Array
	for _, c := range schema {
		whole = append(whole, genColumn(rng, c.Type, rows, someNulls, randomValues))
	}
	opts := pqwrite.Options{Codec: compress.Codecs.Zstd, PageRows: 50, RowGroupRows: int64(rows/3 + 1)}
	return schema, sliceBatches(whole, []int{97}), whole, opts
}

// TestReviewFailingWriter writes a file to a writer that fails after
// every possible number of bytes (sampled), by an error or a silent
// short write: some Write or the Close must fail, and once one has,
// Write and Close must fail too, never report a finished file.
func TestReviewFailingWriter(t *testing.T) {
	schema, batches, whole, opts := reviewFile(t, 600)
	defer releaseAll(whole)
	defer releaseBatches(batches)
	full := writeBatches(t, schema, batches, opts)
	for limit := 0; limit < len(full); limit += 1 + limit/20 {
		for _, short := range []bool{false, true} {
			w := &failAfter{limit: limit, short: short}
			pw, err := pqwrite.NewWriter(w, schema, opts)
			if err != nil {
				if limit >= 4 {
					t.Fatalf("limit %d: NewWriter: %v", limit, err)
				}
				continue
			}
			var failed error
			for _, b := range batches {
				if err := pw.Write(b); err != nil {
					failed = err
					break
				}
			}
			if failed != nil {
				if err := pw.Write(batches[0]); err == nil {
					t.Errorf("limit %d: Write after a failed Write succeeded", limit)
				}
			}
			err = pw.Close()
			if err == nil {
				t.Fatalf("limit %d of %d (short %v): Close reported success, %d bytes written", limit, len(full), short, w.n)
			}
			if failed != nil && !errors.Is(err, failed) && err.Error() != failed.Error() {
				t.Errorf("limit %d: Close says %v, Write said %v", limit, err, failed)
			}
			if !short && !errors.Is(err, errDiskFull) {
				t.Errorf("limit %d: Close's error %v does not wrap the writer's", limit, err)
			}
			if short && !errors.Is(err, io.ErrShortWrite) {
				t.Errorf("limit %d: Close's error %v is not io.ErrShortWrite", limit, err)
			}
		}
	}
	// The whole file fits: success, and the same bytes.
	w := &bytes.Buffer{}
	pw, err := pqwrite.NewWriter(w, schema, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range batches {
		if err := pw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := pw.Close(); err != nil || !bytes.Equal(w.Bytes(), full) {
		t.Fatalf("second file: %v, equal %v", err, bytes.Equal(w.Bytes(), full))
	}
}

// TestReviewConcurrentWriters writes the same files from several
// goroutines at once, some writers aborted halfway, all sharing the page
// and zstd pools (run with -race): every finished file must be the bytes
// of the file written alone, so no page is ever one another writer holds
// or reuses.
func TestReviewConcurrentWriters(t *testing.T) {
	schema, batches, whole, opts := reviewFile(t, 900)
	defer releaseAll(whole)
	defer releaseBatches(batches)
	codecs := []compress.Compression{compress.Codecs.Zstd, compress.Codecs.Snappy, compress.Codecs.Lz4Raw, compress.Codecs.Uncompressed}
	want := make([][]byte, len(codecs))
	for i, c := range codecs {
		o := opts
		o.Codec = c
		want[i] = writeBatches(t, schema, batches, o)
	}
	verifyFile(t, schema, whole, want[0], opts)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 8 {
				ci := (g + i) % len(codecs)
				o := opts
				o.Codec = codecs[ci]
				var buf bytes.Buffer
				w, err := pqwrite.NewWriter(&buf, schema, o)
				if err != nil {
					errs <- err
					return
				}
				abort := (g+i)%3 == 0
				for k, b := range batches {
					if abort && k == len(batches)/2 {
						break
					}
					if err := w.Write(b); err != nil {
						errs <- err
						return
					}
					runtime.Gosched()
				}
				if abort {
					w.Abort()
					continue
				}
				if err := w.Close(); err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(buf.Bytes(), want[ci]) {
					errs <- fmt.Errorf("goroutine %d, file %d (%s): bytes differ from the file written alone", g, i, codecs[ci])
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestReviewMemoryPerRowGroup writes many row groups: the heap after the
// last must not have grown with their number beyond what the Writer must
// keep for the end of the file (the page index and the footer, about
// their size on disk): it keeps a row group, not the file.
func TestReviewMemoryPerRowGroup(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 120 row groups")
	}
	schema, batches, whole, opts := reviewFile(t, 4000)
	defer releaseAll(whole)
	defer releaseBatches(batches)
	opts.RowGroupRows = 4000
	path := filepath.Join(t.TempDir(), "f.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := pqwrite.NewWriter(f, schema, opts)
	if err != nil {
		t.Fatal(err)
	}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	var after10 uint64
	const groups = 120
	for rg := range groups {
		for _, b := range batches {
			if err := w.Write(b); err != nil {
				t.Fatal(err)
			}
		}
		if rg == 9 {
			after10 = heap()
		}
	}
	grown := int64(heap()) - int64(after10)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// What the file holds after its row groups: the page index, the
	// footer.
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	last := pf.MetaData().RowGroup(groups - 1)
	tail := st.Size() - (last.FileOffset() + last.TotalCompressedSize())
	kept := tail * (groups - 10) / groups
	t.Logf("heap grew by %d bytes over %d row groups; page index and footer %d bytes (%d for those row groups)", grown, groups-10, tail, kept)
	if grown > 2*kept+(2<<20) {
		t.Errorf("heap grew by %d bytes over %d row groups, the page index and footer of which take %d", grown, groups-10, kept)
	}
}
