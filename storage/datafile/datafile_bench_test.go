package datafile_test

// The measurement behind the choice of Parquet library (see writer.go): the
// same 1M sorted rows of (k VARCHAR row key, a BIGINT, b DOUBLE, c VARCHAR)
// written and read with arrow-go's pqarrow and with parquet-go, both with
// zstd, statistics, page index and sorting columns. parquet-go lives only
// here, as the losing side of the comparison.
//
//	go test -run XXX -bench . -benchtime 3x ./storage/datafile/

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	pq "github.com/parquet-go/parquet-go"

	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/schema"
)

const (
	benchRows      = 1 << 20
	benchBatchRows = 64 << 10
)

var benchSchema = &schema.Schema{
	RowKeys: []schema.Column{{Name: "k", Type: schema.Varchar}},
	Values: []schema.Column{
		{Name: "a", Type: schema.BigInt, Nullable: true},
		{Name: "b", Type: schema.Double, Nullable: true},
		{Name: "c", Type: schema.Varchar, Nullable: true},
	},
}

// benchBatches builds the benchmark rows once: sorted unique keys, random
// numbers, and a VARCHAR value drawn from a thousand words so that it
// compresses as real attribute columns do.
func benchBatches(tb testing.TB) []arrow.RecordBatch {
	rng := rand.New(rand.NewPCG(1, 2))
	b := array.NewRecordBuilder(memory.DefaultAllocator, benchSchema.Arrow())
	defer b.Release()
	var out []arrow.RecordBatch
	for start := 0; start < benchRows; start += benchBatchRows {
		for i := start; i < start+benchBatchRows; i++ {
			b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("user%012d", i*7))
			b.Field(1).(*array.Int64Builder).Append(rng.Int64N(1e12))
			b.Field(2).(*array.Float64Builder).Append(rng.Float64() * 1000)
			b.Field(3).(*array.StringBuilder).Append(fmt.Sprintf("value-%d", rng.IntN(1000)))
		}
		out = append(out, b.NewRecordBatch())
	}
	tb.Cleanup(func() {
		for _, r := range out {
			r.Release()
		}
	})
	return out
}

type countingDiscard struct{ n int64 }

func (c *countingDiscard) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func BenchmarkWriteParquet(b *testing.B) {
	batches := benchBatches(b)
	for _, lib := range []struct {
		name  string
		write func(io.Writer, []arrow.RecordBatch) error
	}{
		{"pqarrow", writePqarrow},
		{"parquet-go", writeParquetGo},
	} {
		b.Run(lib.name, func(b *testing.B) {
			b.ReportAllocs()
			var size int64
			cpu0 := cpuTime()
			for b.Loop() {
				var w countingDiscard
				if err := lib.write(&w, batches); err != nil {
					b.Fatal(err)
				}
				size = w.n
			}
			reportRows(b, cpu0)
			b.ReportMetric(float64(size), "file-bytes")
		})
	}
}

func BenchmarkReadParquet(b *testing.B) {
	batches := benchBatches(b)
	for _, lib := range []struct {
		name  string
		write func(io.Writer, []arrow.RecordBatch) error
		read  func([]byte) (int64, error)
	}{
		{"pqarrow", writePqarrow, readPqarrow},
		{"parquet-go", writeParquetGo, readParquetGo},
	} {
		b.Run(lib.name, func(b *testing.B) {
			var buf bytes.Buffer
			if err := lib.write(&buf, batches); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for b.Loop() {
				n, err := lib.read(buf.Bytes())
				if err != nil {
					b.Fatal(err)
				}
				if n != benchRows {
					b.Fatalf("read %d rows, want %d", n, benchRows)
				}
			}
			reportRows(b, cpu0)
		})
	}
}

