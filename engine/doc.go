// Package engine executes physical query plans over Arrow record batches.
// It sits below sql/ (which parses, binds and plans) and above storage/
// (which it reads through table snapshots), and knows nothing of any wire
// protocol.
//
// A Plan is immutable data: a tree of nodes, each declaring its output
// schema and ordering. Open builds the execution state — an Operator tree —
// from a plan; nothing runs before the first Next. Operators stream
// arrow.RecordBatch values: Next returns a batch the caller owns and
// releases, or io.EOF after the last. An operator releases every batch it
// does not pass on. Memory is reserved from the ExecContext's pool, so a
// sort or a hash table past the limit spills or fails with SQLSTATE 53200,
// never takes the process down. Cancellation comes through the context.
//
// # Operators
//
// Row-wise: Values (literal rows; OneRow for SELECT without FROM), Filter,
// Project, Limit, Unnest (arrays into rows: set-returning functions). Blocking on their input: HashAggregate (with partial and
// final modes, so that per-partition aggregates run in parallel and merge;
// the functions live in agg), Sort (external, spilling through
// storage/ingest's sorter), TopN (a bounded heap), Window, Distinct, SetOp
// (INTERSECT/EXCEPT [ALL]), and the build sides of HashJoin and
// NestedLoopJoin. Combining inputs: Union (UNION ALL), Gather (inputs read
// in parallel, batches in arrival order) and OrderedConcat (inputs one
// after another, keeping their order). Collect, Drain and Run read an
// operator to the end.
//
// Hash tables (keyTable) group typed key columns batch by batch; sort keys
// are encoded as order-preserving bytes (SortKeyEncoder) shared by Sort,
// TopN, Window and aggregates with ORDER BY. What an operator holds is
// reserved from ExecContext.Mem: Sort spills past its budget; the hash
// tables, TopN and a window partition fail with 53200 past the limit.
//
// Sub-packages: expr (scalar expressions), sqlerr (SQLSTATE errors), agg
// (aggregate functions).
package engine
