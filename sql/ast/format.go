package ast

import (
	"strconv"
	"strings"
)

// Format prints n as PostgreSQL SQL text. The text parses back into a tree
// equal to n apart from positions, and formatting that tree gives the same
// text again, so Format is also a canonical form for tests and EXPLAIN.
// Keywords are upper case; identifiers are quoted only when PostgreSQL
// requires it; expressions are parenthesised only where precedence needs it.
// A nil node formats as "".
func Format(n Node) string {
	var p printer
	p.node(n)
	return p.String()
}

type printer struct {
	strings.Builder
}

func (p *printer) node(n Node) {
	switch n := n.(type) {
	case nil:
	case Stmt:
		p.stmt(n)
	case QueryBody:
		p.body(n)
	case TableExpr:
		p.tableExpr(n)
	case Expr:
		p.expr(n)
	}
}

// QuoteIdent returns name as a PostgreSQL identifier, quoted when it is not
// a lower-case word or is a keyword, as PostgreSQL's quote_ident does.
func QuoteIdent(name string) string {
	if isSafeIdent(name) {
		if _, kw := keywords[name]; !kw {
			return name
		}
	}
	return forceQuote(name)
}

// quoteFuncName quotes a function or type name standing alone, where the
// grammar also accepts type-or-function-name keywords (left, right, ...).
func quoteFuncName(name string) string {
	if isSafeIdent(name) {
		if k, kw := keywords[name]; !kw || k == typeFuncKeyword {
			return name
		}
	}
	return forceQuote(name)
}

// callableKeywords are column-name keywords whose grammar also accepts a
// plain argument list, so that name(args) parses back as a call of name.
var callableKeywords = map[string]bool{"substring": true, "overlay": true}

// quoteLabel quotes a name that follows a '.', where any keyword is allowed.
func quoteLabel(name string) string {
	if isSafeIdent(name) {
		return name
	}
	return forceQuote(name)
}

func isSafeIdent(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c == '_':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

func forceQuote(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// QuoteString returns s as a standard SQL string literal.
func QuoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// qualifiedName formats a dotted name: the first part as an identifier
// (quoted by first), the rest as labels.
func qualifiedName(parts []string, first func(string) string) string {
	var b strings.Builder
	for i, part := range parts {
		if i > 0 {
			b.WriteByte('.')
			b.WriteString(quoteLabel(part))
		} else {
			b.WriteString(first(part))
		}
	}
	return b.String()
}

func (p *printer) idents(names []string) {
	for i, n := range names {
		if i > 0 {
			p.WriteString(", ")
		}
		p.WriteString(QuoteIdent(n))
	}
}

func (p *printer) tableName(t TableName) {
	var parts []string
	if t.Catalog != "" {
		parts = append(parts, t.Catalog)
	}
	if t.Schema != "" || t.Catalog != "" {
		parts = append(parts, t.Schema)
	}
	parts = append(parts, t.Name)
	p.WriteString(qualifiedName(parts, QuoteIdent))
}

func (p *printer) literal(l *Literal) {
	switch l.Kind {
	case LitNull:
		p.WriteString("NULL")
	case LitBool:
		if l.Bool {
			p.WriteString("TRUE")
		} else {
			p.WriteString("FALSE")
		}
	case LitInt:
		p.WriteString(strconv.FormatInt(l.Int, 10))
	case LitNumeric:
		p.WriteString(l.Text)
	case LitString:
		p.WriteString(QuoteString(l.Text))
	default:
		p.WriteString("NULL")
	}
}

// options formats "(name value, ...)" (sep " ") or "(name = value, ...)"
// (sep " = ").
func (p *printer) options(opts []Option, sep string) {
	p.WriteByte('(')
	p.optionList(opts, sep)
	p.WriteByte(')')
}

func (p *printer) optionList(opts []Option, sep string) {
	for i, o := range opts {
		if i > 0 {
			p.WriteString(", ")
		}
		p.WriteString(QuoteIdent(o.Name))
		if o.HasValue {
			p.WriteString(sep)
			p.WriteString(QuoteString(o.Value))
		}
	}
}
