package flight

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/sql"
	"github.com/dormousedb/dormouse/storage/objstore"
)

// Tickets and statement handles are opaque to clients and self-contained:
// a split of a query (sql.Split: the statement, its parameters, the log
// sequence number of every table it reads, one partition) or a prepared
// statement, with an expiry, signed with a key every serve process on the
// store shares. So any of them answers any DoGet, and no server keeps
// state between GetFlightInfo and DoGet.
//
//	magic "DMT1" | kind byte | JSON body | HMAC-SHA256(magic, kind, body)

// SecretKey is where the store keeps the signing key, created once by the
// first serve process that needs it.
const SecretKey = "flight/secret"

const (
	magic      = "DMT1"
	macSize    = sha256.Size
	secretSize = 32
)

// Kinds of signed blobs; a ticket is never accepted as a handle.
const (
	kindTicket byte = 't'
	kindHandle byte = 'h'
	kindToken  byte = 'a'
)

// Errors of ticket decoding.
var (
	ErrBadTicket = errors.New("not a ticket of this store")
	ErrExpired   = errors.New("ticket expired")
)

// LoadSecret returns the store's signing key, creating it if it is not
// there: the first of any number of racing processes writes it, and all
// read the same.
func LoadSecret(ctx context.Context, store objstore.Store) ([]byte, error) {
	key, err := store.Get(ctx, SecretKey)
	if err == nil && len(key) == secretSize {
		return key, nil
	}
	if err != nil && !errors.Is(err, objstore.ErrNotFound) {
		return nil, fmt.Errorf("read %s: %w", SecretKey, err)
	}
	fresh := make([]byte, secretSize)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	if err := store.PutIfAbsent(ctx, SecretKey, fresh); err != nil && !errors.Is(err, objstore.ErrExists) {
		// Ambiguous: read back what is there.
		if key, gerr := store.Get(ctx, SecretKey); gerr == nil && len(key) == secretSize {
			return key, nil
		}
		return nil, fmt.Errorf("write %s: %w", SecretKey, err)
	}
	key, err = store.Get(ctx, SecretKey)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", SecretKey, err)
	}
	if len(key) != secretSize {
		return nil, fmt.Errorf("%s holds %d bytes, want %d", SecretKey, len(key), secretSize)
	}
	return key, nil
}

// signer signs and checks blobs with the store's key.
type signer struct{ key []byte }

func (s signer) seal(kind byte, body any) ([]byte, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(magic)+1+len(data)+macSize)
	out = append(append(append(out, magic...), kind), data...)
	m := hmac.New(sha256.New, s.key)
	m.Write(out)
	return m.Sum(out), nil
}

// open checks a blob's signature and kind and decodes its body into v.
func (s signer) open(kind byte, blob []byte, v any) error {
	if len(blob) < len(magic)+1+macSize || !bytes.HasPrefix(blob, []byte(magic)) || blob[len(magic)] != kind {
		return ErrBadTicket
	}
	signed, mac := blob[:len(blob)-macSize], blob[len(blob)-macSize:]
	m := hmac.New(sha256.New, s.key)
	m.Write(signed)
	if !hmac.Equal(m.Sum(nil), mac) {
		return ErrBadTicket
	}
	if err := json.Unmarshal(signed[len(magic)+1:], v); err != nil {
		return fmt.Errorf("%w: %v", ErrBadTicket, err)
	}
	return nil
}

// ticket is a DoGet ticket: one split of a query.
type ticket struct {
	SQL       string            `json:"sql"`
	Params    []byte            `json:"params,omitempty"` // Arrow IPC stream of one row
	Tables    []sql.PinnedTable `json:"tables,omitempty"`
	Partition string            `json:"part,omitempty"`
	Now       int64             `json:"now,omitempty"`
	// Query identifies the FlightInfo the ticket came in, for
	// CancelFlightInfo.
	Query   string `json:"query"`
	Expires int64  `json:"exp"` // Unix milliseconds
}

func (s signer) sealTicket(sp *sql.Split, query string, expires time.Time) ([]byte, error) {
	params, err := encodeRow(sp.Params)
	if err != nil {
		return nil, err
	}
	return s.seal(kindTicket, ticket{SQL: sp.SQL, Params: params, Tables: sp.Tables, Partition: sp.Partition,
		Now: sp.Now, Query: query, Expires: expires.UnixMilli()})
}

// openTicket decodes a ticket into the split it carries, checking its
// signature and expiry.
func (s signer) openTicket(blob []byte, now time.Time) (*sql.Split, *ticket, error) {
	var t ticket
	if err := s.open(kindTicket, blob, &t); err != nil {
		return nil, nil, err
	}
	if now.UnixMilli() > t.Expires {
		return nil, nil, ErrExpired
	}
	params, err := decodeRow(t.Params)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: parameters: %v", ErrBadTicket, err)
	}
	return &sql.Split{SQL: t.SQL, Params: params, Tables: t.Tables, Partition: t.Partition, Now: t.Now}, &t, nil
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

// decodeRow reads one-row parameter arrays written by encodeRow.
func decodeRow(data []byte) ([]arrow.Array, error) {
	if len(data) == 0 {
		return nil, nil
	}
	recs, err := decodeBatches(data)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
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
		for _, rec := range out {
			rec.Release()
		}
		return nil, err
	}
	return out, nil
}
