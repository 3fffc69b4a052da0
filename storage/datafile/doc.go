// Package datafile writes and reads Dormouse's data files: Parquet files of
// rows sorted by (row keys, sort keys), each with a sidecar sketch of its row
// keys.
//
// # Place in the layers
//
// datafile sits above objstore (where the bytes live) and schema (the column
// layout and the order-preserving key encoding), and below state and ingest,
// which decide what to write and record the files in the transaction log. It
// knows nothing of partitions, file references or transactions.
//
// # Life cycle of a file
//
//  1. Written once. Ingest or compaction opens a Writer, feeds it sorted
//     Arrow record batches and closes it. The Writer streams to the store
//     (multipart on S3), holding at most one row group in memory, checks that
//     every row comes in key order, and writes <name>.sketch beside
//     <name>.parquet. Nothing is visible under the key until Close returns
//     nil; Abort leaves nothing behind. Close returns an Info (row count,
//     size, first and last row key, sketch key) that goes into the "add
//     files" transaction.
//  2. Never changed. After its transaction commits the file is immutable; a
//     partition split does not rewrite it but makes two references to it,
//     one from each child partition, until compaction rewrites it.
//  3. Read many times. Queries and compactions Open it, prune row groups by
//     their statistics (RowGroupStats) and pages by the page index
//     (PageStats), and stream the wanted columns of the selected rows as
//     Arrow record batches (ReadRows): only the pages that hold those rows
//     are fetched, in few merged ranged reads per row group (read_cache.go).
//     The splitter reads and merges the sketches of a partition's files to
//     find the median row key.
//  4. Deleted by the garbage collector once no partition references it, data
//     file and sketch together (both keys come from Info).
//
// # Format
//
// Files are plain Parquet that DuckDB, Trino, Athena or Spark read without
// help: zstd pages, row-group statistics, column and offset indexes, sorting
// columns naming the key columns, and the Arrow schema stored in the footer.
// See writer.go and write_columns.go for why our own writer (pqwrite)
// writes them.
package datafile
