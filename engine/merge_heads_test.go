package engine

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dormousedb/dormouse/storage/schema"
)

// headBoundaryKey makes a key aimed at schema.Head's edges: a common
// 20-byte stem cut to a length around 7, 8, 9, 15, 16 or 17 bytes, with
// bytes at positions 7, 8, 15 and 16 set to 0x00, 0x01 or 0xff, so that
// keys share heads, differ only past the head, are prefixes of each
// other across the 8- and 16-byte boundaries, or differ from their
// zero padding only by a real NUL.
func headBoundaryKey(rng *rand.Rand) []byte {
	stem := []byte("abcdefghijklmnopqrst")
	lengths := []int{0, 1, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 20}
	k := append([]byte(nil), stem[:lengths[rng.IntN(len(lengths))]]...)
	for _, pos := range []int{7, 8, 15, 16} {
		if pos < len(k) && rng.IntN(2) == 0 {
			k[pos] = []byte{0x00, 0x01, 0xff}[rng.IntN(3)]
		}
	}
	// Trailing NULs: "x" against "x\x00" against "x\x00\x00"…
	for range rng.IntN(3) {
		if rng.IntN(3) == 0 {
			k = append(k, 0)
		}
	}
	return k
}

// headRow is one row of an input: its key column values and the
// tag saying where it came from.
type headRow struct {
	a, b []byte // key columns (b only for composite keys)
	tag  string
	key  []byte // the merge key (a alone, or the composite of a and b)
}

var headSchema = arrow.NewSchema([]arrow.Field{
	{Name: "a", Type: arrow.BinaryTypes.Binary},
	{Name: "b", Type: arrow.BinaryTypes.Binary},
	{Name: "tag", Type: arrow.BinaryTypes.String},
}, nil)

func headCompositeKey(dst []byte, rec arrow.RecordBatch, row int) []byte {
	return schema.AppendRowKey(dst, rec, 2, row)
}

// TestMergeHeadsKeyHeadBoundaries merges inputs of keys built to tie
// or nearly tie in their first sixteen bytes, through the key-column
// path (KeyColumn on a VARBINARY column) and the MergeKey path with a
// two-column composite key, and checks the output against a stable sort
// of the inputs' rows in input order (equal keys: lower input first).
func TestMergeHeadsKeyHeadBoundaries(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for iter := range 300 {
		composite := iter%2 == 1
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		var all []headRow
		var inputs []Operator
		nIn := 1 + rng.IntN(12)
		for in := range nIn {
			rows := make([]headRow, rng.IntN(200))
			for i := range rows {
				rows[i].a = headBoundaryKey(rng)
				if composite {
					rows[i].b = headBoundaryKey(rng)
				}
			}
			b := array.NewRecordBuilder(mem, headSchema)
			for _, r := range rows {
				b.Field(0).(*array.BinaryBuilder).Append(r.a)
				b.Field(1).(*array.BinaryBuilder).Append(r.b)
				b.Field(2).(*array.StringBuilder).Append("")
			}
			tmp := b.NewRecordBatch()
			for i := range rows {
				if composite {
					rows[i].key = headCompositeKey(nil, tmp, i)
				} else {
					rows[i].key = schema.AppendValue(nil, tmp.Column(0), i)
				}
			}
			tmp.Release()
			sort.SliceStable(rows, func(x, y int) bool { return bytes.Compare(rows[x].key, rows[y].key) < 0 })
			b.Field(0).(*array.BinaryBuilder).Append([]byte("pad"))
			b.Field(1).(*array.BinaryBuilder).Append([]byte("pad"))
			b.Field(2).(*array.StringBuilder).Append("pad")
			for i := range rows {
				rows[i].tag = fmt.Sprintf("%d/%d", in, i)
				b.Field(0).(*array.BinaryBuilder).Append(rows[i].a)
				b.Field(1).(*array.BinaryBuilder).Append(rows[i].b)
				b.Field(2).(*array.StringBuilder).Append(rows[i].tag)
			}
			whole := b.NewRecordBatch()
			b.Release()
			all = append(all, rows...)
			// Batches sliced out of the middle of a bigger one, of 1-30 rows.
			var recs []arrow.RecordBatch
			for at := 1; at <= len(rows); {
				n := min(len(rows)+1-at, 1+rng.IntN(30))
				recs = append(recs, whole.NewSlice(int64(at), int64(at+n)))
				at += n
			}
			whole.Release()
			inputs = append(inputs, &mergeTestSource{sch: headSchema, recs: recs})
		}
		sort.SliceStable(all, func(x, y int) bool { return bytes.Compare(all[x].key, all[y].key) < 0 })
		opts := MergeOptions{Alloc: mem, BatchRows: 1 + rng.IntN(64)}
		key := MergeKey(headCompositeKey)
		if !composite {
			opts.KeyColumn, key = 1, nil
		}
		op := MergeSorted(inputs, key, opts)
		want := make([]string, len(all))
		for i, r := range all {
			want[i] = r.tag
		}
		checkMergedTags(t, fmt.Sprintf("iteration %d (composite %v)", iter, composite), op, want, func(rec arrow.RecordBatch, r int) string {
			return rec.Column(2).(*array.String).Value(r)
		})
		mem.AssertSize(t, 0)
	}
}
