package flight_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

func rawClient(t testing.TB, s *server) *flightsql.Client {
	t.Helper()
	cl, err := flightsql.NewClient(s.addr(&s.Flight), nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

func update(t testing.TB, cl *flightsql.Client, q string) int64 {
	t.Helper()
	n, err := cl.ExecuteUpdate(background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// endpointRows reads every endpoint of info at once, each on its own
// goroutine, checks that each stream's schema is the FlightInfo's, and
// returns each endpoint's values of column 0 (int64 keys).
func endpointRows(t testing.TB, cl *flightsql.Client, info *flight.FlightInfo) [][]int64 {
	t.Helper()
	want, err := flight.DeserializeSchema(info.Schema, memory.DefaultAllocator)
	if err != nil {
		t.Fatalf("FlightInfo schema: %v", err)
	}
	out := make([][]int64, len(info.Endpoint))
	errs := make([]error, len(info.Endpoint))
	var wg sync.WaitGroup
	for i, ep := range info.Endpoint {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rdr, err := cl.DoGet(context.Background(), ep.Ticket)
			if err != nil {
				errs[i] = err
				return
			}
			defer rdr.Release()
			if !rdr.Schema().Equal(want) {
				errs[i] = fmt.Errorf("endpoint %d schema %s, FlightInfo's %s", i, rdr.Schema(), want)
				return
			}
			for rdr.Next() {
				col := rdr.RecordBatch().Column(0).(*array.Int64)
				out[i] = append(out[i], col.Int64Values()...)
			}
			errs[i] = rdr.Err()
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("endpoint %d: %v", i, err)
		}
	}
	return out
}

// TestEndpointsPerPartition checks that a query over a split table has one
// endpoint per leaf partition it reads, that the endpoints, read at once,
// give exactly the table's rows, and when they are ordered.
func TestEndpointsPerPartition(t *testing.T) {
	s := serve(t, localStore(t), nil, false)
	cl := rawClient(t, s)
	update(t, cl, "CREATE TABLE t (k bigint PRIMARY KEY, v bigint, note text) WITH (split_points = '1000,2000,3000')")
	if n := update(t, cl, "INSERT INTO t SELECT x, x % 10, 'row ' || x FROM generate_series(0, 3999) AS g(x)"); n != 4000 {
		t.Fatalf("INSERT affected %d rows, want 4000", n)
	}
	// A second file in two partitions, with duplicate keys.
	update(t, cl, "INSERT INTO t SELECT x, 0, NULL FROM generate_series(1500, 2499) AS g(x)")
	all := make([]int64, 0, 5000)
	for x := int64(0); x < 4000; x++ {
		all = append(all, x)
		if x >= 1500 && x < 2500 {
			all = append(all, x)
		}
	}
	cases := []struct {
		query     string
		endpoints int
		ordered   bool
		want      []int64 // sorted; nil: don't check values
	}{
		{"SELECT * FROM t", 4, false, all},
		{"SELECT k, note FROM t WHERE k >= 1500 AND k < 2100", 2, false, filter(all, func(x int64) bool { return x >= 1500 && x < 2100 })},
		{"SELECT * FROM t ORDER BY k", 4, true, all},
		{"SELECT k, count(*) FROM t GROUP BY k", 4, false, dedupe(all)},
		{"SELECT v, count(*) FROM t GROUP BY v", 1, false, nil},
		{"SELECT count(*) FROM t", 1, false, []int64{5000}},
		{"SELECT k FROM t WHERE k = 12345", 1, false, []int64{}},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			info, err := cl.Execute(background(), c.query)
			if err != nil {
				t.Fatal(err)
			}
			if len(info.Endpoint) != c.endpoints || info.Ordered != c.ordered {
				t.Fatalf("%d endpoints, ordered %v; want %d, %v", len(info.Endpoint), info.Ordered, c.endpoints, c.ordered)
			}
			parts := endpointRows(t, cl, info)
			var got []int64
			for _, p := range parts {
				got = append(got, p...)
			}
			if c.ordered && !slices.IsSorted(got) {
				t.Fatalf("ordered endpoints are not in key order")
			}
			if c.want == nil {
				return
			}
			slices.Sort(got)
			if got == nil {
				got = []int64{}
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("the endpoints gave %d rows, want %d", len(got), len(c.want))
			}
		})
	}
}

func filter(xs []int64, keep func(int64) bool) []int64 {
	var out []int64
	for _, x := range xs {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}

func dedupe(xs []int64) []int64 { return slices.Compact(slices.Clone(xs)) }

var _ = arrow.PrimitiveTypes.Int64
