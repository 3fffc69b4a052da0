// Package txlog keeps a replicated state machine on an object store: an
// append-only log of entries, log/<seq>, each written with create-if-absent
// so that two writers can never both commit the same sequence number, plus
// periodic snapshots, snapshots/<seq>, so a reader replays only the tail.
//
// It is generic over the state and transaction types; the table state
// (storage/state) and the catalog (storage/catalog) both run on it.
//
// Life cycle of a commit: callers hand transactions to Commit; transactions
// waiting in one process are gathered into one entry (group commit); the
// entry is validated against the cached state at the head of the log and
// written as log/<head+1>. If another writer took that number, the cache
// follows the log to the new head, the transactions are validated again
// (one that no longer applies fails with its own error, the rest are retried).
// A write that fails ambiguously (a timeout after the object landed) is
// resolved by reading the entry back and looking for our entry id, so a
// commit is never applied twice and never reported failed when it happened.
package txlog
