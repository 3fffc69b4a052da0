// Package expr is the scalar expression library of the engine: typed,
// immutable expression trees with PostgreSQL semantics, evaluated a whole
// Arrow array at a time. It sits inside engine/ — operators (filter,
// project, aggregate, join) evaluate expressions; sql/ (the binder and the
// planner) builds them — and imports nothing of ours but engine/sqlerr.
//
// # Life cycle
//
// The binder builds an expression bottom-up with the constructors: Lit,
// Null, Unknown and Param for constants; Column for inputs; Arith,
// Compare, And, Or, Not, IsNull, IsBool, IsDistinctFrom, In, Between,
// Like, Regex, Case, Coalesce, NullIf, Greatest, Least, Cast, ImplicitCast,
// AssignCast and Call for the rest. Each constructor does PostgreSQL's type
// resolution: it finds the operator or function overload for its operands'
// types, inserts the implicit casts (int4 to int8, date to timestamp, an
// untyped literal to whatever its context needs), folds casts of literals
// ('2024-01-31'::date is a date literal from then on) and returns a
// *sqlerr.Error with PostgreSQL's SQLSTATE and message when there is no
// match (42883 "operator does not exist: text + integer", 42804, 42846,
// 42704, or an input error such as 22P02 for a malformed literal).
//
// The planner reads the trees it gets: node types are exported (Comparison,
// BoolOp, InList, BetweenExpr, LikeExpr, …) with their operands as fields,
// Constant and ConstantValue read literals, Walk, Columns, Rewrite and Remap
// inspect and renumber column references for pruning, and Fold evaluates
// constant sub-expressions once a statement's parameters and clock are
// known. Expressions never change after construction, so one tree serves
// every partition scanned in parallel.
//
// Operators call Eval with a Context (allocator, statement time, session
// time zone, parameters) and a record batch; the result is a new array of
// the batch's length, owned by the caller. Strings, row-by-row parsing and
// calendar arithmetic aside, evaluation runs in typed loops over the Arrow
// buffers (generics over the element types, constants kept as scalars
// rather than repeated); errors found in a loop are checked again against
// the validity bitmap, so a value hidden under a NULL never raises one.
//
// # Semantics
//
// NULL is three-valued throughout: arithmetic, comparisons and functions
// return NULL for a NULL input (concat and concat_ws skip NULLs, IS
// [NOT] NULL/DISTINCT FROM and the IS TRUE family never return NULL), AND
// and OR follow Kleene, x IN (…, NULL) is NULL when nothing matches.
// Integer arithmetic raises 22003 on overflow ("integer out of range") and
// 22012 on division by zero, floats raise 22003 on overflow and underflow
// and 22012 on division by zero, as PostgreSQL's float.h does. CASE,
// COALESCE and the later arguments of AND and OR are evaluated only on the
// rows that reach them (by gathering those rows into a smaller batch), so
// CASE WHEN x = 0 THEN 0 ELSE 1 / x END never divides by zero.
//
// # Types
//
// SQL types are carried by Arrow types (types.go): boolean Boolean,
// smallint Int16, integer Int32, bigint Int64, real Float32, double
// precision Float64, text (and varchar, char, name) String, bytea Binary,
// timestamp Timestamp(µs), timestamptz Timestamp(µs, "UTC"), date Date32,
// interval MonthDayNanoInterval, and the NULL literal Null. A
// one-dimensional array is a List of its element type and a record a
// Struct (array.go): literals ('{1,2}'), ARRAY[…], a[i], x = ANY(a), ||,
// the array functions, and set-returning functions as array-valued ones
// (SetFunc) that the engine's Unnest turns into rows.
//
// Deviations from PostgreSQL, all deliberate for now:
//   - NUMERIC is approximated by double precision until decimals arrive:
//     numeric values are Float64 and numeric(p,s) ignores its modifiers.
//     Expressions keep a numeric flavour (IsNumeric; built with the
//     NumericType marker: Lit(1.5, NumericType) for a numeric literal,
//     Cast(x, NumericType) for x::numeric) only where the two types visibly
//     differ: round(x) and casts to integers round half away from zero for
//     numeric and half to even for double precision, as in PostgreSQL.
//     round(x, n) and trunc(x, n), numeric-only in PostgreSQL, work on the
//     shortest decimal form of x, so round(2.675, 2) is 2.68. Results are
//     described as double precision.
//   - extract and date_part return double precision (PostgreSQL 15 returns
//     numeric from extract).
//   - Text compares byte-wise: the C collation (code point order for
//     UTF-8). lower, upper and initcap use Unicode case mapping.
//   - Regular expressions (~, ~*, SIMILAR TO) are Go's RE2, which agrees
//     with PostgreSQL's on the common subset but has no back-references or
//     lookaround.
//   - varchar(n) and char(n) lengths are not enforced; char is not padded.
//   - Timestamps count microseconds from 1970 in an int64, so they end in
//     294247 AD rather than PostgreSQL's 294276 AD; infinity and -infinity
//     are the extreme values, as in PostgreSQL.
//   - Text input of dates and timestamps accepts the ISO forms
//     (2024-01-31, 20240131, 2024-01-31 12:00:00.5+02, T separator, BC,
//     the special words), not every DateStyle form PostgreSQL reads.
package expr
