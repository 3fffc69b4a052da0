package flight

import (
	"bytes"
	"errors"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/sql"
)

var testKey = bytes.Repeat([]byte{7}, secretSize)

func sampleSplit() *sql.Split {
	b := array.NewInt64Builder(memory.DefaultAllocator)
	b.Append(42)
	s := array.NewStringBuilder(memory.DefaultAllocator)
	s.AppendNull()
	return &sql.Split{SQL: "SELECT * FROM t WHERE k = $1 AND n = $2", Params: []arrow.Array{b.NewArray(), s.NewArray()},
		Tables: []sql.PinnedTable{{Name: "t", ID: "abc", Seq: 17}}, Partition: "p000002", Now: 1700000000000000}
}

// TestTicketRoundTrip seals a split and opens it again; a ticket signed
// with another key, changed in one byte, expired, or of another kind is
// refused.
func TestTicketRoundTrip(t *testing.T) {
	sg := signer{key: testKey}
	sp := sampleSplit()
	now := time.Now()
	blob, err := sg.sealTicket(sp, "q1", now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	got, tk, err := sg.openTicket(blob, now)
	if err != nil {
		t.Fatal(err)
	}
	if got.SQL != sp.SQL || got.Partition != sp.Partition || got.Now != sp.Now || tk.Query != "q1" ||
		len(got.Tables) != 1 || got.Tables[0] != sp.Tables[0] || len(got.Params) != 2 ||
		got.Params[0].(*array.Int64).Value(0) != 42 || !got.Params[1].IsNull(0) || got.Params[1].DataType().ID() != arrow.STRING {
		t.Fatalf("round trip changed the split: %+v", got)
	}
	other := signer{key: bytes.Repeat([]byte{8}, secretSize)}
	if _, _, err := other.openTicket(blob, now); !errors.Is(err, ErrBadTicket) {
		t.Fatalf("another store's key: %v", err)
	}
	for i := range blob {
		bad := bytes.Clone(blob)
		bad[i] ^= 1
		if _, _, err := sg.openTicket(bad, now); err == nil {
			t.Fatalf("a ticket changed at byte %d was accepted", i)
		}
	}
	if _, _, err := sg.openTicket(blob, now.Add(2*time.Minute)); !errors.Is(err, ErrExpired) {
		t.Fatalf("an expired ticket: %v", err)
	}
	var h handleBody
	if err := sg.open(kindHandle, blob, &h); !errors.Is(err, ErrBadTicket) {
		t.Fatalf("a ticket taken for a statement handle: %v", err)
	}
}

// FuzzTicket feeds arbitrary bytes to everything that decodes what a
// client sends back (tickets, statement handles, tokens, the Flight SQL
// ticket envelope): they refuse or decode, never panic, and a sealed split
// always opens to itself. (Parameter rows inside a ticket are decoded
// only once its signature holds: they are this store's own bytes.)
func FuzzTicket(f *testing.F) {
	sg := signer{key: testKey}
	blob, _ := sg.sealTicket(sampleSplit(), "q", time.Now().Add(time.Hour))
	f.Add(blob, "SELECT 1", "p1")
	env, _ := flightsql.CreateStatementQueryTicket(blob)
	f.Add(env, "", "")
	f.Add([]byte("DMT1t{}"), "SELECT $1", "")
	f.Fuzz(func(t *testing.T, data []byte, text, part string) {
		now := time.Now()
		sg.openTicket(data, now)
		var h handleBody
		sg.open(kindHandle, data, &h)
		var tok tokenBody
		sg.open(kindToken, data, &tok)
		if inner, err := statementHandle(data); err == nil {
			sg.openTicket(inner, now)
		}
		placeholders(text)
		if !utf8.ValidString(text) || !utf8.ValidString(part) {
			return // protobuf strings, and so statements, are UTF-8
		}
		sp := &sql.Split{SQL: text, Partition: part, Tables: []sql.PinnedTable{{Name: part, ID: text, Seq: uint64(len(data))}}}
		sealed, err := sg.sealTicket(sp, part, now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := sg.openTicket(sealed, now)
		if err != nil {
			t.Fatalf("a sealed ticket does not open: %v", err)
		}
		if got.SQL != sp.SQL || got.Partition != sp.Partition || got.Tables[0] != sp.Tables[0] {
			t.Fatalf("round trip changed %+v into %+v", sp, got)
		}
	})
}

// TestPlaceholders numbers ? markers outside quotes and comments.
func TestPlaceholders(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT ?":                               "SELECT $1",
		"SELECT * FROM t WHERE a = ? AND b = ?":  "SELECT * FROM t WHERE a = $1 AND b = $2",
		"SELECT '?', \"?\", ? -- ?\n, ? /* ? */": "SELECT '?', \"?\", $1 -- ?\n, $2 /* ? */",
		"SELECT 'it''s ?', ?":                    "SELECT 'it''s ?', $1",
		"SELECT $tag$ ? $tag$, ?":                "SELECT $tag$ ? $tag$, $1",
		"SELECT $1, $2":                          "SELECT $1, $2",
		"SELECT $$?$$":                           "SELECT $$?$$",
		"SELECT 1":                               "SELECT 1",
		"SELECT 'unterminated ?":                 "SELECT 'unterminated ?",
	} {
		if got := placeholders(in); got != want {
			t.Errorf("placeholders(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLike matches GetTables' name patterns.
func TestLike(t *testing.T) {
	for _, c := range []struct {
		s, p string
		want bool
	}{
		{"events", "%", true}, {"events", "ev%", true}, {"events", "%nts", true}, {"events", "e_ents", true},
		{"events", "E%", true}, {"events", "x%", false}, {"events", "event", false}, {"a_b", `a\_b`, true},
		{"axb", `a\_b`, false}, {"", "%", true}, {"", "_", false},
	} {
		if got := like(c.s, c.p); got != c.want {
			t.Errorf("like(%q, %q) = %v", c.s, c.p, got)
		}
	}
}
