package flight

import (
	"context"
	"fmt"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/flight/ticket"
	"github.com/dormousedb/dormouse/sql"
)

// Prepared statements: the handle is a signed blob holding the statement
// text (and, once DoPut bound them, the parameter rows), so any serve
// process on the store can run it and nothing is kept per statement. The
// updated handle DoPut answers carries the parameters; for clients that
// keep using the handle they were first given, the parameters are also
// kept in this process, by the statement's id, until it is closed (or
// pushed out by maxBound newer ones).
//
// Each parameter row runs the statement once: a query's results are
// concatenated (its endpoints follow one another), an update's counts are
// added up.

type handleBody struct {
	ID     string `json:"id"`
	SQL    string `json:"sql"`
	Params []byte `json:"params,omitempty"` // Arrow IPC stream of the bound rows
}

// maxBound bounds the parameter sets kept for clients that ignore updated
// handles.
const maxBound = 1024

type boundParams struct {
	mu    sync.Mutex
	m     map[string][]byte
	order []string
}

func (b *boundParams) init() { b.m = map[string][]byte{} }

func (b *boundParams) put(id string, params []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.m[id]; !ok {
		b.order = append(b.order, id)
	}
	b.m[id] = params
	for len(b.order) > maxBound {
		delete(b.m, b.order[0])
		b.order = b.order[1:]
	}
}

func (b *boundParams) get(id string) []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m[id]
}

func (b *boundParams) drop(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.m, id)
}

func (s *Server) openHandle(blob []byte) (*handleBody, error) {
	var h handleBody
	if err := s.sign.Open(ticket.KindHandle, blob, &h); err != nil {
		return nil, err
	}
	return &h, nil
}

// CreatePreparedStatement parses and binds a statement, inferring its
// parameters' types, and answers its handle and schemas.
func (s *Server) CreatePreparedStatement(ctx context.Context, req flightsql.ActionCreatePreparedStatementRequest) (flightsql.ActionCreatePreparedStatementResult, error) {
	var res flightsql.ActionCreatePreparedStatementResult
	text := placeholders(req.GetQuery())
	sess := s.eng.NewSession()
	st, err := sess.Prepare(ctx, text, nil)
	if err != nil {
		return res, toStatus(err)
	}
	blob, err := s.sign.Seal(ticket.KindHandle, handleBody{ID: newID(), SQL: text})
	if err != nil {
		return res, toStatus(err)
	}
	res.Handle = blob
	res.ParameterSchema = paramSchema(st.ParamTypes())
	isUpdate := !st.Splittable()
	res.IsUpdate = &isUpdate
	if res.DatasetSchema, err = s.datasetSchema(ctx, sess, st); err != nil {
		return res, toStatus(err)
	}
	return res, nil
}

// datasetSchema is the schema a prepared statement's results have: planned
// exactly when it takes no parameters, else from its description.
func (s *Server) datasetSchema(ctx context.Context, sess *sql.Session, st *sql.Statement) (*arrow.Schema, error) {
	if !st.Splittable() {
		return arrow.NewSchema(nil, nil), nil
	}
	if len(st.ParamTypes()) == 0 {
		plan, err := sess.PlanSplits(ctx, st, nil)
		if err != nil {
			return nil, err
		}
		return plan.Schema, nil
	}
	cols := st.Columns()
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c.Name, Type: c.Type, Nullable: true}
	}
	return arrow.NewSchema(fields, nil), nil
}

