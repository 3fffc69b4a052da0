package compactor

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/dormousedb/dormouse/bench/gen"
	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/ingest"
	"github.com/dormousedb/dormouse/storage/state"
	"github.com/dormousedb/dormouse/storage/storagetest"
)

// BenchmarkRun merges files of the standard benchmark rows (bench/gen:
// key VARCHAR, a BIGINT, b DOUBLE, c VARCHAR), each sorted by its ingest,
// into one file: the work of a job up to its commit, on a local store.
// bench/compare measures the whole job in its own process beside DuckDB;
// this is the in-process figure to profile:
//
//	go test ./compactor -run - -bench 'Run/files=4' -cpuprofile cpu.pprof
func BenchmarkRun(b *testing.B) {
	for _, c := range []struct{ files, rows int }{{4, 256 << 10}, {11, 1 << 20}} {
		for _, codec := range []string{"zstd", "lz4_raw", "snappy", "none"} {
			b.Run(fmt.Sprintf("files=%d/rows=%d/codec=%s", c.files, c.rows, codec), func(b *testing.B) {
				benchmarkRun(b, c.files, c.rows, codec)
			})
		}
	}
}

func benchmarkRun(b *testing.B, files, rows int, codec string) {
	ctx := context.Background()
	db := storagetest.NewDB(b, storagetest.LocalStore(b))
	tb, err := db.CreateTable(ctx, catalog.TableDef{Name: "bench", Schema: gen.Schema(), Properties: catalog.Properties{"compression_codec": codec}})
	if err != nil {
		b.Fatal(err)
	}
	for i := range files {
		in := gen.NewRows(uint64(i+1), int64(rows), 64<<10, nil)
		if _, err := ingest.Ingest(ctx, tb, []ingest.RecordReader{in}, ingest.Options{}); err != nil {
			b.Fatal(err)
		}
	}
	s, _, err := tb.State(ctx)
	if err != nil {
		b.Fatal(err)
	}
	leaf := s.Partitions.Leaves()[0]
	j := &state.Job{ID: "bench", Partition: leaf.ID}
	for _, r := range s.PartitionRefs(leaf.ID) {
		j.Files = append(j.Files, r.File)
	}
	opts := RunOptions{}.withDefaults()
	plan := newMemoryPlan(tb, s, j, opts.Memory)
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu := time.Now(), cpuTime()
	var outBytes int64
	for b.Loop() {
		res := &Result{}
		out, err := writeOutput(ctx, tb, s, 0, j, leaf, plan, opts, res)
		if err != nil {
			b.Fatal(err)
		}
		if out.Rows != int64(files*rows) {
			b.Fatalf("wrote %d rows, want %d", out.Rows, files*rows)
		}
		outBytes = out.Bytes
		if err := deleteOutput(ctx, tb, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(outBytes)/float64(files*rows), "out-B/row")
	n := float64(files*rows) * float64(b.N)
	b.ReportMetric(n/time.Since(start).Seconds(), "rows/s")
	if c := cpuTime() - cpu; c > 0 {
		b.ReportMetric(n/c.Seconds(), "rows/cpu-s")
	}
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
