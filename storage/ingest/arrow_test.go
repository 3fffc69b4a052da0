package ingest_test

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/storage/ingest"
	"github.com/dormousedb/dormouse/storage/schema"
)

// batchList is an Arrow stream of batches held in memory.
type batchList struct{ recs []arrow.RecordBatch }

func (b *batchList) Read() (arrow.RecordBatch, error) {
	if len(b.recs) == 0 {
		return nil, io.EOF
	}
	r := b.recs[0]
	b.recs = b.recs[1:]
	return r, nil
}

func (b *batchList) Release() {}

// TestArrowReader reads Arrow streams into a table's storage order:
// columns matched by name in any order, large and view strings and
// narrower integers converted, absent nullable columns NULL, NULL keys and
// unknown columns refused.
func TestArrowReader(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	sch, err := schema.Parse("k:varchar:key, v:bigint, note:varchar")
	if err != nil {
		t.Fatal(err)
	}
	stream := arrow.NewSchema([]arrow.Field{
		{Name: "V", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "k", Type: arrow.BinaryTypes.LargeString, Nullable: true},
	}, nil)
	batch := func(keys []string, valid []bool) arrow.RecordBatch {
		b := array.NewRecordBuilder(mem, stream)
		defer b.Release()
		for i := range keys {
			b.Field(0).(*array.Int32Builder).Append(int32(i))
		}
		b.Field(1).(*array.LargeStringBuilder).AppendValues(keys, valid)
		return b.NewRecordBatch()
	}
	ctx := context.Background()

	good := batch([]string{"a", "b"}, nil)
	defer good.Release()
	r, err := ingest.NewArrowReader(ctx, &batchList{recs: []arrow.RecordBatch{good}}, stream, "stream", sch, mem)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Schema().Equal(sch.Arrow()) || rec.Column(0).(*array.String).Value(1) != "b" ||
		rec.Column(1).(*array.Int64).Value(1) != 1 || rec.Column(2).NullN() != 2 {
		t.Fatalf("converted batch: %v", rec)
	}
	rec.Release()
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("after the last batch: %v", err)
	}
	r.Close()

	bad := batch([]string{"a", ""}, []bool{true, false})
	defer bad.Release()
	r, err = ingest.NewArrowReader(ctx, &batchList{recs: []arrow.RecordBatch{bad}}, stream, "stream", sch, mem)
	if err != nil {
		t.Fatal(err)
	}
	var ve *ingest.ValueError
	if _, err := r.Next(); !errors.As(err, &ve) || ve.Column != "k" || ve.Row != 2 {
		t.Fatalf("a NULL key: %v", err)
	}
	r.Close()

	extra := arrow.NewSchema(append(stream.Fields(), arrow.Field{Name: "nope", Type: arrow.BinaryTypes.String}), nil)
	if _, err := ingest.NewArrowReader(ctx, &batchList{}, extra, "stream", sch, mem); err == nil {
		t.Fatal("a stream with a column the table lacks was accepted")
	}
	noKey := arrow.NewSchema(stream.Fields()[:1], nil)
	if _, err := ingest.NewArrowReader(ctx, &batchList{}, noKey, "stream", sch, mem); err == nil {
		t.Fatal("a stream without the key column was accepted")
	}
}
