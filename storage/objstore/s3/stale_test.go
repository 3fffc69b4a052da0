package s3_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/objstore/s3"
	"github.com/dormousedb/dormouse/storage/objstore/s3/s3test"
)

// TestRemoveStaleTemp leaves multipart uploads unfinished, as a killed
// writer would, and checks that only those under the prefix and idle since
// the cut-off are aborted, and that their writers can no longer publish.
func TestRemoveStaleTemp(t *testing.T) {
	store := s3test.NewStore(t)
	s := store.(*s3.Store)
	ctx := t.Context()
	part := bytes.Repeat([]byte("x"), s3.DefaultPartSize+1) // one part sent, a byte buffered
	start := func(key string) objstore.Writer {
		w, err := s.Create(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Abort() })
		if _, err := w.Write(part); err != nil {
			t.Fatal(err)
		}
		return w
	}
	mine := start("t/a/data/1")
	other := start("t/b/data/1")

	if n, _, err := s.RemoveStaleTemp(ctx, "t/a/", time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("uploads idle for an hour: aborted %d (%v), want 0", n, err)
	}
	n, size, err := s.RemoveStaleTemp(ctx, "t/a/", time.Now().Add(time.Hour))
	if err != nil || n != 1 || size != s3.DefaultPartSize {
		t.Fatalf("aborted %d uploads of %d bytes (%v), want 1 of %d", n, size, err, s3.DefaultPartSize)
	}
	if n, _, err := s.RemoveStaleTemp(ctx, "t/a/", time.Now().Add(time.Hour)); err != nil || n != 0 {
		t.Fatalf("second pass aborted %d (%v), want 0", n, err)
	}
	if err := mine.Close(); err == nil {
		t.Error("an aborted upload was published")
	}
	if _, err := s.Stat(ctx, "t/a/data/1"); err == nil {
		t.Error("t/a/data/1 exists")
	}
	if err := other.Close(); err != nil {
		t.Errorf("upload under another prefix: %v", err)
	}
}
