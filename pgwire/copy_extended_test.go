package pgwire_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// TestCopyExtendedBadLine drives COPY FROM STDIN through the
// extended protocol as libpq does (Parse, Bind, Describe, Execute, Sync
// sent together; the Sync is read during the COPY and ignored; after
// CopyDone another Sync), with a bad line among the data: the client
// must get one ErrorResponse and one ReadyForQuery, and the connection
// must then answer the next query. Repeated, since when the COPY's
// failure is noticed races with the messages that follow it.
func TestCopyExtendedBadLine(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	pc, err := pgconn.Connect(ctx, s.url())
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.Exec(ctx, "CREATE TABLE cb (k bigint PRIMARY KEY, s text)").Close(); err != nil {
		t.Fatal(err)
	}
	hj, err := pc.Hijack()
	if err != nil {
		t.Fatal(err)
	}
	defer hj.Conn.Close()
	fe := hj.Frontend
	for round := 0; round < 30; round++ {
		fe.Send(&pgproto3.Parse{Query: "COPY cb FROM STDIN"})
		fe.Send(&pgproto3.Bind{})
		fe.Send(&pgproto3.Describe{ObjectType: 'P'})
		fe.Send(&pgproto3.Execute{})
		fe.Send(&pgproto3.Sync{})
		var data []string
		for i := 0; i < 50; i++ {
			data = append(data, fmt.Sprintf("%d\tx", round*1000+i))
		}
		data[round%5] = "bad\tline"
		for _, line := range data {
			fe.Send(&pgproto3.CopyData{Data: []byte(line + "\n")})
		}
		fe.Send(&pgproto3.CopyDone{})
		fe.Send(&pgproto3.Sync{})
		fe.Send(&pgproto3.Query{String: "SELECT 1"})
		if err := fe.Flush(); err != nil {
			t.Fatal(err)
		}
		hj.Conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		var got []string
		rfq := 0
		for rfq < 2 {
			m, err := fe.Receive()
			if err != nil {
				t.Fatalf("round %d after %v: %v", round, got, err)
			}
			switch m := m.(type) {
			case *pgproto3.ReadyForQuery:
				rfq++
				got = append(got, "Z")
			case *pgproto3.ErrorResponse:
				got = append(got, "E:"+m.Code)
			case *pgproto3.DataRow:
				got = append(got, "D")
			default:
				got = append(got, fmt.Sprintf("%T", m)[len("*pgproto3."):])
			}
		}
		want := "ParseComplete BindComplete NoData CopyInResponse E:22P02 Z RowDescription D CommandComplete Z"
		if strings.Join(got, " ") != want {
			t.Fatalf("round %d: got\n%s\nwant\n%s", round, strings.Join(got, " "), want)
		}
	}
}
