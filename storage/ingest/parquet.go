package ingest

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/compute/exec"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/dormousedb/dormouse/storage/schema"
)

// ParquetOptions configures a ParquetReader. The zero value reads batches of
// DefaultBatchRows rows from memory.DefaultAllocator, one column at a time.
type ParquetOptions struct {
	// BatchRows bounds the rows of a batch; 0 means DefaultBatchRows.
	BatchRows int
	// Parallel decodes the columns of a batch in parallel goroutines.
	Parallel bool
	// Allocator allocates the batches; nil means memory.DefaultAllocator.
	Allocator memory.Allocator
}

// ParquetReader reads a Parquet file as record batches in the table's
// storage order. Columns are matched by name, ignoring case, in any order; a
// nullable value column may be absent (it is all NULL). A column whose type
// is narrower than the table's is cast: INT8/16/32 and UINT8/16/32 to BIGINT,
// INT8/16 and UINT8/16 to INTEGER, FLOAT and integers up to 32 bits to
// DOUBLE, LARGE_STRING and STRING_VIEW to VARCHAR, any string or binary to
// VARBINARY, timestamps of any unit and zone to microseconds UTC (truncating
// nanoseconds), DATE64 to DATE; dictionary-encoded columns are unpacked. It is a RecordReader; it is not safe for
// concurrent use.
type ParquetReader struct {
	name  string
	ctx   context.Context
	alloc memory.Allocator
	arrow *arrow.Schema
	plan  []pqColumn
	rr    batchSource // a Parquet file's batches, or an Arrow stream's (arrow.go)
	rows  int64       // rows returned so far
	// A Parquet file's reader, and the Arrow schema of its columns. Its
	// batches (rr) are asked for at the first Next: asking reads the first
	// row group's column chunks, while an input waiting in a merge should
	// hold no more than its footer (KeyBound).
	pf         *file.Reader
	fr         *pqarrow.FileReader
	fileSchema *arrow.Schema
	err        error
	closed     bool
}

// pqColumn says where a storage column comes from.
type pqColumn struct {
	file    int // position in the file's batches, or -1 if absent
	name    string
	dt      arrow.DataType
	conv    conversion
	notNull string
}

type conversion uint8

const (
	convNone   conversion = iota
	convRetype            // same layout, other type metadata (a time zone, string as binary)
	convCast
)

// NewParquetReader opens a Parquet file on r and matches its columns to sch;
// name is used in error messages. Mismatched columns are reported here, bad
// values (a NULL key) by Next. The reader does not close r.
func NewParquetReader(ctx context.Context, r parquet.ReaderAtSeeker, name string, sch *schema.Schema, opts ParquetOptions) (*ParquetReader, error) {
	if opts.BatchRows <= 0 {
		opts.BatchRows = DefaultBatchRows
	}
	if opts.Allocator == nil {
		opts.Allocator = memory.DefaultAllocator
	}
	pf, err := file.NewParquetReader(r, file.WithReadProps(parquet.NewReaderProperties(opts.Allocator)))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: int64(opts.BatchRows), Parallel: opts.Parallel}, opts.Allocator)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	fileSchema, err := fr.Schema()
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	plan, err := planParquet(name, fileSchema, sch)
	if err != nil {
		return nil, err
	}
	return &ParquetReader{
		name: name, ctx: exec.WithAllocator(ctx, opts.Allocator), alloc: opts.Allocator,
		arrow: sch.Arrow(), plan: plan, pf: pf, fr: fr, fileSchema: fileSchema,
	}, nil
}

