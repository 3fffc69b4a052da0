// Package iterator reads a table's iterators from its properties: how rows
// with equal keys combine (aggregations = 'sum(n), max(hi), min(x),
// last(y)') and which rows age off (age_off = 'ts 30d').
//
// Iterators are part of a table's meaning, not of one process: the same
// Spec is applied by the query engine to every scan of the table and by
// the compactor to every job, so an answer never depends on whether
// compaction has run. That holds only for iterators whose result over a
// stream of rows equals their result over any grouping of it into
// compacted files; Parse rejects the rest (see Parse). This package only
// parses and validates; engine.Iterate applies a Spec to a stream of
// Arrow batches. It sits in the storage layer and imports nothing of ours
// but the catalog and schema.
package iterator
