package pqwrite_test

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/dormousedb/dormouse/storage/datafile/pqwrite"
)

// TestReviewMemoryPerRowGroup writes many row groups: the heap after the
// last must not have grown with their number beyond what the Writer must
// keep for the end of the file (the page index and the footer, about
// their size on disk): it keeps a row group, not the file.
func TestReviewMemoryPerRowGroup(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 120 row groups")
	}
	schema, batches, whole, opts := mixedFile(4000)
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
