// Package schema describes the shape of a Dormouse table: its row key, sort
// key and value columns, their types, the Arrow schema they map to, and the
// order-preserving byte encoding of keys that partitions, file references and
// sketches compare.
//
// A table is a sorted multiset: rows are kept in (row keys, sort keys) order
// and equal keys may repeat, as in a ClickHouse MergeTree.
package schema
