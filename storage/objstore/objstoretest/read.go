package objstoretest

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/dormousedb/dormouse/storage/objstore"
)

func testPutGet(t *testing.T, s objstore.Store) {
	tests := []struct {
		name string
		key  string
		data []byte
	}{
		{"small", "small", []byte("hello, dormouse")},
		{"empty", "empty", []byte{}},
		{"binary", "bin/1MiB", randBytes(1, 1<<20)},
		{"nested", "a/b/c/d/e", []byte("deep")},
		{"odd characters", "date=2024-01-01/part 1+2%3.parquet", []byte("odd")},
		{"unicode", "ünïcode/ключ/鍵", []byte("unicode")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			put(t, s, tc.key, tc.data)
			wantObject(t, s, tc.key, tc.data)
		})
	}
}

func testOverwrite(t *testing.T, s objstore.Store) {
	put(t, s, "k", []byte("the first, longer version"))
	put(t, s, "k", []byte("second"))
	wantObject(t, s, "k", []byte("second"))
	wantKeys(t, s, "", "k")
}

func testMissing(t *testing.T, s objstore.Store) {
	put(t, s, "dir/a", []byte("a"))
	for _, key := range []string{
		"nothing",
		"dir/b",   // missing beside an object
		"dir",     // a "directory" of objects is not an object
		"dir/a/b", // below an object
		"di",      // a prefix of a key
	} {
		t.Run(key, func(t *testing.T) {
			wantMissing(t, s, key)
			if _, err := s.GetRange(t.Context(), key, 0, 1); !errors.Is(err, objstore.ErrNotFound) {
				t.Fatalf("get range %q: err %v, want ErrNotFound", key, err)
			}
		})
	}
}

func testGetRange(t *testing.T, s objstore.Store) {
	put(t, s, "digits", []byte("0123456789"))
	put(t, s, "empty", []byte{})
	tests := []struct {
		name           string
		key            string
		offset, length int64
		want           string
	}{
		{"whole", "digits", 0, -1, "0123456789"},
		{"whole exact", "digits", 0, 10, "0123456789"},
		{"middle", "digits", 3, 4, "3456"},
		{"last byte", "digits", 9, 1, "9"},
		{"past end cut short", "digits", 8, 100, "89"},
		{"to end", "digits", 4, -1, "456789"},
		{"zero length", "digits", 5, 0, ""},
		{"at end", "digits", 10, 5, ""},
		{"past end", "digits", 20, -1, ""},
		{"empty object", "empty", 0, -1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.GetRange(t.Context(), tc.key, tc.offset, tc.length)
			if err != nil {
				t.Fatalf("get range %d+%d: %v", tc.offset, tc.length, err)
			}
			if string(got) != tc.want {
				t.Fatalf("get range %d+%d = %q, want %q", tc.offset, tc.length, got, tc.want)
			}
		})
	}
}

func testOpenReadAt(t *testing.T, s objstore.Store) {
	data := randBytes(2, 1000)
	put(t, s, "obj", data)
	o, err := s.Open(t.Context(), "obj")
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer o.Close()
	if o.Size() != 1000 {
		t.Fatalf("size %d, want 1000", o.Size())
	}
	tests := []struct {
		name    string
		off     int64
		len     int
		wantN   int
		wantEOF bool
	}{
		{"start", 0, 10, 10, false},
		{"middle", 500, 100, 100, false},
		{"exactly to end", 990, 10, 10, false},
		{"past end", 995, 10, 5, true},
		{"at end", 1000, 10, 0, true},
		{"beyond end", 2000, 10, 0, true},
		{"whole", 0, 1000, 1000, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := make([]byte, tc.len)
			n, err := o.ReadAt(p, tc.off)
			if n != tc.wantN {
				t.Fatalf("ReadAt(%d bytes, %d) n = %d, want %d", tc.len, tc.off, n, tc.wantN)
			}
			if tc.wantEOF != errors.Is(err, io.EOF) || (!tc.wantEOF && err != nil) {
				t.Fatalf("ReadAt(%d bytes, %d) err = %v, want EOF %v", tc.len, tc.off, err, tc.wantEOF)
			}
			if n > 0 && !bytes.Equal(p[:n], data[tc.off:tc.off+int64(n)]) {
				t.Fatalf("ReadAt(%d bytes, %d) read wrong bytes", tc.len, tc.off)
			}
		})
	}
	t.Run("concurrent", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() {
				off := int64(i * 100)
				p := make([]byte, 100)
				if _, err := o.ReadAt(p, off); err != nil {
					errs[i] = err
				} else if !bytes.Equal(p, data[off:off+100]) {
					errs[i] = errors.New("wrong bytes")
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("concurrent ReadAt: %v", err)
		}
	})
	t.Run("section reader", func(t *testing.T) {
		got, err := io.ReadAll(io.NewSectionReader(o, 0, o.Size()))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read all through SectionReader: %d bytes, %v", len(got), err)
		}
	})
}

func testStat(t *testing.T, s objstore.Store) {
	// Object stores set the time; allow for a server clock that is off.
	const skew = 10 * time.Minute
	before := time.Now()
	put(t, s, "x/y", []byte("12345"))
	after := time.Now()
	info, err := s.Stat(t.Context(), "x/y")
	if err != nil {
		t.Fatalf("stat: %v", err)
	}
	if info.Key != "x/y" || info.Size != 5 {
		t.Fatalf("stat = %+v, want key x/y size 5", info)
	}
	if info.ModTime.Before(before.Add(-skew)) || info.ModTime.After(after.Add(skew)) {
		t.Fatalf("stat mod time %v, want about %v", info.ModTime, before)
	}
}
