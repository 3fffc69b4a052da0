// Package compact holds what datafile's Parquet code knows of Thrift's
// compact protocol, in which Parquet serializes its page headers, footer
// and page index: the wire types, which the page header reader
// (datafile's page_header.go) and the writer (pqwrite) share, and a writer
// of structs.
//
// arrow-go generates Thrift types for Parquet, but keeps them internal,
// and its general protocol allocates per field; Parquet's structures are
// few and small, so both directions are written by hand.
package compact
