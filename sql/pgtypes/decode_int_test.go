package pgtypes

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dormousedb/dormouse/engine/expr"
)

// TestParsePlainIntAllocations: the one-value arrays of parsePlainInt hold the
// value, validate, and give back all they allocated; the general path
// they fall back to does too.
func TestParsePlainIntAllocations(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := &expr.Context{Alloc: mem}
	for _, c := range []struct {
		text string
		typ  arrow.DataType
		want int64
	}{
		{"0", expr.Int8Type, 0}, {"-0", expr.Int8Type, 0}, {"42", expr.Int8Type, 42},
		{"-123456789012345678", expr.Int8Type, -123456789012345678},
		{"9223372036854775807", expr.Int8Type, 9223372036854775807}, // general path
		{"-2147483648", expr.Int4Type, -2147483648},                 // general path
		{"-999999999", expr.Int4Type, -999999999}, {"7", expr.Int4Type, 7},
		{" 7", expr.Int4Type, 7}, {"+7", expr.Int8Type, 7},
	} {
		a, err := ParseText(ctx, c.text, c.typ)
		if err != nil {
			t.Fatalf("%q: %v", c.text, err)
		}
		if d := a.Data(); len(d.Buffers()) != 2 || d.Buffers()[1].Len() < c.typ.(arrow.FixedWidthDataType).Bytes() {
			t.Errorf("%q: buffers %v", c.text, d.Buffers())
		}
		if !arrow.TypeEqual(a.DataType(), c.typ) || a.Len() != 1 || a.NullN() != 0 {
			t.Errorf("%q: %v", c.text, a)
		}
		var got int64
		switch x := a.(type) {
		case *array.Int64:
			got = x.Value(0)
		case *array.Int32:
			got = int64(x.Value(0))
		}
		if got != c.want {
			t.Errorf("%q: %d, want %d", c.text, got, c.want)
		}
		// A slice of it, as a batch of one row would hold, then released.
		s := array.NewSlice(a, 0, 1)
		a.Release()
		s.Release()
	}
	if _, err := ParseText(ctx, "-", expr.Int8Type); err == nil {
		t.Error(`"-" parsed`)
	}
}
