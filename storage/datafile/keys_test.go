package datafile

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dormousedb/dormouse/storage/schema"
)

// TestKeyOrderMatchesRowKey checks the Writer's order check, which
// compares plain encodings column by column, against the definition of row
// order: bytes.Compare on schema.AppendRowKey. Random pairs of rows, with
// strings full of NUL bytes, prefixes and signed zeros.
func TestKeyOrderMatchesRowKey(t *testing.T) {
	sch := &schema.Schema{
		RowKeys:  []schema.Column{{Name: "s", Type: schema.Varchar}, {Name: "d", Type: schema.Double}},
		SortKeys: []schema.Column{{Name: "b", Type: schema.Varbinary}},
	}
	rng := rand.New(rand.NewPCG(7, 7))
	pick := func(alphabet string) string {
		b := make([]byte, rng.IntN(4))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	doubles := []float64{-1, -0.0, 0, 0.5, 2}
	bld := array.NewRecordBuilder(memory.DefaultAllocator, sch.Arrow())
	defer bld.Release()
	const n = 4000
	for range n {
		bld.Field(0).(*array.StringBuilder).Append(pick("\x00a"))
		bld.Field(1).(*array.Float64Builder).Append(doubles[rng.IntN(len(doubles))])
		bld.Field(2).(*array.BinaryBuilder).Append([]byte(pick("\x00\xff")))
	}
	rec := bld.NewRecordBatch()
	defer rec.Release()
	cols := rec.Columns()
	for i := 0; i+1 < n; i += 2 {
		want := bytes.Compare(schema.AppendRowKey(nil, rec, 3, i), schema.AppendRowKey(nil, rec, 3, i+1))
		k := newKeyTracker(sch)
		if _, err := k.next(cols, i); err != nil {
			t.Fatal(err)
		}
		same, err := k.next(cols, i+1)
		switch {
		case want > 0 && !errors.Is(err, ErrUnsorted):
			t.Errorf("rows %d, %d: composite order says descending, check says %v", i, i+1, err)
		case want <= 0 && err != nil:
			t.Errorf("rows %d, %d: composite order says ascending, check says %v", i, i+1, err)
		case want == 0 && same != 3:
			t.Errorf("rows %d, %d: equal keys, but %d columns equal", i, i+1, same)
		}
	}
}
