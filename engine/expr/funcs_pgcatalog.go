package expr

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// System information functions that clients' catalog queries call and that
// need nothing but their arguments. Those that read the catalog
// (pg_table_is_visible, format_type, pg_get_indexdef, ::regclass …) are
// defined by the sql package over its snapshot.

func init() {
	def("pg_encoding_to_char", ks(kInt4), kText, func(c *call) (arrow.Array, error) {
		v := c.i32(0)
		return c.textRows(func(dst []byte, i int) ([]byte, error) {
			return append(dst, encodingName(v[i])...), nil
		})
	})
	// pg_get_expr(node tree, relation [, pretty]): our expressions are
	// kept as their SQL text, so the tree is its own decompilation.
	for _, params := range [][]kind{{kText, kInt8}, {kText, kInt8, kBool}} {
		def("pg_get_expr", params, kText, func(c *call) (arrow.Array, error) {
			v := c.text(0)
			return c.textRows(func(dst []byte, i int) ([]byte, error) { return append(dst, v.at(i)...), nil })
		})
	}
	// Dormouse has one role, a superuser: every privilege check passes.
	for _, name := range []string{"has_table_privilege", "has_schema_privilege", "has_database_privilege",
		"has_column_privilege", "has_any_column_privilege", "has_function_privilege", "has_sequence_privilege",
		"has_type_privilege", "has_tablespace_privilege", "has_foreign_data_wrapper_privilege",
		"has_server_privilege", "has_language_privilege", "pg_has_role"} {
		def(name, ks(kAny), kBool, func(c *call) (arrow.Array, error) {
			return c.boolRows(func(int) bool { return true })
		}, variadic)
	}
	def("pg_is_in_recovery", nil, kBool, func(c *call) (arrow.Array, error) {
		return c.boolRows(func(int) bool { return false })
	})
	def("pg_size_pretty", ks(kInt8), kText, func(c *call) (arrow.Array, error) {
		v := c.i64(0)
		return c.textRows(func(dst []byte, i int) ([]byte, error) { return append(dst, sizePretty(v[i])...), nil })
	})
	def("quote_ident", ks(kText), kText, func(c *call) (arrow.Array, error) {
		v := c.text(0)
		return c.textRows(func(dst []byte, i int) ([]byte, error) { return append(dst, QuoteIdent(v.str(i))...), nil })
	})
}

// encodingName is PostgreSQL's name of an encoding number.
func encodingName(n int32) string {
	switch n {
	case 0:
		return "SQL_ASCII"
	case 6:
		return "UTF8"
	case 8:
		return "LATIN1"
	}
	return ""
}

// sizePretty formats a byte count as pg_size_pretty does: bytes below
// 10 kB, then kB, MB, GB and TB, rounded half up.
func sizePretty(size int64) string {
	const limit = 10 * 1024
	const limit2 = limit*2 - 1
	abs := func(x int64) int64 {
		if x < 0 {
			return -x
		}
		return x
	}
	half := func(x int64) int64 {
		if x < 0 {
			return (x - 1) / 2
		}
		return (x + 1) / 2
	}
	if abs(size) < limit {
		return fmt.Sprintf("%d bytes", size)
	}
	size >>= 9 // one extra bit for rounding
	for _, unit := range []string{"kB", "MB", "GB"} {
		if abs(size) < limit2 {
			return fmt.Sprintf("%d %s", half(size), unit)
		}
		size >>= 10
	}
	return fmt.Sprintf("%d TB", half(size))
}

var plainIdent = regexp.MustCompile(`^[a-z_][a-z0-9_$]*$`)

// QuoteIdent double-quotes an identifier unless it is a plain lower-case
// name, as quote_ident does (reserved words aside).
func QuoteIdent(s string) string {
	if plainIdent.MatchString(s) {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
