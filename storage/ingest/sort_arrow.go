package ingest

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// SortableType reports whether a Sorter can carry columns of type dt:
// BIGINT, INTEGER, DOUBLE, BOOLEAN, VARCHAR, VARBINARY, TIMESTAMP and DATE
// (Arrow INT64, INT32, FLOAT64, BOOL, STRING, BINARY, TIMESTAMP, DATE32).
func SortableType(dt arrow.DataType) bool {
	_, ok := kindOf(dt)
	return ok
}

// NewArrowSorter is NewSorter for batches of any Arrow schema whose column
// types all pass SortableType (the query engine sorts rows that are not a
// table's). It returns an error naming the first column it cannot carry.
//
// It sets up the Sorter as NewSorter does; keep the two in step.
func NewArrowSorter(sch *arrow.Schema, opts SortOptions, key KeyFunc) (*Sorter, error) {
	for i, f := range sch.Fields() {
		if !SortableType(f.Type) {
			return nil, fmt.Errorf("sort: column %d %q has type %s, which the sorter cannot carry", i+1, f.Name, f.Type)
		}
	}
	if opts.MemoryBytes <= 0 {
		opts.MemoryBytes = DefaultSortMemory
	}
	if opts.BatchRows <= 0 {
		opts.BatchRows = DefaultBatchRows
	}
	if opts.Allocator == nil {
		opts.Allocator = memory.DefaultAllocator
	}
	s := &Sorter{sch: sch, opts: opts, key: key}
	s.codec = newRowCodec(s.sch)
	s.mem = newMemRun(s.codec, opts.Allocator)
	return s, nil
}
