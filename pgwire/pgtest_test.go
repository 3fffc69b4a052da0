package pgwire_test

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Protocol tests as message scripts, in the style of CockroachDB's
// pgwire/testdata/pgtest: each script sends frontend messages and lists the
// backend messages that must come back. Every script runs against
// Dormouse and, when DORMOUSE_TEST_PG_URL names a PostgreSQL 15 (make test
// starts one), against PostgreSQL too, with the same expectations: the real
// server is the oracle of what a client sees.
//
// A script is a sequence of blocks separated by blank lines:
//
//	send [dormouse_only|pg_only]
//	Query {"String": "SELECT 1"}
//	----
//
//	until [dormouse_only|pg_only] [ignore=Type,Type]
//	ReadyForQuery
//	----
//	{"Type":"RowDescription",...}
//	...
//
// send sends its messages (the name of a pgproto3 frontend message and its
// JSON). until reads backend messages until it has seen each listed type in
// turn, and prints them one JSON object a line, leaving out the ignored
// types; RowDescription loses table OIDs and attribute numbers, and
// ErrorResponse and NoticeResponse keep their severity, code, message,
// position, detail, hint and context, which the two servers share.
//
//	go test ./pgwire/ -run PGTest -rewrite    take the expected output from
//	                                            PostgreSQL (else Dormouse)
var rewritePGTest = flag.Bool("rewrite", false, "rewrite pgwire/testdata/pgtest/*.pgtest expectations from the server run (PostgreSQL when DORMOUSE_TEST_PG_URL is set)")

func TestPGTest(t *testing.T) {
	files, err := filepath.Glob("testdata/pgtest/*.pgtest")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	pgURL := os.Getenv("DORMOUSE_TEST_PG_URL")
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".pgtest")
		t.Run(name, func(t *testing.T) {
			t.Run("dormouse", func(t *testing.T) {
				s := startServer(t)
				runScript(t, path, "dormouse", s.addr, "tester", "dormouse", *rewritePGTest && pgURL == "")
			})
			t.Run("postgres", func(t *testing.T) {
				if pgURL == "" {
					t.Skip("DORMOUSE_TEST_PG_URL is not set (run through scripts/with-pg.sh)")
				}
				u, err := url.Parse(pgURL)
				if err != nil {
					t.Fatal(err)
				}
				runScript(t, path, "pg", u.Host, u.User.Username(), strings.TrimPrefix(u.Path, "/"), *rewritePGTest)
			})
		})
	}
}

// block is one directive of a script.
type block struct {
	cmd      string
	args     []string
	input    []string
	expected []string
	line     int
}

func parseScript(t *testing.T, path string) []*block {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []*block
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Fields(l)
		b := &block{cmd: f[0], args: f[1:], line: i + 1}
		for i++; i < len(lines) && lines[i] != "----"; i++ {
			if strings.TrimSpace(lines[i]) != "" {
				b.input = append(b.input, lines[i])
			}
		}
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
			b.expected = append(b.expected, lines[i])
		}
		blocks = append(blocks, b)
	}
	return blocks
}

func (b *block) has(arg string) bool {
	for _, a := range b.args {
		if a == arg {
			return true
		}
	}
	return false
}

func (b *block) ignored() map[string]bool {
	out := map[string]bool{}
	for _, a := range b.args {
		if v, ok := strings.CutPrefix(a, "ignore="); ok {
			for _, t := range strings.Split(v, ",") {
				out[t] = true
			}
		}
	}
	return out
}

func runScript(t *testing.T, path, target, addr, user, database string, rewrite bool) {
	blocks := parseScript(t, path)
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	fe := pgproto3.NewFrontend(nc, nc)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30,
		Parameters: map[string]string{"user": user, "database": database}})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	for {
		nc.SetReadDeadline(time.Now().Add(time.Minute))
		m, err := fe.Receive()
		if err != nil {
			t.Fatalf("startup: %v", err)
		}
		if e, ok := m.(*pgproto3.ErrorResponse); ok {
			t.Fatalf("startup: %s", e.Message)
		}
		if _, ok := m.(*pgproto3.ReadyForQuery); ok {
			break
		}
	}
	changed := false
	for _, b := range blocks {
		if (b.has("dormouse_only") && target != "dormouse") || (b.has("pg_only") && target != "pg") {
			continue
		}
		switch b.cmd {
		case "send":
			for _, l := range b.input {
				msg, err := frontendMessage(l)
				if err != nil {
					t.Fatalf("%s:%d: %v", path, b.line, err)
				}
				fe.Send(msg)
			}
			if err := fe.Flush(); err != nil {
				t.Fatalf("%s:%d: send: %v", path, b.line, err)
			}
		case "until":
			got := receiveUntil(t, nc, fe, b, path)
			if !reflect.DeepEqual(got, b.expected) {
				if rewrite {
					b.expected, changed = got, true
					continue
				}
				t.Errorf("%s:%d: %s answered\n%s\nwant\n%s", path, b.line, target, strings.Join(got, "\n"), strings.Join(b.expected, "\n"))
			}
		default:
			t.Fatalf("%s:%d: unknown directive %q", path, b.line, b.cmd)
		}
	}
	if changed {
		writeScript(t, path, blocks)
	}
}