func paramSchema(types []arrow.DataType) *arrow.Schema {
	fields := make([]arrow.Field, len(types))
	for i, t := range types {
		fields[i] = arrow.Field{Name: fmt.Sprintf("$%d", i+1), Type: t, Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}

// ClosePreparedStatement forgets the parameters bound to a statement.
func (s *Server) ClosePreparedStatement(_ context.Context, req flightsql.ActionClosePreparedStatementRequest) error {
	h, err := s.openHandle(req.GetPreparedStatementHandle())
	if err != nil {
		return toStatus(err)
	}
	s.bound.drop(h.ID)
	return nil
}

// DoPutPreparedStatementQuery binds parameter rows to a statement and
// answers the handle that carries them.
func (s *Server) DoPutPreparedStatementQuery(ctx context.Context, cmd flightsql.PreparedStatementQuery, rdr flight.MessageReader, _ flight.MetadataWriter) ([]byte, error) {
	h, err := s.openHandle(cmd.GetPreparedStatementHandle())
	if err != nil {
		return nil, toStatus(err)
	}
	st, err := s.eng.NewSession().Prepare(ctx, h.SQL, nil)
	if err != nil {
		return nil, toStatus(err)
	}
	recs, err := readParams(ctx, rdr, st.ParamTypes())
	if err != nil {
		return nil, toStatus(err)
	}
	defer releaseAll(recs)
	data, err := encodeBatches(paramSchema(st.ParamTypes()), recs...)
	if err != nil {
		return nil, toStatus(err)
	}
	h.Params = data
	s.bound.put(h.ID, data)
	blob, err := s.sign.Seal(ticket.KindHandle, h)
	return blob, toStatus(err)
}

// GetFlightInfoPreparedStatement plans a prepared statement with its
// bound parameters: the splits of every parameter row, in order.
func (s *Server) GetFlightInfoPreparedStatement(ctx context.Context, cmd flightsql.PreparedStatementQuery, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	info, err := s.preparedInfo(ctx, cmd.GetPreparedStatementHandle(), desc)
	return info, toStatus(err)
}

func (s *Server) preparedInfo(ctx context.Context, blob []byte, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	h, err := s.openHandle(blob)
	if err != nil {
		return nil, err
	}
	sess := s.eng.NewSession()
	st, err := sess.Prepare(ctx, h.SQL, nil)
	if err != nil {
		return nil, err
	}
	rows, release, err := s.boundRows(h, st.ParamTypes())
	if err != nil {
		return nil, err
	}
	defer release()
	if !st.Splittable() {
		for _, params := range rows {
			if _, err := runUpdate(ctx, sess, st, params); err != nil {
				return nil, err
			}
		}
		return s.flightInfo(&sql.SplitPlan{Schema: arrow.NewSchema(nil, nil)}, desc)
	}
	var all *sql.SplitPlan
	for _, params := range rows {
		plan, err := sess.PlanSplits(ctx, st, params)
		if err != nil {
			return nil, err
		}
		if all == nil {
			all = plan
			continue
		}
		all.Splits = append(all.Splits, plan.Splits...)
		all.Ordered = false // each row's result is ordered, not their concatenation
		all.ReadableFor = min(all.ReadableFor, plan.ReadableFor)
	}
	return s.flightInfo(all, desc)
}

// boundRows returns the parameter rows of a handle as one-row arrays of
// the statement's types: one empty row for a statement without
// parameters.
func (s *Server) boundRows(h *handleBody, types []arrow.DataType) ([][]arrow.Array, func(), error) {
	data := h.Params
	if data == nil {
		data = s.bound.get(h.ID)
	}
	if len(types) == 0 && data == nil {
		return [][]arrow.Array{nil}, func() {}, nil
	}
	if data == nil {
		return nil, nil, sqlerr.New("08P01", "the statement takes %d parameters and none are bound", len(types))
	}
	recs, err := decodeBatches(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: parameters: %v", ErrBadTicket, err)
	}
	rows, err := paramRows(recs, types)
	if err != nil {
		releaseAll(recs)
		return nil, nil, err
	}
	return rows, func() { releaseAll(recs) }, nil
}

// GetSchemaPreparedStatement answers the schema of a prepared statement's
// results.
func (s *Server) GetSchemaPreparedStatement(ctx context.Context, cmd flightsql.PreparedStatementQuery, _ *flight.FlightDescriptor) (*flight.SchemaResult, error) {
	h, err := s.openHandle(cmd.GetPreparedStatementHandle())
	if err != nil {
		return nil, toStatus(err)
	}
	sess := s.eng.NewSession()
	st, err := sess.Prepare(ctx, h.SQL, nil)
	if err != nil {
		return nil, toStatus(err)
	}
	sch, err := s.datasetSchema(ctx, sess, st)
	if err != nil {
		return nil, toStatus(err)
	}
	return &flight.SchemaResult{Schema: flight.SerializeSchema(sch, s.alloc)}, nil
}

// DoPutPreparedStatementUpdate runs a prepared statement once per
// parameter row sent with it (or bound before) and answers the sum of the
// affected row counts.
func (s *Server) DoPutPreparedStatementUpdate(ctx context.Context, cmd flightsql.PreparedStatementUpdate, rdr flight.MessageReader) (int64, error) {
	n, err := s.preparedUpdate(ctx, cmd.GetPreparedStatementHandle(), rdr)
	return n, toStatus(err)
}

func (s *Server) preparedUpdate(ctx context.Context, blob []byte, rdr flight.MessageReader) (int64, error) {
	h, err := s.openHandle(blob)
	if err != nil {
		return 0, err
	}
	sess := s.eng.NewSession()
	st, err := sess.Prepare(ctx, h.SQL, nil)
	if err != nil {
		return 0, err
	}
	recs, err := readParams(ctx, rdr, st.ParamTypes())
	if err != nil {
		return 0, err
	}
	defer releaseAll(recs)
	var rows [][]arrow.Array
	if countRows(recs) > 0 {
		if rows, err = paramRows(recs, st.ParamTypes()); err != nil {
			return 0, err
		}
	} else {
		var release func()
		if rows, release, err = s.boundRows(h, st.ParamTypes()); err != nil {
			return 0, err
		}
		defer release()
	}
	var total int64
	for _, params := range rows {
		n, err := runUpdate(ctx, sess, st, params)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// readParams reads the parameter batches of a DoPut, cast to the
// statement's parameter types.
func readParams(ctx context.Context, rdr flight.MessageReader, types []arrow.DataType) ([]arrow.RecordBatch, error) {
	var out []arrow.RecordBatch
	for rdr.Next() {
		rec := rdr.RecordBatch()
		if rec.NumRows() == 0 {
			continue
		}
		cast, err := castParams(ctx, rec, types)
		if err != nil {
			releaseAll(out)
			return nil, err
		}
		out = append(out, cast)
	}
	if err := rdr.Err(); err != nil {
		releaseAll(out)
		return nil, err
	}
	return out, nil
}

// castParams casts a batch of parameter rows to the statement's types.
func castParams(ctx context.Context, rec arrow.RecordBatch, types []arrow.DataType) (arrow.RecordBatch, error) {
	if int(rec.NumCols()) != len(types) {
		return nil, sqlerr.New("08P01", "bind message supplies %d parameters, but prepared statement requires %d", rec.NumCols(), len(types))
	}
	cols := make([]arrow.Array, len(types))
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, c := range rec.Columns() {
		switch {
		case arrow.TypeEqual(c.DataType(), types[i]):
			c.Retain()
			cols[i] = c
		case c.DataType().ID() == arrow.NULL:
			cols[i] = array.MakeArrayOfNull(memory.DefaultAllocator, types[i], c.Len())
		default:
			out, err := compute.CastArray(ctx, c, compute.SafeCastOptions(types[i]))
			if err != nil {
				return nil, sqlerr.New(sqlerr.DatatypeMismatch, "parameter $%d: cannot use %s as %s: %v", i+1, c.DataType(), types[i], err)
			}
			cols[i] = out
		}
	}
	return array.NewRecordBatch(paramSchema(types), cols, rec.NumRows()), nil
}

// paramRows cuts batches of parameter rows into one-row arrays per row.
func paramRows(recs []arrow.RecordBatch, types []arrow.DataType) ([][]arrow.Array, error) {
	var out [][]arrow.Array
	for _, rec := range recs {
		if int(rec.NumCols()) != len(types) {
			return nil, sqlerr.New("08P01", "bind message supplies %d parameters, but prepared statement requires %d", rec.NumCols(), len(types))
		}
		for r := int64(0); r < rec.NumRows(); r++ {
			row := make([]arrow.Array, rec.NumCols())
			for c, col := range rec.Columns() {
				row[c] = array.NewSlice(col, r, r+1)
			}
			out = append(out, row)
		}
	}
	return out, nil
}

func countRows(recs []arrow.RecordBatch) int64 {
	var n int64
	for _, r := range recs {
		n += r.NumRows()
	}
	return n
}

func releaseAll(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}
