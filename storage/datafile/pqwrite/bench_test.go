package pqwrite_test

import (
	"bytes"
	"io"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/compress"

	"github.com/dormousedb/dormouse/bench/gen"
	"github.com/dormousedb/dormouse/storage/datafile/pqwrite"
)

// BenchmarkWrite writes a compaction's output: 1M rows of bench/gen
// (key VARCHAR, a BIGINT, b DOUBLE of three decimals, c VARCHAR of
// 100,000 values; the value columns nullable) sorted by key, in batches
// of 64Ki rows, with a table's default pages (1 MiB, so at most 128Ki
// rows) and zstd level 1, in each of the encodings a column could get. It
// reports CPU per row and bytes per row of the file.
//
//	go test ./storage/datafile/pqwrite -run - -bench Write -benchtime 3x
func BenchmarkWrite(b *testing.B) {
	batches := sortedGenBatches(b, 1<<20, 64<<10)
	dba, dbp, dict, plain := pqwrite.DeltaByteArray, pqwrite.DeltaBinaryPacked, pqwrite.Dictionary, pqwrite.Plain
	for _, v := range []struct {
		name       string
		key, a, bb pqwrite.Encoding
		c          pqwrite.Encoding
	}{
		{"all-plain", plain, plain, plain, plain},
		{"delta", dba, dbp, plain, dba},
		{"delta+dict-b", dba, dbp, dict, dba},
		{"delta+dict-c", dba, dbp, plain, dict},
		{"delta+dict-bc", dba, dbp, dict, dict},
	} {
		b.Run(v.name, func(b *testing.B) {
			sch := batches[0].Schema()
			cols := []pqwrite.Column{
				{Name: "key", Type: sch.Field(0).Type, Encoding: v.key},
				{Name: "a", Type: sch.Field(1).Type, Nullable: true, Encoding: v.a},
				{Name: "b", Type: sch.Field(2).Type, Nullable: true, Encoding: v.bb, Fallback: pqwrite.Plain},
				{Name: "c", Type: sch.Field(3).Type, Nullable: true, Encoding: v.c, Fallback: dba},
			}
			opts := benchOptions(compress.Codecs.Zstd)
			opts.SortingColumns = 1
			var size int64
			b.ReportAllocs()
			runtime.GC()
			cpu0 := cpuTime()
			for b.Loop() {
				var out countingWriter
				w, err := pqwrite.NewWriter(&out, cols, opts)
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range batches {
					if err := w.Write(r.Columns()); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
				size = out.n
			}
			rows := float64(b.N) * float64(1<<20)
			b.ReportMetric(float64(cpuTime()-cpu0)/rows, "cpu-ns/row")
			b.ReportMetric(float64(size)/float64(1<<20), "B/row")
		})
	}
}

// benchOptions are a compaction's: a table's default pages and row
// groups, zstd at level 1.
func benchOptions(codec compress.Compression) pqwrite.Options {
	return pqwrite.Options{Codec: codec, CompressionLevel: 1, PageBytes: 1 << 20, PageRows: (1 << 20) / 8, RowGroupRows: 1 << 20}
}

// BenchmarkPerColumn writes each column of BenchmarkWrite's rows alone,
// in each encoding it could get, compressed and not: what each costs.
func BenchmarkPerColumn(b *testing.B) {
	batches := sortedGenBatches(b, 1<<20, 64<<10)
	sch := batches[0].Schema()
	for _, v := range []struct {
		name string
		col  int
		enc  pqwrite.Encoding
		fb   pqwrite.Encoding
	}{
		{"key-plain", 0, pqwrite.Plain, 0},
		{"key-dba", 0, pqwrite.DeltaByteArray, 0},
		{"a-plain", 1, pqwrite.Plain, 0},
		{"a-dbp", 1, pqwrite.DeltaBinaryPacked, 0},
		{"b-plain", 2, pqwrite.Plain, 0},
		{"b-dict", 2, pqwrite.Dictionary, pqwrite.Plain},
		{"c-plain", 3, pqwrite.Plain, 0},
		{"c-dba", 3, pqwrite.DeltaByteArray, 0},
		{"c-dict", 3, pqwrite.Dictionary, pqwrite.DeltaByteArray},
	} {
		for _, codec := range []compress.Compression{compress.Codecs.Zstd, compress.Codecs.Uncompressed} {
			b.Run(v.name+"/"+codec.String(), func(b *testing.B) {
				cols := []pqwrite.Column{{Name: "x", Type: sch.Field(v.col).Type, Nullable: v.col > 0, Encoding: v.enc, Fallback: v.fb}}
				opts := benchOptions(codec)
				var size int64
				runtime.GC()
				cpu0 := cpuTime()
				for b.Loop() {
					var out countingWriter
					w, err := pqwrite.NewWriter(&out, cols, opts)
					if err != nil {
						b.Fatal(err)
					}
					for _, r := range batches {
						if err := w.Write([]arrow.Array{r.Column(v.col)}); err != nil {
							b.Fatal(err)
						}
					}
					if err := w.Close(); err != nil {
						b.Fatal(err)
					}
					size = out.n
				}
				rows := float64(b.N) * float64(1<<20)
				b.ReportMetric(float64(cpuTime()-cpu0)/rows, "cpu-ns/row")
				b.ReportMetric(float64(size)/float64(1<<20), "B/row")
			})
		}
	}
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

var _ io.Writer = (*countingWriter)(nil)

// sortedGenBatches makes n rows of bench/gen sorted by key, in batches.
func sortedGenBatches(tb testing.TB, n, batchRows int) []arrow.RecordBatch {
	g := gen.NewRows(1, int64(n), n, nil)
	rec, err := g.Next()
	if err != nil {
		tb.Fatal(err)
	}
	defer rec.Release()
	keys := rec.Column(0).(*array.String)
	idx := make([]int64, n)
	for i := range idx {
		idx[i] = int64(i)
	}
	slices.SortFunc(idx, func(x, y int64) int { return bytes.Compare([]byte(keys.Value(int(x))), []byte(keys.Value(int(y)))) })
	ib := array.NewInt64Builder(memory.DefaultAllocator)
	ib.AppendValues(idx, nil)
	indices := ib.NewArray()
	ib.Release()
	defer indices.Release()
	sorted, err := compute.TakeArray(tb.Context(), rec.Column(0), indices)
	if err != nil {
		tb.Fatal(err)
	}
	cols := []arrow.Array{sorted}
	for c := 1; c < int(rec.NumCols()); c++ {
		a, err := compute.TakeArray(tb.Context(), rec.Column(c), indices)
		if err != nil {
			tb.Fatal(err)
		}
		cols = append(cols, a)
	}
	all := array.NewRecordBatch(rec.Schema(), cols, int64(n))
	releaseAll(cols)
	defer all.Release()
	var out []arrow.RecordBatch
	for off := 0; off < n; off += batchRows {
		out = append(out, all.NewSlice(int64(off), int64(min(off+batchRows, n))))
	}
	tb.Cleanup(func() {
		for _, r := range out {
			r.Release()
		}
	})
	return out
}

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
