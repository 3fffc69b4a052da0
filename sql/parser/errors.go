package parser

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	pgparser "github.com/pganalyze/pg_query_go/v6/parser"
)

// SQLSTATE codes of the errors the parser returns.
const (
	CodeSyntaxError              = "42601"
	CodeFeatureNotSupported      = "0A000"
	CodeCharacterNotInRepertoire = "22021" // invalid UTF-8 or a NUL byte
	CodeInvalidEscapeSequence    = "22025"
	CodeWindowingError           = "42P20"
	CodeStatementTooComplex      = "54001"
	CodeInternalError            = "XX000"
)

// Error is an error in SQL text: a syntax error, with PostgreSQL's own
// message, or a statement or clause this engine does not support.
type Error struct {
	// Message is the primary message, worded as PostgreSQL words it where
	// PostgreSQL has the same error (syntax error at or near "FORM").
	Message string
	// Position is the 0-based byte offset in the input that the error is
	// about, or -1. ast.CharPosition turns it into PostgreSQL's 1-based
	// character position.
	Position int
	// SQLSTATE is the error's code: CodeSyntaxError, CodeFeatureNotSupported,
	// or one of the other Code constants.
	SQLSTATE string
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

// bailout carries an *Error up through the converter's recursion; Parse
// recovers it. Converting a deep tree is recursive, and threading an error
// through every function would double the converter's size.
type bailout struct{ err *Error }

// fail abandons the conversion with an error at pos.
func fail(code string, pos int, format string, args ...any) {
	panic(bailout{&Error{Message: fmt.Sprintf(format, args...), Position: pos, SQLSTATE: code}})
}

// unsupported abandons the conversion with a 0A000 error at pos.
func unsupported(pos int, format string, args ...any) {
	fail(CodeFeatureNotSupported, pos, format, args...)
}

// recoverError turns a bailout panic into *errp; other panics continue.
func recoverError(errp *error) {
	if r := recover(); r != nil {
		b, ok := r.(bailout)
		if !ok {
			panic(r)
		}
		*errp = b.err
	}
}

// featureNotSupported lists fragments of the messages that PostgreSQL's
// grammar raises with SQLSTATE 0A000; any other grammar error is a syntax
// error (42601) unless listed in otherCodes.
var featureNotSupported = []string{
	"not yet implemented", "is no longer supported", "is no longer required",
	"not supported on recursive views", "cannot be marked", "cannot include schema elements",
	"only string constants are supported", "current database cannot be changed",
	"unsafe use of string constant with Unicode escapes", "aggregates cannot have output arguments",
	"is only supported for ON DELETE", "CONSTRAINT TRIGGER is not supported",
	"must have one VARIADIC aggregated argument",
}

var otherCodes = []struct{ fragment, code string }{
	{"invalid byte sequence for encoding", CodeCharacterNotInRepertoire},
	{"frame start cannot", CodeWindowingError},
	{"frame end cannot", CodeWindowingError},
	{"frame starting from", CodeWindowingError},
	{"stack depth limit exceeded", CodeStatementTooComplex},
}

// convertError turns an error from pg_query into an *Error.
func convertError(sql string, err error) *Error {
	var pe *pgparser.Error
	if !errors.As(err, &pe) {
		// The tree could not be decoded; in practice only a tree nested too
		// deeply for the protobuf decoder gets here.
		return &Error{Message: "statement is too complex: " + err.Error(), Position: -1, SQLSTATE: CodeStatementTooComplex}
	}
	code := CodeSyntaxError
	for _, f := range featureNotSupported {
		if strings.Contains(pe.Message, f) {
			code = CodeFeatureNotSupported
		}
	}
	for _, oc := range otherCodes {
		if strings.Contains(pe.Message, oc.fragment) {
			code = oc.code
		}
	}
	return &Error{Message: pe.Message, Position: byteOffset(sql, pe.Cursorpos), SQLSTATE: code}
}

// byteOffset converts PostgreSQL's 1-based character position into a
// 0-based byte offset; 0 (no position) becomes -1.
func byteOffset(sql string, charPos int) int {
	if charPos <= 0 {
		return -1
	}
	n := 1
	for i := range sql {
		if n == charPos {
			return i
		}
		n++
	}
	return len(sql)
}

// checkEncoding rejects what PostgreSQL would never receive as query text:
// invalid UTF-8, and NUL bytes (which would silently cut the text short on
// its way into the C parser).
func checkEncoding(sql string) error {
	for i := 0; i < len(sql); {
		r, size := utf8.DecodeRuneInString(sql[i:])
		if r == 0 || (r == utf8.RuneError && size == 1) {
			return &Error{
				Message:  fmt.Sprintf("invalid byte sequence for encoding \"UTF8\": %s", badBytes(sql[i:])),
				Position: i,
				SQLSTATE: CodeCharacterNotInRepertoire,
			}
		}
		i += size
	}
	return nil
}

// badBytes formats the bytes of the invalid sequence at the start of s as
// PostgreSQL does: "0xc3 0x28".
func badBytes(s string) string {
	n := 1
	switch c := s[0]; {
	case c >= 0xf0:
		n = 4
	case c >= 0xe0:
		n = 3
	case c >= 0xc0:
		n = 2
	}
	n = min(n, len(s))
	parts := make([]string, n)
	for i := range n {
		parts[i] = fmt.Sprintf("0x%02x", s[i])
	}
	return strings.Join(parts, " ")
}
