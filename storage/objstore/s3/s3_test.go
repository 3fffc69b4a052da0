package s3_test

import (
	"context"
	"errors"
	"testing"

	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/objstore/objstoretest"
	"github.com/dormousedb/dormouse/storage/objstore/s3"
	"github.com/dormousedb/dormouse/storage/objstore/s3/s3test"
)

// TestConformance runs the conformance suite against the server from
// scripts/with-s3.sh; without one it fails (see s3test.Env).
func TestConformance(t *testing.T) {
	s3test.Env(t) // one failure (or skip) rather than one per subtest
	objstoretest.Run(t, func(t *testing.T) objstore.Store { return s3test.NewStore(t) })
}

// TestOpenSeesReplacement checks that an Object opened before its key was
// overwritten fails reads instead of returning the new bytes.
func TestOpenSeesReplacement(t *testing.T) {
	s := s3test.NewStore(t)
	ctx := t.Context()
	if err := s.Put(ctx, "k", []byte("version one")); err != nil {
		t.Fatal(err)
	}
	o, err := s.Open(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if err := s.Put(ctx, "k", []byte("version two")); err != nil {
		t.Fatal(err)
	}
	if _, err := o.ReadAt(make([]byte, 4), 0); !errors.Is(err, s3.ErrChanged) {
		t.Fatalf("read after overwrite: err %v, want ErrChanged", err)
	}
}

func TestURL(t *testing.T) {
	tests := []struct {
		prefix, want string
	}{
		{"", "s3://bkt"},
		{"p", "s3://bkt/p"},
		{"/p/", "s3://bkt/p"},
		{"a/b/", "s3://bkt/a/b"},
	}
	for _, tc := range tests {
		t.Run(tc.prefix, func(t *testing.T) {
			s, err := s3.New(context.Background(), "bkt", tc.prefix, s3.Options{Region: "us-east-1"})
			if err != nil {
				t.Fatal(err)
			}
			if s.URL() != tc.want {
				t.Fatalf("url %q, want %q", s.URL(), tc.want)
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name   string
		bucket string
		opts   s3.Options
	}{
		{"empty bucket", "", s3.Options{}},
		{"small parts", "bkt", s3.Options{PartSize: 1 << 20}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s3.New(context.Background(), tc.bucket, "", tc.opts); err == nil {
				t.Fatal("no error")
			}
		})
	}
	t.Run("bad path style", func(t *testing.T) {
		t.Setenv(s3.EnvPathStyle, "sometimes")
		if _, err := s3.New(context.Background(), "bkt", "", s3.Options{}); err == nil {
			t.Fatal("no error")
		}
	})
}
