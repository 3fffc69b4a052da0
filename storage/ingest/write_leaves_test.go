package ingest

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestSliceBytes checks the estimate the leaf writer's budget counts
// queued batches by: a whole batch counts what its buffers allocated, a
// slice its share of it.
func TestSliceBytes(t *testing.T) {
	sch := arrow.NewSchema([]arrow.Field{{Name: "s", Type: arrow.BinaryTypes.String}, {Name: "n", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sch)
	defer b.Release()
	for i := range 1000 {
		b.Field(0).(*array.StringBuilder).Append("0123456789")
		if i%10 == 0 {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.Int64Builder).Append(int64(i))
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	whole := sliceBytes(rec)
	if allocated := recordBytes(rec); whole < 1000*(10+4+8) || whole > allocated+64 {
		t.Fatalf("a batch of 1000 rows of 22 bytes counts %d, its buffers hold %d", whole, allocated)
	}
	half := rec.NewSlice(250, 750)
	defer half.Release()
	if got := sliceBytes(half); got < whole*45/100 || got > whole*55/100 {
		t.Fatalf("half the rows count %d of %d", got, whole)
	}
}
