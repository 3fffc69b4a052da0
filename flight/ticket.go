package flight

import (
	"bytes"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/flight/ticket"
	"github.com/dormousedb/dormouse/sql"
)

// Tickets are sql.Splits sealed by the ticket package: the statement, its
// parameters (as an Arrow IPC stream of one row), the pinned tables, the
// partition, the statement's time, the FlightInfo's query id and an
// expiry.

// ErrBadTicket and ErrExpired are the ticket package's errors.
var (
	ErrBadTicket = ticket.ErrBad
	ErrExpired   = ticket.ErrExpired
)

// sealSplit signs one split of a query as a DoGet ticket.
func (s *Server) sealSplit(sp *sql.Split, query string, expires time.Time) ([]byte, error) {
	params, err := encodeRow(sp.Params)
	if err != nil {
		return nil, err
	}
	pins := make([]ticket.Pin, len(sp.Tables))
	for i, p := range sp.Tables {
		pins[i] = ticket.Pin{Name: p.Name, ID: p.ID, Seq: p.Seq}
	}
	return s.sign.SealTicket(&ticket.Ticket{SQL: sp.SQL, Params: params, Tables: pins, Partition: sp.Partition,
		Now: sp.Now, Query: query, Expires: expires.UnixMilli()})
}

// openSplit checks a DoGet ticket and returns the split it carries and
// the query it belongs to.
func (s *Server) openSplit(blob []byte, now time.Time) (*sql.Split, *ticket.Ticket, error) {
	t, err := s.sign.OpenTicket(blob, now)
	if err != nil {
		return nil, nil, err
	}
	params, err := decodeRow(t.Params)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: parameters: %v", ErrBadTicket, err)
	}
	pins := make([]sql.PinnedTable, len(t.Tables))
	for i, p := range t.Tables {
		pins[i] = sql.PinnedTable{Name: p.Name, ID: p.ID, Seq: p.Seq}
	}
	return &sql.Split{SQL: t.SQL, Params: params, Tables: pins, Partition: t.Partition, Now: t.Now}, t, nil
}

// encodeRow writes one-row parameter arrays as an Arrow IPC stream.
func encodeRow(params []arrow.Array) ([]byte, error) {
	if len(params) == 0 {
		return nil, nil
	}
	fields := make([]arrow.Field, len(params))
	for i, p := range params {
		fields[i] = arrow.Field{Name: fmt.Sprintf("$%d", i+1), Type: p.DataType(), Nullable: true}
	}
	sch := arrow.NewSchema(fields, nil)
	rec := array.NewRecordBatch(sch, params, 1)
	defer rec.Release()
	return encodeBatches(sch, rec)
}

func encodeBatches(sch *arrow.Schema, recs ...arrow.RecordBatch) ([]byte, error) {
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(sch))
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decodeRow reads one-row parameter arrays written by encodeRow. It is
// only given bytes whose signature held: this store's own.
func decodeRow(data []byte) ([]arrow.Array, error) {
	if len(data) == 0 {
		return nil, nil
	}
	recs, err := decodeBatches(data)
	if err != nil {
		return nil, err
	}
	defer releaseAll(recs)
	if len(recs) != 1 || recs[0].NumRows() != 1 {
		return nil, fmt.Errorf("want one row of parameters")
	}
	out := make([]arrow.Array, recs[0].NumCols())
	for i, c := range recs[0].Columns() {
		c.Retain()
		out[i] = c
	}
	return out, nil
}

// decodeBatches reads every batch of an Arrow IPC stream; the caller
// releases them.
func decodeBatches(data []byte) ([]arrow.RecordBatch, error) {
	r, err := ipc.NewReader(bytes.NewReader(data), ipc.WithAllocator(memory.DefaultAllocator))
	if err != nil {
		return nil, err
	}
	defer r.Release()
	var out []arrow.RecordBatch
	for r.Next() {
		rec := r.RecordBatch()
		rec.Retain()
		out = append(out, rec)
	}
	if err := r.Err(); err != nil {
		releaseAll(out)
		return nil, err
	}
	return out, nil
}
