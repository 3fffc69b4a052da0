// Package state is the state of one table as its transaction log defines
// it: the partition tree, the references from partitions to data files,
// compaction job assignments, and files waiting to be deleted.
//
// The state changes only by the transactions in txn.go, appended to the
// table's log (storage/txlog). Machine applies them. A State handed out by
// the log is never changed afterwards: Apply works on a clone. So a State is
// a consistent snapshot that queries can read for as long as they like.
//
// Files and references: a data file is written once and never changed. It is
// referenced by one partition when written; when that partition is split its
// references move to both children (each counting about half the rows) until
// a compaction rewrites the file into each child. A file with no references
// is kept for the table's GC delay, then deleted by a DeleteFiles
// transaction after its object is removed.
//
// Compaction jobs (jobs.go): AssignJob creates a pending job holding its
// references; ClaimJob gives it to a worker for a lease, RenewJob extends
// the lease, ReleaseJob ends a failed attempt, ReplaceFiles commits it.
// Leases are measured on the log's clock (each entry's time), never the
// reader's, so every replay decides alike; workers on machines whose clocks
// disagree by more than a fraction of the lease may take a job early. The
// state keeps the last JobHistoryLen ended attempts for reports.
package state
