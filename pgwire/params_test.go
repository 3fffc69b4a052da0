package pgwire_test

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

// TestBindReusesParams binds one statement into several portals at once,
// with integer parameters in text and binary (which Bind keeps in arrays
// the connection reuses once a portal closes), NULLs and values read the
// general way, and reads a suspended portal on after other portals were
// bound, run and closed: each portal must read its own parameters to the
// end. $3 is evaluated for each batch, and each range crosses a split
// point (two batches), so a portal's second batch reads its $3 after the
// others ran.
func TestBindReusesParams(t *testing.T) {
	s := startServer(t)
	execSQL(t, s.connect(t),
		"CREATE TABLE bp (k bigint PRIMARY KEY) WITH (split_points = '100, 200, 300')",
		"INSERT INTO bp SELECT g FROM generate_series(1, 399) AS g")
	fe := s.rawConnect(t)
	// receive reads messages up to the n-th one shown as until (1 if n
	// is not given).
	receive := func(until string, n ...int) []string {
		t.Helper()
		left := 1
		if len(n) > 0 {
			left = n[0]
		}
		var out []string
		for {
			var line string
			switch m := fe.next(t, out).(type) {
			case *pgproto3.DataRow:
				var vals []string
				for _, v := range m.Values {
					if v == nil {
						vals = append(vals, "NULL")
					} else {
						vals = append(vals, string(v))
					}
				}
				line = strings.Join(vals, ",")
			case *pgproto3.ErrorResponse:
				t.Fatalf("error: %s", m.Message)
			case *pgproto3.CommandComplete:
				line = string(m.CommandTag)
			case *pgproto3.PortalSuspended:
				line = "suspended"
			case *pgproto3.ReadyForQuery:
				line = "ready"
			case *pgproto3.CloseComplete:
				line = "closed"
			default:
				continue
			}
			if line != "closed" {
				out = append(out, line)
			}
			if line == until {
				if left--; left == 0 {
					return out
				}
			}
		}
	}
	text := func(v string) []byte { return []byte(v) }
	int8 := func(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }
	bind := func(portal string, formats []int16, params ...[]byte) {
		fe.Send(&pgproto3.Bind{DestinationPortal: portal, PreparedStatement: "r", ParameterFormatCodes: formats, Parameters: params})
	}
	execute := func(portal string, max uint32) { fe.Send(&pgproto3.Execute{Portal: portal, MaxRows: max}) }
	rows := func(lo, hi int, tag string) []string {
		var out []string
		for k := lo; k <= hi; k++ {
			out = append(out, fmt.Sprintf("%d,%s", k, tag))
		}
		return out
	}
	check := func(what string, got []string, want ...[]string) {
		t.Helper()
		var all []string
		for _, w := range want {
			all = append(all, w...)
		}
		if strings.Join(got, " ") != strings.Join(all, " ") {
			t.Errorf("%s:\n got %v\nwant %v", what, got, all)
		}
	}

	// Portals live until Sync outside a transaction block: one block.
	fe.Send(&pgproto3.Query{String: "BEGIN"})
	check("BEGIN", receive("ready"), []string{"BEGIN", "ready"})
	fe.Send(&pgproto3.Parse{Name: "r", Query: "SELECT k, $3::bigint FROM bp WHERE k BETWEEN $1 AND $2"})
	fe.Send(&pgproto3.Sync{})
	receive("ready")

	for round := 0; round < 3; round++ {
		// a: text, suspended after its first row.
		bind("a", nil, text("99"), text("101"), text("777"))
		execute("a", 1)
		// b: binary, run to the end, then closed: its arrays go back.
		bind("b", []int16{1}, int8(199), int8(200), int8(555))
		execute("b", 0)
		fe.Send(&pgproto3.Close{ObjectType: 'P', Name: "b"})
		// c: takes b's arrays; a value read the general way (spaces) and
		// a NULL among them.
		bind("c", nil, text("299"), text(" 301 "), nil)
		execute("c", 0)
		fe.Send(&pgproto3.Close{ObjectType: 'P', Name: "c"})
		// d: the unnamed portal, bound twice (the second Bind closes the
		// first portal).
		bind("", nil, text("5"), text("6"), text("-1"))
		bind("", []int16{0, 1, 0}, text("7"), int8(7), text("-2"))
		execute("", 0)
		// a again: its second batch, with its own $3.
		execute("a", 0)
		fe.Send(&pgproto3.Close{ObjectType: 'P', Name: "a"})
		fe.Send(&pgproto3.Flush{})
		got := receive("closed", 3) // b's, c's and a's Close
		check(fmt.Sprintf("round %d", round), got,
			rows(99, 99, "777"), []string{"suspended"},
			rows(199, 200, "555"), []string{"SELECT 2"},
			rows(299, 301, "NULL"), []string{"SELECT 3"},
			rows(7, 7, "-2"), []string{"SELECT 1"},
			rows(100, 101, "777"), []string{"SELECT 2"})
	}
	fe.Send(&pgproto3.Sync{})
	fe.Send(&pgproto3.Query{String: "COMMIT"})
	receive("COMMIT")
}
