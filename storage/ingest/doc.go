// Package ingest turns files into sorted Arrow record batches, the first half
// of loading data into a table; the second half (routing rows to partitions,
// writing data files, committing) sits on top of it in the same package.
//
// It lives in storage/ and imports only storage/schema and arrow-go.
//
// # Readers
//
// A RecordReader yields Arrow record batches whose schema is exactly
// schema.Schema.Arrow() of the table: columns in storage order (row keys,
// sort keys, values), keys NOT NULL. Two readers exist:
//
//   - CSVReader parses text with PostgreSQL CSV semantics (an unquoted empty
//     field is NULL, a quoted "" is the empty string; quoted fields may hold
//     delimiters, quotes and newlines). A splitter goroutine cuts the input
//     into chunks of whole records, tracking quotes so that a quoted newline
//     never splits a record; parser goroutines turn chunks into batches in
//     parallel and Next returns them in input order. Errors name the file,
//     the physical line and the column.
//   - ParquetReader reads a Parquet file through pqarrow, matching columns by
//     name, casting safely widening types (INT32 to BIGINT, FLOAT to DOUBLE,
//     LARGE_STRING to VARCHAR, any timestamp unit to microseconds, ...).
//
// Open chooses a reader from a local file's extension. Every reader's Next
// hands ownership of the batch to the caller, who releases it; Close releases
// what the reader still holds.
//
// # Sorting
//
// A Sorter orders rows by a byte key that the caller computes per row (a
// partition prefix followed by schema.AppendRowKey, for ingest). Its life
// cycle:
//
//  1. NewSorter, then Add batches: the sorter retains each batch (zero copy)
//     and appends the keys of its rows to an arena.
//  2. When the retained batches, keys and sort scratch would pass
//     SortOptions.MemoryBytes, the buffered rows are sorted (a radix sort of
//     8-byte key prefixes taken after the keys' common prefix, then a stable
//     comparison sort of ties) and spilled as a sorted run: an Arrow IPC
//     stream under a private directory in SortOptions.TempDir, with the key
//     as an extra column.
//  3. Finish returns a Sorted stream. If nothing spilled, it gathers output
//     batches straight from the in-memory permutation; otherwise the rest is
//     spilled too and the runs are merged with a loser tree, in several
//     passes if there are more runs than the memory bound allows to read at
//     once. Output batches are gathered per column from (source, row) lists,
//     never appended row by row.
//  4. Close (of the Sorter before Finish, of the Sorted after) releases every
//     batch and removes every temporary file, also after an error.
//
// Rows come out in key order; rows with equal keys come out in the order
// they were added (the sort is stable).
package ingest
