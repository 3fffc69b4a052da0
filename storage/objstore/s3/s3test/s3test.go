// Package s3test gives tests a fresh S3 store on the test server that
// scripts/with-s3.sh starts (make test does so).
//
// S3 tests never skip silently: without DORMOUSE_TEST_S3_ENDPOINT they
// fail, unless DORMOUSE_SKIP_S3=1 asks for a (loud) skip.
package s3test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/objstore/s3"
)

// The environment the S3 tests read; scripts/with-s3.sh sets the first
// two, and the AWS SDK reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// AWS_REGION as usual.
const (
	EnvEndpoint = "DORMOUSE_TEST_S3_ENDPOINT" // e.g. http://127.0.0.1:7070
	EnvBucket   = "DORMOUSE_TEST_S3_BUCKET"
	EnvSkip     = "DORMOUSE_SKIP_S3" // "1" skips S3 tests instead of failing them
)

// NewStore returns a store under a fresh random prefix of the test bucket,
// for t alone. When t ends its objects are deleted if it passed and kept
// (and their URL logged) if it failed.
func NewStore(t testing.TB) objstore.Store {
	t.Helper()
	endpoint, bucket := Env(t)
	prefix := "test/" + slug(t.Name()) + "-" + randomHex() + "/"
	s, err := s3.New(context.Background(), bucket, prefix, s3.Options{Endpoint: endpoint, PathStyle: true})
	if err != nil {
		t.Fatalf("s3test: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("s3test: objects kept at %s", s.URL())
			return
		}
		if err := deleteAll(s); err != nil {
			t.Errorf("s3test: clean up %s: %v", s.URL(), err)
		}
	})
	return s
}

// Env returns the test server's endpoint and bucket. Without them it fails
// t, or skips it if DORMOUSE_SKIP_S3=1.
func Env(t testing.TB) (endpoint, bucket string) {
	t.Helper()
	endpoint, bucket = os.Getenv(EnvEndpoint), os.Getenv(EnvBucket)
	if endpoint != "" && bucket != "" {
		return endpoint, bucket
	}
	if os.Getenv(EnvSkip) == "1" {
		t.Skipf("SKIPPING S3 TEST: %s=1 is set. These tests did NOT run; "+
			"run them with `make test` (scripts/with-s3.sh).", EnvSkip)
	}
	t.Fatalf("%s and %s are not set: run the S3 tests with `make test`, or "+
		"`./scripts/with-s3.sh go test ./...`, which start a test S3 server "+
		"(or set %s=1 to skip them, loudly)", EnvEndpoint, EnvBucket, EnvSkip)
	return "", ""
}

// deleteAll deletes every object in s, 16 at a time.
func deleteAll(s objstore.Store) error {
	ctx := context.Background()
	infos, err := s.List(ctx, "")
	if err != nil {
		return err
	}
	keys := make(chan string)
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for k := range keys {
				if err := s.Delete(ctx, k); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		})
	}
	for _, in := range infos {
		keys <- in.Key
	}
	close(keys)
	wg.Wait()
	close(errs)
	return <-errs
}

// slug makes a test name safe and short enough for a key prefix.
func slug(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return strings.Trim(string(b[:min(len(b), 60)]), "_")
}

func randomHex() string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("s3test: random prefix: %v", err))
	}
	return hex.EncodeToString(b[:])
}
