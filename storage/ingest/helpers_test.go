package ingest

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/storage/schema"
)

// peakAllocator is a checked allocator that also remembers the most it held.
type peakAllocator struct {
	*memory.CheckedAllocator
	mu   sync.Mutex
	peak int
}

func newPeakAllocator() *peakAllocator {
	return &peakAllocator{CheckedAllocator: memory.NewCheckedAllocator(memory.NewGoAllocator())}
}

func (a *peakAllocator) note() {
	a.mu.Lock()
	a.peak = max(a.peak, a.CurrentAlloc())
	a.mu.Unlock()
}

func (a *peakAllocator) Allocate(n int) []byte {
	b := a.CheckedAllocator.Allocate(n)
	a.note()
	return b
}

func (a *peakAllocator) Reallocate(n int, b []byte) []byte {
	b = a.CheckedAllocator.Reallocate(n, b)
	a.note()
	return b
}

func (a *peakAllocator) Peak() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.peak
}

func mustSchema(t testing.TB, text string) *schema.Schema {
	t.Helper()
	s, err := schema.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rowKey is the KeyFunc ingest uses: a partition prefix, then the row key.
func rowKey(sch *schema.Schema, part func(rec arrow.RecordBatch, row int) uint32) KeyFunc {
	n := sch.NumKeys()
	return func(dst []byte, rec arrow.RecordBatch, row int) []byte {
		p := uint32(0)
		if part != nil {
			p = part(rec, row)
		}
		dst = binary.BigEndian.AppendUint32(dst, p)
		return schema.AppendRowKey(dst, rec, n, row)
	}
}

// rowsOf renders every row of a batch as text, one string per row, with
// NULL for nulls.
func rowsOf(rec arrow.RecordBatch) []string {
	out := make([]string, rec.NumRows())
	for r := range out {
		var b strings.Builder
		for c := range int(rec.NumCols()) {
			if c > 0 {
				b.WriteString("|")
			}
			col := rec.Column(c)
			if col.IsNull(r) {
				b.WriteString("NULL")
				continue
			}
			switch a := col.(type) {
			case *array.Binary:
				fmt.Fprintf(&b, "%x", a.Value(r))
			case *array.Timestamp:
				b.WriteString(a.Value(r).ToTime(arrow.Microsecond).UTC().Format("2006-01-02 15:04:05.999999"))
			case *array.Date32:
				b.WriteString(a.Value(r).FormattedString())
			default:
				b.WriteString(col.ValueStr(r))
			}
		}
		out[r] = b.String()
	}
	return out
}

// readAll drains a reader into rows of text, releasing every batch and
// checking its schema.
func readAll(t testing.TB, rr RecordReader, want *arrow.Schema) ([]string, error) {
	t.Helper()
	var rows []string
	for {
		rec, err := rr.Next()
		if err != nil {
			if err.Error() == "EOF" {
				return rows, nil
			}
			return rows, err
		}
		if !rec.Schema().Equal(want) {
			t.Errorf("batch schema\n%s\nwant\n%s", rec.Schema(), want)
		}
		rows = append(rows, rowsOf(rec)...)
		rec.Release()
	}
}

func gzipped(t testing.TB, text string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(text))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
