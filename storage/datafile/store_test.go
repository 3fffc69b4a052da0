package datafile_test

import (
	"testing"

	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/objstore/local"
)

// newTestStore returns an empty local store in a temporary directory.
func newTestStore(tb testing.TB) objstore.Store {
	tb.Helper()
	s, err := local.New(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	return s
}