func planParquet(name string, fileSchema *arrow.Schema, sch *schema.Schema) ([]pqColumn, error) {
	cols := sch.Columns()
	plan := make([]pqColumn, len(cols))
	for i, c := range cols {
		plan[i] = pqColumn{file: -1, name: c.Name, dt: c.Type.Arrow()}
		switch {
		case i < sch.NumKeys():
			plan[i].notNull = "key column"
		case !c.Nullable:
			plan[i].notNull = "NOT NULL column"
		}
	}
	var extra, errs []string
	for fi, f := range fileSchema.Fields() {
		i := sch.Index(f.Name)
		if i < 0 {
			extra = append(extra, fmt.Sprintf("%q", f.Name))
			continue
		}
		if plan[i].file >= 0 {
			return nil, fmt.Errorf("%s: the file has column %q twice", name, cols[i].Name)
		}
		plan[i].file = fi
		conv, ok := conversionFor(f.Type, cols[i].Type)
		if !ok {
			errs = append(errs, fmt.Sprintf("column %q has type %s in the file but %s in the table", cols[i].Name, f.Type, cols[i].Type))
		}
		plan[i].conv = conv
	}
	if len(extra) > 0 {
		return nil, fmt.Errorf("%s: the file has columns that are not in the table: %s", name, strings.Join(extra, ", "))
	}
	for _, p := range plan {
		if p.file < 0 && p.notNull != "" {
			errs = append(errs, fmt.Sprintf("the file lacks %s %q", p.notNull, p.name))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: %s", name, strings.Join(errs, "; "))
	}
	return plan, nil
}

// conversionFor says how an Arrow type read from a file becomes the column
// type t, if it can without losing values.
func conversionFor(dt arrow.DataType, t schema.Type) (conversion, bool) {
	if d, ok := dt.(*arrow.DictionaryType); ok {
		// Dictionary-encoded values (as a file written from dictionary
		// arrays reads back) are unpacked by a cast.
		_, ok := conversionFor(d.ValueType, t)
		return convCast, ok
	}
	id := dt.ID()
	switch t {
	case schema.BigInt:
		return castIf(id == arrow.INT64, oneOf(id, arrow.INT8, arrow.INT16, arrow.INT32, arrow.UINT8, arrow.UINT16, arrow.UINT32))
	case schema.Integer:
		return castIf(id == arrow.INT32, oneOf(id, arrow.INT8, arrow.INT16, arrow.UINT8, arrow.UINT16))
	case schema.Double:
		return castIf(id == arrow.FLOAT64, oneOf(id, arrow.FLOAT32, arrow.INT8, arrow.INT16, arrow.INT32, arrow.UINT8, arrow.UINT16, arrow.UINT32))
	case schema.Boolean:
		return convNone, id == arrow.BOOL
	case schema.Varchar:
		return castIf(id == arrow.STRING, oneOf(id, arrow.LARGE_STRING, arrow.STRING_VIEW))
	case schema.Varbinary:
		if id == arrow.STRING {
			return convRetype, true
		}
		return castIf(id == arrow.BINARY, oneOf(id, arrow.LARGE_BINARY, arrow.BINARY_VIEW, arrow.LARGE_STRING, arrow.STRING_VIEW))
	case schema.Timestamp:
		ts, ok := dt.(*arrow.TimestampType)
		if !ok {
			return convNone, false
		}
		if ts.Unit == arrow.Microsecond {
			return convRetype, true
		}
		return convCast, true
	case schema.Date:
		return castIf(id == arrow.DATE32, id == arrow.DATE64)
	}
	return convNone, false
}

func castIf(same, castable bool) (conversion, bool) {
	switch {
	case same:
		return convNone, true
	case castable:
		return convCast, true
	}
	return convNone, false
}

func oneOf(id arrow.Type, ids ...arrow.Type) bool {
	for _, x := range ids {
		if id == x {
			return true
		}
	}
	return false
}

// Next returns the next batch, or io.EOF after the last. The caller owns the
// batch. A NULL in a key or NOT NULL column ends the stream with a
// *ValueError.
func (r *ParquetReader) Next() (arrow.RecordBatch, error) {
	if r.closed {
		return nil, ErrClosed
	}
	if r.rr == nil && r.err == nil {
		rr, err := r.fr.GetRecordReader(r.ctx, nil, nil)
		if err != nil {
			r.err = fmt.Errorf("read %s: %w", r.name, err)
			return nil, r.err
		}
		r.rr = rr
	}
	for r.err == nil {
		rec, err := r.rr.Read()
		if err != nil {
			if err != io.EOF {
				err = fmt.Errorf("read %s: %w", r.name, err)
			}
			r.err = err
			break
		}
		if rec.NumRows() == 0 {
			continue
		}
		out, err := r.convert(rec)
		if err != nil {
			r.err = err
			break
		}
		r.rows += rec.NumRows()
		return out, nil
	}
	return nil, r.err
}

func (r *ParquetReader) convert(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	n := int(rec.NumRows())
	cols := make([]arrow.Array, len(r.plan))
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, p := range r.plan {
		var err error
		if cols[i], err = r.column(rec, p, n); err != nil {
			return nil, err
		}
		if p.notNull != "" && cols[i].NullN() > 0 {
			row := int64(0)
			for cols[i].IsValid(int(row)) {
				row++
			}
			return nil, &ValueError{File: r.name, Row: r.rows + row + 1, Column: p.name, Msg: "NULL in " + p.notNull}
		}
	}
	return array.NewRecordBatch(r.arrow, cols, int64(n)), nil
}

// column returns a new reference to the storage column p of rec.
func (r *ParquetReader) column(rec arrow.RecordBatch, p pqColumn, n int) (arrow.Array, error) {
	if p.file < 0 {
		return array.MakeArrayOfNull(r.alloc, p.dt, n), nil
	}
	a := rec.Column(p.file)
	switch p.conv {
	case convRetype:
		d := a.Data()
		nd := array.NewData(p.dt, d.Len(), d.Buffers(), nil, d.NullN(), d.Offset())
		defer nd.Release()
		return array.MakeFromData(nd), nil
	case convCast:
		opts := compute.SafeCastOptions(p.dt)
		opts.AllowTimeTruncate = true // nanoseconds to the table's microseconds
		out, err := compute.CastArray(r.ctx, a, opts)
		if err != nil {
			return nil, fmt.Errorf("%s: column %q: cast %s to %s: %w", r.name, p.name, a.DataType(), p.dt, err)
		}
		return out, nil
	}
	a.Retain()
	return a, nil
}

// Close releases the reader's buffers. It does not close the file.
func (r *ParquetReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if r.rr != nil {
		r.rr.Release()
	}
	return nil
}
