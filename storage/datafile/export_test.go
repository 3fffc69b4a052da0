package datafile

import (
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"

	"github.com/dormousedb/dormouse/storage/schema"
)

// DefaultParquetProps are arrow-go writer properties like the Writer's
// defaults (zstd, statistics, page index, sorting columns, page size,
// dictionaries where they pay), for the benchmark's bare pqarrow writer.
func DefaultParquetProps(sch *schema.Schema, _ arrow.RecordBatch) *parquet.WriterProperties {
	opts := WriterOptions{}.withDefaults()
	sorting := make([]parquet.SortingColumn, sch.NumKeys())
	for i := range sorting {
		sorting[i] = parquet.SortingColumn{ColumnIdx: int32(i)}
	}
	props := []parquet.WriterProperty{
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithStats(true),
		parquet.WithPageIndexEnabled(true),
		parquet.WithSortingColumns(sorting),
		parquet.WithMaxRowGroupLength(opts.RowGroupRows),
		parquet.WithDataPageSize(opts.PageSizeBytes),
	}
	for _, c := range sch.Columns() {
		props = append(props, parquet.WithDictionaryCostFallbackFor(c.Name, true))
	}
	return parquet.NewWriterProperties(props...)
}

// SetDirect turns the direct read path (read_direct.go) on or off for r,
// so tests can compare it with pqarrow's.
func SetDirect(r *Reader, on bool) { r.noDirect = !on }

// ReadPageHeader exposes the page header decoder to the fuzz test.
func ReadPageHeader(b []byte) (int, error) {
	h, err := readPageHeader(b)
	return h.headerLen, err
}

// ScratchPages is how many pages r's scratch group holds between reads:
// none, or an idle Reader would pin them.
func ScratchPages(r *Reader) int {
	if r.scratch == nil {
		return 0
	}
	return len(r.scratch.pages)
}

// DecodeShrunkPage decodes data page p of a column chunk of r as though
// its offset index gave the page only rows rows: how the reader meets a
// page header that claims more values than the page has rows.
func DecodeShrunkPage(r *Reader, rowGroup, column, p int, rows int64) error {
	ci, err := r.chunk(rowGroup, column)
	if err != nil {
		return err
	}
	c := *ci
	c.pages = slices.Clone(ci.pages)
	if p+1 < len(c.pages) {
		c.pages[p+1].firstRow = c.pages[p].firstRow + rows
	} else {
		c.numRows = c.pages[p].firstRow + rows
	}
	loc := c.pages[p]
	raw := make([]byte, loc.size)
	if _, err := r.obj.ReadAt(raw, loc.offset); err != nil {
		return err
	}
	_, err = decodePage(&c, r.pageID(loc.offset), raw, nil)
	return err
}
