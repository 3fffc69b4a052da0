package flight

import (
	"context"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql/schema_ref"
	pb "github.com/apache/arrow-go/v18/arrow/flight/gen/flight"
	"github.com/dormousedb/dormouse/sql"
)

// Metadata: the store is one catalog, CatalogName; its tables are in
// schema "public" (type TABLE) and the views of the store in "dormouse",
// "information_schema" and "pg_catalog" (type SYSTEM TABLE). Each
// metadata command's FlightInfo carries its fixed schema and one endpoint
// whose ticket is the command itself.

// CatalogName is the one catalog Flight SQL clients see.
const CatalogName = "dormouse"

// Table types of GetTables.
const (
	TypeTable       = "TABLE"
	TypeSystemTable = "SYSTEM TABLE"
)

// registerSqlInfo registers what GetSqlInfo answers.
func (s *Server) registerSqlInfo() error {
	infos := map[flightsql.SqlInfo]any{
		flightsql.SqlInfoFlightSqlServerName:                        "Dormouse",
		flightsql.SqlInfoFlightSqlServerVersion:                     s.opts.Version,
		flightsql.SqlInfoFlightSqlServerArrowVersion:                arrow.PkgVersion,
		flightsql.SqlInfoFlightSqlServerReadOnly:                    false,
		flightsql.SqlInfoFlightSqlServerSql:                         true,
		flightsql.SqlInfoFlightSqlServerSubstrait:                   false,
		flightsql.SqlInfoFlightSqlServerTransaction:                 int32(flightsql.SqlTransactionNone),
		flightsql.SqlInfoFlightSqlServerCancel:                      true,
		flightsql.SqlInfoFlightSqlServerBulkIngestion:               true,
		flightsql.SqlInfoFlightSqlServerIngestTransactionsSupported: false,
		flightsql.SqlInfoFlightSqlServerStatementTimeout:            int32(0),
		flightsql.SqlInfoFlightSqlServerTransactionTimeout:          int32(0),
		flightsql.SqlInfoTransactionsSupported:                      false,
		flightsql.SqlInfoDDLCatalog:                                 false,
		flightsql.SqlInfoDDLSchema:                                  false,
		flightsql.SqlInfoDDLTable:                                   true,
		flightsql.SqlInfoIdentifierCase:                             int32(flightsql.SqlCaseSensitivityCaseInsensitive),
		flightsql.SqlInfoIdentifierQuoteChar:                        `"`,
		flightsql.SqlInfoQuotedIdentifierCase:                       int32(flightsql.SqlCaseSensitivityCaseInsensitive),
		flightsql.SqlInfoAllTablesAreASelectable:                    true,
		flightsql.SqlInfoNullOrdering:                               int32(flightsql.SqlNullOrderingSortHigh),
		flightsql.SqlInfoKeywords:                                   keywords,
		flightsql.SqlInfoSearchStringEscape:                         `\`,
		flightsql.SqlInfoExtraNameChars:                             "",
		flightsql.SqlInfoSupportsColumnAliasing:                     true,
		flightsql.SqlInfoNullPlusNullIsNull:                         true,
		flightsql.SqlInfoSupportsTableCorrelationNames:              true,
		flightsql.SqlInfoSupportsDifferentTableCorrelationNames:     false,
		flightsql.SqlInfoSupportsExpressionsInOrderBy:               true,
		flightsql.SqlInfoSupportsOrderByUnrelated:                   true,
		flightsql.SqlInfoSupportedGroupBy:                           int32(1<<pb.SqlSupportedGroupBy_SQL_GROUP_BY_UNRELATED | 1<<pb.SqlSupportedGroupBy_SQL_GROUP_BY_BEYOND_SELECT),
		flightsql.SqlInfoSupportsLikeEscapeClause:                   false,
		flightsql.SqlInfoSupportsNonNullableColumns:                 true,
		flightsql.SqlInfoSupportedGrammar:                           int32(1<<pb.SupportedSqlGrammar_SQL_MINIMUM_GRAMMAR | 1<<pb.SupportedSqlGrammar_SQL_CORE_GRAMMAR),
		flightsql.SqlInfoSupportsIntegrityEnhancementFacility:       false,
		flightsql.SqlInfoOuterJoinsSupportLevel:                     int32(pb.SqlOuterJoinsSupportLevel_SQL_FULL_OUTER_JOINS),
		flightsql.SqlInfoSchemaTerm:                                 "schema",
		flightsql.SqlInfoProcedureTerm:                              "procedure",
		flightsql.SqlInfoCatalogTerm:                                "database",
		flightsql.SqlInfoCatalogAtStart:                             true,
		flightsql.SqlInfoSelectForUpdateSupported:                   false,
		flightsql.SqlInfoStoredProceduresSupported:                  false,
		flightsql.SqlInfoSupportedSubqueries: int32(1<<pb.SqlSupportedSubqueries_SQL_SUBQUERIES_IN_COMPARISONS | 1<<pb.SqlSupportedSubqueries_SQL_SUBQUERIES_IN_EXISTS |
			1<<pb.SqlSupportedSubqueries_SQL_SUBQUERIES_IN_INS | 1<<pb.SqlSupportedSubqueries_SQL_SUBQUERIES_IN_QUANTIFIEDS),
		flightsql.SqlInfoCorrelatedSubqueriesSupported: true,
		flightsql.SqlInfoSupportedUnions:               int32(1<<pb.SqlSupportedUnions_SQL_UNION | 1<<pb.SqlSupportedUnions_SQL_UNION_ALL),
		flightsql.SqlInfoDefaultTransactionIsolation:   int32(pb.SqlTransactionIsolationLevel_SQL_TRANSACTION_NONE),
	}
	for id, v := range infos {
		if err := s.RegisterSqlInfo(id, v); err != nil {
			return err
		}
	}
	return nil
}

// keywords are the SQL keywords GetSqlInfo lists beyond SQL:2003's.
var keywords = []string{"ANALYZE", "EXPLAIN", "ILIKE", "LIMIT", "OFFSET", "RETURNING", "SHOW", "SPLIT_POINTS", "SORT_KEYS"}

// metaInfo is the FlightInfo of a metadata command: its schema and one
// endpoint whose ticket is the command.
func (s *Server) metaInfo(desc *flight.FlightDescriptor, sch *arrow.Schema) *flight.FlightInfo {
	return &flight.FlightInfo{
		Schema:           flight.SerializeSchema(sch, s.alloc),
		FlightDescriptor: desc,
		Endpoint:         []*flight.FlightEndpoint{{Ticket: &flight.Ticket{Ticket: desc.Cmd}}},
		TotalRecords:     -1,
		TotalBytes:       -1,
	}
}

// one streams a single batch.
func one(rec arrow.RecordBatch) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	ch := make(chan flight.StreamChunk, 1)
	ch <- flight.StreamChunk{Data: rec}
	close(ch)
	return rec.Schema(), ch, nil
}

// build fills a batch of sch row by row: fill appends to the builders.
func (s *Server) build(sch *arrow.Schema, fill func(b *array.RecordBuilder)) arrow.RecordBatch {
	b := array.NewRecordBuilder(s.alloc, sch)
	defer b.Release()
	fill(b)
	return b.NewRecordBatch()
}

func appendStr(b array.Builder, v *string) {
	sb := b.(*array.StringBuilder)
	if v == nil {
		sb.AppendNull()
		return
	}
	sb.Append(*v)
}

func str(v string) *string { return &v }

// GetFlightInfoCatalogs answers the one catalog.
func (s *Server) GetFlightInfoCatalogs(_ context.Context, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.metaInfo(desc, schema_ref.Catalogs), nil
}

// DoGetCatalogs answers CatalogName.
func (s *Server) DoGetCatalogs(context.Context) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	return one(s.build(schema_ref.Catalogs, func(b *array.RecordBuilder) {
		b.Field(0).(*array.StringBuilder).Append(CatalogName)
	}))
}

// GetFlightInfoSchemas answers the schemas' FlightInfo.
func (s *Server) GetFlightInfoSchemas(_ context.Context, _ flightsql.GetDBSchemas, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.metaInfo(desc, schema_ref.DBSchemas), nil
}

// DoGetDBSchemas lists the schemas that hold relations.
func (s *Server) DoGetDBSchemas(ctx context.Context, cmd flightsql.GetDBSchemas) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	rels, err := s.eng.Relations(ctx)
	if err != nil {
		return nil, nil, toStatus(err)
	}
	seen := map[string]bool{sql.PublicSchema: true}
	names := []string{sql.PublicSchema}
	for _, r := range rels {
		if !seen[r.Schema] {
			seen[r.Schema] = true
			names = append(names, r.Schema)
		}
	}
	return one(s.build(schema_ref.DBSchemas, func(b *array.RecordBuilder) {
		if !catalogMatches(cmd.GetCatalog()) {
			return
		}
		for _, n := range names {
			if pattern := cmd.GetDBSchemaFilterPattern(); pattern != nil && !like(n, *pattern) {
				continue
			}
			appendStr(b.Field(0), str(CatalogName))
			appendStr(b.Field(1), str(n))
		}
	}))
}

// GetFlightInfoTables answers the tables' FlightInfo, with the schema that
// includes each table's Arrow schema when asked.
func (s *Server) GetFlightInfoTables(_ context.Context, cmd flightsql.GetTables, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	if cmd.GetIncludeSchema() {
		return s.metaInfo(desc, schema_ref.TablesWithIncludedSchema), nil
	}
	return s.metaInfo(desc, schema_ref.Tables), nil
}

// DoGetTables lists the relations that match the filters, with their
// Arrow schemas when asked.
func (s *Server) DoGetTables(ctx context.Context, cmd flightsql.GetTables) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	rels, err := s.eng.Relations(ctx)
	if err != nil {
		return nil, nil, toStatus(err)
	}
	sch := schema_ref.Tables
	if cmd.GetIncludeSchema() {
		sch = schema_ref.TablesWithIncludedSchema
	}
	types := map[string]bool{}
	for _, t := range cmd.GetTableTypes() {
		types[strings.ToUpper(t)] = true
	}
	return one(s.build(sch, func(b *array.RecordBuilder) {
		if !catalogMatches(cmd.GetCatalog()) {
			return
		}
		for _, r := range rels {
			typ := relationType(r)
			if len(types) > 0 && !types[typ] {
				continue
			}
			if p := cmd.GetDBSchemaFilterPattern(); p != nil && !like(r.Schema, *p) {
				continue
			}
			if p := cmd.GetTableNameFilterPattern(); p != nil && !like(r.Name, *p) {
				continue
			}
			appendStr(b.Field(0), str(CatalogName))
			appendStr(b.Field(1), str(r.Schema))
			appendStr(b.Field(2), str(r.Name))
			appendStr(b.Field(3), str(typ))
			if cmd.GetIncludeSchema() {
				b.Field(4).(*array.BinaryBuilder).Append(flight.SerializeSchema(r.Columns, s.alloc))
			}
		}
	}))
}

func relationType(r sql.Relation) string {
	if r.System {
		return TypeSystemTable
	}
	return TypeTable
}

// GetFlightInfoTableTypes answers the table types' FlightInfo.
func (s *Server) GetFlightInfoTableTypes(_ context.Context, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.metaInfo(desc, schema_ref.TableTypes), nil
}

// DoGetTableTypes answers TABLE and SYSTEM TABLE.
func (s *Server) DoGetTableTypes(context.Context) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	return one(s.build(schema_ref.TableTypes, func(b *array.RecordBuilder) {
		for _, t := range []string{TypeSystemTable, TypeTable} {
			b.Field(0).(*array.StringBuilder).Append(t)
		}
	}))
}

// GetFlightInfoPrimaryKeys answers the primary keys' FlightInfo.
func (s *Server) GetFlightInfoPrimaryKeys(_ context.Context, _ flightsql.TableRef, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.metaInfo(desc, schema_ref.PrimaryKeys), nil
}

// DoGetPrimaryKeys answers a table's row keys, in key order: they order
// and partition its rows (they do not make them unique).
func (s *Server) DoGetPrimaryKeys(ctx context.Context, ref flightsql.TableRef) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	rels, err := s.eng.Relations(ctx)
	if err != nil {
		return nil, nil, toStatus(err)
	}
	return one(s.build(schema_ref.PrimaryKeys, func(b *array.RecordBuilder) {
		if !catalogMatches(ref.Catalog) {
			return
		}
		for _, r := range rels {
			if !strings.EqualFold(r.Name, ref.Table) || (ref.DBSchema != nil && !strings.EqualFold(*ref.DBSchema, r.Schema)) {
				continue
			}
			for i, k := range r.RowKeys {
				appendStr(b.Field(0), str(CatalogName))
				appendStr(b.Field(1), str(r.Schema))
				appendStr(b.Field(2), str(r.Name))
				appendStr(b.Field(3), str(k))
				b.Field(4).(*array.Int32Builder).Append(int32(i + 1))
				appendStr(b.Field(5), nil)
			}
		}
	}))
}

// GetFlightInfoImportedKeys answers the imported keys' FlightInfo.
// Dormouse has no foreign keys: imported, exported and cross references
// are empty.
func (s *Server) GetFlightInfoImportedKeys(_ context.Context, _ flightsql.TableRef, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.metaInfo(desc, schema_ref.ImportedKeys), nil
}

// DoGetImportedKeys answers no rows.
func (s *Server) DoGetImportedKeys(context.Context, flightsql.TableRef) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	return one(s.build(schema_ref.ImportedKeys, func(*array.RecordBuilder) {}))
}

// GetFlightInfoExportedKeys answers the exported keys' FlightInfo.
func (s *Server) GetFlightInfoExportedKeys(_ context.Context, _ flightsql.TableRef, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.metaInfo(desc, schema_ref.ExportedKeys), nil
}

// DoGetExportedKeys answers no rows.
func (s *Server) DoGetExportedKeys(context.Context, flightsql.TableRef) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	return one(s.build(schema_ref.ExportedKeys, func(*array.RecordBuilder) {}))
}

// GetFlightInfoCrossReference answers the cross references' FlightInfo.
func (s *Server) GetFlightInfoCrossReference(_ context.Context, _ flightsql.CrossTableRef, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.metaInfo(desc, schema_ref.CrossReference), nil
}

// DoGetCrossReference answers no rows.
func (s *Server) DoGetCrossReference(context.Context, flightsql.CrossTableRef) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	return one(s.build(schema_ref.CrossReference, func(*array.RecordBuilder) {}))
}

// xdbcType describes one column type for GetXdbcTypeInfo.
type xdbcType struct {
	name      string
	code      int32 // XDBC (ODBC/JDBC) data type
	size      int32 // column size: digits, characters or bytes
	quote     bool  // literals are quoted
	sqlCode   int32 // sql_data_type: the code, or DATETIME for dates
	subcode   int32 // datetime subcode
	radix     int32
	precision bool
}

// xdbcTypes are the column types, in the order of their data type code
// as ODBC's SQLGetTypeInfo lists them.
var xdbcTypes = []xdbcType{
	{name: "bigint", code: -5, size: 19, sqlCode: -5, radix: 10},
	{name: "bytea", code: -3, size: 1 << 30, quote: true, sqlCode: -3},
	{name: "integer", code: 4, size: 10, sqlCode: 4, radix: 10},
	{name: "double precision", code: 8, size: 15, sqlCode: 8, radix: 2},
	{name: "text", code: 12, size: 1 << 30, quote: true, sqlCode: 12},
	{name: "boolean", code: 16, size: 1, sqlCode: 16},
	{name: "date", code: 91, size: 10, quote: true, sqlCode: 9, subcode: 1},
	{name: "timestamp", code: 93, size: 26, quote: true, sqlCode: 9, subcode: 3},
}

// GetFlightInfoXdbcTypeInfo answers the type info's FlightInfo.
func (s *Server) GetFlightInfoXdbcTypeInfo(_ context.Context, _ flightsql.GetXdbcTypeInfo, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.metaInfo(desc, schema_ref.XdbcTypeInfo), nil
}

// DoGetXdbcTypeInfo describes every column type, or the one asked for.
func (s *Server) DoGetXdbcTypeInfo(_ context.Context, cmd flightsql.GetXdbcTypeInfo) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	return one(s.build(schema_ref.XdbcTypeInfo, func(b *array.RecordBuilder) {
		for _, t := range xdbcTypes {
			if dt := cmd.GetDataType(); dt != nil && *dt != t.code {
				continue
			}
			var quote *string
			if t.quote {
				quote = str("'")
			}
			appendStr(b.Field(0), str(t.name))
			b.Field(1).(*array.Int32Builder).Append(t.code)
			b.Field(2).(*array.Int32Builder).Append(t.size)
			appendStr(b.Field(3), quote)
			appendStr(b.Field(4), quote)
			b.Field(5).AppendNull()
			b.Field(6).(*array.Int32Builder).Append(1) // nullable
			b.Field(7).(*array.BooleanBuilder).Append(t.code == 12)
			b.Field(8).(*array.Int32Builder).Append(3) // searchable
			b.Field(9).(*array.BooleanBuilder).Append(false)
			b.Field(10).(*array.BooleanBuilder).Append(false)
			b.Field(11).(*array.BooleanBuilder).Append(false)
			appendStr(b.Field(12), str(t.name))
			b.Field(13).AppendNull()
			b.Field(14).AppendNull()
			b.Field(15).(*array.Int32Builder).Append(t.sqlCode)
			if t.subcode != 0 {
				b.Field(16).(*array.Int32Builder).Append(t.subcode)
			} else {
				b.Field(16).AppendNull()
			}
			if t.radix != 0 {
				b.Field(17).(*array.Int32Builder).Append(t.radix)
			} else {
				b.Field(17).AppendNull()
			}
			b.Field(18).AppendNull()
		}
	}))
}

// catalogMatches reports whether a catalog filter admits the one catalog
// (no filter, or an empty one, does).
func catalogMatches(c *string) bool {
	return c == nil || *c == "" || strings.EqualFold(*c, CatalogName)
}

// like matches s against a SQL LIKE pattern (% any run, _ any one
// character, \ escapes), case-insensitively as names are.
func like(s, pattern string) bool {
	return likeRunes([]rune(strings.ToLower(s)), []rune(strings.ToLower(pattern)))
}

func likeRunes(s, p []rune) bool {
	for len(p) > 0 {
		switch p[0] {
		case '%':
			for len(p) > 0 && p[0] == '%' {
				p = p[1:]
			}
			if len(p) == 0 {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if likeRunes(s[i:], p) {
					return true
				}
			}
			return false
		case '_':
			if len(s) == 0 {
				return false
			}
			s, p = s[1:], p[1:]
		default:
			if p[0] == '\\' && len(p) > 1 {
				p = p[1:]
			}
			if len(s) == 0 || s[0] != p[0] {
				return false
			}
			s, p = s[1:], p[1:]
		}
	}
	return len(s) == 0
}
