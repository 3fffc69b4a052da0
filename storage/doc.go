// Package storage opens a Dormouse store: an object store (a local
// directory or an S3 bucket, named by URL), its catalog of tables, and the
// tables themselves. It is the entry point the command line, the SQL engine
// and the background workers use; the parts live in the packages below it:
//
//	objstore/   the object store interface and its local and S3 backends
//	schema/     column types and the order-preserving key encoding
//	txlog/      the transaction log on the object store (generic)
//	catalog/    the table list, itself a transaction log
//	partition/  the partition tree
//	state/      a table's state: partitions, file references, jobs
//	table/      a table: definition + state log + store
//	datafile/   sorted Parquet data files and their key sketches
//	ingest/     CSV and Parquet input, external sort, commit
//	gc/         the garbage collector: unreferenced files, orphans, temp files
//
// storage imports nothing of ours outside this tree.
package storage
