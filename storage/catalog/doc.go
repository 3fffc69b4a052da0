// Package catalog is the list of tables, kept on the object store itself as
// a transaction log (catalog/log/<seq>) like every table's state, so any
// number of processes sharing a store agree on which tables exist without
// any other database.
//
// A TableDef is immutable: its name, id, schema, initial split points and
// properties. Properties change by an Alter transaction that stores a new
// TableDef. A table's own objects live under tables/<id>/, so a table dropped
// and created again under the same name never sees the old one's files.
package catalog
