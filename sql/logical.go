package sql

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine"
	"github.com/dormousedb/dormouse/engine/agg"
	"github.com/dormousedb/dormouse/engine/expr"
)

// col is one column of a relation as the binder sees it.
type col struct {
	qual     string // the table name or alias that qualifies it, "" for none
	name     string
	typ      arrow.DataType
	nullable bool
	// from is the table or virtual table a column is read from, nil for
	// others: the relation whose OID the system column tableoid is.
	from *scanRel
}

// rel is a bound relation: a node of the logical plan. Expressions in a
// node refer to the columns of its input(s) by position.
type rel interface {
	columns() []col
}

// scanRel reads a table (all its columns, in storage order) or a virtual
// table.
type scanRel struct {
	ts      *tableSnapshot
	vt      *virtualTable
	alias   string
	cols    []col // in declared order
	storage []int // the storage index of each of cols (tables only)
}

type filterRel struct {
	in   rel
	cond expr.Expr
}

type projectRel struct {
	in    rel
	exprs []expr.Expr
	cols  []col
	// schema is the output schema of its last plan, which later plans of
	// the same relation (a prepared statement's) reuse.
	schema *arrow.Schema
}

// aggCall is one aggregate of an aggRel.
type aggCall struct {
	fn       *agg.Func
	args     []expr.Expr
	distinct bool
	filter   expr.Expr
	text     string // as written, for EXPLAIN and for matching repeats
}

// aggRel groups its input; its columns are the group keys, then the
// aggregates.
type aggRel struct {
	in     rel
	groups []expr.Expr
	aggs   []aggCall
	cols   []col
}

type sortRel struct {
	in   rel
	keys []engine.SortKey
}

type limitRel struct {
	in            rel
	offset, count int64 // count < 0: no limit
}

type distinctRel struct{ in rel }

// joinKind is a logical join kind.
type joinKind int

const (
	joinInner joinKind = iota
	joinLeft
	joinRight
	joinFull
	joinCross
	joinSemi
	joinAnti
	joinAntiNullAware
)

// joinRel joins left and right; cond refers to the concatenation of their
// columns. Semi and anti joins output the left columns only.
type joinRel struct {
	kind        joinKind
	left, right rel
	cond        expr.Expr
	cols        []col
}

type setOpRel struct {
	op          string // "UNION", "INTERSECT", "EXCEPT"
	all         bool
	left, right rel
	cols        []col
}

type valuesRel struct {
	rows [][]expr.Expr
	cols []col
}

// windowCall is one window function of a windowRel.
type windowCall struct {
	name        string
	fn          *agg.Func // for aggregates over windows; nil for ranking
	args        []expr.Expr
	partitionBy []expr.Expr
	orderBy     []engine.SortKey // over orderExprs
	orderExprs  []expr.Expr
	typ         arrow.DataType
	text        string
}

// windowRel adds window function columns to its input's.
type windowRel struct {
	in    rel
	funcs []windowCall
	cols  []col
}

func (r *scanRel) columns() []col     { return r.cols }
func (r *filterRel) columns() []col   { return r.in.columns() }
func (r *projectRel) columns() []col  { return r.cols }
func (r *aggRel) columns() []col      { return r.cols }
func (r *sortRel) columns() []col     { return r.in.columns() }
func (r *limitRel) columns() []col    { return r.in.columns() }
func (r *distinctRel) columns() []col { return r.in.columns() }
func (r *joinRel) columns() []col     { return r.cols }
func (r *setOpRel) columns() []col    { return r.cols }
func (r *valuesRel) columns() []col   { return r.cols }
func (r *windowRel) columns() []col   { return r.cols }

// arrowSchema is the Arrow schema of a relation's columns.
func arrowSchema(cols []col) *arrow.Schema {
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c.name, Type: c.typ, Nullable: c.nullable}
	}
	return arrow.NewSchema(fields, nil)
}
