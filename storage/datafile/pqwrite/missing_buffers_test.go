package pqwrite_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dormousedb/dormouse/storage/datafile/pqwrite"
)

// nullsWithoutValues returns 100 NULLs of typ that have a validity
// bitmap and no values buffer (byte arrays: offsets, which arrow-go
// insists on, but no bytes), as other producers than arrow-go's builders
// make them.
func nullsWithoutValues(typ arrow.DataType) arrow.Array {
	bufs := []*memory.Buffer{memory.NewBufferBytes(make([]byte, 16)), nil}
	if typ.ID() == arrow.STRING || typ.ID() == arrow.BINARY {
		bufs = []*memory.Buffer{bufs[0], memory.NewBufferBytes(make([]byte, 4*101)), nil}
	}
	return array.MakeFromData(array.NewData(typ, 100, bufs, nil, 100, 0))
}

// TestNullsWithoutBuffers writes arrays of only NULLs that have no values
// buffer (byte arrays: offsets but no bytes), as other producers than
// arrow-go's builders make them.
func TestNullsWithoutBuffers(t *testing.T) {
	for _, typ := range allTypes {
		for _, enc := range encodingsOf(typ) {
			a := nullsWithoutValues(typ)
			col := pqwrite.Column{Name: "c", Type: typ, Nullable: true, Encoding: enc, Fallback: deltaOf(typ)}
			data := writeFile(t, []pqwrite.Column{col}, []arrow.Array{a}, 30, pqwrite.Options{PageRows: 40})
			_, got := readBack(t, data)
			if got[0].Len() != 100 || got[0].NullN() != 100 {
				t.Errorf("%s %s: read %d rows, %d NULLs", typ, enc, got[0].Len(), got[0].NullN())
			}
			releaseAll(got)
			a.Release()
		}
	}
}

// TestReviewNullsWithoutAnyBuffer writes arrays of only NULLs that have
// a validity bitmap and no other buffer at all (byte arrays without
// offsets either), sliced at an offset, between batches of values.
func TestReviewNullsWithoutAnyBuffer(t *testing.T) {
	for _, typ := range allTypes {
		for _, enc := range encodingsOf(typ) {
			t.Run(fmt.Sprintf("%s/%s", typ, enc), func(t *testing.T) {
				empty := nullsWithoutValues(typ)
				defer empty.Release()
				part := array.NewSlice(empty, 5, 95)
				defer part.Release()
				vals := genColumn(nil, typ, 50, noNulls, sortedValues)
				defer vals.Release()
				col := pqwrite.Column{Name: "c", Type: typ, Nullable: true, Encoding: enc, Fallback: deltaOf(typ)}
				batches := [][]arrow.Array{{vals}, {empty}, {part}, {vals}}
				opts := pqwrite.Options{PageRows: 40}
				data := writeBatches(t, []pqwrite.Column{col}, batches, opts)
				// The rows written (arrow-go's Concatenate reads the
				// arrays without values as holding the next one's).
				nulls := array.MakeArrayOfNull(memory.DefaultAllocator, typ, empty.Len()+part.Len())
				defer nulls.Release()
				whole := concatBatches(t, []pqwrite.Column{col}, [][]arrow.Array{{vals}, {nulls}, {vals}})
				defer releaseAll(whole)
				verifyFile(t, []pqwrite.Column{col}, whole, data, opts)
			})
		}
	}
}

// TestReviewNullCountWithoutBitmap gives the Writer arrays that claim
// NULLs but have no validity bitmap (malformed: arrow-go's accessors read
// every row of them as valid). The Writer must refuse them or write what
// arrow-go's accessors see, not panic (it indexed the missing bitmap).
func TestReviewNullCountWithoutBitmap(t *testing.T) {
	for _, typ := range allTypes {
		t.Run(typ.String(), func(t *testing.T) {
			good := genColumn(nil, typ, 20, noNulls, sortedValues)
			defer good.Release()
			bufs := append([]*memory.Buffer{nil}, good.Data().Buffers()[1:]...)
			bad := array.MakeFromData(array.NewData(typ, 20, bufs, nil, 5, 0))
			defer bad.Release()
			col := pqwrite.Column{Name: "c", Type: typ, Nullable: true}
			var buf bytes.Buffer
			w, err := pqwrite.NewWriter(&buf, []pqwrite.Column{col}, pqwrite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("Write panicked: %v", r)
					}
				}()
				err = w.Write([]arrow.Array{bad})
			}()
			if err != nil {
				w.Abort()
				return // refused: fine
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			_, got := readBack(t, buf.Bytes())
			defer releaseAll(got)
			if !array.Equal(got[0], good) {
				t.Errorf("read back %v, arrow-go's accessors see %v", got[0], good)
			}
		})
	}
}
