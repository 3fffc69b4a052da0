package pgtypes

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dormousedb/dormouse/engine/expr"
)

// TestPlainIntReadsAsParseText checks PlainInt over a message's bytes
// against ParseText: where it reads a value, ParseText reads the same one
// (and the same text read as a string agrees).
func TestPlainIntReadsAsParseText(t *testing.T) {
	ctx := &expr.Context{Alloc: memory.DefaultAllocator, TimeZone: "UTC"}
	inputs := []string{"0", "-0", "7", "-7", "123456789", "-123456789", "2147483647", "-2147483648",
		"999999999", "999999999999999999", "-999999999999999999", "9223372036854775807",
		"", "-", "+5", " 5", "5 ", "1e3", "12a", "--1", "٣"}
	for _, typ := range []arrow.DataType{expr.Int8Type, expr.Int4Type, expr.Int2Type, expr.TextType} {
		for _, in := range inputs {
			v, ok := PlainInt([]byte(in), typ)
			if sv, sok := PlainInt(in, typ); sv != v || sok != ok {
				t.Errorf("%s %q: bytes read %d %v, string %d %v", typ, in, v, ok, sv, sok)
			}
			if !ok {
				continue
			}
			a, err := ParseText(ctx, in, typ)
			if err != nil {
				t.Errorf("%s %q: PlainInt read %d, ParseText failed: %v", typ, in, v, err)
				continue
			}
			var want int64
			switch a := a.(type) {
			case *array.Int64:
				want = a.Value(0)
			case *array.Int32:
				want = int64(a.Value(0))
			default:
				t.Errorf("%s %q: PlainInt read %d, ParseText made a %T", typ, in, v, a)
			}
			a.Release()
			if v != want {
				t.Errorf("%s %q: PlainInt read %d, ParseText %d", typ, in, v, want)
			}
		}
	}
}

// TestBinaryIntReadsAsAppendBinary checks BinaryInt against AppendBinary
// for int8 and int4 values of every size into each integer type: where it
// reads a value, AppendBinary appends the same one.
func TestBinaryIntReadsAsAppendBinary(t *testing.T) {
	values := [][]byte{
		binary.BigEndian.AppendUint64(nil, 42), binary.BigEndian.AppendUint64(nil, uint64(math.MaxUint64)),
		binary.BigEndian.AppendUint64(nil, 1<<63), binary.BigEndian.AppendUint32(nil, 7),
		binary.BigEndian.AppendUint32(nil, math.MaxUint32), binary.BigEndian.AppendUint32(nil, 1<<31), {1, 2}, {},
	}
	for _, oid := range []uint32{Int8, Int4, Int2, Float8, Text} {
		for _, typ := range []arrow.DataType{expr.Int8Type, expr.Int4Type, expr.Int2Type} {
			for _, data := range values {
				v, ok := BinaryInt(oid, data, typ)
				if !ok {
					continue
				}
				b := array.NewBuilder(memory.DefaultAllocator, typ)
				if err := AppendBinary(b, oid, data); err != nil {
					t.Errorf("OID %d into %s, %x: BinaryInt read %d, AppendBinary failed: %v", oid, typ, data, v, err)
					continue
				}
				a := b.NewArray()
				var want int64
				switch a := a.(type) {
				case *array.Int64:
					want = a.Value(0)
				case *array.Int32:
					want = int64(a.Value(0))
				default:
					t.Errorf("OID %d into %s: BinaryInt read %d into a %T", oid, typ, v, a)
				}
				if v != want {
					t.Errorf("OID %d into %s, %x: BinaryInt read %d, AppendBinary %d", oid, typ, data, v, want)
				}
				a.Release()
				b.Release()
			}
		}
	}
}

// TestStaticEncoders checks that a static encoder writes each value as
// the encoder NewEncoder makes for its column does, in both formats.
func TestStaticEncoders(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	i64 := array.NewInt64Builder(memory.DefaultAllocator)
	i32 := array.NewInt32Builder(memory.DefaultAllocator)
	str := array.NewStringBuilder(memory.DefaultAllocator)
	for _, v := range []int64{0, -1, 1, math.MinInt64, math.MaxInt64, math.MinInt32, math.MaxInt32} {
		i64.Append(v)
		i32.Append(int32(v))
		str.Append(strconv.FormatInt(v, 10) + "é")
	}
	for range 100 {
		v := rng.Int64()
		i64.Append(v)
		i32.Append(int32(v))
		str.Append(strconv.FormatInt(v, 36))
	}
	str.Append("")
	i64.Append(3)
	i32.Append(3)
	cols := []struct {
		a    arrow.Array
		oids []uint32
	}{
		{i64.NewArray(), []uint32{Int8, OID, Text}},
		{i32.NewArray(), []uint32{Int4, Text}},
		{str.NewArray(), []uint32{Text, Varchar, Name}},
	}
	for _, c := range cols {
		for _, oid := range c.oids {
			for _, format := range []int16{TextFormat, BinaryFormat} {
				st := StaticEncoder(c.a, oid, format)
				if st == nil {
					if !(oid == OID && format == BinaryFormat) {
						t.Errorf("%s as OID %d format %d: no static encoder", c.a.DataType(), oid, format)
					}
					continue
				}
				enc := NewEncoder(c.a, oid, format, time.UTC)
				for i := 0; i < c.a.Len(); i++ {
					if got, want := st(nil, c.a, i), enc(nil, i); !bytes.Equal(got, want) {
						t.Errorf("%s as OID %d format %d, row %d: %q, want %q", c.a.DataType(), oid, format, i, got, want)
					}
				}
			}
		}
		c.a.Release()
	}
	if StaticEncoder(oneValue(t, expr.Float8Type, 1.5), Float8, TextFormat) != nil {
		t.Error("a static encoder for a double")
	}
}
