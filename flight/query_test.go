package flight_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/storagetest"
	"github.com/jackc/pgx/v5"
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

// TestSameAnswerEverywhere runs one query over Flight SQL, over the
// PostgreSQL protocol (pgx) and with the dormouse query command, on one
// store, and compares the rows.
func TestSameAnswerEverywhere(t *testing.T) {
	s := serve(t, localStore(t), nil, true)
	cl := rawClient(t, s)
	update(t, cl, "CREATE TABLE e (k bigint PRIMARY KEY, score double precision, ok boolean, at timestamp, note text) WITH (split_points = '10,20')")
	update(t, cl, `INSERT INTO e SELECT x, x / 4.0, x % 3 = 0, TIMESTAMP '2024-01-01' + x * INTERVAL '90 minutes',
		CASE WHEN x % 5 = 0 THEN NULL ELSE 'note ' || x END FROM generate_series(1, 29) AS g(x)`)
	const q = "SELECT k, score, ok, at, note FROM e WHERE k BETWEEN 3 AND 26 ORDER BY k"

	// Flight SQL.
	info, err := cl.Execute(background(), q)
	if err != nil {
		t.Fatal(err)
	}
	var viaFlight []string
	for _, ep := range info.Endpoint {
		rdr, err := cl.DoGet(background(), ep.Ticket)
		if err != nil {
			t.Fatal(err)
		}
		for rdr.Next() {
			rec := rdr.RecordBatch()
			for r := 0; r < int(rec.NumRows()); r++ {
				row := make([]any, rec.NumCols())
				for c, col := range rec.Columns() {
					if col.IsNull(r) {
						continue
					}
					switch a := col.(type) {
					case *array.Int64:
						row[c] = a.Value(r)
					case *array.Float64:
						row[c] = a.Value(r)
					case *array.Boolean:
						row[c] = a.Value(r)
					case *array.Timestamp:
						row[c] = a.Value(r).ToTime(arrow.Microsecond)
					case *array.String:
						row[c] = a.Value(r)
					}
				}
				viaFlight = append(viaFlight, pgText(row))
			}
		}
		rdr.Release()
	}

	// PostgreSQL protocol.
	conn, err := pgx.Connect(background(), "postgres://dormouse@"+s.addr(&s.PG)+"/dormouse?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(background())
	rows, err := conn.Query(background(), q)
	if err != nil {
		t.Fatal(err)
	}
	var viaPG []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		viaPG = append(viaPG, pgText(vals))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}

	// The command line.
	recs, err := csv.NewReader(strings.NewReader(s.cli(t, "query", "--format", "csv", q))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var viaCLI []string
	for _, r := range recs[1:] {
		viaCLI = append(viaCLI, strings.Join(r, ","))
	}

	if len(viaFlight) != 24 || !slices.Equal(viaFlight, viaPG) || !slices.Equal(viaFlight, viaCLI) {
		t.Fatalf("the answers differ:\nFlight SQL:\n%s\npgwire:\n%s\nCLI:\n%s",
			strings.Join(viaFlight, "\n"), strings.Join(viaPG, "\n"), strings.Join(viaCLI, "\n"))
	}
}

// pgText renders values as PostgreSQL's text output (and the CLI's CSV)
// does: NULL as nothing, booleans as t and f.
func pgText(vals []any) string {
	cells := make([]string, len(vals))
	for i, v := range vals {
		switch v := v.(type) {
		case nil:
		case bool:
			cells[i] = map[bool]string{true: "t", false: "f"}[v]
		case float64:
			cells[i] = strconv.FormatFloat(v, 'g', -1, 64)
		case time.Time:
			cells[i] = v.UTC().Format("2006-01-02 15:04:05.999999")
		default:
			cells[i] = fmt.Sprint(v)
		}
	}
	return strings.Join(cells, ",")
}

// TestTwoServers plans a query on one serve process and reads its
// endpoints from another on the same store (local and S3): tickets are
// self-contained and signed with the store's key, endpoints name the
// advertised process, and every endpoint reads the snapshot the query was
// planned at, whatever was committed since.
func TestTwoServers(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		url, env := storagetest.URL(t, store)
		b := serve(t, url, env, false)
		a := serve(t, url, env, false, "--flight-advertise", b.addr(&b.Flight))
		ca, cb := rawClient(t, a), rawClient(t, b)
		update(t, ca, "CREATE TABLE two (k bigint PRIMARY KEY, v text) WITH (split_points = '100,200')")
		update(t, ca, "INSERT INTO two SELECT x, 'v' || x FROM generate_series(0, 299) AS g(x)")

		info, err := ca.Execute(background(), "SELECT k, v FROM two")
		if err != nil {
			t.Fatal(err)
		}
		if len(info.Endpoint) != 3 {
			t.Fatalf("%d endpoints, want 3", len(info.Endpoint))
		}
		for _, ep := range info.Endpoint {
			if len(ep.Location) != 1 || ep.Location[0].Uri != "grpc+tcp://"+b.addr(&b.Flight) {
				t.Fatalf("endpoint locations %v, want the advertised process", ep.Location)
			}
		}
		// Rows committed after planning are not in the planned snapshot.
		update(t, cb, "INSERT INTO two SELECT x, 'new' FROM generate_series(0, 299) AS g(x)")
		var got []int64
		for _, part := range endpointRows(t, cb, info) {
			got = append(got, part...)
		}
		slices.Sort(got)
		want := make([]int64, 300)
		for i := range want {
			want[i] = int64(i)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("the other process read %d rows, want the %d planned", len(got), len(want))
		}
		// The ADBC driver follows the locations.
		if _, rows := adbcQuery(t, adbcConn(t, a, "u"), "SELECT count(*) FROM two", nil); rows[0] != "600" {
			t.Fatalf("count through the advertised process: %v", rows)
		}
	})
}
