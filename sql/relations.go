package sql

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
)

// Relation is a table or view a client can name, as metadata front doors
// (Flight SQL GetTables, JDBC's DatabaseMetaData) describe it.
type Relation struct {
	// Schema is "public" for the store's tables, and "dormouse",
	// "information_schema" or "pg_catalog" for the views of the store.
	Schema string
	Name   string
	// System marks a view of the store rather than a table of rows.
	System bool
	// Columns are the relation's columns as SELECT * returns them.
	Columns *arrow.Schema
	// RowKeys are a table's row key columns, in key order.
	RowKeys []string
}

// PublicSchema is the schema the store's tables are in.
const PublicSchema = "public"

// Relations lists the store's tables, by name, then the views of the
// store, as one snapshot of the catalog sees them.
func (e *Engine) Relations(ctx context.Context) ([]Relation, error) {
	snap, err := newSnapshot(ctx, e.db)
	if err != nil {
		return nil, err
	}
	var out []Relation
	for _, d := range snap.defs {
		all := d.Schema.Columns()
		fields := make([]arrow.Field, 0, len(all))
		for _, i := range d.DeclaredColumns() {
			c := all[i]
			fields = append(fields, arrow.Field{Name: c.Name, Type: c.Type.Arrow(), Nullable: c.Nullable})
		}
		keys := make([]string, len(d.Schema.RowKeys))
		for i, c := range d.Schema.RowKeys {
			keys[i] = c.Name
		}
		out = append(out, Relation{Schema: PublicSchema, Name: d.Name, Columns: arrow.NewSchema(fields, nil), RowKeys: keys})
	}
	b := &binder{s: e.NewSession(), ctx: ctx, snap: snap}
	for _, v := range b.virtualTables() {
		out = append(out, Relation{Schema: v.schema, Name: v.name, System: true, Columns: v.arrowSchema()})
	}
	return out, nil
}
