package datafile

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// Why not pqarrow.FileWriter.
//
// A data page is the unit of a point read: the page index finds it, and
// the reader decodes it whole, then keeps it decoded in the page cache.
// arrow-go cuts pages by encoded size only, which bounds them well for
// PLAIN values but not for delta-encoded ones: a sorted BIGINT key takes
// a bit or two a row, and a 64 KiB page of it would hold a whole row
// group. columnWriter writes each column through arrow-go's column chunk
// writers itself (pqarrow.WriteArrowToColumn, as pqarrow.FileWriter does
// for flat columns) and also cuts a page once it holds maxPageRows rows.

// columnWriter writes record batches of flat columns to a Parquet file,
// buffering each row group, cutting row groups at rowGroupRows rows and
// data pages at maxPageRows rows (as well as arrow-go's size limit).
type columnWriter struct {
	wr           *file.Writer
	rgw          file.BufferedRowGroupWriter
	rgRows       int64 // rows in the current row group
	rowGroupRows int64
	maxPageRows  int64
	ctx          context.Context // pqarrow's write context
	nullable     []bool
	levels       []int16 // scratch: definition levels of a nullable column
}

// newColumnWriter starts a Parquet file on w for the flat schema sch,
// with key-value metadata meta; the Arrow schema is stored in the footer as
// pqarrow stores it (ARROW:schema), so other readers restore the same
// Arrow types.
func newColumnWriter(sch *arrow.Schema, w io.Writer, props *parquet.WriterProperties, meta metadata.KeyValueMetadata, maxPageRows int64) (*columnWriter, error) {
	arrowProps := pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(props.Allocator()))
	pqschema, err := pqarrow.ToParquet(sch, props, arrowProps)
	if err != nil {
		return nil, err
	}
	var ser bytes.Buffer
	iw := ipc.NewWriter(&ser, ipc.WithSchema(sch), ipc.WithAllocator(props.Allocator()))
	if err := iw.Close(); err != nil {
		return nil, fmt.Errorf("serialize the Arrow schema: %w", err)
	}
	meta = append(metadata.KeyValueMetadata{}, meta...)
	meta.Append("ARROW:schema", base64.StdEncoding.EncodeToString(ser.Bytes()))
	wr, err := file.NewParquetWriterWithError(w, pqschema.Root(), file.WithWriterProps(props), file.WithWriteMetadata(meta))
	if err != nil {
		return nil, err
	}
	cw := &columnWriter{wr: wr, rowGroupRows: props.MaxRowGroupLength(), maxPageRows: maxPageRows,
		ctx: pqarrow.NewArrowWriteContext(context.Background(), &arrowProps)}
	for _, f := range sch.Fields() {
		cw.nullable = append(cw.nullable, f.Nullable)
	}
	return cw, nil
}

// write appends the rows of rec, whose columns are the file's.
func (w *columnWriter) write(rec arrow.RecordBatch) error {
	n := rec.NumRows()
	for off := int64(0); off < n; {
		if w.rgw == nil || w.rgRows >= w.rowGroupRows {
			if err := w.closeRowGroup(); err != nil {
				return err
			}
			rgw, err := w.wr.AppendBufferedRowGroupChecked()
			if err != nil {
				return err
			}
			w.rgw, w.rgRows = rgw, 0
		}
		k := min(n-off, w.rowGroupRows-w.rgRows)
		for c, col := range rec.Columns() {
			if err := w.writeColumn(c, col, off, k); err != nil {
				return fmt.Errorf("column %s: %w", rec.Schema().Field(c).Name, err)
			}
		}
		off += k
		w.rgRows += k
	}
	return nil
}

// pageFlusher is what arrow-go's typed column chunk writers have beside
// file.ColumnChunkWriter: a way to cut the page being written.
type pageFlusher interface {
	FlushCurrentPage() error
}

// writeColumn writes rows [off, off+k) of col to column c of the current
// row group, cutting its pages at maxPageRows rows.
func (w *columnWriter) writeColumn(c int, col arrow.Array, off, k int64) error {
	cw, err := w.rgw.Column(c)
	if err != nil {
		return err
	}
	for k > 0 {
		inPage := pageRows(cw)
		m := min(k, max(w.maxPageRows-inPage, 1))
		part := col
		if off != 0 || m != int64(col.Len()) {
			part = array.NewSlice(col, off, off+m)
		}
		var levels []int16
		if w.nullable[c] {
			levels = w.definitionLevels(part)
		}
		err := pqarrow.WriteArrowToColumn(w.ctx, cw, part, levels, nil, w.nullable[c])
		if part != col {
			part.Release()
		}
		if err != nil {
			return err
		}
		// Cut only a page that is full: when arrow-go cut one for size
		// within the slice, the rows after it start the next page.
		if pageRows(cw) >= w.maxPageRows {
			f, ok := cw.(pageFlusher)
			if !ok {
				return fmt.Errorf("column writer %T cannot cut pages", cw)
			}
			if err := f.FlushCurrentPage(); err != nil {
				return err
			}
		}
		off += m
		k -= m
	}
	return nil
}

// pageRows returns the rows in the page a column chunk writer is filling,
// from its page statistics (the Writer always keeps statistics).
func pageRows(cw file.ColumnChunkWriter) int64 {
	st := cw.PageStatistics()
	if st == nil {
		return 0
	}
	return st.NumValues() + st.NullCount()
}

// definitionLevels returns the definition levels of a nullable flat
// column: 1 where a value is set, 0 where it is NULL.
func (w *columnWriter) definitionLevels(a arrow.Array) []int16 {
	n := a.Len()
	if cap(w.levels) < n {
		w.levels = make([]int16, n)
	}
	levels := w.levels[:n]
	if a.NullN() == 0 {
		for i := range levels {
			levels[i] = 1
		}
		return levels
	}
	for i := range levels {
		if a.IsValid(i) {
			levels[i] = 1
		} else {
			levels[i] = 0
		}
	}
	return levels
}

func (w *columnWriter) closeRowGroup() error {
	if w.rgw == nil {
		return nil
	}
	rgw := w.rgw
	w.rgw = nil
	return rgw.Close()
}

// close finishes the file: the last row group, the page index and the
// footer. It also releases the writer's buffers, so an aborted file is
// closed too (into a sink that discards it).
func (w *columnWriter) close() error {
	err := w.closeRowGroup()
	if cerr := w.wr.Close(); err == nil {
		err = cerr
	}
	return err
}
