package ast

// Query is a complete query: an optional WITH clause, a body, and the
// ORDER BY, LIMIT and OFFSET that apply to the body's rows. It is the
// statement form of SELECT, VALUES and set operations, and the form every
// subquery takes.
//
// For a set operation the ORDER BY and LIMIT belong to the outer Query, so
// "SELECT a FROM t UNION SELECT b FROM u ORDER BY 1 LIMIT 5" is
// Query{Body: SetOp{Left: Select, Right: Select}, OrderBy, Limit}.
type Query struct {
	StmtInfo
	With    *With       // nil without WITH
	Body    QueryBody   // *Select, *SetOp, *Values or *Query
	OrderBy []OrderItem // empty without ORDER BY
	Limit   Expr        // nil without LIMIT; LIMIT ALL is a NULL literal
	Offset  Expr        // nil without OFFSET
	Pos     int         // start of the query in the input, or -1
}

// With is a WITH clause.
type With struct {
	Recursive bool // WITH RECURSIVE; the planner may refuse it
	CTEs      []CTE
	Pos       int
}

// CTE is one common table expression: Name [(Columns)] AS (Query).
// MATERIALIZED and NOT MATERIALIZED hints are accepted and dropped.
type CTE struct {
	Name    string
	Columns []string // column aliases; nil when absent
	Query   *Query
	Pos     int
}

// Select is the core of a SELECT: everything except WITH, ORDER BY, LIMIT
// and OFFSET, which belong to the enclosing Query.
type Select struct {
	Distinct   bool   // SELECT DISTINCT (without ON)
	DistinctOn []Expr // SELECT DISTINCT ON (...); Distinct is false then
	Items      []SelectItem
	From       []TableExpr // comma-separated FROM items; empty without FROM
	Where      Expr
	GroupBy    []Expr
	Having     Expr
	Windows    []*WindowSpec // WINDOW clause; each has Name set
	Pos        int
}

// SelectItem is one entry of a target list: an expression with an optional
// alias, or a star. For "*" Star is true and Qualifier is nil; for "t.*" or
// "s.t.*" Star is true and Qualifier holds the qualifying names. Expr is nil
// for a star.
type SelectItem struct {
	Expr      Expr
	Alias     string // "" when not given
	Star      bool
	Qualifier []string
	Pos       int
}

// SetOpKind is the operator of a set operation.
type SetOpKind int

// The set operations.
const (
	Union SetOpKind = iota + 1
	Intersect
	Except
)

func (k SetOpKind) String() string {
	switch k {
	case Union:
		return "UNION"
	case Intersect:
		return "INTERSECT"
	case Except:
		return "EXCEPT"
	}
	return "SETOP?"
}

// SetOp is Left UNION|INTERSECT|EXCEPT [ALL] Right.
type SetOp struct {
	Op          SetOpKind
	All         bool
	Left, Right QueryBody
	Pos         int
}

// Values is a VALUES list; each row has the same number of expressions.
// In INSERT ... VALUES a value may be a *Default.
type Values struct {
	Rows [][]Expr
	Pos  int
}

// OrderItem is one key of an ORDER BY (of a query, a window or an
// aggregate). NullsFirst is nil when NULLS FIRST/LAST is not given (then
// PostgreSQL puts NULLs last ascending and first descending).
type OrderItem struct {
	Expr       Expr
	Desc       bool
	NullsFirst *bool
	Pos        int
}

// WindowSpec is a window specification. In a SELECT's WINDOW clause, Name is
// the window's name. In a FuncCall's Over, a Name with nothing else set is
// "OVER name"; "OVER (name ORDER BY ...)" sets RefName instead.
type WindowSpec struct {
	Name        string
	RefName     string
	PartitionBy []Expr
	OrderBy     []OrderItem
	Frame       *Frame // nil for the default frame
	Pos         int
}

// FrameMode is the unit of a window frame.
type FrameMode int

// Window frame units.
const (
	FrameRange FrameMode = iota + 1
	FrameRows
	FrameGroups
)

// BoundKind is the kind of one end of a window frame.
type BoundKind int

// Window frame bounds.
const (
	UnboundedPreceding BoundKind = iota + 1
	OffsetPreceding
	CurrentRow
	OffsetFollowing
	UnboundedFollowing
)

// FrameBound is one end of a window frame; Offset is set for
// OffsetPreceding and OffsetFollowing.
type FrameBound struct {
	Kind   BoundKind
	Offset Expr
}

// FrameExclude is a frame's EXCLUDE clause.
type FrameExclude int

// Frame exclusions; ExcludeNoOthers is the default.
const (
	ExcludeNoOthers FrameExclude = iota
	ExcludeCurrentRow
	ExcludeGroup
	ExcludeTies
)

// Frame is an explicit window frame. A frame given with only a start
// ("ROWS 3 PRECEDING") has End CurrentRow, as in PostgreSQL.
type Frame struct {
	Mode    FrameMode
	Start   FrameBound
	End     FrameBound
	Exclude FrameExclude
}

// TableName is a possibly qualified table name. Catalog is set only for a
// three-part name "db.schema.table".
type TableName struct {
	Catalog string
	Schema  string
	Name    string
	Pos     int
}

// TableRef is a table named in FROM. ONLY and the "t *" suffix are accepted
// and ignored: there is no table inheritance.
type TableRef struct {
	TableName
	Alias         string
	ColumnAliases []string
}

// Subquery is a parenthesised query in FROM; PostgreSQL requires no alias
// since version 16, so Alias may be empty.
type Subquery struct {
	Query         *Query
	Alias         string
	ColumnAliases []string
	Lateral       bool
	Pos           int
}

// JoinKind is the kind of a join.
type JoinKind int

// The join kinds. A Cross join has neither On nor Using.
const (
	InnerJoin JoinKind = iota + 1
	LeftJoin
	RightJoin
	FullJoin
	CrossJoin
)

func (k JoinKind) String() string {
	switch k {
	case InnerJoin:
		return "JOIN"
	case LeftJoin:
		return "LEFT JOIN"
	case RightJoin:
		return "RIGHT JOIN"
	case FullJoin:
		return "FULL JOIN"
	case CrossJoin:
		return "CROSS JOIN"
	}
	return "JOIN?"
}

// Join is Left [NATURAL] kind JOIN Right [ON On | USING (Using)].
type Join struct {
	Kind        JoinKind
	Left, Right TableExpr
	On          Expr
	Using       []string
	Natural     bool
	Pos         int // the position of Left
}

// FuncTable is a function call in FROM, such as generate_series(1, 10) AS
// s(i). Func is usually a *FuncCall but may be any function-like expression
// the grammar allows there (CURRENT_DATE, COALESCE(...), CAST(...)).
type FuncTable struct {
	Func          Expr
	Alias         string
	ColumnAliases []string
	Ordinality    bool // WITH ORDINALITY
	Lateral       bool
	Pos           int
}
