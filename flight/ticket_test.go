package flight

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/flight/ticket"
	"github.com/dormousedb/dormouse/sql"
)

func sampleSplit() *sql.Split {
	b := array.NewInt64Builder(memory.DefaultAllocator)
	b.Append(42)
	s := array.NewStringBuilder(memory.DefaultAllocator)
	s.AppendNull()
	return &sql.Split{SQL: "SELECT * FROM t WHERE k = $1 AND n = $2", Params: []arrow.Array{b.NewArray(), s.NewArray()},
		Tables: []sql.PinnedTable{{Name: "t", ID: "abc", Seq: 17}}, Partition: "p000002", Now: 1700000000000000}
}

// TestSplitTicket seals a split, parameters and all, as a ticket and
// opens it again; another store's server refuses it. (The envelope's own
// tests and fuzz target are in flight/ticket.)
func TestSplitTicket(t *testing.T) {
	s := &Server{sign: ticket.NewSigner(bytes.Repeat([]byte{7}, 32))}
	sp := sampleSplit()
	now := time.Now()
	blob, err := s.sealSplit(sp, "q1", now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	got, tk, err := s.openSplit(blob, now)
	if err != nil {
		t.Fatal(err)
	}
	if got.SQL != sp.SQL || got.Partition != sp.Partition || got.Now != sp.Now || tk.Query != "q1" ||
		len(got.Tables) != 1 || got.Tables[0] != sp.Tables[0] || len(got.Params) != 2 ||
		got.Params[0].(*array.Int64).Value(0) != 42 || !got.Params[1].IsNull(0) || got.Params[1].DataType().ID() != arrow.STRING {
		t.Fatalf("round trip changed the split: %+v", got)
	}
	other := &Server{sign: ticket.NewSigner(bytes.Repeat([]byte{8}, 32))}
	if _, _, err := other.openSplit(blob, now); !errors.Is(err, ErrBadTicket) {
		t.Fatalf("another store's key: %v", err)
	}
	if _, _, err := s.openSplit(blob, now.Add(2*time.Minute)); !errors.Is(err, ErrExpired) {
		t.Fatalf("an expired ticket: %v", err)
	}
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