// BenchmarkWriter measures the package's Writer end to end (sort check,
// sketches, pqwrite, store) against a local store, and the sketch alone.
func BenchmarkWriter(b *testing.B) {
	batches := benchBatches(b)
	store := newTestStore(b)
	ctx := context.Background()
	b.Run("datafile", func(b *testing.B) {
		b.ReportAllocs()
		var info datafile.Info
		cpu0 := cpuTime()
		for b.Loop() {
			w, err := datafile.NewWriter(ctx, store, "bench/f.parquet", benchSchema, datafile.WriterOptions{})
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range batches {
				if err := w.Write(r); err != nil {
					b.Fatal(err)
				}
			}
			if info, err = w.Close(); err != nil {
				b.Fatal(err)
			}
		}
		reportRows(b, cpu0)
		b.ReportMetric(float64(info.Bytes), "file-bytes")
	})
	b.Run("sketch-only", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		cpu0 := cpuTime()
		for b.Loop() {
			s := datafile.NewSketch()
			for _, r := range batches {
				col := r.Column(0)
				for i := 0; i < col.Len(); i++ {
					buf = schema.AppendValue(buf[:0], col, i)
					s.Update(buf)
				}
			}
		}
		reportRows(b, cpu0)
	})
}

// writeBenchFile writes the benchmark rows to bench/f.parquet in a new
// store with the Writer's defaults: the file the read benchmarks read.
func writeBenchFile(b *testing.B) objstore.Store {
	store := newTestStore(b)
	w, err := datafile.NewWriter(context.Background(), store, "bench/f.parquet", benchSchema, datafile.WriterOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range benchBatches(b) {
		if err := w.Write(r); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return store
}

// readAllRows reads every row of r, releasing the batches, and returns
// how many there were.
func readAllRows(b *testing.B, r *datafile.Reader) int64 {
	rr, err := r.Records(context.Background(), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer rr.Close()
	var n int64
	for {
		rec, err := rr.Next()
		if err == io.EOF {
			return n
		}
		if err != nil {
			b.Fatal(err)
		}
		n += rec.NumRows()
		rec.Release()
	}
}

func BenchmarkReader(b *testing.B) {
	store, ctx := writeBenchFile(b), context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		r, err := datafile.Open(ctx, store, "bench/f.parquet", benchSchema)
		if err != nil {
			b.Fatal(err)
		}
		n := readAllRows(b, r)
		r.Close()
		if n != benchRows {
			b.Fatalf("read %d rows", n)
		}
	}
	reportRows(b, cpu0)
}

// writePqarrow writes with the settings the package's Writer uses.
func writePqarrow(w io.Writer, batches []arrow.RecordBatch) error {
	props := datafile.DefaultParquetProps(benchSchema, batches[0])
	fw, err := pqarrow.NewFileWriter(benchSchema.Arrow(), w, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return err
	}
	for _, r := range batches {
		if err := fw.WriteBuffered(r); err != nil {
			return err
		}
	}
	return fw.Close()
}

func readPqarrow(data []byte) (int64, error) {
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		return 0, err
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: benchBatchRows}, memory.DefaultAllocator)
	if err != nil {
		return 0, err
	}
	rr, err := fr.GetRecordReader(context.Background(), nil, nil)
	if err != nil {
		return 0, err
	}
	defer rr.Release()
	var n int64
	for rr.Next() {
		n += rr.RecordBatch().NumRows()
	}
	return n, rr.Err()
}

// parquet-go keeps a Group's fields in name order: a, b, c, k.
var pqSchema = pq.NewSchema("bench", pq.Group{
	"k": pq.String(),
	"a": pq.Optional(pq.Int(64)),
	"b": pq.Optional(pq.Leaf(pq.DoubleType)),
	"c": pq.Optional(pq.String()),
})

// pqColumnOf maps parquet-go's column order to Arrow storage order.
func pqColumnOf(name string) int { return benchSchema.Index(name) }

