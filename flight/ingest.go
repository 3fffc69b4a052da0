package flight

import (
	"context"
	"errors"
	"io"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	pb "github.com/apache/arrow-go/v18/arrow/flight/gen/flight"
	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/storage"
	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/ingest"
	"github.com/dormousedb/dormouse/storage/schema"
	"github.com/dormousedb/dormouse/storage/table"
)

// Bulk ingest (CommandStatementIngest, ADBC's adbc_ingest): the stream's
// batches go through the storage ingest path — sorted by partition and
// key within a memory bound, one file per leaf — and are committed once,
// at the end. A stream that breaks midway commits nothing.
//
// A table the ingest creates (modes create, replace, create-append) takes
// the stream's columns, in order; its row key is the first column unless
// the command's options name others:
//
//	row_keys      comma-separated row key columns (NOT NULL)
//	sort_keys     comma-separated sort key columns
//	split_points  comma-separated values of the first row key to pre-split at
//	<property>    any table property (split_threshold, …)
//
// (each also with a "dormouse." prefix). Such a table is written and
// committed under a fresh id first, and enters the catalog only once its
// rows are committed — replacing the old table of that name in replace
// mode — so a failed ingest leaves the catalog as it was.

// DoPutCommandStatementIngest ingests a stream of record batches.
func (s *Server) DoPutCommandStatementIngest(ctx context.Context, cmd flightsql.StatementIngest, rdr flight.MessageReader) (int64, error) {
	n, err := s.ingest(ctx, cmd, rdr)
	return n, toStatus(err)
}

func (s *Server) ingest(ctx context.Context, cmd flightsql.StatementIngest, rdr flight.MessageReader) (int64, error) {
	if len(cmd.GetTransactionId()) > 0 {
		return 0, sqlerr.New(sqlerr.FeatureNotSupported, "transactions are not supported")
	}
	if cmd.GetTemporary() {
		return 0, sqlerr.New(sqlerr.FeatureNotSupported, "temporary tables are not supported")
	}
	if c := cmd.GetCatalog(); c != "" && !strings.EqualFold(c, CatalogName) {
		return 0, sqlerr.New(sqlerr.UndefinedObject, "catalog \"%s\" does not exist", c)
	}
	if sc := cmd.GetSchema(); sc != "" && !strings.EqualFold(sc, "public") {
		return 0, sqlerr.New(sqlerr.FeatureNotSupported, "tables live in schema \"public\", not \"%s\"", sc)
	}
	name := cmd.GetTable()
	db := s.eng.DB()
	old, err := db.Catalog.Get(ctx, name)
	exists := err == nil
	if err != nil && !errors.Is(err, catalog.ErrNoTable) {
		return 0, err
	}
	opts := cmd.GetTableDefinitionOptions()
	switch {
	case exists && opts.GetIfExists() == pb.CommandStatementIngest_TableDefinitionOptions_TABLE_EXISTS_OPTION_APPEND:
		t, err := db.Table(ctx, old.Name)
		if err != nil {
			return 0, err
		}
		return s.ingestInto(ctx, t, rdr)
	case exists && opts.GetIfExists() == pb.CommandStatementIngest_TableDefinitionOptions_TABLE_EXISTS_OPTION_REPLACE:
	case exists:
		return 0, sqlerr.New(sqlerr.DuplicateTable, "relation \"%s\" already exists", name)
	case opts.GetIfNotExist() != pb.CommandStatementIngest_TableDefinitionOptions_TABLE_NOT_EXIST_OPTION_CREATE:
		return 0, sqlerr.New(sqlerr.UndefinedTable, "relation \"%s\" does not exist", name)
	}
	def, err := tableDef(name, rdr.Schema(), cmd.GetOptions())
	if err != nil {
		return 0, err
	}
	return s.ingestNew(ctx, db, def, old, rdr)
}

// ingestNew writes the stream into a table that is not yet in the
// catalog, then adds it there (dropping old first, when replacing).
func (s *Server) ingestNew(ctx context.Context, db *storage.DB, def *catalog.TableDef, old *catalog.TableDef, rdr flight.MessageReader) (int64, error) {
	t, err := table.Open(ctx, db.Store, def)
	if err != nil {
		return 0, err
	}
	n, err := s.ingestInto(ctx, t, rdr)
	if err == nil && old != nil {
		err = db.DropTable(ctx, old.Name)
	}
	if err == nil {
		_, err = db.CreateTable(ctx, *def)
	}
	if err != nil {
		return 0, errors.Join(err, deletePrefix(context.WithoutCancel(ctx), db, def.Prefix()))
	}
	return n, nil
}

// deletePrefix removes the objects of a table that never entered the
// catalog.
func deletePrefix(ctx context.Context, db *storage.DB, prefix string) error {
	objs, err := db.Store.List(ctx, prefix)
	if err != nil {
		return err
	}
	var errs []error
	for _, o := range objs {
		errs = append(errs, db.Store.Delete(ctx, o.Key))
	}
	return errors.Join(errs...)
}

// ingestInto ingests the stream into t in one commit.
func (s *Server) ingestInto(ctx context.Context, t *table.Table, rdr flight.MessageReader) (int64, error) {
	in, err := ingest.NewArrowReader(ctx, streamSource{rdr}, rdr.Schema(), "ingest stream", t.Def.Schema, s.alloc)
	if err != nil {
		return 0, sqlerr.Wrap(sqlerr.DatatypeMismatch, err)
	}
	defer in.Close()
	res, err := ingest.Ingest(ctx, t, []ingest.RecordReader{in}, ingest.Options{Allocator: s.alloc})
	if err != nil {
		var ve *ingest.ValueError
		if errors.As(err, &ve) {
			return 0, sqlerr.Wrap(sqlerr.NullValueNotAllowed, err)
		}
		return 0, err
	}
	return res.Rows, nil
}

