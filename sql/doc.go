// Package sql is Dormouse's SQL layer: sessions, the catalog the binder
// resolves names in (tables of the store plus virtual tables: dormouse.*,
// information_schema and PostgreSQL's pg_catalog, pgcatalog*.go), binding of
// parsed statements (sql/ast, from sql/parser) into logical plans, the
// rewrites that push key ranges, filters, columns and limits down to the
// scan, and physical planning into engine plans.
//
// Every front door — pgwire, Flight SQL, the connectors, COPY TO and the
// `dormouse query` command — runs statements through a Session, and reads
// results as a stream of Arrow record batches.
//
// Life cycle of a statement: Session.Prepare parses and binds it against
// one consistent snapshot of each table it names (a log sequence number);
// Statement.Execute plans and opens the engine operators and returns Rows,
// which stream batches until io.EOF.
//
// A front door that reads one result with many readers (Flight SQL
// endpoints) plans it as splits instead (split.go): PlanSplits pins every
// table's snapshot and cuts the plan into one self-contained Split per
// partition when the result is their concatenation; RunSplit runs one,
// in any process on the store.
package sql
