package flight

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/storage/catalog"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrorDomain is the domain of the ErrorInfo detail every error carries;
// its Reason is the SQLSTATE.
const ErrorDomain = "dormouse"

// toStatus turns an error into a gRPC status error: a code chosen by the
// SQLSTATE, the engine's message, and an ErrorInfo detail whose Reason is
// the SQLSTATE and whose metadata holds it with the hint, detail and
// position when there are any. Errors that are already statuses pass.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(interface{ GRPCStatus() *status.Status }); ok {
		return err
	}
	code := codes.Internal
	var e *sqlerr.Error
	switch {
	case errors.Is(err, context.Canceled):
		e = sqlerr.As(err)
	case errors.Is(err, context.DeadlineExceeded):
		e = &sqlerr.Error{Code: sqlerr.QueryCanceled, Message: "canceling statement due to statement timeout", Err: err}
	case errors.Is(err, ErrBadTicket), errors.Is(err, ErrExpired):
		e = &sqlerr.Error{Code: "08P01", Message: err.Error(), Err: err}
	case errors.Is(err, catalog.ErrNoTable):
		e = &sqlerr.Error{Code: sqlerr.UndefinedTable, Message: err.Error(), Err: err}
	case errors.Is(err, catalog.ErrTableExists):
		e = &sqlerr.Error{Code: sqlerr.DuplicateTable, Message: err.Error(), Err: err}
	default:
		e = sqlerr.As(err)
	}
	code = codeFor(e.Code)
	switch {
	case errors.Is(err, ErrExpired):
		code = codes.FailedPrecondition
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	}
	st := status.New(code, e.Message)
	md := map[string]string{"sqlstate": e.Code}
	if e.Hint != "" {
		md["hint"] = e.Hint
	}
	if e.Detail != "" {
		md["detail"] = e.Detail
	}
	if e.Position > 0 {
		md["position"] = strconv.Itoa(e.Position)
	}
	if with, derr := st.WithDetails(&errdetails.ErrorInfo{Reason: e.Code, Domain: ErrorDomain, Metadata: md}); derr == nil {
		st = with
	}
	return st.Err()
}

// codeFor chooses the gRPC code of a SQLSTATE.
func codeFor(sqlstate string) codes.Code {
	switch sqlstate {
	case sqlerr.UndefinedTable:
		return codes.NotFound
	case sqlerr.DuplicateTable:
		return codes.AlreadyExists
	case sqlerr.QueryCanceled:
		return codes.Canceled
	case sqlerr.FeatureNotSupported:
		return codes.Unimplemented
	case sqlerr.InternalError:
		return codes.Internal
	case sqlerr.IOError:
		return codes.Unavailable
	}
	switch {
	case strings.HasPrefix(sqlstate, "53"), strings.HasPrefix(sqlstate, "54"):
		return codes.ResourceExhausted // out of memory, program limits
	case strings.HasPrefix(sqlstate, "25"), strings.HasPrefix(sqlstate, "55"):
		return codes.FailedPrecondition
	case strings.HasPrefix(sqlstate, "42"), strings.HasPrefix(sqlstate, "22"), strings.HasPrefix(sqlstate, "23"),
		strings.HasPrefix(sqlstate, "21"), strings.HasPrefix(sqlstate, "08"), strings.HasPrefix(sqlstate, "0A"):
		return codes.InvalidArgument // bad SQL, bad values, bad parameters
	}
	return codes.Internal
}

// SQLState returns the SQLSTATE a status error from this server carries,
// or "".
func SQLState(err error) string {
	st, ok := status.FromError(err)
	if !ok {
		return ""
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.Domain == ErrorDomain {
			return info.Reason
		}
	}
	return ""
}
