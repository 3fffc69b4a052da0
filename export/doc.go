// Package export moves bulk data between tables and files outside the
// store: COPY … TO 's3://…' writes a query's result as Parquet or CSV files,
// in parallel per partition, and COPY t FROM 's3://…' imports a set of
// files through storage/ingest, in parallel per group of files.
//
// It sits beside the compactor: it uses storage (and, for CSV text, the
// PostgreSQL text encoders of sql/pgtypes) and runs queries through a
// Runner that the SQL engine implements, so that the engine can in turn
// start exports without an import cycle.
//
// # Life cycle of an export
//
//  1. The SQL engine plans the query into splits (sql.PlanSplits): one per
//     leaf partition when the result is the concatenation of per-partition
//     results, else one. Start checks the target (a manifest already there
//     is refused unless OVERWRITE) and commits Create to the exports log, a
//     store-level transaction log (storage/txlog) under "exports/", with
//     one pending Task per split.
//  2. Workers — the statement's own, `dormouse exporter` processes on any
//     machine, the one in `dormouse serve` — claim tasks by committing
//     Claim with a lease, renew it while they work and commit Finish with
//     the files they wrote, or Release on failure. A worker that dies
//     loses its task when the lease runs out; the next claim takes it.
//  3. A task writes part-<partition>-<n>.<ext> files, rolled every
//     MAX_FILE_ROWS rows, in key order. Names are fixed by the export's
//     task and the row count, so a retried task replaces its own files and
//     never adds others.
//  4. The worker whose Finish completes the last task (or any worker that
//     later finds an export with every task done) writes _manifest.json —
//     every file with its rows and bytes, the schema, the query and the
//     log sequence numbers read — and commits Complete. The manifest is
//     written last: a target with a manifest holds a whole export.
//  5. A task that fails for good (or MaxAttempts times) fails the export;
//     its files, and the manifest if one was written, are deleted and
//     Cleaned is committed.
//
// # Imports
//
// An import is the same record with Kind "import": its tasks are groups of
// input files, and a task runs storage/ingest over its files (sort,
// partition, write, commit). Each task commits with AddFiles.Once set to
// the task's id, so a task run by two workers (one past its lease) adds
// its rows once. A bad value fails its task with the file, row and column
// named; the task commits nothing, and the import fails.
package export
