package objstoretest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/dormousedb/dormouse/storage/objstore"
)

func testList(t *testing.T, s objstore.Store) {
	keys := []string{"a/1", "a/10", "a/2", "a-b", "ab", "b/1", "b/2/x"}
	for i, k := range keys {
		put(t, s, k, make([]byte, i))
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", []string{"a-b", "a/1", "a/10", "a/2", "ab", "b/1", "b/2/x"}},
		{"a/", []string{"a/1", "a/10", "a/2"}},
		{"a", []string{"a-b", "a/1", "a/10", "a/2", "ab"}},
		{"a/1", []string{"a/1", "a/10"}},
		{"a/10", []string{"a/10"}},
		{"b/", []string{"b/1", "b/2/x"}},
		{"b/2", []string{"b/2/x"}},
		{"zzz", nil},
		{"a/3", nil},
		{"a/1/", nil},
		{"c/d/", nil},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%q", tc.prefix), func(t *testing.T) {
			wantKeys(t, s, tc.prefix, tc.want...)
		})
	}
	t.Run("sizes", func(t *testing.T) {
		infos, err := s.List(t.Context(), "a/")
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		for _, in := range infos {
			if want := int64(slices.Index(keys, in.Key)); in.Size != want {
				t.Errorf("list %q: size %d, want %d", in.Key, in.Size, want)
			}
		}
	})
}

// testListMany lists more keys than one S3 ListObjectsV2 page (1000).
func testListMany(t *testing.T, s objstore.Store) {
	const n = 1100
	keys := seq("many/%05d", 0, n)
	err := firstErr(parallel(n, 16, func(i int) error {
		return s.Put(t.Context(), keys[i], []byte{byte(i)})
	}))
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	put(t, s, "other", []byte("not listed under many/"))
	wantKeys(t, s, "many/", keys...)
	wantKeys(t, s, "many/001", seq("many/%05d", 100, 200)...)
	wantKeys(t, s, "many/0109", seq("many/%05d", 1090, 1100)...)
}

func testNestedKeys(t *testing.T, s objstore.Store) {
	keys := []string{"a/b/c/d/e.txt", "a/b/c/f", "a/b/g", "a/h", "a/hh/i"}
	for _, k := range keys {
		put(t, s, k, []byte(k))
	}
	for _, k := range keys {
		wantObject(t, s, k, []byte(k))
	}
	wantKeys(t, s, "a/b/", "a/b/c/d/e.txt", "a/b/c/f", "a/b/g")
	wantKeys(t, s, "a/b/c", "a/b/c/d/e.txt", "a/b/c/f")
	wantKeys(t, s, "a/h", "a/h", "a/hh/i")
	if err := s.Delete(t.Context(), "a/b/c/d/e.txt"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	wantKeys(t, s, "a/", "a/b/c/f", "a/b/g", "a/h", "a/hh/i")
	wantKeys(t, s, "a/b/c/d")
}

func testDelete(t *testing.T, s objstore.Store) {
	for _, k := range []string{"d/a", "d/b", "d/a0", "e/x/y"} {
		put(t, s, k, []byte(k))
	}
	tests := []struct {
		name string
		key  string
		want []string // List("") afterwards
	}{
		{"object", "d/a", []string{"d/a0", "d/b", "e/x/y"}},
		{"again", "d/a", []string{"d/a0", "d/b", "e/x/y"}},
		{"never existed", "nope/nothing", []string{"d/a0", "d/b", "e/x/y"}},
		{"directory of objects", "e/x", []string{"d/a0", "d/b", "e/x/y"}},
		{"deepest", "e/x/y", []string{"d/a0", "d/b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.Delete(t.Context(), tc.key); err != nil {
				t.Fatalf("delete %q: %v", tc.key, err)
			}
			wantMissing(t, s, tc.key)
			wantKeys(t, s, "", tc.want...)
		})
	}
	t.Run("put after delete", func(t *testing.T) {
		put(t, s, "e/x/y", []byte("back"))
		wantObject(t, s, "e/x/y", []byte("back"))
	})
}
