package pqwrite_test

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/compress"

	"github.com/dormousedb/dormouse/storage/datafile/pqwrite"
)

// TestReviewConcurrentWriters writes the same files from several
// goroutines at once, some writers aborted halfway, all sharing the page
// and zstd pools (run with -race): every finished file must be the bytes
// of the file written alone, so no page is ever one another writer holds
// or reuses.
func TestReviewConcurrentWriters(t *testing.T) {
	schema, batches, whole, opts := mixedFile(900)
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
