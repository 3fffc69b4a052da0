package ingest

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/storage/schema"
)

// lengthSchema has a varchar(3) value column.
var lengthSchema = &schema.Schema{
	RowKeys: []schema.Column{{Name: "k", Type: schema.BigInt}},
	Values:  []schema.Column{{Name: "c", Type: schema.Varchar, Nullable: true, SQLType: schema.SQLVarchar, Length: 3}},
}

// TestCSVLength: the CSV reader keeps values of up to 3 characters (not
// bytes), cuts spaces past them, and refuses longer values with the line.
func TestCSVLength(t *testing.T) {
	read := func(text string) ([]string, error) {
		alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer alloc.AssertSize(t, 0)
		r, err := NewCSVReader(strings.NewReader(text), "data.csv", lengthSchema, CSVOptions{Allocator: alloc})
		if err != nil {
			return nil, err
		}
		defer r.Close()
		return readAll(t, r, lengthSchema.Arrow())
	}
	rows, err := read("k,c\n1,abc\n2,éèê\n3,\"ab    \"\n4,\n5,a\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"1|abc", "2|éèê", "3|ab ", "4|NULL", "5|a"}; !reflect.DeepEqual(rows, want) {
		t.Errorf("rows %q, want %q", rows, want)
	}
	_, err = read("k,c\n1,abc\n2,abcd\n")
	var ve *ValueError
	if !errors.As(err, &ve) || ve.Line != 3 || ve.Column != "c" || ve.Msg != `value too long for type character varying(3): "abcd"` {
		t.Errorf("too long: %v", err)
	}
}

// TestCheckLengths: inputs other than CSV are checked batch by batch.
func TestCheckLengths(t *testing.T) {
	b := array.NewRecordBuilder(memory.DefaultAllocator, lengthSchema.Arrow())
	defer b.Release()
	for i, v := range []string{"abc", "é€x", "", "abc ", "abcd"} {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.StringBuilder).Append(v)
	}
	b.Field(0).(*array.Int64Builder).Append(9)
	b.Field(1).AppendNull()
	rec := b.NewRecordBatch()
	defer rec.Release()
	limits := lengthLimits(lengthSchema)
	if err := checkLengths(rec.NewSlice(0, 3), limits, 0); err != nil {
		t.Errorf("values that fit: %v", err)
	}
	err := checkLengths(rec, limits, 10)
	var ve *ValueError
	if !errors.As(err, &ve) || ve.Row != 14 || ve.Column != "c" {
		t.Errorf("too long: %#v", err)
	}
}
