package datafile

import (
	"io"

	"github.com/dormousedb/dormouse/storage/datafile/pqwrite"
	"github.com/dormousedb/dormouse/storage/schema"
)

// Why pqwrite and not arrow-go's writer.
//
// arrow-go's file.Writer (pqarrow) cost about 325 ns of CPU a row of a
// compaction's output (zstd on PLAIN pages ~120, its DELTA_BYTE_ARRAY
// encoder ~90 for two columns, byte-array statistics ~35, buffers grown
// and zeroed per page), cut pages by encoded bytes only (a sorted
// delta-encoded key would fill a page with a whole row group), and its
// delta encoders wrote a page of only NULLs after a page of values with
// the previous page's bytes (v18.8.0), so nullable columns could not be
// delta-encoded. pqwrite writes the same files (types, statistics, page
// index, sorting columns, the Arrow schema) from the batches' buffers,
// cuts pages at maxPageRows rows as well as at PageSizeBytes, and
// delta-encodes nullable columns too: see writer_encodings.go for what
// that saves.

// newParquetWriter starts the Parquet file of a table of schema sch on w,
// with the table schema (JSON) meta in its footer. opts has its defaults
// and a Codec NewWriter has checked.
func newParquetWriter(sch *schema.Schema, w io.Writer, opts WriterOptions, meta string) (*pqwrite.Writer, error) {
	codec, err := parseCodec(opts.Codec)
	if err != nil {
		return nil, err
	}
	return pqwrite.NewWriter(w, columnEncodings(sch), pqwrite.Options{
		Codec:              codec,
		CompressionLevel:   opts.CompressionLevel,
		CompressionLevelUp: opts.CompressionLevelUp,
		PageBytes:          opts.PageSizeBytes,
		PageRows:           maxPageRows(opts.PageSizeBytes),
		RowGroupRows:       opts.RowGroupRows,
		SortingColumns:     sch.NumKeys(),
		Metadata:           []pqwrite.KeyValue{{Key: schemaMetadataKey, Value: meta}},
	})
}
