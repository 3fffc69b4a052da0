package compact_test

import (
	"math"
	"reflect"
	"testing"

	"github.com/dormousedb/dormouse/storage/datafile/internal/compact"
	"github.com/dormousedb/dormouse/storage/datafile/internal/compact/thrifttest"
)

// TestWriterAsThrift writes a struct of every kind of field the Parquet
// structures use (long and short lists, field id gaps past 15, nested
// structs, bools as fields and as list elements) and reads it back with
// Apache Thrift's own compact protocol (thrifttest).
func TestWriterAsThrift(t *testing.T) {
	var w compact.Writer
	w.Reset([]byte("prefix"))
	w.I32(1, -7)
	w.Bool(2, true)
	w.Bool(3, false)
	w.I8(4, -3)
	w.I16(5, 300)
	w.I64(25, math.MinInt64) // a gap past 15
	w.String(26, "name")
	w.Binary(27, []byte{0, 255})
	w.Begin(28)
	w.I32(1, math.MaxInt32)
	w.Begin(40)
	w.End()
	w.End()
	w.ListBegin(29, compact.I64, 20)
	for i := range 20 {
		w.ListI64(int64(i) - 10)
	}
	w.ListBegin(30, compact.BoolTrue, 16)
	for i := range 16 {
		w.ListBool(i%3 == 0)
	}
	w.ListBegin(31, compact.Struct, 2)
	for i := range 2 {
		w.BeginStruct()
		w.I64(3, int64(i))
		w.End()
	}
	w.ListBegin(32, compact.Binary, 3)
	w.ListString("a")
	w.ListBinary(nil)
	w.ListBinary([]byte("bc"))
	w.ListBegin(33, compact.I32, 2)
	w.ListI32(-1)
	w.ListI32(1 << 30)
	w.Stop()
	b := w.Bytes()
	if string(b[:6]) != "prefix" {
		t.Fatalf("Reset(b) did not append to b: %q", b[:6])
	}

	got, n, err := thrifttest.Decode(b[6:])
	if err != nil {
		t.Fatal(err)
	}
	want := thrifttest.Struct{
		1: int32(-7), 2: true, 3: false, 4: int8(-3), 5: int16(300), 25: int64(math.MinInt64),
		26: "name", 27: string([]byte{0, 255}),
		28: thrifttest.Struct{1: int32(math.MaxInt32), 40: thrifttest.Struct{}},
		29: func() []any {
			var l []any
			for i := range 20 {
				l = append(l, int64(i)-10)
			}
			return l
		}(),
		30: func() []any {
			var l []any
			for i := range 16 {
				l = append(l, i%3 == 0)
			}
			return l
		}(),
		31: []any{thrifttest.Struct{3: int64(0)}, thrifttest.Struct{3: int64(1)}},
		32: []any{"a", "", "bc"},
		33: []any{int32(-1), int32(1 << 30)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read back\n%v\nwant\n%v", got, want)
	}
	if left := len(b[6:]) - n; left != 0 {
		t.Errorf("%d bytes left after the struct", left)
	}
}