// streamSource reads a DoPut stream's batches; the server releases the
// stream itself.
type streamSource struct{ r flight.MessageReader }

// Read returns the stream's next batch, which the stream owns until the
// next Read, or io.EOF.
func (s streamSource) Read() (arrow.RecordBatch, error) {
	if s.r.Next() {
		return s.r.RecordBatch(), nil
	}
	if err := s.r.Err(); err != nil {
		return nil, err
	}
	return nil, io.EOF
}

// Release does nothing: the server releases the stream.
func (streamSource) Release() {}

// tableDef defines a table for a stream's columns and the ingest options.
func tableDef(name string, sch *arrow.Schema, options map[string]string) (*catalog.TableDef, error) {
	opt := func(k string) (string, bool) {
		if v, ok := options[k]; ok {
			return v, true
		}
		v, ok := options["dormouse."+k]
		return v, ok
	}
	if sch.NumFields() == 0 {
		return nil, sqlerr.New(sqlerr.InvalidParameterValue, "the stream has no columns")
	}
	cols := make([]schema.Column, sch.NumFields())
	order := make([]string, sch.NumFields())
	for i, f := range sch.Fields() {
		t, ok := columnType(f.Type)
		if !ok {
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "column \"%s\" has type %s, which no table column holds", f.Name, f.Type)
		}
		cols[i] = schema.Column{Name: f.Name, Type: t, Nullable: true}
		order[i] = f.Name
	}
	rowKeys := []string{cols[0].Name}
	if v, ok := opt("row_keys"); ok {
		rowKeys = splitNames(v)
	}
	var sortKeys []string
	if v, ok := opt("sort_keys"); ok {
		sortKeys = splitNames(v)
	}
	sc := &schema.Schema{}
	used := map[int]bool{}
	take := func(names []string, dst *[]schema.Column) error {
		for _, n := range names {
			i := sch.FieldIndices(n)
			if len(i) != 1 {
				return sqlerr.New(sqlerr.UndefinedColumn, "key column \"%s\" is not a column of the stream", n)
			}
			if used[i[0]] {
				return sqlerr.New(sqlerr.DuplicateColumn, "column \"%s\" is named twice as a key", n)
			}
			used[i[0]] = true
			c := cols[i[0]]
			c.Nullable = false
			*dst = append(*dst, c)
		}
		return nil
	}
	if err := take(rowKeys, &sc.RowKeys); err != nil {
		return nil, err
	}
	if err := take(sortKeys, &sc.SortKeys); err != nil {
		return nil, err
	}
	for i, c := range cols {
		if !used[i] {
			sc.Values = append(sc.Values, c)
		}
	}
	if err := sc.Validate(); err != nil {
		return nil, sqlerr.Wrap(sqlerr.InvalidParameterValue, err)
	}
	def := &catalog.TableDef{Name: name, ID: catalog.NewID(), Schema: sc, Order: order, Properties: catalog.Properties{}}
	if v, ok := opt("split_points"); ok {
		pts, err := splitPoints(sc.RowKeys[0].Type, v)
		if err != nil {
			return nil, err
		}
		def.SplitPoints = pts
	}
	for k, v := range options {
		k = strings.TrimPrefix(k, "dormouse.")
		if _, ok := catalog.Lookup(k); !ok {
			continue
		}
		props, err := def.Properties.With(k, v)
		if err != nil {
			return nil, sqlerr.Wrap(sqlerr.InvalidParameterValue, err)
		}
		def.Properties = props
	}
	if err := def.Validate(); err != nil {
		return nil, sqlerr.Wrap(sqlerr.InvalidParameterValue, err)
	}
	return def, nil
}

// columnType is the column type that holds an Arrow type, widening the
// narrower integers and floats and the large and view strings.
func columnType(dt arrow.DataType) (schema.Type, bool) {
	if t, ok := schema.FromArrow(dt); ok {
		return t, true
	}
	switch dt.ID() {
	case arrow.INT8, arrow.INT16, arrow.UINT8, arrow.UINT16:
		return schema.Integer, true
	case arrow.UINT32:
		return schema.BigInt, true
	case arrow.FLOAT32:
		return schema.Double, true
	case arrow.STRING_VIEW:
		return schema.Varchar, true
	case arrow.BINARY_VIEW:
		return schema.Varbinary, true
	case arrow.DATE64:
		return schema.Date, true
	case arrow.DICTIONARY:
		return columnType(dt.(*arrow.DictionaryType).ValueType)
	}
	return schema.Invalid, false
}

func splitNames(v string) []string {
	var out []string
	for _, n := range strings.Split(v, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// splitPoints encodes split point values of the first row key as the
// catalog keeps them.
func splitPoints(t schema.Type, v string) ([][]byte, error) {
	var out [][]byte
	for _, p := range splitNames(v) {
		enc, err := schema.ParseValue(t, p)
		if err != nil {
			return nil, sqlerr.New(sqlerr.InvalidParameterValue, "split point %q: %v", p, err)
		}
		out = append(out, enc)
	}
	return out, nil
}
