package objstoretest

import (
	"bytes"
	"testing"

	"github.com/dormousedb/dormouse/storage/objstore"
)

// largeSize is above two S3 multipart parts of 8 MiB, and not a multiple
// of any part size.
const largeSize = 20<<20 + 12345

// create writes data to key through Create in chunks of chunk bytes and
// returns the Writer, not yet closed. Nothing may be visible meanwhile.
func create(t *testing.T, s objstore.Store, key string, data []byte, chunk int) objstore.Writer {
	t.Helper()
	w, err := s.Create(t.Context(), key)
	if err != nil {
		t.Fatalf("create %q: %v", key, err)
	}
	for rest := data; len(rest) > 0; {
		n := min(chunk, len(rest))
		if m, err := w.Write(rest[:n]); err != nil || m != n {
			w.Abort()
			t.Fatalf("write %q: wrote %d of %d: %v", key, m, n, err)
		}
		rest = rest[n:]
	}
	return w
}

func closeWriter(t *testing.T, w objstore.Writer) {
	t.Helper()
	if err := w.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}

func testCreateSmall(t *testing.T, s objstore.Store) {
	data := []byte("a small object, written in little pieces")
	w := create(t, s, "dir/small", data, 5)
	wantMissing(t, s, "dir/small")
	wantKeys(t, s, "")
	closeWriter(t, w)
	wantObject(t, s, "dir/small", data)
}

func testCreateEmpty(t *testing.T, s objstore.Store) {
	w := create(t, s, "empty", nil, 1)
	closeWriter(t, w)
	wantObject(t, s, "empty", []byte{})
}

func testCreateLarge(t *testing.T, s objstore.Store) {
	data := randBytes(3, largeSize)
	w := create(t, s, "big/object", data, 777_777)
	wantMissing(t, s, "big/object")
	closeWriter(t, w)
	wantObject(t, s, "big/object", data)
	const boundary = 8 << 20 // an S3 part boundary
	got, err := s.GetRange(t.Context(), "big/object", boundary-10, 20)
	if err != nil || !bytes.Equal(got, data[boundary-10:boundary+10]) {
		t.Fatalf("get range across a part boundary: %d bytes, %v", len(got), err)
	}
}

func testCreateReplaces(t *testing.T, s objstore.Store) {
	put(t, s, "k", []byte("old"))
	w := create(t, s, "k", []byte("new, streamed"), 4)
	wantObject(t, s, "k", []byte("old"))
	closeWriter(t, w)
	wantObject(t, s, "k", []byte("new, streamed"))
}

func testCreateAbort(t *testing.T, s objstore.Store) {
	tests := []struct {
		name string
		size int
	}{
		{"nothing written", 0},
		{"small", 100},
		{"past one part", 12 << 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := "aborted/" + tc.name
			w := create(t, s, key, randBytes(4, tc.size), 1<<20)
			if err := w.Abort(); err != nil {
				t.Fatalf("abort: %v", err)
			}
			wantMissing(t, s, key)
			wantKeys(t, s, "")
		})
	}
}
