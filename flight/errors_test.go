package flight

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/storage/catalog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestToStatus maps engine errors to gRPC codes, keeping the message and
// the SQLSTATE.
func TestToStatus(t *testing.T) {
	for _, c := range []struct {
		err      error
		code     codes.Code
		sqlstate string
	}{
		{sqlerr.New(sqlerr.SyntaxError, "syntax error at or near \"SELEC\""), codes.InvalidArgument, "42601"},
		{sqlerr.New(sqlerr.UndefinedTable, "relation \"x\" does not exist"), codes.NotFound, "42P01"},
		{fmt.Errorf("open: %w", catalog.ErrNoTable), codes.NotFound, "42P01"},
		{sqlerr.New(sqlerr.DuplicateTable, "relation \"x\" already exists"), codes.AlreadyExists, "42P07"},
		{sqlerr.New(sqlerr.DivisionByZero, "division by zero"), codes.InvalidArgument, "22012"},
		{sqlerr.New(sqlerr.OutOfMemory, "sort needs more than the statement memory limit"), codes.ResourceExhausted, "53200"},
		{sqlerr.New(sqlerr.FeatureNotSupported, "not supported"), codes.Unimplemented, "0A000"},
		{context.Canceled, codes.Canceled, "57014"},
		{fmt.Errorf("scan: %w", context.DeadlineExceeded), codes.DeadlineExceeded, "57014"},
		{ErrBadTicket, codes.InvalidArgument, "08P01"},
		{ErrExpired, codes.FailedPrecondition, "08P01"},
		{errors.New("a bug"), codes.Internal, "XX000"},
	} {
		err := toStatus(c.err)
		if st, _ := status.FromError(err); st.Code() != c.code || SQLState(err) != c.sqlstate {
			t.Errorf("%v: %v with SQLSTATE %q, want %v, %s", c.err, st.Code(), SQLState(err), c.code, c.sqlstate)
		}
	}
	if toStatus(nil) != nil {
		t.Error("toStatus(nil) is not nil")
	}
	already := status.Error(codes.Unauthenticated, "x")
	if toStatus(already) != already {
		t.Error("a status error was changed")
	}
}
