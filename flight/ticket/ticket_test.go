package ticket

import (
	"bytes"
	"errors"
	"testing"
	"time"
	"unicode/utf8"
)

var testKey = bytes.Repeat([]byte{7}, secretSize)

func sample() *Ticket {
	return &Ticket{SQL: "SELECT * FROM t WHERE k = $1", Params: []byte{1, 2, 3}, Tables: []Pin{{Name: "t", ID: "abc", Seq: 17}},
		Partition: "p000002", Now: 1700000000000000, Query: "q1", Expires: time.Now().Add(time.Minute).UnixMilli()}
}

func same(a, b *Ticket) bool {
	return a.SQL == b.SQL && bytes.Equal(a.Params, b.Params) && len(a.Tables) == len(b.Tables) &&
		(len(a.Tables) == 0 || a.Tables[0] == b.Tables[0]) && a.Partition == b.Partition &&
		a.Now == b.Now && a.Query == b.Query && a.Expires == b.Expires
}

// TestRoundTrip seals a ticket and opens it again; a ticket signed with
// another key, changed in any byte, expired, or of another kind is
// refused.
func TestRoundTrip(t *testing.T) {
	sg := NewSigner(testKey)
	want := sample()
	blob, err := sg.SealTicket(want)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	got, err := sg.OpenTicket(blob, now)
	if err != nil || !same(got, want) {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	if _, err := NewSigner(bytes.Repeat([]byte{8}, secretSize)).OpenTicket(blob, now); !errors.Is(err, ErrBad) {
		t.Fatalf("another store's key: %v", err)
	}
	for i := range blob {
		bad := bytes.Clone(blob)
		bad[i] ^= 1
		if _, err := sg.OpenTicket(bad, now); err == nil {
			t.Fatalf("a ticket changed at byte %d was accepted", i)
		}
	}
	if _, err := sg.OpenTicket(blob, now.Add(2*time.Minute)); !errors.Is(err, ErrExpired) {
		t.Fatalf("an expired ticket: %v", err)
	}
	var h map[string]any
	if err := sg.Open(KindHandle, blob, &h); !errors.Is(err, ErrBad) {
		t.Fatalf("a ticket taken for a statement handle: %v", err)
	}
}

// FuzzTicket feeds arbitrary bytes to the decoding of every kind of blob
// a client hands back: refused or decoded, never a panic; and a sealed
// ticket always opens to itself.
func FuzzTicket(f *testing.F) {
	sg := NewSigner(testKey)
	blob, _ := sg.SealTicket(sample())
	f.Add(blob, "SELECT 1", "p1", uint64(3))
	f.Add([]byte("DMT1t{}"), "SELECT $1", "", uint64(0))
	f.Add([]byte("DMT1h{\"sql\":\"x\"}"), "", "x", uint64(1<<63))
	f.Fuzz(func(t *testing.T, data []byte, text, part string, seq uint64) {
		now := time.Now()
		sg.OpenTicket(data, now)
		var v map[string]any
		sg.Open(KindHandle, data, &v)
		sg.Open(KindToken, data, &v)
		if !utf8.ValidString(text) || !utf8.ValidString(part) {
			return // protobuf strings, and so statements, are UTF-8
		}
		want := &Ticket{SQL: text, Params: data, Tables: []Pin{{Name: part, ID: text, Seq: seq}}, Partition: part,
			Now: int64(seq), Query: part, Expires: now.Add(time.Hour).UnixMilli()}
		sealed, err := sg.SealTicket(want)
		if err != nil {
			t.Fatal(err)
		}
		got, err := sg.OpenTicket(sealed, now)
		if err != nil {
			t.Fatalf("a sealed ticket does not open: %v", err)
		}
		if !same(got, want) {
			t.Fatalf("round trip changed %+v into %+v", want, got)
		}
	})
}
