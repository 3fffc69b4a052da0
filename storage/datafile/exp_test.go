package datafile_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

func writePqarrowWith(w io.Writer, batches []arrow.RecordBatch, extra ...parquet.WriterProperty) error {
	props := parquet.NewWriterProperties(append([]parquet.WriterProperty{
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithStats(true),
		parquet.WithPageIndexEnabled(true),
		parquet.WithSortingColumns([]parquet.SortingColumn{{ColumnIdx: 0}}),
		parquet.WithMaxRowGroupLength(1 << 20),
	}, extra...)...)
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

func BenchmarkExp(b *testing.B) {
	batches := benchBatches(b)
	for _, v := range []struct {
		name  string
		extra []parquet.WriterProperty
	}{
		{"costfb-64K", []parquet.WriterProperty{parquet.WithDataPageSize(64 << 10), parquet.WithDictionaryCostFallbackFor("k", true), parquet.WithDictionaryCostFallbackFor("a", true), parquet.WithDictionaryCostFallbackFor("b", true), parquet.WithDictionaryCostFallbackFor("c", true)}},
		{"nodict-64K", []parquet.WriterProperty{parquet.WithDataPageSize(64 << 10), parquet.WithDictionaryDefault(false)}},
		{"costfb-256K", []parquet.WriterProperty{parquet.WithDataPageSize(256 << 10), parquet.WithDictionaryCostFallbackFor("k", true), parquet.WithDictionaryCostFallbackFor("a", true), parquet.WithDictionaryCostFallbackFor("b", true), parquet.WithDictionaryCostFallbackFor("c", true)}},
		{"costfb-1M", []parquet.WriterProperty{parquet.WithDataPageSize(1 << 20), parquet.WithDictionaryCostFallbackFor("k", true), parquet.WithDictionaryCostFallbackFor("a", true), parquet.WithDictionaryCostFallbackFor("b", true), parquet.WithDictionaryCostFallbackFor("c", true)}},
	} {
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			var size int64
			cpu0 := cpuTime()
			for b.Loop() {
				var w countingDiscard
				if err := writePqarrowWith(&w, batches, v.extra...); err != nil {
					b.Fatal(err)
				}
				size = w.n
			}
			reportRows(b, cpu0)
			b.ReportMetric(float64(size), "file-bytes")
		})
		b.Run("read-"+v.name, func(b *testing.B) {
			var buf bytes.Buffer
			if err := writePqarrowWith(&buf, batches, v.extra...); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				if _, err := readPqarrow(buf.Bytes()); err != nil {
					b.Fatal(err)
				}
			}
			reportRows(b, cpu0)
		})
	}
}
