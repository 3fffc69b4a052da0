package datafile

import (
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dormousedb/dormouse/storage/schema"
)

// TestObserveKeysAllocations holds the per-row path (order check and
// sketch update) to its budget: no allocation for a repeated key, one (the
// sketch's copy) for a new one, plus the sketch's occasional compaction.
func TestObserveKeysAllocations(t *testing.T) {
	sch := &schema.Schema{
		RowKeys:  []schema.Column{{Name: "k", Type: schema.Varchar}, {Name: "n", Type: schema.BigInt}},
		SortKeys: []schema.Column{{Name: "ts", Type: schema.Timestamp}},
	}
	const rows = 4096
	for _, tc := range []struct {
		name     string
		distinct bool
		budget   float64 // allocations per row
	}{
		{"repeated keys", false, 0.02},
		{"distinct keys", true, 2.05}, // one string per row key column
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := array.NewRecordBuilder(memory.DefaultAllocator, sch.Arrow())
			defer b.Release()
			for i := range rows {
				k, n := "key", int64(0)
				if tc.distinct {
					k, n = fmt.Sprintf("key%06d", i), int64(i)
				}
				b.Field(0).(*array.StringBuilder).Append(k)
				b.Field(1).(*array.Int64Builder).Append(n)
				b.Field(2).(*array.TimestampBuilder).Append(arrow.Timestamp(i))
			}
			rec := b.NewRecordBatch()
			defer rec.Release()
			w := &Writer{sch: sch, keys: newKeyTracker(sch), sketches: []*Sketch{NewSketch(), NewSketch()}}
			var err error
			allocs := testing.AllocsPerRun(20, func() {
				w.keys = newKeyTracker(sch) // each run starts a new file
				err = w.observeKeys(rec)
			})
			if err != nil {
				t.Fatal(err)
			}
			perRow := allocs / float64(rec.NumRows())
			t.Logf("%.3f allocations per row", perRow)
			if perRow > tc.budget {
				t.Errorf("%.3f allocations per row, budget %.2f", perRow, tc.budget)
			}
		})
	}
}
