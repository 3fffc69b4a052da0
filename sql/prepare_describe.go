package sql

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/sql/pgtypes"
)

// Column describes a result column as a PostgreSQL client sees it: the
// fields of a RowDescription.
type Column struct {
	Name string
	// Type is the Arrow type of the column's values in the batches.
	Type arrow.DataType
	// OID is the PostgreSQL type shown for it (pgtypes): numeric for the
	// numeric flavour of double precision, text for an unresolved NULL.
	OID uint32
	// TypeLen is pg_type.typlen of OID; TypeMod is always -1 (no typmod).
	TypeLen int16
	TypeMod int32
}

// newColumn describes a column of type t; numeric marks double precision
// values of the numeric flavour. A type with no PostgreSQL counterpart is
// shown as text (its values are written as text).
func newColumn(name string, t arrow.DataType, numeric bool) Column {
	pt, err := pgtypes.ForArrow(t, numeric)
	if err != nil {
		pt, _ = pgtypes.ForOID(pgtypes.Text)
	}
	return Column{Name: name, Type: t, OID: pt.OID, TypeLen: pt.Len, TypeMod: -1}
}

// ColumnsOf describes the columns of rows (nil for a statement that
// returns none).
func ColumnsOf(rows Rows) []Column {
	switch r := rows.(type) {
	case *planRows:
		if r.cols != nil {
			return r.cols
		}
	case *noticeRows:
		return ColumnsOf(r.Rows)
	}
	sch := rows.Schema()
	if sch == nil {
		return nil
	}
	out := make([]Column, sch.NumFields())
	for i, f := range sch.Fields() {
		out[i] = newColumn(f.Name, f.Type, false)
	}
	return out
}

// describeRel describes the columns of a bound query.
func describeRel(r rel) []Column {
	cols := r.columns()
	out := make([]Column, len(cols))
	for i, c := range cols {
		out[i] = newColumn(c.name, c.typ, numericAt(r, i))
	}
	return out
}

// numericAt reports whether column i of r holds numeric-flavoured values:
// a numeric literal, cast or arithmetic on them in a select list, passed up
// through the nodes that keep columns as they are.
func numericAt(r rel, i int) bool {
	switch n := r.(type) {
	case *projectRel:
		if c, ok := n.exprs[i].(*expr.Column); ok {
			return numericAt(n.in, c.Index)
		}
		return expr.IsNumeric(n.exprs[i])
	case *filterRel:
		return numericAt(n.in, i)
	case *sortRel:
		return numericAt(n.in, i)
	case *limitRel:
		return numericAt(n.in, i)
	case *distinctRel:
		return numericAt(n.in, i)
	case *setOpRel:
		return numericAt(n.left, i)
	}
	return false
}

// textColumns1 describes text columns of the given names.
func textColumns1(names ...string) []Column {
	out := make([]Column, len(names))
	for i, n := range names {
		out[i] = newColumn(n, expr.TextType, false)
	}
	return out
}

// sameColumns reports whether a statement's rows still have the columns it
// was described with.
func sameColumns(a, b []Column) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].OID != b[i].OID {
			return false
		}
	}
	return true
}
