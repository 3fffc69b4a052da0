// Package gen generates deterministic test and benchmark rows: the same
// seed gives the same rows, as Arrow batches or as CSV, so Dormouse and its
// peers (DuckDB, PostgreSQL) are fed identical input.
//
// The standard row is (key VARCHAR row key, a BIGINT, b DOUBLE, c VARCHAR),
// the shape the storage benchmark ingests.
package gen

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/storage/schema"
)

// Schema is the standard row's table schema.
func Schema() *schema.Schema {
	return &schema.Schema{
		RowKeys: []schema.Column{{Name: "key", Type: schema.Varchar}},
		Values: []schema.Column{
			{Name: "a", Type: schema.BigInt, Nullable: true},
			{Name: "b", Type: schema.Double, Nullable: true},
			{Name: "c", Type: schema.Varchar, Nullable: true},
		},
	}
}

// Rows generates n standard rows from a seed. Keys are random (not in
// order) 16-character strings "k" + 15 digits, so that ingest must sort.
type Rows struct {
	rng   *rand.Rand
	left  int64
	batch int
	alloc memory.Allocator
	sch   *arrow.Schema
	buf   []byte
}

// NewRows returns a generator of n rows in batches of batchRows.
func NewRows(seed uint64, n int64, batchRows int, alloc memory.Allocator) *Rows {
	if alloc == nil {
		alloc = memory.DefaultAllocator
	}
	return &Rows{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), left: n, batch: batchRows, alloc: alloc, sch: Schema().Arrow()}
}

func (g *Rows) row() (key []byte, a int64, b float64, c []byte) {
	g.buf = g.buf[:0]
	g.buf = append(g.buf, 'k')
	g.buf = fmt.Appendf(g.buf, "%015d", g.rng.Int64N(1e15))
	n := len(g.buf)
	a = g.rng.Int64N(1_000_000) - 500_000
	b = float64(g.rng.Int64N(1_000_000)) / 1000
	g.buf = append(g.buf, "value-"...)
	g.buf = strconv.AppendInt(g.buf, g.rng.Int64N(100_000), 10)
	return g.buf[:n], a, b, g.buf[n:]
}

// Next returns the next batch, or io.EOF; the caller releases it.
func (g *Rows) Next() (arrow.RecordBatch, error) {
	if g.left <= 0 {
		return nil, io.EOF
	}
	n := int(min(int64(g.batch), g.left))
	g.left -= int64(n)
	kb := array.NewStringBuilder(g.alloc)
	ab := array.NewInt64Builder(g.alloc)
	bb := array.NewFloat64Builder(g.alloc)
	cb := array.NewStringBuilder(g.alloc)
	kb.Reserve(n)
	ab.Reserve(n)
	bb.Reserve(n)
	cb.Reserve(n)
	for range n {
		k, a, b, c := g.row()
		kb.BinaryBuilder.Append(k)
		ab.UnsafeAppend(a)
		bb.UnsafeAppend(b)
		cb.BinaryBuilder.Append(c)
	}
	cols := []arrow.Array{kb.NewArray(), ab.NewArray(), bb.NewArray(), cb.NewArray()}
	for _, b := range []array.Builder{kb, ab, bb, cb} {
		b.Release()
	}
	rec := array.NewRecordBatch(g.sch, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	return rec, nil
}

// Close does nothing; it makes Rows an ingest input.
func (g *Rows) Close() error { return nil }

// WriteCSV writes n standard rows with a header to w.
func WriteCSV(w io.Writer, seed uint64, n int64) error {
	g := NewRows(seed, 0, 0, nil)
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString("key,a,b,c\n")
	line := make([]byte, 0, 64)
	for range n {
		k, a, b, c := g.row()
		line = append(line[:0], k...)
		line = append(line, ',')
		line = strconv.AppendInt(line, a, 10)
		line = append(line, ',')
		line = strconv.AppendFloat(line, b, 'f', -1, 64)
		line = append(line, ',')
		line = append(line, c...)
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}