// writeParquetGo feeds Arrow columns to parquet-go's column writers, the
// fastest columnar path it offers, cutting row groups at 1<<20 rows.
func writeParquetGo(w io.Writer, batches []arrow.RecordBatch) error {
	pw := pq.NewWriter(w, pqSchema,
		pq.Compression(&pq.Zstd),
		pq.DataPageStatistics(true),
		pq.PageBufferSize(int(datafile.DefaultPageSizeBytes)),
		pq.SortingWriterConfig(pq.SortingColumns(pq.Ascending("k"))),
	)
	var vals []pq.Value
	rows := 0
	for _, r := range batches {
		n := int(r.NumRows())
		if rows > 0 && rows+n > 1<<20 {
			if err := pw.Flush(); err != nil {
				return err
			}
			rows = 0
		}
		for ci, cw := range pw.ColumnWriters() {
			leaf := pqSchema.Fields()[ci]
			col := r.Column(pqColumnOf(leaf.Name()))
			def := 0
			if leaf.Optional() {
				def = 1
			}
			vals = vals[:0]
			for i := 0; i < n; i++ {
				if col.IsNull(i) {
					vals = append(vals, pq.NullValue().Level(0, 0, ci))
					continue
				}
				var v pq.Value
				switch a := col.(type) {
				case *array.String:
					offs := a.ValueOffsets()
					v = pq.ByteArrayValue(a.ValueBytes()[offs[i]:offs[i+1]])
				case *array.Int64:
					v = pq.Int64Value(a.Value(i))
				case *array.Float64:
					v = pq.DoubleValue(a.Value(i))
				}
				vals = append(vals, v.Level(0, def, ci))
			}
			if _, err := cw.WriteRowValues(vals); err != nil {
				return err
			}
		}
		rows += n
	}
	return pw.Close()
}

// readParquetGo decodes every page into Arrow builders, one record per row
// group, with typed bulk appends where the page allows.
func readParquetGo(data []byte) (int64, error) {
	f, err := pq.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return 0, err
	}
	var n int64
	for _, rg := range f.RowGroups() {
		b := array.NewRecordBuilder(memory.DefaultAllocator, benchSchema.Arrow())
		for ci, chunk := range rg.ColumnChunks() {
			leaf := pqSchema.Fields()[ci]
			if err := readPqChunk(chunk, b.Field(pqColumnOf(leaf.Name()))); err != nil {
				b.Release()
				return 0, err
			}
		}
		rec := b.NewRecordBatch()
		n += rec.NumRows()
		rec.Release()
		b.Release()
	}
	return n, nil
}

func readPqChunk(chunk pq.ColumnChunk, bld array.Builder) error {
	pages := chunk.Pages()
	defer pages.Close()
	var valid []bool
	for {
		p, err := pages.ReadPage()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		nv := int(p.NumValues())
		valid = valid[:0]
		if p.NumNulls() > 0 {
			for _, d := range p.DefinitionLevels() {
				valid = append(valid, d > 0)
			}
		}
		data := p.Data()
		switch bb := bld.(type) {
		case *array.Int64Builder:
			appendDense(bb.AppendValues, bb.AppendNull, data.Int64(), valid, nv)
		case *array.Float64Builder:
			appendDense(bb.AppendValues, bb.AppendNull, data.Double(), valid, nv)
		case *array.StringBuilder:
			buf, offs := data.ByteArray()
			j := 0
			for i := 0; i < nv; i++ {
				if len(valid) > 0 && !valid[i] {
					bb.AppendNull()
					continue
				}
				bb.BinaryBuilder.Append(buf[offs[j]:offs[j+1]])
				j++
			}
		}
		pq.Release(p)
	}
}

func appendDense[T any](appendValues func([]T, []bool), appendNull func(), vals []T, valid []bool, n int) {
	if len(valid) == 0 {
		appendValues(vals, nil)
		return
	}
	j := 0
	for i := 0; i < n; i++ {
		if !valid[i] {
			appendNull()
			continue
		}
		appendValues(vals[j:j+1], nil)
		j++
	}
}

// cpuTime is the CPU time this process has used. The benchmarks report it
// beside wall time because the machines they run on are shared: CPU per row
// moves much less than rows per second when other work competes.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportRows reports rows/s of wall time and CPU nanoseconds per row.
func reportRows(b *testing.B, cpu0 time.Duration) {
	rows := float64(benchRows) * float64(b.N)
	b.ReportMetric(rows/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/rows, "cpu-ns/row")
}
