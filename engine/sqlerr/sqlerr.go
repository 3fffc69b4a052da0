// Package sqlerr is the error type every SQL-facing layer returns: a
// PostgreSQL SQLSTATE, a message, and where known the position in the
// statement text. The engine raises them (division by zero, overflow), the
// SQL layer adds positions, and the front doors (pgwire, Flight SQL) send
// them on as they are.
package sqlerr

import (
	"errors"
	"fmt"
)

// SQLSTATE codes we raise, named as in PostgreSQL's errcodes.txt.
const (
	SuccessfulCompletion      = "00000"
	FeatureNotSupported       = "0A000"
	CardinalityViolation      = "21000"
	StringDataRightTruncation = "22001"
	NumericValueOutOfRange    = "22003"
	InvalidDatetimeFormat     = "22007"
	DatetimeFieldOverflow     = "22008"
	DivisionByZero            = "22012"
	InvalidParameterValue     = "22023"
	InvalidRegularExpression  = "2201B"
	InvalidArgumentForLog     = "2201E"
	InvalidArgumentForPower   = "2201F"
	SubstringError            = "22011"
	InvalidEscapeCharacter    = "22019"
	InvalidEscapeSequence     = "22025"
	InvalidTextRepresentation = "22P02"
	NullValueNotAllowed       = "23502"
	InvalidTransactionState   = "25000"
	ReadOnlySQLTransaction    = "25006"
	SyntaxError               = "42601"
	InsufficientPrivilege     = "42501"
	GroupingError             = "42803"
	WindowingError            = "42P20"
	DatatypeMismatch          = "42804"
	WrongObjectType           = "42809"
	UndefinedColumn           = "42703"
	UndefinedFunction         = "42883"
	UndefinedTable            = "42P01"
	UndefinedParameter        = "42P02"
	UndefinedObject           = "42704"
	AmbiguousFunction         = "42725"
	CannotCoerce              = "42846"
	IndeterminateDatatype     = "42P18"
	DuplicateTable            = "42P07"
	DuplicateColumn           = "42701"
	AmbiguousColumn           = "42702"
	InvalidColumnReference    = "42P10"
	OutOfMemory               = "53200"
	ProgramLimitExceeded      = "54000"
	QueryCanceled             = "57014"
	InternalError             = "XX000"
	IOError                   = "58030"
)

// Error is an error with a SQLSTATE.
type Error struct {
	Code    string // SQLSTATE
	Message string
	Detail  string
	Hint    string
	// Where is the context of the error, PostgreSQL's CONTEXT line
	// ("COPY t, line 3, column k"), or "".
	Where string
	// Position is the 1-based character position in the statement text
	// that the error is about, or 0.
	Position int
	// Err is the underlying error, if any.
	Err error
}

func (e *Error) Error() string { return e.Message }

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with a SQLSTATE and a formatted message.
func New(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error with a SQLSTATE whose message is err's, keeping err.
func Wrap(code string, err error) *Error {
	return &Error{Code: code, Message: err.Error(), Err: err}
}

// WithHint returns a copy of e with a hint.
func (e *Error) WithHint(format string, args ...any) *Error {
	c := *e
	c.Hint = fmt.Sprintf(format, args...)
	return &c
}

// At returns a copy of e pointing at a 1-based character position, unless
// it already points somewhere.
func (e *Error) At(pos int) *Error {
	if e.Position != 0 || pos <= 0 {
		return e
	}
	c := *e
	c.Position = pos
	return &c
}

// As returns err as an *Error: itself if it is one (or wraps one), a query
// cancellation for a cancelled context, else an internal error.
func As(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, errCanceled) {
		return &Error{Code: QueryCanceled, Message: "canceling statement due to user request", Err: err}
	}
	return &Error{Code: InternalError, Message: err.Error(), Err: err}
}

// Code returns err's SQLSTATE (InternalError for errors without one, ""
// for nil).
func Code(err error) string {
	if err == nil {
		return ""
	}
	return As(err).Code
}
