package sql_test

import (
	"context"
	"io"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dormousedb/dormouse/engine/expr"
)

// BenchmarkPreparedPointLookup executes a prepared point lookup by key on
// one session, as pgbench -M prepared does over the wire: the statement's
// whole path inside the server (snapshot, binding, planning, the scan,
// reading the row) without the protocol and the network.
func BenchmarkPreparedPointLookup(b *testing.B) {
	const rows = 200_000
	ctx := context.Background()
	s := newSession(b, "CREATE TABLE kv (k bigint PRIMARY KEY, v text, n bigint) WITH (split_points = '50000,100000,150000', page_size_bytes = 16384)",
		"INSERT INTO kv SELECT g, 'value-' || (g * 7919 % 1000003), g % 1000 FROM generate_series(1, "+strconv.Itoa(rows)+") AS g")
	st, err := s.Prepare(ctx, "SELECT v, n FROM kv WHERE k = $1", nil)
	if err != nil {
		b.Fatal(err)
	}
	keys := make([]arrow.Array, 1024)
	for i := range keys {
		keys[i] = param(b, expr.Int8Type, strconv.Itoa(rand.IntN(rows)+1))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		r, err := s.Execute(ctx, st, []arrow.Array{keys[i%len(keys)]})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			rec, err := r.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n += int(rec.NumRows())
			rec.Release()
		}
		r.Close()
		if n != 1 {
			b.Fatalf("%d rows", n)
		}
	}
}
