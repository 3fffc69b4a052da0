// Package ingest loads input files into a table. Readers turn CSV and
// Parquet files into Arrow record batches in the table's storage order;
// Write puts their rows in order of partition and key — merging inputs
// that are in key order already as they are read (write_inputs.go),
// sorting the others with an external Sorter within a memory bound — and
// writes them as data files, one per leaf partition (two when an input
// turned out unsorted part way), several at once (write_leaves.go); Ingest
// commits the files in one transaction.
//
// It sits in the storage layer. The readers and the sorter use only
// storage/schema, arrow-go and an LZ4 codec.
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
//     LARGE_STRING to VARCHAR, any timestamp unit to microseconds, ...). It
//     reads only the footer until the first Next, and tells from the
//     footer's statistics where its row keys start (KeyBound), so that a
//     merge of sorted files opens each only when it reaches it.
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
//  1. NewSorter, then Add batches. Add copies each row, with its key, into
//     a compact row format (sort_rows.go), one chunk per batch, so the
//     caller keeps its batch. Putting rows in order then moves one
//     contiguous record per row instead of touching every column of every
//     input batch at random, which is what makes the output fast.
//  2. When the chunks and the sort scratch would pass
//     SortOptions.MemoryBytes, the buffered rows are sorted and spilled as
//     a sorted run: the encoded rows, in order, in a file under a private
//     directory in SortOptions.TempDir. Sorting first deals the rows, in two
//     goroutines, into buckets of about 2 MB by the 8 key bytes after the
//     prefix that all keys share, against splitters sampled from the keys
//     (sort_mem.go); each bucket is then sorted on its own (a radix sort of
//     those 8 bytes, a stable comparison sort of ties) and its rows gathered
//     while they fit in the processor's caches. Gathering rows at random
//     from hundreds of megabytes instead costs a cache and TLB miss per row.
//  3. Finish returns a Sorted stream. If nothing spilled, it decodes output
//     batches straight from the sorted buckets. Otherwise the runs are
//     merged with a loser tree (in several passes if there are more runs
//     than the memory bound lets one merge read at once); the rows still in
//     memory join the final merge as a run of their own when they fit.
//     Output batches are decoded column by column into plain slices and
//     copied into Arrow buffers once, never appended row by row to Arrow
//     builders; a goroutine decodes the next batch while the caller works
//     on the current one.
//  4. Close (of the Sorter before Finish, of the Sorted after) releases
//     every buffer and removes every temporary file, also after an error.
//
// Rows come out in key order; rows with equal keys come out in the order
// they were added (the sort is stable).
package ingest
