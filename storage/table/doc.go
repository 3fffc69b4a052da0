// Package table joins a table's definition (storage/catalog), its state and
// transaction log (storage/state, storage/txlog) and the object store its
// files live in. Ingest, queries, the compactor and reports all reach a
// table through a Table.
//
// Objects of a table live under tables/<id>/: log/<seq> and snapshots/<seq>
// for the state, data/<partition>/<file>.parquet and .sketch for the data.
package table
