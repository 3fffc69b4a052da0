// Package gc is the garbage collector of a table's objects: data files no
// partition references any more, orphans the state never knew, and
// temporary files of writers that died.
//
// Where it sits: it uses storage/table (state, commits, the orphan
// listing) and the object store. `dormouse gc` and `dormouse serve` call Run
// in a loop; any number of collectors may run against one table at once.
//
// Everything waits for the table's gc_delay first, so that a query still
// reading an older state, or a writer that has not yet committed what it
// wrote, never finds its file gone:
//
//   - A file whose last reference went (a compaction replaced it, the table
//     was cleared) is marked with the time. Once the delay has passed, Run
//     deletes its data and sketch objects and then forgets it with a
//     DeleteFiles transaction, in batches. A collector that dies between
//     the two leaves a file the state knows but whose objects are gone; the
//     next Run deletes nothing (a missing object is fine) and commits. A
//     batch another collector forgot first is refused; Run re-reads the
//     state and commits what is left.
//   - An orphan is an object under the table's data prefix that the state
//     does not know: written by an ingest or compaction that crashed before
//     its commit. The objects are listed before the state is read, so a file
//     committed in between is known, not an orphan. Orphans older than the
//     delay by their modification time are deleted.
//   - Temporary files of a local store's writers killed mid-write, and on S3
//     incomplete multipart uploads, idle for longer than the delay, are
//     removed through the store's RemoveStaleTemp when it has one.
//
// The delay must be longer than the longest ingest or compaction (from its
// first write to its commit) and the longest query.
package gc