func receiveUntil(t *testing.T, nc net.Conn, fe *pgproto3.Frontend, b *block, path string) []string {
	ignore := b.ignored()
	var out []string
	for _, want := range b.input {
		want = strings.TrimSpace(want)
		for {
			nc.SetReadDeadline(time.Now().Add(time.Minute))
			m, err := fe.Receive()
			if err != nil {
				t.Fatalf("%s:%d: waiting for %s: %v (so far %q)", path, b.line, want, err, out)
			}
			typ := reflect.TypeOf(m).Elem().Name()
			if !ignore[typ] {
				out = append(out, normalize(t, m))
			}
			if typ == want {
				break
			}
		}
	}
	return out
}

// normalize renders a backend message as the JSON line scripts expect.
func normalize(t *testing.T, m pgproto3.BackendMessage) string {
	typ := reflect.TypeOf(m).Elem().Name()
	var v map[string]any
	switch m := m.(type) {
	case *pgproto3.RowDescription:
		var fields []map[string]any
		for _, f := range m.Fields {
			fields = append(fields, map[string]any{"Name": string(f.Name), "DataTypeOID": f.DataTypeOID,
				"DataTypeSize": f.DataTypeSize, "TypeModifier": f.TypeModifier, "Format": f.Format})
		}
		v = map[string]any{"Fields": fields}
	case *pgproto3.ErrorResponse:
		v = noticeFields(m.Severity, m.Code, m.Message, m.Detail, m.Hint, m.Where, m.Position)
	case *pgproto3.NoticeResponse:
		v = noticeFields(m.Severity, m.Code, m.Message, m.Detail, m.Hint, m.Where, m.Position)
	case *pgproto3.CopyData:
		v = map[string]any{"Text": string(m.Data)}
	default:
		data, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &v); err != nil {
			v = map[string]any{}
		}
	}
	v["Type"] = typ
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func noticeFields(severity, code, msg, detail, hint, where string, pos int32) map[string]any {
	v := map[string]any{"Severity": severity, "Code": code, "Message": msg}
	if detail != "" {
		v["Detail"] = detail
	}
	if hint != "" {
		v["Hint"] = hint
	}
	if where != "" {
		v["Where"] = where
	}
	if pos != 0 {
		v["Position"] = pos
	}
	return v
}

// frontendMessage reads "Type {json}".
func frontendMessage(line string) (pgproto3.FrontendMessage, error) {
	name, body, _ := strings.Cut(strings.TrimSpace(line), " ")
	var m pgproto3.FrontendMessage
	switch name {
	case "Query":
		m = &pgproto3.Query{}
	case "Parse":
		m = &pgproto3.Parse{}
	case "Bind":
		m = &pgproto3.Bind{}
	case "Describe":
		m = &describeJSON{}
	case "Execute":
		m = &pgproto3.Execute{}
	case "Close":
		m = &closeJSON{}
	case "Sync":
		m = &pgproto3.Sync{}
	case "Flush":
		m = &pgproto3.Flush{}
	case "CopyData":
		m = &copyDataJSON{}
	case "CopyDone":
		m = &pgproto3.CopyDone{}
	case "CopyFail":
		m = &pgproto3.CopyFail{}
	case "Terminate":
		m = &pgproto3.Terminate{}
	default:
		return nil, fmt.Errorf("unknown frontend message %q", name)
	}
	if body != "" {
		if err := json.Unmarshal([]byte(body), m); err != nil {
			return nil, fmt.Errorf("%s %s: %w", name, body, err)
		}
	}
	switch m := m.(type) {
	case *copyDataJSON:
		return &m.CopyData, nil
	case *describeJSON:
		return &m.Describe, nil
	case *closeJSON:
		return &m.Close, nil
	}
	return m, nil
}

// describeJSON and closeJSON read ObjectType as a letter: {"ObjectType": "S"}.
type describeJSON struct{ pgproto3.Describe }

func (d *describeJSON) UnmarshalJSON(data []byte) error {
	var v struct{ ObjectType, Name string }
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	d.Describe = pgproto3.Describe{ObjectType: v.ObjectType[0], Name: v.Name}
	return nil
}

// copyDataJSON reads CopyData as text: {"Text": "1\tone\n"}.
type copyDataJSON struct{ pgproto3.CopyData }

func (c *copyDataJSON) UnmarshalJSON(data []byte) error {
	var v struct{ Text string }
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	c.CopyData = pgproto3.CopyData{Data: []byte(v.Text)}
	return nil
}

type closeJSON struct{ pgproto3.Close }

func (c *closeJSON) UnmarshalJSON(data []byte) error {
	var v struct{ ObjectType, Name string }
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	c.Close = pgproto3.Close{ObjectType: v.ObjectType[0], Name: v.Name}
	return nil
}

func writeScript(t *testing.T, path string, blocks []*block) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	var out []string
	bi := 0
	for i := 0; i < len(lines); i++ {
		if bi < len(blocks) && i+1 == blocks[bi].line {
			b := blocks[bi]
			bi++
			out = append(out, lines[i])
			for i++; i < len(lines) && lines[i] != "----"; i++ {
				out = append(out, lines[i])
			}
			out = append(out, "----")
			out = append(out, b.expected...)
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
			}
			if i < len(lines) {
				out = append(out, "")
			}
			continue
		}
		out = append(out, lines[i])
	}
	w, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(strings.Join(out, "\n"))
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	w.Close()
}
