package sql

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/engine/expr"
)

// virtualTable is a table whose rows are computed when a statement reads
// it: the information_schema and dormouse.* views of the store, and (with
// the pgwire front door) the pg_catalog. They are few rows, built row by
// row; their columns are ordinary Arrow columns, so every query feature
// works on them.
type virtualTable struct {
	schema string
	name   string
	cols   []virtualColumn
	rows   func(ctx context.Context, snap *snapshot) ([][]any, error)
}

type virtualColumn struct {
	name string
	typ  arrow.DataType
}

// arrowSchema is the table's Arrow schema; every column is nullable.
func (v *virtualTable) arrowSchema() *arrow.Schema {
	fields := make([]arrow.Field, len(v.cols))
	for i, c := range v.cols {
		fields[i] = arrow.Field{Name: c.name, Type: c.typ, Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}

// batch computes the table's rows as one record batch.
func (v *virtualTable) batch(ctx context.Context, snap *snapshot, alloc memory.Allocator) (arrow.RecordBatch, error) {
	rows, err := v.rows(ctx, snap)
	if err != nil {
		return nil, err
	}
	b := array.NewRecordBuilder(alloc, v.arrowSchema())
	defer b.Release()
	for _, row := range rows {
		for i, val := range row {
			if err := appendValue(b.Field(i), val); err != nil {
				return nil, fmt.Errorf("%s.%s column %s: %w", v.schema, v.name, v.cols[i].name, err)
			}
		}
	}
	return b.NewRecordBatch(), nil
}

// appendValue appends a Go value to a builder of the matching type; nil
// appends NULL.
func appendValue(b array.Builder, v any) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	switch b := b.(type) {
	case *array.StringBuilder:
		if s, ok := v.(string); ok {
			b.Append(s)
			return nil
		}
	case *array.Int64Builder:
		switch n := v.(type) {
		case int64:
			b.Append(n)
			return nil
		case int:
			b.Append(int64(n))
			return nil
		case uint64:
			b.Append(int64(n))
			return nil
		}
	case *array.Int32Builder:
		switch n := v.(type) {
		case int32:
			b.Append(n)
			return nil
		case int:
			b.Append(int32(n))
			return nil
		}
	case *array.Int16Builder:
		switch n := v.(type) {
		case int16:
			b.Append(n)
			return nil
		case int:
			b.Append(int16(n))
			return nil
		}
	case *array.Float64Builder:
		if f, ok := v.(float64); ok {
			b.Append(f)
			return nil
		}
	case *array.BooleanBuilder:
		if x, ok := v.(bool); ok {
			b.Append(x)
			return nil
		}
	case *array.TimestampBuilder:
		if t, ok := v.(time.Time); ok {
			b.Append(arrow.Timestamp(t.UnixMicro()))
			return nil
		}
	}
	if err := expr.AppendGo(b, v); err == nil {
		return nil // arrays, real, and other Go integer types
	}
	return fmt.Errorf("cannot append %T to %s", v, b.Type())
}
