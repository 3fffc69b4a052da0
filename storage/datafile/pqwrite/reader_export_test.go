package pqwrite_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dormousedb/dormouse/storage/datafile/pqwrite"
)

// TestReviewExport leaves files for other readers (pyarrow, DuckDB) in
// the directory DORMOUSE_REVIEW_EXPORT names: for each fuzz seed, ours.N
// written by pqwrite and ref.N, the same rows written by arrow-go.
// Without the variable it does nothing.
func TestReviewExport(t *testing.T) {
	dir := os.Getenv("DORMOUSE_REVIEW_EXPORT")
	if dir == "" {
		t.Skip("DORMOUSE_REVIEW_EXPORT is not set")
	}
	rng := rand.New(rand.NewPCG(41, 42))
	for i := range 300 {
		seed := make([]byte, 64)
		for j := range seed {
			seed[j] = byte(rng.Uint32())
		}
		c := newFuzzCase(seed)
		ours := writeBatches(t, c.schema, c.batches, c.opts)
		var ref []byte
		if c.whole[0].Len() > 0 {
			ref = writePqarrow(t, c.schema, c.whole)
		}
		verifyFile(t, c.schema, c.whole, ours, c.opts)
		c.release()
		if ref == nil {
			continue
		}
		exportPair(t, dir, i, ours, ref)
	}
	// Integers whose differences overflow, in every width, delta-encoded.
	var schema []pqwrite.Column
	var whole []arrow.Array
	for i, typ := range []arrow.DataType{arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int64, arrow.FixedWidthTypes.Date32, &arrow.TimestampType{Unit: arrow.Microsecond}} {
		for _, nullable := range []bool{false, true} {
			schema = append(schema, pqwrite.Column{Name: fmt.Sprintf("c%d_%v", i, nullable), Type: typ, Nullable: nullable, Encoding: pqwrite.DeltaBinaryPacked})
			whole = append(whole, genColumn(rng, typ, 3000, map[bool]nullShape{false: noNulls, true: someNulls}[nullable], extremes))
		}
	}
	defer releaseAll(whole)
	batches := sliceBatches(whole, []int{1000, 1, 999})
	defer releaseBatches(batches)
	opts := pqwrite.Options{PageRows: 129, RowGroupRows: 1000}
	ours := writeBatches(t, schema, batches, opts)
	verifyFile(t, schema, whole, ours, opts)
	exportPair(t, dir, 999, ours, writePqarrow(t, schema, whole))
}

func exportPair(t *testing.T, dir string, i int, ours, ref []byte) {
	for name, data := range map[string][]byte{"ours": ours, "ref": ref} {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s.%03d.parquet", name, i)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
