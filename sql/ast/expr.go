package ast

// ColumnRef is a possibly qualified column name: Parts holds the names in
// order ("t.a" is ["t", "a"]). When Star is true the reference is "t.*" (or
// "*") and Parts holds only the qualifiers.
type ColumnRef struct {
	Parts []string
	Star  bool
	Pos   int
}

// LiteralKind is the kind of a Literal.
type LiteralKind int

// The kinds of literal.
const (
	LitNull LiteralKind = iota + 1
	LitBool
	LitInt     // an integer that fits in int64; Int holds it
	LitNumeric // any other number, as PostgreSQL numeric input text
	LitString
)

// Literal is a constant as written. Text is the value's text: the decoded
// string for LitString (quotes and escapes resolved), the digits for LitInt
// and LitNumeric (underscores removed), "true"/"false" for LitBool and "NULL"
// for LitNull. A typed literal such as DATE '2024-01-01' or INTERVAL '1 day'
// is a Cast of a string Literal.
type Literal struct {
	Kind LiteralKind
	Text string
	Int  int64 // for LitInt
	Bool bool  // for LitBool
	Pos  int
}

// Param is a parameter placeholder $N (N >= 1).
type Param struct {
	N   int
	Pos int
}

// Operator names used by Unary and Binary. Other operators (@>, &&, <<, #,
// |/, ...) keep PostgreSQL's spelling; the binder decides whether it knows
// them. "!=" arrives as "<>", and "~~"/"!~~"/"~~*"/"!~~*" as the LIKE forms.
// OPERATOR(pg_catalog.op) arrives as op.
const (
	OpAnd               = "AND"
	OpOr                = "OR"
	OpNot               = "NOT"
	OpEq                = "="
	OpNe                = "<>"
	OpLt                = "<"
	OpLe                = "<="
	OpGt                = ">"
	OpGe                = ">="
	OpAdd               = "+"
	OpSub               = "-"
	OpMul               = "*"
	OpDiv               = "/"
	OpMod               = "%"
	OpPow               = "^"
	OpConcat            = "||"
	OpLike              = "LIKE"
	OpNotLike           = "NOT LIKE"
	OpILike             = "ILIKE"
	OpNotILike          = "NOT ILIKE"
	OpRegexMatch        = "~"
	OpRegexIMatch       = "~*"
	OpRegexNotMatch     = "!~"
	OpRegexNotIMatch    = "!~*"
	OpIsDistinctFrom    = "IS DISTINCT FROM"
	OpIsNotDistinctFrom = "IS NOT DISTINCT FROM"
	OpNeg               = "-" // as a Unary operator
	OpPlus              = "+" // as a Unary operator
)

// Unary is a prefix operator applied to X: "-", "+", "NOT", or another
// PostgreSQL prefix operator such as "~" or "|/". A minus sign before a
// number literal is folded into the literal, as PostgreSQL does.
type Unary struct {
	Op  string
	X   Expr
	Pos int
}

// Binary is L Op R. AND and OR chains are nested to the left: "a AND b AND
// c" is (a AND b) AND c. For LIKE with ESCAPE, R is a FuncCall like_escape
// (pattern, escape), exactly as in PostgreSQL. Pos is the operator's
// position.
type Binary struct {
	Op   string
	L, R Expr
	Pos  int
}

// IsNull is X IS [NOT] NULL (also ISNULL, NOTNULL).
type IsNull struct {
	X   Expr
	Not bool
	Pos int
}

// BoolTest is the truth value tested by IsBool.
type BoolTest int

// The truth values of IS [NOT] TRUE | FALSE | UNKNOWN.
const (
	IsTrue BoolTest = iota + 1
	IsFalse
	IsUnknown
)

// IsBool is X IS [NOT] TRUE | FALSE | UNKNOWN.
type IsBool struct {
	X    Expr
	Test BoolTest
	Not  bool
	Pos  int
}

// Between is X [NOT] BETWEEN [SYMMETRIC] Lo AND Hi.
type Between struct {
	X, Lo, Hi Expr
	Not       bool
	Symmetric bool
	Pos       int
}

// In is X [NOT] IN (List).
type In struct {
	X    Expr
	List []Expr
	Not  bool
	Pos  int
}

// InSubquery is X [NOT] IN (Query). NOT (x IN (SELECT ...)) arrives as
// Not true too: PostgreSQL does not tell the two apart.
type InSubquery struct {
	X     Expr
	Query *Query
	Not   bool
	Pos   int
}

// Exists is EXISTS (Query).
type Exists struct {
	Query *Query
	Pos   int
}

// ScalarSubquery is a parenthesised query used as a value.
type ScalarSubquery struct {
	Query *Query
	Pos   int
}

// ArraySubquery is ARRAY(Query).
type ArraySubquery struct {
	Query *Query
	Pos   int
}

