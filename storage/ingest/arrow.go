package ingest

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/compute/exec"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/storage/schema"
)

// batchSource is where a ParquetReader takes its batches from: Read
// returns the next batch, which the source owns until the next Read, or
// io.EOF; Release frees what the source holds.
type batchSource interface {
	Read() (arrow.RecordBatch, error)
	Release()
}

// NewArrowReader reads an Arrow stream — a Flight SQL bulk ingest, an IPC
// stream — as a RecordReader in the table's storage order, matching and
// converting its columns exactly as NewParquetReader does a file's
// (columns by name in any order, safe widening casts, large and view
// strings and binaries to VARCHAR and VARBINARY, NULL keys refused);
// streamSchema is the stream's schema and name names it in errors. src
// follows batchSource: Read returns a batch src owns until the next Read,
// or io.EOF. Closing the reader releases src.
func NewArrowReader(ctx context.Context, src interface {
	Read() (arrow.RecordBatch, error)
	Release()
}, streamSchema *arrow.Schema, name string, sch *schema.Schema, alloc memory.Allocator) (RecordReader, error) {
	if alloc == nil {
		alloc = memory.DefaultAllocator
	}
	plan, err := planParquet(name, streamSchema, sch)
	if err != nil {
		return nil, err
	}
	for _, p := range plan {
		if p.file >= 0 && p.conv == convNone && !arrow.TypeEqual(streamSchema.Field(p.file).Type, p.dt) {
			return nil, fmt.Errorf("%s: column %q has type %s, want %s", name, p.name, streamSchema.Field(p.file).Type, p.dt)
		}
	}
	return &ParquetReader{
		name: name, ctx: exec.WithAllocator(ctx, alloc), alloc: alloc,
		arrow: sch.Arrow(), plan: plan, rr: src,
	}, nil
}
