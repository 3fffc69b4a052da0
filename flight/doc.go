// Package flight is Dormouse's Arrow Flight SQL front door: a gRPC server
// (github.com/apache/arrow-go/v18/arrow/flight/flightsql) over the SQL
// engine, so that ADBC drivers, the Flight SQL JDBC driver and every
// Arrow client get query results as the Arrow batches the engine made,
// with no row-by-row encoding.
//
// It sits above sql, beside pgwire: cmd/dormouse starts a Server on a
// listener next to the PostgreSQL one. Every call runs in a fresh
// sql.Session; nothing lives between calls but what the client holds.
//
// Life cycle of a query:
//
//  1. GetFlightInfo (CommandStatementQuery, or a prepared statement's
//     handle) plans the statement with sql.PlanSplits, which pins the log
//     sequence number of every table it reads. The FlightInfo carries the
//     result's Arrow schema and one endpoint per split: one per leaf
//     partition the plan reads after key-range pruning when the result is
//     the concatenation of per-partition results, else one. Ordered is set
//     when the query asked for an order that the endpoints, in order,
//     keep.
//  2. Each endpoint's ticket is self-contained and signed (ticket.go): the
//     statement, its parameters, the pinned snapshot, the partition, the
//     statement's time and an expiry, under a key kept in the store
//     (flight/secret). Any serve process on the store answers it; with
//     Options.Advertise the endpoints name those processes.
//  3. DoGet checks the ticket, re-plans the statement against the pinned
//     table states, restricted to its partition (sql.RunSplit), and streams
//     the batches as the engine makes them, cut to at most a few MiB, with
//     a channel of two batches between the engine and gRPC so that memory
//     stays bounded whatever the result's size. The batches' buffers go to
//     gRPC as they are, not copied into a message first (send.go). A
//     client that goes away
//     cancels the stream's context and so the scan; CancelFlightInfo
//     cancels every running stream of the query in this process and
//     refuses its tickets from then on.
//
// Prepared statements (prepared.go) are stateless too: the handle holds
// the text and, after DoPut binds them, the parameter rows; each row runs
// the statement once. Updates (INSERT, CREATE/DROP TABLE, ALTER TABLE …
// SET) answer the rows they affected; bulk ingest (ingest.go) streams the
// batches through the storage ingest path and commits once at the end.
// Metadata (metadata.go) answers GetSqlInfo, catalogs, schemas, tables
// with their Arrow schemas, table types, primary keys (the row keys) and
// XDBC type info.
//
// Errors (errors.go) carry the engine's message, a gRPC code chosen by
// SQLSTATE and an ErrorInfo detail whose Reason is the SQLSTATE. A panic
// in a call becomes Internal and never takes the server down.
// Authentication (auth.go): none yet; basic credentials of any user get a
// bearer token.
package flight
