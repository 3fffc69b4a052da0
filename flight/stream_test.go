package flight_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// peakRSS reads a process's peak resident memory (VmHWM) in bytes.
func peakRSS(t testing.TB, pid int) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

// TestLargeResultStreams reads a result several times larger than what
// the server may hold: batches leave as the engine makes them, so the
// server's peak memory stays far below the result's size.
func TestLargeResultStreams(t *testing.T) {
	s := serve(t, localStore(t), nil, false)
	cl := rawClient(t, s)
	// 12 million rows of about 100 bytes, made as they are read.
	const q = "SELECT a.x, b.y, repeat('x', 100) AS pad FROM generate_series(1, 12000) AS a(x), generate_series(1, 1000) AS b(y)"
	info, err := cl.Execute(background(), q)
	if err != nil {
		t.Fatal(err)
	}
	var rows, bytes int64
	for _, ep := range info.Endpoint {
		rdr, err := cl.DoGet(background(), ep.Ticket)
		if err != nil {
			t.Fatal(err)
		}
		for rdr.Next() {
			rec := rdr.RecordBatch()
			rows += rec.NumRows()
			bytes += int64(len(rec.Column(2).(*array.String).ValueBytes()))
		}
		if err := rdr.Err(); err != nil {
			t.Fatal(err)
		}
		rdr.Release()
	}
	if rows != 12_000_000 {
		t.Fatalf("%d rows, want 12000000", rows)
	}
	peak := peakRSS(t, s.cmd.Process.Pid)
	t.Logf("streamed %d MB; server peak RSS %d MB", bytes>>20, peak>>20)
	if peak > bytes/4 {
		t.Fatalf("the server's peak memory %d MB is more than a quarter of the %d MB it streamed", peak>>20, bytes>>20)
	}
}

// TestCancel stops a query: a client that cancels its stream, and
// CancelFlightInfo, which ends the query's running streams and refuses
// its tickets; the server goes on serving.
func TestCancel(t *testing.T) {
	s := serve(t, localStore(t), nil, false)
	cl := rawClient(t, s)
	const q = "SELECT a.x, b.y, repeat('x', 1000) AS pad FROM generate_series(1, 5000) AS a(x), generate_series(1, 1000) AS b(y)"

	// A client that goes away mid-stream.
	info, err := cl.Execute(background(), q)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(background())
	rdr, err := cl.DoGet(ctx, info.Endpoint[0].Ticket)
	if err != nil {
		t.Fatal(err)
	}
	if !rdr.Next() {
		t.Fatal(rdr.Err())
	}
	cancel()
	for rdr.Next() {
	}
	if status.Code(rdr.Err()) != codes.Canceled {
		t.Fatalf("a cancelled stream ended with %v", rdr.Err())
	}
	rdr.Release()

	// CancelFlightInfo while a stream runs.
	info, err = cl.Execute(background(), q)
	if err != nil {
		t.Fatal(err)
	}
	rdr, err = cl.DoGet(background(), info.Endpoint[0].Ticket)
	if err != nil {
		t.Fatal(err)
	}
	if !rdr.Next() {
		t.Fatal(rdr.Err())
	}
	res, err := cl.CancelFlightInfo(background(), &flight.CancelFlightInfoRequest{Info: info})
	if err != nil || res.Status != flight.CancelStatusCancelled {
		t.Fatalf("CancelFlightInfo: %v, %v", res.Status, err)
	}
	n := 0
	for rdr.Next() {
		n++
	}
	if status.Code(rdr.Err()) != codes.Canceled {
		t.Fatalf("the stream of a cancelled query ended with %v after %d more batches", rdr.Err(), n)
	}
	rdr.Release()
	rdr, err = cl.DoGet(background(), info.Endpoint[0].Ticket)
	if err == nil {
		for rdr.Next() {
		}
		err = rdr.Err()
	}
	if status.Code(err) != codes.Canceled {
		t.Fatalf("a ticket of a cancelled query: %v", err)
	}

	// Tickets are signed: a forged one is refused.
	forged, _ := flightsql.CreateStatementQueryTicket([]byte("DMT1t{\"sql\":\"SELECT 1\"}0123456789abcdef0123456789abcdef"))
	if _, err := cl.DoGet(background(), &flight.Ticket{Ticket: forged}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("a forged ticket: %v", err)
	}
	if rows := countRows(t, cl, "SELECT 1"); rows != 1 {
		t.Fatalf("the server answers %d rows after cancellations", rows)
	}
}

// countRows runs a query and counts its rows.
func countRows(t testing.TB, cl *flightsql.Client, q string) int64 {
	t.Helper()
	info, err := cl.Execute(background(), q)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, ep := range info.Endpoint {
		rdr, err := cl.DoGet(background(), ep.Ticket)
		if err != nil {
			t.Fatal(err)
		}
		for rdr.Next() {
			n += rdr.RecordBatch().NumRows()
		}
		if err := rdr.Err(); err != nil {
			t.Fatal(err)
		}
		rdr.Release()
	}
	return n
}
