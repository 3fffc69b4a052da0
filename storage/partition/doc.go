// Package partition holds the partition tree of a table: a binary tree of
// key-space regions whose leaves cover every possible row key exactly once.
// Only leaves receive new data; a leaf that grows past the table's split
// threshold is split in two along one row-key dimension.
//
// A Tree is a value inside the table state (storage/state): it changes only
// by transactions, and a Tree handed out by the state is never changed, so
// it can be read without locks. Region bounds are plain key encodings
// (storage/schema), compared as bytes.
package partition
