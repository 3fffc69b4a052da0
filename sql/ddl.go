package sql

import (
	"context"
	"errors"
	"strings"

	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/sql/ast"
	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/iterator"
	"github.com/dormousedb/dormouse/storage/schema"
)

// columnType maps a SQL type name to a storage column type. Types the store
// does not keep natively are widened: smallint to integer, real and numeric
// to double precision, timestamptz to a UTC timestamp.
func columnType(t *ast.TypeName) (schema.Type, error) {
	name := strings.ToLower(t.Names[len(t.Names)-1])
	if t.ArrayBounds > 0 {
		return schema.Invalid, sqlerr.New(sqlerr.FeatureNotSupported, "array columns are not supported")
	}
	switch name {
	case "int8", "bigint":
		return schema.BigInt, nil
	case "int4", "integer", "int", "int2", "smallint":
		return schema.Integer, nil
	case "float8", "float4", "real", "double precision", "numeric", "decimal":
		return schema.Double, nil
	case "bool", "boolean":
		return schema.Boolean, nil
	case "text", "varchar", "bpchar", "char", "name", "character varying", "character", "string":
		return schema.Varchar, nil
	case "bytea", "varbinary":
		return schema.Varbinary, nil
	case "timestamp", "timestamptz":
		return schema.Timestamp, nil
	case "date":
		return schema.Date, nil
	}
	return schema.Invalid, sqlerr.New(sqlerr.UndefinedObject, "type \"%s\" does not exist", strings.Join(t.Names, "."))
}

// maxVarcharLength is PostgreSQL's limit on n in varchar(n).
const maxVarcharLength = 10485760

// declaredVarchar reads the SQL type and length limit a column of type t
// keeps besides its storage type (schema.Column.SQLType, Length):
// "varchar" and n for character varying(n), so that the catalogs show
// the column as PostgreSQL would. char(n) stays text: its blank-padded
// semantics are not PostgreSQL's here.
func declaredVarchar(t *ast.TypeName) (string, int, error) {
	if strings.ToLower(t.Names[len(t.Names)-1]) != "varchar" {
		return "", 0, nil
	}
	switch {
	case len(t.Mods) == 0:
		return schema.SQLVarchar, 0, nil
	case len(t.Mods) > 1:
		return "", 0, sqlerr.New(sqlerr.SyntaxError, "invalid type modifier")
	case t.Mods[0] < 1:
		return "", 0, sqlerr.New(sqlerr.InvalidParameterValue, "length for type varchar must be at least 1")
	case t.Mods[0] > maxVarcharLength:
		return "", 0, sqlerr.New(sqlerr.InvalidParameterValue, "length for type varchar cannot exceed %d", maxVarcharLength)
	}
	return schema.SQLVarchar, t.Mods[0], nil
}

