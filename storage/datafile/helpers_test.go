package datafile_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/schema"
)

// parquetFile opens the data file key with arrow-go's own reader, to see
// what the Writer put in its metadata; it is closed when the test ends.
func parquetFile(t *testing.T, store objstore.Store, key string) *file.Reader {
	t.Helper()
	data, err := store.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pf.Close() })
	return pf
}

// newMem returns a checked allocator that fails the test if anything
// allocated from it is still held when the test ends.
func newMem(t *testing.T) *memory.CheckedAllocator {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

// batch builds a record batch of the table's columns from rows of Go
// values: int64, int32, float64, bool, string, []byte, arrow.Timestamp,
// arrow.Date32, or nil for NULL. The caller releases it.
func batch(t testing.TB, mem memory.Allocator, sch *schema.Schema, rows ...[]any) arrow.RecordBatch {
	t.Helper()
	b := array.NewRecordBuilder(mem, sch.Arrow())
	defer b.Release()
	for _, row := range rows {
		for c, v := range row {
			if err := appendValue(b.Field(c), v); err != nil {
				t.Fatalf("row %v column %d: %v", row, c, err)
			}
		}
	}
	return b.NewRecordBatch()
}

func appendValue(b array.Builder, v any) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	switch b := b.(type) {
	case *array.Int64Builder:
		b.Append(v.(int64))
	case *array.Int32Builder:
		b.Append(v.(int32))
	case *array.Float64Builder:
		b.Append(v.(float64))
	case *array.BooleanBuilder:
		b.Append(v.(bool))
	case *array.StringBuilder:
		b.Append(v.(string))
	case *array.BinaryBuilder:
		b.Append(v.([]byte))
	case *array.TimestampBuilder:
		b.Append(v.(arrow.Timestamp))
	case *array.Date32Builder:
		b.Append(v.(arrow.Date32))
	default:
		return fmt.Errorf("no test builder for %T", b)
	}
	return nil
}

// writeFile writes the batches to key and returns the file's Info.
func writeFile(t *testing.T, store objstore.Store, key string, sch *schema.Schema, opts datafile.WriterOptions, batches ...arrow.RecordBatch) datafile.Info {
	t.Helper()
	w, err := datafile.NewWriter(context.Background(), store, key, sch, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range batches {
		if err := w.Write(b); err != nil {
			t.Fatal(errors.Join(err, w.Abort()))
		}
	}
	info, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// readColumns reads the given columns and row groups of a file and returns
// each column concatenated into one array, which the caller releases.
func readColumns(t *testing.T, r *datafile.Reader, mem memory.Allocator, columns, rowGroups []int) []arrow.Array {
	t.Helper()
	rr, err := r.Records(context.Background(), columns, rowGroups)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	var parts [][]arrow.Array
	var recs []arrow.RecordBatch
	defer func() {
		for _, rec := range recs {
			rec.Release()
		}
	}()
	for {
		rec, err := rr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
		for c, col := range rec.Columns() {
			if c >= len(parts) {
				parts = append(parts, nil)
			}
			parts[c] = append(parts[c], col)
		}
	}
	out := make([]arrow.Array, len(parts))
	for c, p := range parts {
		a, err := array.Concatenate(p, mem)
		if err != nil {
			t.Fatal(err)
		}
		out[c] = a
	}
	return out
}

func releaseAll(arrs []arrow.Array) {
	for _, a := range arrs {
		a.Release()
	}
}

// assertColumnsEqual compares the read columns with the written ones.
func assertColumnsEqual(t *testing.T, want arrow.RecordBatch, cols []int, got []arrow.Array) {
	t.Helper()
	if len(got) != len(cols) {
		t.Fatalf("read %d columns, want %d", len(got), len(cols))
	}
	for i, c := range cols {
		if !array.Equal(want.Column(c), got[i]) {
			t.Errorf("column %d (%s):\n got %v\nwant %v", c, want.ColumnName(c), got[i], want.Column(c))
		}
	}
}

// openFile opens a data file with a checked allocator and closes it at
// the end of the test.
func openFile(t *testing.T, store objstore.Store, key string, sch *schema.Schema, mem memory.Allocator) *datafile.Reader {
	t.Helper()
	r, err := datafile.Open(context.Background(), store, key, sch, datafile.WithAllocator(mem), datafile.WithBatchRows(1000))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Error(err)
		}
	})
	return r
}

func allColumns(sch *schema.Schema) []int {
	out := make([]int, len(sch.Columns()))
	for i := range out {
		out[i] = i
	}
	return out
}

// assertEmptyStore fails unless the store holds no object at all.
func assertEmptyStore(t *testing.T, store objstore.Store) {
	t.Helper()
	objs, err := store.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 0 {
		t.Errorf("store holds %v, want nothing", objs)
	}
}
