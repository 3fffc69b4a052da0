// Package ticket seals and opens what the Flight SQL server hands its
// clients and takes back — DoGet tickets, prepared statement handles,
// bearer tokens — as self-contained blobs signed with a key the store
// keeps, so that any serve process on the store accepts what any other
// issued, and none keeps state between the calls.
//
//	magic "DMT1" | kind byte | JSON body | HMAC-SHA256(magic, kind, body)
//
// A blob of one kind is never accepted as another. It is a leaf package
// (no engine, no gRPC), so that its decoding fuzzes fast.
package ticket

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

	"github.com/dormousedb/dormouse/storage/objstore"
)

// SecretKey is where the store keeps the signing key, created once by the
// first serve process that needs it.
const SecretKey = "flight/secret"

const (
	magic      = "DMT1"
	macSize    = sha256.Size
	secretSize = 32
)

// Kinds of blobs.
const (
	KindTicket byte = 't' // a DoGet ticket (Ticket)
	KindHandle byte = 'h' // a prepared statement handle
	KindToken  byte = 'a' // a bearer token
)

var (
	// ErrBad is returned for a blob this store did not sign, of another
	// kind, or whose body does not decode.
	ErrBad = errors.New("not a ticket of this store")
	// ErrExpired is returned for a ticket past its expiry.
	ErrExpired = errors.New("ticket expired")
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

// Signer seals and opens blobs with one key.
type Signer struct{ key []byte }

// NewSigner returns a signer with key (LoadSecret's).
func NewSigner(key []byte) Signer { return Signer{key: bytes.Clone(key)} }

// Seal encodes body as JSON and signs it as a blob of kind.
func (s Signer) Seal(kind byte, body any) ([]byte, error) {
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

// Open checks a blob's signature and kind and decodes its body into v.
func (s Signer) Open(kind byte, blob []byte, v any) error {
	if len(blob) < len(magic)+1+macSize || !bytes.HasPrefix(blob, []byte(magic)) || blob[len(magic)] != kind {
		return ErrBad
	}
	signed, mac := blob[:len(blob)-macSize], blob[len(blob)-macSize:]
	m := hmac.New(sha256.New, s.key)
	m.Write(signed)
	if !hmac.Equal(m.Sum(nil), mac) {
		return ErrBad
	}
	if err := json.Unmarshal(signed[len(magic)+1:], v); err != nil {
		return fmt.Errorf("%w: %v", ErrBad, err)
	}
	return nil
}

// Pin is a table as a query read it: name, id and log sequence number.
type Pin struct {
	Name string `json:"name"`
	ID   string `json:"id"`
	Seq  uint64 `json:"seq"`
}

// Ticket is a DoGet ticket: one split of a query.
type Ticket struct {
	SQL       string `json:"sql"`
	Params    []byte `json:"params,omitempty"` // Arrow IPC stream of one row
	Tables    []Pin  `json:"tables,omitempty"`
	Partition string `json:"part,omitempty"`
	Now       int64  `json:"now,omitempty"`
	// Query identifies the FlightInfo the ticket came in, for
	// CancelFlightInfo.
	Query   string `json:"query"`
	Expires int64  `json:"exp"` // Unix milliseconds
}

// SealTicket signs a ticket.
func (s Signer) SealTicket(t *Ticket) ([]byte, error) { return s.Seal(KindTicket, t) }

// OpenTicket checks and decodes a ticket, refusing one expired at now.
func (s Signer) OpenTicket(blob []byte, now time.Time) (*Ticket, error) {
	var t Ticket
	if err := s.Open(KindTicket, blob, &t); err != nil {
		return nil, err
	}
	if now.UnixMilli() > t.Expires {
		return nil, ErrExpired
	}
	return &t, nil
}
