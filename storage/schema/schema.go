package schema

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Column is one named, typed column. Key columns are never nullable.
type Column struct {
	Name     string `json:"name"`
	Type     Type   `json:"type"`
	Nullable bool   `json:"nullable,omitempty"`
	// SQLType is the SQL type a VARCHAR column was declared with when it
	// is not text, so that catalogs show what was declared: "varchar"
	// (character varying). Empty means Type's own SQL type, text for
	// VARCHAR.
	SQLType string `json:"sql_type,omitempty"`
	// Length is the most characters a VARCHAR value may have (varchar(n)),
	// 0 for no limit. Writes refuse longer values (FitLength).
	Length int `json:"length,omitempty"`
}

// SQLVarchar is Column.SQLType of a column declared character varying.
const SQLVarchar = "varchar"

// Schema is the column layout of a table. Rows are ordered by RowKeys, then
// SortKeys; RowKeys also decide which partition a row belongs to.
//
// A Schema is immutable once a table is created: share it freely.
type Schema struct {
	RowKeys  []Column `json:"row_keys"`
	SortKeys []Column `json:"sort_keys,omitempty"`
	Values   []Column `json:"values,omitempty"`
}

// Columns returns every column in storage order: row keys, sort keys, values.
func (s *Schema) Columns() []Column {
	out := make([]Column, 0, len(s.RowKeys)+len(s.SortKeys)+len(s.Values))
	out = append(out, s.RowKeys...)
	out = append(out, s.SortKeys...)
	return append(out, s.Values...)
}

// NumColumns is len(Columns()), without building the slice.
func (s *Schema) NumColumns() int { return len(s.RowKeys) + len(s.SortKeys) + len(s.Values) }

// Column returns Columns()[i] without building the slice: hot paths (a
// point lookup plans and scans in microseconds) ask for one column.
func (s *Schema) Column(i int) Column {
	if i < len(s.RowKeys) {
		return s.RowKeys[i]
	}
	if i -= len(s.RowKeys); i < len(s.SortKeys) {
		return s.SortKeys[i]
	}
	return s.Values[i-len(s.SortKeys)]
}

// NumKeys is the number of leading columns that order rows: row keys and
// sort keys.
func (s *Schema) NumKeys() int { return len(s.RowKeys) + len(s.SortKeys) }

// Index returns the storage position of the named column (case-insensitive),
// or -1.
func (s *Schema) Index(name string) int {
	i := 0
	for _, part := range [3][]Column{s.RowKeys, s.SortKeys, s.Values} {
		for _, c := range part {
			if strings.EqualFold(c.Name, name) {
				return i
			}
			i++
		}
	}
	return -1
}

// Validate checks that the schema has at least one row key, supported types,
// non-nullable keys and unique column names.
func (s *Schema) Validate() error {
	if len(s.RowKeys) == 0 {
		return fmt.Errorf("schema needs at least one row key column")
	}
	seen := map[string]bool{}
	for i, c := range s.Columns() {
		if c.Name == "" {
			return fmt.Errorf("column %d has no name", i+1)
		}
		low := strings.ToLower(c.Name)
		if seen[low] {
			return fmt.Errorf("column %q appears twice", c.Name)
		}
		seen[low] = true
		if c.Type == Invalid || int(c.Type) >= len(typeNames) {
			return fmt.Errorf("column %q has no valid type", c.Name)
		}
		if i < s.NumKeys() && c.Nullable {
			return fmt.Errorf("key column %q cannot be nullable", c.Name)
		}
		if (c.SQLType != "" || c.Length != 0) && (c.Type != Varchar || c.SQLType != SQLVarchar || c.Length < 0) {
			return fmt.Errorf("column %q: a declared SQL type %q and length %d need a VARCHAR column declared varchar", c.Name, c.SQLType, c.Length)
		}
	}
	return nil
}

// Arrow is the Arrow schema of the table's rows, in storage order.
func (s *Schema) Arrow() *arrow.Schema {
	cols := s.Columns()
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c.Name, Type: c.Type.Arrow(), Nullable: c.Nullable}
	}
	return arrow.NewSchema(fields, nil)
}

// String renders the schema as "k VARCHAR ROW KEY, ts TIMESTAMP SORT KEY, v BIGINT".
func (s *Schema) String() string {
	var b strings.Builder
	for i, c := range s.Columns() {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s", c.Name, c.Type)
		if c.Length > 0 {
			fmt.Fprintf(&b, "(%d)", c.Length)
		}
		switch {
		case i < len(s.RowKeys):
			b.WriteString(" ROW KEY")
		case i < s.NumKeys():
			b.WriteString(" SORT KEY")
		case !c.Nullable:
			b.WriteString(" NOT NULL")
		}
	}
	return b.String()
}

// Parse reads a schema from the compact text form the CLI takes:
//
//	"key:varchar:key, ts:timestamp:sort, v:bigint, note:varchar"
//
// Each column is name:type[:role]; the role is "key" (row key), "sort" (sort
// key), "notnull" (a value column that rejects NULL) or absent (a nullable
// value column). Key columns are NOT NULL.
func Parse(text string) (*Schema, error) {
	s := &Schema{}
	for i, part := range strings.Split(text, ",") {
		fields := strings.Split(strings.TrimSpace(part), ":")
		if len(fields) < 2 {
			return nil, fmt.Errorf("column %d %q: want name:type[:key|sort|notnull]", i+1, part)
		}
		t, err := ParseType(fields[1])
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", fields[0], err)
		}
		c := Column{Name: strings.TrimSpace(fields[0]), Type: t, Nullable: true}
		role := ""
		if len(fields) > 2 {
			role = strings.ToLower(strings.TrimSpace(fields[2]))
		}
		switch role {
		case "key":
			c.Nullable = false
			s.RowKeys = append(s.RowKeys, c)
		case "sort":
			c.Nullable = false
			s.SortKeys = append(s.SortKeys, c)
		case "notnull":
			c.Nullable = false
			s.Values = append(s.Values, c)
		case "", "null":
			s.Values = append(s.Values, c)
		default:
			return nil, fmt.Errorf("column %q: unknown role %q (want key, sort or notnull)", c.Name, role)
		}
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}
