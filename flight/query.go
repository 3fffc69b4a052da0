package flight

import (
	"context"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	pb "github.com/apache/arrow-go/v18/arrow/flight/gen/flight"
	"github.com/dormousedb/dormouse/flight/ticket"
	"github.com/dormousedb/dormouse/sql"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Queries: GetFlightInfo plans the statement into splits (sql.PlanSplits)
// and answers one endpoint per split, each with a signed ticket; DoGet
// runs the split its ticket carries and streams the engine's batches as
// they come. A statement that returns no rows (INSERT, CREATE TABLE, SET
// …) sent as a query runs at once and answers an empty result.

// maxChunkBytes bounds the Arrow body of one FlightData message: gRPC
// clients refuse messages over 4 MiB by default, and smaller messages
// keep a stream's memory low.
const maxChunkBytes = 3 << 20

// GetFlightInfoStatement plans a query.
func (s *Server) GetFlightInfoStatement(ctx context.Context, cmd flightsql.StatementQuery, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	info, err := s.statementInfo(ctx, cmd.GetQuery(), desc)
	return info, toStatus(err)
}

func (s *Server) statementInfo(ctx context.Context, text string, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	sess := s.eng.NewSession()
	st, err := sess.Prepare(ctx, placeholders(text), nil)
	if err != nil {
		return nil, err
	}
	if !st.Splittable() {
		if _, err := runUpdate(ctx, sess, st, nil); err != nil {
			return nil, err
		}
		return s.flightInfo(&sql.SplitPlan{Schema: arrow.NewSchema(nil, nil)}, desc)
	}
	plan, err := sess.PlanSplits(ctx, st, nil)
	if err != nil {
		return nil, err
	}
	return s.flightInfo(plan, desc)
}

// GetSchemaStatement answers the schema a query's FlightInfo would carry.
func (s *Server) GetSchemaStatement(ctx context.Context, cmd flightsql.StatementQuery, _ *flight.FlightDescriptor) (*flight.SchemaResult, error) {
	sch, err := s.statementSchema(ctx, cmd.GetQuery(), nil)
	if err != nil {
		return nil, toStatus(err)
	}
	return &flight.SchemaResult{Schema: flight.SerializeSchema(sch, s.alloc)}, nil
}

// statementSchema plans a statement (without running it) for its result
// schema; a statement that returns no rows has an empty one.
func (s *Server) statementSchema(ctx context.Context, text string, params []arrow.Array) (*arrow.Schema, error) {
	sess := s.eng.NewSession()
	st, err := sess.Prepare(ctx, placeholders(text), nil)
	if err != nil {
		return nil, err
	}
	if !st.Splittable() {
		return arrow.NewSchema(nil, nil), nil
	}
	plan, err := sess.PlanSplits(ctx, st, params)
	if err != nil {
		return nil, err
	}
	return plan.Schema, nil
}

// flightInfo wraps a split plan in a FlightInfo: its schema, and one
// endpoint per split with a signed ticket, all of one query id.
// Tickets expire after Options.TicketTTL, or sooner when a table read
// keeps replaced files for less (its gc_delay).
func (s *Server) flightInfo(plan *sql.SplitPlan, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	ttl := s.opts.TicketTTL
	if plan.ReadableFor > 0 && plan.ReadableFor < ttl {
		ttl = plan.ReadableFor
	}
	query := newID()
	expires := time.Now().Add(ttl)
	info := &flight.FlightInfo{
		Schema:           flight.SerializeSchema(plan.Schema, s.alloc),
		FlightDescriptor: desc,
		TotalRecords:     -1,
		TotalBytes:       -1,
		Ordered:          plan.Ordered,
	}
	for i := range plan.Splits {
		blob, err := s.sealSplit(&plan.Splits[i], query, expires)
		if err != nil {
			return nil, err
		}
		t, err := flightsql.CreateStatementQueryTicket(blob)
		if err != nil {
			return nil, err
		}
		info.Endpoint = append(info.Endpoint, &flight.FlightEndpoint{
			Ticket:         &flight.Ticket{Ticket: t},
			Location:       s.locations(i),
			ExpirationTime: timestamppb.New(expires),
		})
	}
	return info, nil
}

// DoGetStatement runs the split a ticket carries and streams its batches.
func (s *Server) DoGetStatement(ctx context.Context, cmd flightsql.StatementQueryTicket) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	sp, t, err := s.openSplit(cmd.GetStatementHandle(), time.Now())
	if err != nil {
		return nil, nil, toStatus(err)
	}
	qctx, done, err := s.track(ctx, t.Query)
	if err != nil {
		return nil, nil, err
	}
	rows, err := s.eng.NewSession().RunSplit(qctx, sp)
	if err != nil {
		done()
		return nil, nil, toStatus(err)
	}
	ch := make(chan flight.StreamChunk, 2)
	go func() {
		defer done()
		defer close(ch)
		defer rows.Close()
		s.stream(ctx, qctx, rows, ch)
	}()
	return rows.Schema(), ch, nil
}

