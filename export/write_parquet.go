package export

import (
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/dormousedb/dormouse/storage/datafile"
)

// exportZstdLevel is the zstd level of exported Parquet. Level 1 costs
// about 40% less CPU than the codec's default (3) and, on sorted data,
// writes files hardly larger (see datafile.WriterOptions.CompressionLevel
// and the compactor's choice of the same level).
const exportZstdLevel = 1

// parquetWriter writes one Parquet file the way other engines read best:
// statistics and page indexes on every column, the sorting columns when
// the rows are in a known order, the Arrow schema in the footer (so that
// Arrow readers get back exact types), row groups of
// datafile.DefaultRowGroupRows.
type parquetWriter struct {
	sink   *countingWriter
	fw     *pqarrow.FileWriter
	schema *arrow.Schema
}

func newParquetWriter(c *writerConfig, sink *countingWriter) (*parquetWriter, error) {
	fw, err := pqarrow.NewFileWriter(c.schema, sink, parquetProps(c), pqarrow.NewArrowWriterProperties(
		pqarrow.WithStoreSchema(), pqarrow.WithAllocator(c.alloc)))
	if err != nil {
		return nil, err
	}
	return &parquetWriter{sink: sink, fw: fw, schema: c.schema}, nil
}

func parquetProps(c *writerConfig) *parquet.WriterProperties {
	props := []parquet.WriterProperty{
		parquet.WithAllocator(c.alloc),
		parquet.WithStats(true),
		parquet.WithPageIndexEnabled(true),
		parquet.WithMaxRowGroupLength(datafile.DefaultRowGroupRows),
		parquet.WithDataPageSize(datafile.DefaultPageSizeBytes),
	}
	switch c.opts.Compression {
	case CompressionZstd:
		props = append(props, parquet.WithCompression(compress.Codecs.Zstd), parquet.WithCompressionLevel(exportZstdLevel))
	case CompressionSnappy:
		props = append(props, parquet.WithCompression(compress.Codecs.Snappy))
	default:
		props = append(props, parquet.WithCompression(compress.Codecs.Uncompressed))
	}
	if len(c.sortedBy) > 0 {
		sorting := make([]parquet.SortingColumn, len(c.sortedBy))
		for i, col := range c.sortedBy {
			sorting[i] = parquet.SortingColumn{ColumnIdx: int32(col)}
		}
		props = append(props, parquet.WithSortingColumns(sorting))
	}
	for _, f := range c.schema.Fields() {
		// A dictionary only where it pays, decided per column chunk from
		// its first page, as the table's own files do.
		props = append(props, parquet.WithDictionaryCostFallbackFor(f.Name, true))
	}
	return parquet.NewWriterProperties(props...)
}

func (w *parquetWriter) Write(rec arrow.RecordBatch) error {
	if rec.NumRows() == 0 {
		return nil
	}
	if !rec.Schema().Equal(w.schema) {
		// pqarrow wants the writer's very schema; a part of a plan may
		// differ in names or nullability only.
		if int(rec.NumCols()) != w.schema.NumFields() {
			return fmt.Errorf("batch has %d columns, the export %d", rec.NumCols(), w.schema.NumFields())
		}
		for i, f := range w.schema.Fields() {
			if !arrow.TypeEqual(rec.Column(i).DataType(), f.Type) {
				return fmt.Errorf("column %s is %s in a batch, %s in the export", f.Name, rec.Column(i).DataType(), f.Type)
			}
		}
		rec = array.NewRecordBatch(w.schema, rec.Columns(), rec.NumRows())
		defer rec.Release()
	}
	return w.fw.WriteBuffered(rec)
}

func (w *parquetWriter) Close() (int64, error) {
	if err := w.fw.Close(); err != nil {
		return 0, errors.Join(err, w.sink.abort())
	}
	return w.sink.finish()
}

func (w *parquetWriter) Abort() error { return w.sink.abort() }
