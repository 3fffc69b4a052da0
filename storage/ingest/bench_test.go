package ingest

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

const benchSchema = "k:varchar:key, a:bigint, b:double, c:varchar"

// benchCSV is n rows of (k VARCHAR, a BIGINT, b DOUBLE, c VARCHAR) in random
// key order, as the DuckDB comparison generates them.
func benchCSV(n int) []byte {
	rng := rand.New(rand.NewPCG(7, 8))
	var b bytes.Buffer
	b.WriteString("k,a,b,c\n")
	buf := make([]byte, 0, 128)
	for range n {
		buf = buf[:0]
		buf = fmt.Appendf(buf, "key%012d,", rng.Int64N(1e12))
		buf = strconv.AppendInt(buf, rng.Int64N(1e9)-5e8, 10)
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, rng.Float64()*1000, 'f', 4, 64)
		buf = append(buf, ',')
		buf = fmt.Appendf(buf, "value-%d\n", rng.IntN(1e6))
		b.Write(buf)
	}
	return b.Bytes()
}

func BenchmarkCSVRead(b *testing.B) {
	const rows = 1 << 20
	data := benchCSV(rows)
	sch := mustSchema(b, benchSchema)
	for _, workers := range []int{1, 0} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			start, cpu := time.Now(), cpuTime()
			for b.Loop() {
				r, err := NewCSVReader(bytes.NewReader(data), "bench.csv", sch, CSVOptions{Workers: workers})
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for {
					rec, err := r.Next()
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
				if n != rows {
					b.Fatalf("read %d rows, want %d", n, rows)
				}
			}
			reportRows(b, rows, start, cpu)
		})
	}
}

// reportRows reports rows per second of wall time, and the CPU time per row
// (less disturbed by other processes than wall time is).
func reportRows(b *testing.B, rows int, start time.Time, cpu time.Duration) {
	n := float64(rows) * float64(b.N)
	b.ReportMetric(n/time.Since(start).Seconds(), "rows/s")
	if c := cpuTime() - cpu; c > 0 {
		b.ReportMetric(float64(c.Nanoseconds())/n, "cpu-ns/row")
	}
}

// benchBatches parses benchCSV into batches.
func benchBatches(b *testing.B, rows int) []arrow.RecordBatch {
	sch := mustSchema(b, benchSchema)
	r, err := NewCSVReader(bytes.NewReader(benchCSV(rows)), "bench.csv", sch, CSVOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	var out []arrow.RecordBatch
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, rec)
	}
}

func BenchmarkSort(b *testing.B) {
	const rows = 1 << 20
	batches := benchBatches(b, rows)
	defer func() {
		for _, r := range batches {
			r.Release()
		}
	}()
	sch := mustSchema(b, benchSchema)
	for _, tc := range []struct {
		name        string
		memory      int64
		compression string
	}{
		{"memory", 1 << 30, ""},
		{"spill", 16 << 20, ""},
		{"spill-lz4", 16 << 20, SpillLZ4},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			start, cpu := time.Now(), cpuTime()
			var stats SortStats
			for b.Loop() {
				s := NewSorter(sch, SortOptions{MemoryBytes: tc.memory, TempDir: b.TempDir(), SpillCompression: tc.compression}, rowKey(sch, nil))
				for _, rec := range batches {
					if err := s.Add(rec); err != nil {
						b.Fatal(err)
					}
				}
				out, err := s.Finish()
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for {
					batch, err := out.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					n += int(batch.Rec.NumRows())
					batch.Rec.Release()
				}
				stats = out.Stats()
				out.Close()
				if n != rows {
					b.Fatalf("sorted %d rows, want %d", n, rows)
				}
			}
			reportRows(b, rows, start, cpu)
			b.ReportMetric(float64(stats.Runs), "runs")
		})
	}
}