// AnyAll is X Op ANY|SOME|ALL (Array) or X Op ANY|ALL (Query). Exactly one
// of Array and Query is set. "x IN (SELECT ...)" is an InSubquery, not an
// AnyAll.
type AnyAll struct {
	X     Expr
	Op    string
	All   bool
	Array Expr
	Query *Query
	Pos   int
}

// Case is CASE [Operand] WHEN ... THEN ... [ELSE Else] END. With an Operand
// each When's Cond is compared to it for equality.
type Case struct {
	Operand Expr
	Whens   []When
	Else    Expr
	Pos     int
}

// When is one WHEN Cond THEN Result arm of a Case.
type When struct {
	Cond, Result Expr
	Pos          int
}

// Cast is CAST(X AS Type), X::Type, or a typed literal (DATE '...').
type Cast struct {
	X    Expr
	Type *TypeName
	Pos  int
}

// TypeName names a type as PostgreSQL's grammar leaves it: SQL-standard
// spellings become pg_catalog names (INTEGER is ["pg_catalog", "int4"],
// VARCHAR(10) is ["pg_catalog", "varchar"] with Mods [10], TIMESTAMP WITH
// TIME ZONE is ["pg_catalog", "timestamptz"]), other names stay as written
// (["text"], ["date"], ["public", "mytype"]). Mods are the type modifiers as
// PostgreSQL's typmod input receives them: numeric(10,2) is [10, 2], char
// without a length is [1], INTERVAL DAY TO SECOND(3) is [field mask, 3].
// ArrayBounds counts the [] suffixes.
type TypeName struct {
	Names       []string
	Mods        []int
	ArrayBounds int
	Pos         int
}

// FuncCall is a function or aggregate call, possibly a window function.
//
// Functions written with SQL syntax arrive as calls too:
//   - COALESCE, GREATEST, LEAST and NULLIF (which PostgreSQL parses into
//     nodes of their own) as "coalesce", "greatest", "least" and "nullif";
//   - CURRENT_DATE, CURRENT_TIME[(p)], CURRENT_TIMESTAMP[(p)], LOCALTIME[(p)],
//     LOCALTIMESTAMP[(p)], CURRENT_ROLE, CURRENT_USER, USER, SESSION_USER,
//     CURRENT_CATALOG and CURRENT_SCHEMA as the lower-case keyword, with the
//     precision p, if given, as the only argument;
//   - the rest as PostgreSQL names them, qualified by pg_catalog:
//     EXTRACT(field FROM x) is pg_catalog.extract('field', x) (the field as
//     written, usually lower case), POSITION(a IN b) is pg_catalog.position(b,
//     a), SUBSTRING(s FROM i FOR n) is pg_catalog.substring(s, i, n), TRIM is
//     pg_catalog.btrim/ltrim/rtrim, OVERLAY is pg_catalog.overlay and
//     SYSTEM_USER is pg_catalog.system_user().
//
// x AT TIME ZONE z is an AtTimeZone, not a call. A binder resolves
// "pg_catalog.f" as "f": clients (psql above all) qualify freely.
type FuncCall struct {
	Name        []string // possibly schema-qualified, e.g. ["pg_catalog", "lower"]
	Args        []Expr
	Star        bool        // count(*)
	Distinct    bool        // count(DISTINCT x)
	OrderBy     []OrderItem // string_agg(x, ',' ORDER BY y), or WITHIN GROUP's
	WithinGroup bool        // OrderBy came from WITHIN GROUP (ORDER BY ...)
	Filter      Expr        // FILTER (WHERE ...)
	Over        *WindowSpec // OVER ...; nil for a plain call
	Pos         int
}

// ArrayExpr is ARRAY[Elems]. A nested ARRAY[[1,2],[3,4]] has ArrayExpr
// elements.
type ArrayExpr struct {
	Elems []Expr
	Pos   int
}

// Subscript is X[Index], or the slice X[Index:Upper] when Slice is true
// (then either bound may be nil).
type Subscript struct {
	X     Expr
	Index Expr
	Upper Expr
	Slice bool
	Pos   int
}

// FieldSelect is (X).Field, the selection of a field of a composite value.
type FieldSelect struct {
	X     Expr
	Field string
	Pos   int
}

// Collate is X COLLATE Collation.
type Collate struct {
	X         Expr
	Collation []string
	Pos       int
}

// Row is ROW(Elems) or (a, b, ...).
type Row struct {
	Elems []Expr
	Pos   int
}

// AtTimeZone is X AT TIME ZONE Zone, or X AT LOCAL when Zone is nil.
type AtTimeZone struct {
	X    Expr
	Zone Expr
	Pos  int
}

// Default is the DEFAULT keyword in an INSERT's VALUES.
type Default struct {
	Pos int
}
