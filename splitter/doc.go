// Package splitter splits a table's leaf partitions that hold more rows
// than the table's split_threshold, so that a table that starts as one
// partition grows into as many as its size needs.
//
// Where it sits: it uses storage only (storage/table for the state and
// commits, storage/datafile for the sketches written beside every data
// file). The `dormouse split` worker and `dormouse serve` call Run in a loop;
// any number of splitters, ingests and compactors may share a table.
//
// Life of a split: Run reads the state, and for each leaf over the
// threshold reads the sketches of the files the leaf references and finds
// the leaf's median row key on the first usable dimension (split_dimensions,
// or every row key in order). A file referenced by several leaves (split
// before a compaction rewrote it) counts only with the part of its key
// distribution inside the leaf's region, weighted by the rows the state
// counts for its reference. The split is one SplitPartition transaction:
// the leaf gets two child leaves, its file references move to both with
// per-file row estimates, and any compaction job on it is dropped. Run then
// reads the state again and goes on until no leaf is over the threshold,
// so a leaf far past it is split several times.
//
// Concurrency: a split names the leaf it splits, so of two splitters that
// pick the same leaf, only the first commit applies; the other's is refused
// (the leaf is no longer a leaf) and Run moves on — a leaf is never split
// twice. An ingest or compaction committed between Run's read and its
// commit does not stop the split: the log applies it to the newest state,
// and files Run did not see share their rows between the children evenly.
package splitter
