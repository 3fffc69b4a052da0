package flight

import (
	"strconv"
	"strings"
)

// placeholders numbers the JDBC and ODBC style parameter markers of a
// statement — each ? outside quotes and comments becomes $1, $2, … in
// order — so that clients that write ? (the Flight SQL JDBC driver, Python
// DB-API code written for qmark style) run on the PostgreSQL grammar. Text
// with $n markers, or none, comes back unchanged.
func placeholders(text string) string {
	if !strings.Contains(text, "?") {
		return text
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '\'' || c == '"':
			j := closeQuote(text, i+1, c)
			b.WriteString(text[i:j])
			i = j
		case c == '-' && strings.HasPrefix(text[i:], "--"):
			j := strings.IndexByte(text[i:], '\n')
			if j < 0 {
				j = len(text) - i
			}
			b.WriteString(text[i : i+j])
			i += j
		case c == '/' && strings.HasPrefix(text[i:], "/*"):
			j := strings.Index(text[i+2:], "*/")
			end := len(text)
			if j >= 0 {
				end = i + 2 + j + 2
			}
			b.WriteString(text[i:end])
			i = end
		case c == '$' && dollarTag(text[i:]) != "":
			tag := dollarTag(text[i:])
			j := strings.Index(text[i+len(tag):], tag)
			end := len(text)
			if j >= 0 {
				end = i + len(tag) + j + len(tag)
			}
			b.WriteString(text[i:end])
			i = end
		case c == '?':
			n++
			b.WriteString("$" + strconv.Itoa(n))
			i++
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// closeQuote returns the index just past the quote that closes a string
// or identifier opened before from (a doubled quote is an escaped one).
func closeQuote(text string, from int, q byte) int {
	for i := from; i < len(text); i++ {
		if text[i] == q {
			if i+1 < len(text) && text[i+1] == q {
				i++
				continue
			}
			return i + 1
		}
	}
	return len(text)
}

// dollarTag returns the opening tag of a dollar-quoted string at the
// start of s ($$ or $name$), or "" ($1 is a parameter, not a tag).
func dollarTag(s string) string {
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '$':
			return s[:i+1]
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || (i > 1 && c >= '0' && c <= '9'):
		default:
			return ""
		}
	}
	return ""
}
