package pgwire_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
)

// BenchmarkPointLookup runs prepared point lookups by key, as pgbench -M
// prepared does, from 8 connections over a table of 1M rows in 4
// partitions: the server's fastest path, end to end.
func BenchmarkPointLookup(b *testing.B) {
	const rows = 1_000_000
	s := startServer(b)
	ctx := context.Background()
	setup := s.connect(b)
	execSQL(b, setup, "CREATE TABLE kv (k bigint PRIMARY KEY, v text, n bigint) WITH (split_points = '250000,500000,750000', page_size_bytes = 16384)")
	var data strings.Builder
	for i := 1; i <= rows; i++ {
		fmt.Fprintf(&data, "%d,value-%d,%d\n", i, i*7919%1000003, i%1000)
	}
	if _, err := setup.PgConn().CopyFrom(ctx, strings.NewReader(data.String()), "COPY kv FROM STDIN (FORMAT csv)"); err != nil {
		b.Fatal(err)
	}
	const clients = 8
	conns := make([]*pgx.Conn, clients)
	for i := range conns {
		conns[i] = s.connect(b)
	}
	b.ResetTimer()
	var wg sync.WaitGroup
	per := b.N/clients + 1
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				k := rand.Int64N(rows) + 1
				var v string
				if err := c.QueryRow(ctx, "SELECT v FROM kv WHERE k = $1", k).Scan(&v); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(per*clients)/b.Elapsed().Seconds(), "lookups/s")
}

// BenchmarkCopyFrom loads 1M CSV rows with COPY FROM STDIN, as psql's
// \copy and pgx's PgConn.CopyFrom send them.
func BenchmarkCopyFrom(b *testing.B) {
	const rows = 1_000_000
	var data strings.Builder
	for i := 1; i <= rows; i++ {
		fmt.Fprintf(&data, "%d,value-%d,%d\n", i, i*7919%1000003, i%1000)
	}
	s := startServer(b)
	ctx := context.Background()
	conn := s.connect(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		table := fmt.Sprintf("cp%d", i)
		execSQL(b, conn, "CREATE TABLE "+table+" (k bigint PRIMARY KEY, v text, n bigint) WITH (split_points = '250000,500000,750000')")
		if _, err := conn.PgConn().CopyFrom(ctx, strings.NewReader(data.String()), "COPY "+table+" FROM STDIN (FORMAT csv)"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
