package ingest

import (
	"encoding/binary"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestNewArrowSorter(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	if _, err := NewArrowSorter(arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int16}}, nil), SortOptions{}, nil); err == nil {
		t.Fatal("INT16: want an error")
	}
	sch := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	b := array.NewInt64Builder(mem)
	b.AppendValues([]int64{5, 3, 9, 1}, []bool{true, true, false, true})
	col := b.NewArray()
	b.Release()
	rec := array.NewRecordBatch(sch, []arrow.Array{col}, 4)
	col.Release()
	defer rec.Release()
	// Key: the value, big-endian with the sign flipped; NULL last.
	key := func(dst []byte, r arrow.RecordBatch, row int) []byte {
		c := r.Column(0).(*array.Int64)
		if c.IsNull(row) {
			return append(dst, 0xFF)
		}
		return binary.BigEndian.AppendUint64(append(dst, 0), uint64(c.Value(row))^1<<63)
	}
	s, err := NewArrowSorter(sch, SortOptions{Allocator: mem, TempDir: t.TempDir()}, key)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Add(rec); err != nil {
		t.Fatal(err)
	}
	sorted, err := s.Finish()
	if err != nil {
		t.Fatal(err)
	}
	defer sorted.Close()
	var got []any
	for {
		b, err := sorted.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		c := b.Rec.Column(0).(*array.Int64)
		for i := range c.Len() {
			if c.IsNull(i) {
				got = append(got, nil)
			} else {
				got = append(got, c.Value(i))
			}
		}
		b.Rec.Release()
	}
	want := []any{int64(1), int64(3), int64(5), nil}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}
