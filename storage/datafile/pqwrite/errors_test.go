package pqwrite_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

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

// TestReviewFailingWriter writes a file to a writer that fails after
// every possible number of bytes (sampled), by an error or a silent
// short write: some Write or the Close must fail, and once one has,
// Write and Close must fail too, never report a finished file.
func TestReviewFailingWriter(t *testing.T) {
	schema, batches, whole, opts := mixedFile(600)
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
	if second := writeBatches(t, schema, batches, opts); !bytes.Equal(second, full) {
		t.Fatalf("second file differs")
	}
}