// stream sends rows' batches on ch, cut to at most maxChunkBytes each,
// until the rows end or fail, the client goes away (ctx, the call's, is
// done) or the query is cancelled (qctx, which the rows run under, is
// done: the stream then ends with Canceled). The channel's small buffer
// bounds what a slow client makes the server hold.
func (s *Server) stream(ctx, qctx context.Context, rows sql.Rows, ch chan<- flight.StreamChunk) {
	fail := func(err error) {
		if qctx.Err() != nil {
			err = status.Error(codes.Canceled, "the query was cancelled")
		}
		select {
		case ch <- flight.StreamChunk{Err: toStatus(err)}:
		case <-ctx.Done():
		}
	}
	for {
		rec, err := rows.Next(qctx)
		if err == io.EOF {
			return
		}
		if err != nil {
			fail(err)
			return
		}
		parts := cut(rec, maxChunkBytes)
		for i, part := range parts {
			select {
			case ch <- flight.StreamChunk{Data: part}:
			case <-qctx.Done():
				releaseAll(parts[i:])
				fail(qctx.Err())
				return
			}
		}
	}
}

// cut slices a batch into batches of at most about limit bytes, taking
// over rec's reference.
func cut(rec arrow.RecordBatch, limit int64) []arrow.RecordBatch {
	n := rec.NumRows()
	size := batchBytes(rec)
	if size <= limit || n <= 1 {
		return []arrow.RecordBatch{rec}
	}
	per := max(1, n*limit/size)
	out := make([]arrow.RecordBatch, 0, (n+per-1)/per)
	for lo := int64(0); lo < n; lo += per {
		out = append(out, rec.NewSlice(lo, min(n, lo+per)))
	}
	rec.Release()
	return out
}

// CancelFlightInfo stops the running streams of a FlightInfo's query in
// this process and refuses its tickets from now on.
func (s *Server) CancelFlightInfo(_ context.Context, req *flight.CancelFlightInfoRequest) (flight.CancelFlightInfoResult, error) {
	info := req.GetInfo()
	for _, ep := range info.GetEndpoint() {
		blob, err := statementHandle(ep.GetTicket().GetTicket())
		if err != nil {
			continue
		}
		var t ticket.Ticket
		if s.sign.Open(ticket.KindTicket, blob, &t) != nil {
			continue
		}
		s.cancelQuery(t.Query, time.UnixMilli(t.Expires))
		return flight.CancelFlightInfoResult{Status: flight.CancelStatusCancelled}, nil
	}
	return flight.CancelFlightInfoResult{Status: flight.CancelStatusNotCancellable}, nil
}

// statementHandle unwraps the handle of a TicketStatementQuery ticket.
func statementHandle(ticket []byte) ([]byte, error) {
	var a anypb.Any
	if err := proto.Unmarshal(ticket, &a); err != nil {
		return nil, err
	}
	var q pb.TicketStatementQuery
	if err := a.UnmarshalTo(&q); err != nil {
		return nil, err
	}
	return q.GetStatementHandle(), nil
}

// runUpdate runs a statement that returns no rows (or reads the rows of
// one that does) and returns the count its tag reports.
func runUpdate(ctx context.Context, sess *sql.Session, st *sql.Statement, params []arrow.Array) (int64, error) {
	rows, err := sess.Execute(ctx, st, params)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	for {
		rec, err := rows.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
		rec.Release()
	}
	return tagCount(rows.Tag()), nil
}

// tagCount reads the row count of a command tag ("INSERT 0 5", "SELECT
// 3"); commands without one count 0.
func tagCount(tag string) int64 {
	f := strings.Fields(tag)
	if len(f) < 2 {
		return 0
	}
	n, err := strconv.ParseInt(f[len(f)-1], 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// errUnavailable reports a feature the server does not have.
func errUnavailable(what string) error {
	return status.Errorf(codes.Unimplemented, "%s is not supported", what)
}

// batchBytes is the size of the buffers a batch's columns use.
func batchBytes(rec arrow.RecordBatch) int64 {
	var n int64
	for _, c := range rec.Columns() {
		n += dataBytes(c.Data())
	}
	return n
}

func dataBytes(d arrow.ArrayData) int64 {
	var n int64
	for _, b := range d.Buffers() {
		if b != nil {
			n += int64(b.Len())
		}
	}
	for _, c := range d.Children() {
		n += dataBytes(c)
	}
	return n
}

// DoPutCommandStatementUpdate runs a statement that changes something
// (INSERT, CREATE TABLE, DROP TABLE, ALTER TABLE … SET, …) and answers
// the rows it affected.
func (s *Server) DoPutCommandStatementUpdate(ctx context.Context, cmd flightsql.StatementUpdate) (int64, error) {
	sess := s.eng.NewSession()
	st, err := sess.Prepare(ctx, placeholders(cmd.GetQuery()), nil)
	if err != nil {
		return 0, toStatus(err)
	}
	n, err := runUpdate(ctx, sess, st, nil)
	return n, toStatus(err)
}
