// Package pgtypes is PostgreSQL's view of Dormouse's SQL types: the type
// OIDs a client sees for each Arrow type the engine produces (see
// engine/expr), and the text and binary formats in which PostgreSQL's wire
// protocol and its COPY command carry values.
//
// It sits between the SQL layer and the front doors: pgwire encodes result
// columns and decodes Bind parameters with it, and sql's COPY reads and
// writes the text, CSV and binary COPY formats with it, so that neither
// depends on the other. It knows no protocol framing, only single values.
//
// Values are written from Arrow arrays, column by column: NewEncoder picks,
// once per column and batch, a function that appends one row's value, so
// that a result streams without a type switch or an allocation per value.
// Values are read one at a time (a parameter, a field of a binary COPY row)
// into Arrow builders.
package pgtypes