// createTable creates a table: PRIMARY KEY columns are its row keys (the
// first column when there is none), WITH (sort_keys = 'a, b') names its
// sort keys, WITH (split_points = 'x, y') pre-splits it, and every other
// WITH option sets the table property of that name.
func (s *Session) createTable(ctx context.Context, st *ast.CreateTable) (Rows, error) {
	if st.Name.Schema != "" && !strings.EqualFold(st.Name.Schema, "public") {
		return nil, errAt(st.Name.Pos, sqlerr.New(sqlerr.FeatureNotSupported, "tables can only be created in schema public"))
	}
	if len(st.Columns) == 0 {
		return nil, errAt(st.Pos, sqlerr.New(sqlerr.FeatureNotSupported, "a table needs at least one column"))
	}
	byName := map[string]int{}
	types := make([]schema.Column, len(st.Columns))
	for i, c := range st.Columns {
		low := strings.ToLower(c.Name)
		if _, dup := byName[low]; dup {
			return nil, errAt(c.Pos, sqlerr.New(sqlerr.DuplicateColumn, "column \"%s\" specified more than once", c.Name))
		}
		byName[low] = i
		t, err := columnType(c.Type)
		if err != nil {
			return nil, errAt(c.Type.Pos, err)
		}
		types[i] = schema.Column{Name: c.Name, Type: t}
		if types[i].SQLType, types[i].Length, err = declaredVarchar(c.Type); err != nil {
			return nil, errAt(c.Type.Pos, err)
		}
	}
	var keyNames []string
	for _, c := range st.Columns {
		if c.PrimaryKey {
			keyNames = append(keyNames, c.Name)
		}
	}
	if len(st.PrimaryKey) > 0 {
		if len(keyNames) > 0 {
			return nil, errAt(st.PrimaryKeyPos, sqlerr.New(sqlerr.InvalidColumnReference, "multiple primary keys for table \"%s\" are not allowed", st.Name.Name))
		}
		keyNames = st.PrimaryKey
	}
	if len(keyNames) == 0 {
		keyNames = []string{st.Columns[0].Name}
	}
	var sortNames []string
	props := catalog.Properties{}
	var splitText string
	for _, o := range st.Options {
		switch o.Name {
		case "sort_keys":
			for _, n := range strings.Split(o.Value, ",") {
				if n = strings.TrimSpace(n); n != "" {
					sortNames = append(sortNames, n)
				}
			}
		case "split_points":
			splitText = o.Value
		default:
			var err error
			if props, err = props.With(o.Name, o.Value); err != nil {
				return nil, errAt(o.Pos, sqlerr.New(sqlerr.InvalidParameterValue, "%s", err.Error()))
			}
		}
	}
	sch := &schema.Schema{}
	used := map[int]bool{}
	take := func(names []string, role string) ([]schema.Column, error) {
		var out []schema.Column
		for _, n := range names {
			i, ok := byName[strings.ToLower(n)]
			if !ok {
				return nil, sqlerr.New(sqlerr.UndefinedColumn, "column \"%s\" named in %s does not exist", n, role)
			}
			if used[i] {
				return nil, sqlerr.New(sqlerr.DuplicateColumn, "column \"%s\" appears twice in the key", n)
			}
			used[i] = true
			out = append(out, types[i])
		}
		return out, nil
	}
	var err error
	if sch.RowKeys, err = take(keyNames, "the primary key"); err != nil {
		return nil, errAt(st.Pos, err)
	}
	if sch.SortKeys, err = take(sortNames, "sort_keys"); err != nil {
		return nil, errAt(st.Pos, err)
	}
	for i, c := range st.Columns {
		if !used[i] {
			v := types[i]
			v.Nullable = !c.NotNull
			sch.Values = append(sch.Values, v)
		}
	}
	def := catalog.TableDef{Name: st.Name.Name, Schema: sch, Properties: props}
	for _, c := range st.Columns {
		def.Order = append(def.Order, c.Name)
	}
	if splitText != "" {
		for _, p := range strings.Split(splitText, ",") {
			enc, err := schema.ParseValue(sch.RowKeys[0].Type, strings.TrimSpace(p))
			if err != nil {
				return nil, errAt(st.Pos, sqlerr.New(sqlerr.InvalidParameterValue, "split point: %v", err))
			}
			def.SplitPoints = append(def.SplitPoints, enc)
		}
	}
	if err := def.Validate(); err != nil {
		return nil, errAt(st.Pos, sqlerr.New(sqlerr.InvalidParameterValue, "%s", err.Error()))
	}
	if _, err := iterator.FromDef(&def); err != nil {
		return nil, errAt(optionPos(st.Options, err, st.Pos), sqlerr.New(sqlerr.InvalidParameterValue, "%s", err.Error()))
	}
	if _, err := s.e.db.CreateTable(ctx, def); err != nil {
		if errors.Is(err, catalog.ErrTableExists) {
			if st.IfNotExists {
				return tagOnly("CREATE TABLE"), nil
			}
			return nil, errAt(st.Name.Pos, sqlerr.New(sqlerr.DuplicateTable, "relation \"%s\" already exists", st.Name.Name))
		}
		return nil, err
	}
	return tagOnly("CREATE TABLE"), nil
}

func (s *Session) dropTable(ctx context.Context, st *ast.DropTable) (Rows, error) {
	for _, n := range st.Names {
		if err := s.e.db.DropTable(ctx, n.Name); err != nil {
			if errors.Is(err, catalog.ErrNoTable) {
				if st.IfExists {
					continue
				}
				return nil, errAt(n.Pos, sqlerr.New(sqlerr.UndefinedTable, "table \"%s\" does not exist", n.Name))
			}
			return nil, err
		}
	}
	return tagOnly("DROP TABLE"), nil
}

// alterTable is ALTER TABLE t SET (property = value, …).
func (s *Session) alterTable(ctx context.Context, st *ast.AlterTableSet) (Rows, error) {
	set := map[string]string{}
	for _, o := range st.Options {
		if _, ok := catalog.Lookup(o.Name); !ok {
			return nil, errAt(o.Pos, sqlerr.New(sqlerr.InvalidParameterValue, "unrecognized table property \"%s\"", o.Name))
		}
		set[o.Name] = o.Value
	}
	if _, err := s.e.db.SetProperties(ctx, st.Name.Name, set); err != nil {
		if errors.Is(err, catalog.ErrNoTable) {
			if st.IfExists {
				return tagOnly("ALTER TABLE"), nil
			}
			return nil, errAt(st.Name.Pos, sqlerr.New(sqlerr.UndefinedTable, "relation \"%s\" does not exist", st.Name.Name))
		}
		return nil, errAt(optionPos(st.Options, err, st.Pos), sqlerr.New(sqlerr.InvalidParameterValue, "%s", err.Error()))
	}
	return tagOnly("ALTER TABLE"), nil
}

// optionPos is the position of the WITH or SET option an iterator error is
// about, else def.
func optionPos(opts []ast.Option, err error, def int) int {
	var ie *iterator.Error
	if errors.As(err, &ie) {
		for _, o := range opts {
			if strings.EqualFold(o.Name, ie.Property) {
				return o.Pos
			}
		}
	}
	return def
}
