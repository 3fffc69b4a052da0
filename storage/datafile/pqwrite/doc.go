// Package pqwrite writes Parquet files of flat Arrow columns: the data
// files of storage/datafile.
//
// # Why our own writer
//
// arrow-go's writer (file.Writer, pqarrow) cost about 325 ns of CPU per
// row of a compaction's output, most of what a 3M rows/s per core
// compaction may spend on everything: zstd searching PLAIN pages for
// repeats, a DELTA_BYTE_ARRAY encoder that copies every value, statistics
// kept through interfaces, buffers grown and zeroed per page. Its delta
// encoders also keep a stale bit writer after a page is cut, which writes
// a page of only NULLs after one of values with the previous page's bytes
// (v18.8.0), so nullable columns could not be delta-encoded, and delta
// encodings are what spare zstd most of its work. The files we write are
// a small corner of Parquet (flat columns of eight types, data pages v1,
// four encodings), which this package writes directly from Arrow buffers,
// allocating nothing per row. A compaction's output (BenchmarkWrite: a
// sorted VARCHAR key, a BIGINT, a DOUBLE, a VARCHAR; zstd level 1) costs
// it 165-205 ns of CPU a row, zstd two thirds of that, and 13.7 bytes a
// row; PLAIN pages, as arrow-go wrote the nullable columns, 350-410 ns and
// 17.0 bytes.
//
// # What a file holds
//
// Everything arrow-go's pqarrow writes for the same Arrow schema, so that
// arrow-go, Arrow C++ (pyarrow), DuckDB and datafile's direct reader read
// it as before: the same physical, logical and converted types, the Arrow
// schema (ARROW:schema) and the caller's key-value metadata in the footer,
// sorting columns on each row group, statistics per column chunk (min and
// max exact, in Parquet's order: signed integers, unsigned bytes, floats
// without NaN; NULL counts), and the page index (a column index and an
// offset index for every column chunk), written after the row groups.
// Pages are data pages v1 with RLE/bit-packed definition levels; values
// are PLAIN, dictionary-encoded (RLE_DICTIONARY indexes into a PLAIN
// dictionary page), DELTA_BINARY_PACKED or DELTA_BYTE_ARRAY, chosen per
// column by the caller; codecs are zstd, snappy, lz4_raw or none.
//
// # Life cycle
//
// NewWriter writes the magic bytes; Write takes batches of equal-length
// columns and encodes them page by page, cutting a page at PageRows rows
// or PageBytes bytes of encoded values, and a row group at RowGroupRows
// rows. A row group is held in memory, compressed, until it is complete,
// then written out column chunk by column chunk; Close writes the last
// one, the page index of every row group and the footer. Buffers are kept
// across pages and row groups.
package pqwrite
