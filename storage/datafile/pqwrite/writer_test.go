package pqwrite_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/metadata"

	"github.com/dormousedb/dormouse/storage/datafile/pqwrite"
)

// TestRoundTrip writes every type in every encoding, NULLs in every
// shape (whole pages of NULLs after pages of values among them), values
// in every shape, and reads the file back with arrow-go: the values, the
// column chunk statistics and the page index must be the data's.
func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, typ := range allTypes {
		for _, enc := range encodingsOf(typ) {
			for _, nulls := range []nullShape{noNulls, someNulls, nullRuns, allNulls} {
				for _, vals := range []valueShape{randomValues, sortedValues, fewValues, extremes} {
					name := fmt.Sprintf("%s/%s/nulls=%s/%s", typ, enc, nulls, vals)
					t.Run(name, func(t *testing.T) {
						n := 3000 + rng.IntN(12000)
						col := pqwrite.Column{Name: "c", Type: typ, Nullable: nulls != noNulls, Encoding: enc}
						if enc == pqwrite.Dictionary {
							col.Fallback = deltaOf(typ)
							if rng.IntN(2) == 0 {
								col.Fallback = pqwrite.Plain
							}
						}
						a := genColumn(rng, typ, n, nulls, vals)
						defer a.Release()
						opts := pqwrite.Options{
							// Each type and encoding meets every codec.
							Codec:        []compress.Compression{compress.Codecs.Zstd, compress.Codecs.Snappy, compress.Codecs.Lz4Raw, compress.Codecs.Uncompressed}[(int(nulls)+int(vals))%4],
							PageRows:     int64(50 + rng.IntN(500)),
							PageBytes:    int64(256 + rng.IntN(4096)),
							RowGroupRows: int64(1000 + rng.IntN(3000)),
						}
						if rng.IntN(3) == 0 { // pages past the dictionary's trial
							opts.PageRows, opts.PageBytes, opts.RowGroupRows = int64(5000+rng.IntN(5000)), 1<<20, int64(8000+rng.IntN(8000))
						}
						if rng.IntN(2) == 0 {
							opts.DictionaryBytes = int64(16 + rng.IntN(2000))
						}
						checkFile(t, []pqwrite.Column{col}, []arrow.Array{a}, 1+rng.IntN(700), opts)
					})
				}
			}
		}
	}
}

// checkFile writes cols and checks what arrow-go reads back.
func checkFile(t *testing.T, schema []pqwrite.Column, cols []arrow.Array, batchRows int, opts pqwrite.Options) {
	t.Helper()
	data := writeFile(t, schema, cols, batchRows, opts)
	checkRowGroups(t, schema, cols, data, opts, func(_, c int, rg *metadata.RowGroupMetaData, pir *metadata.RowGroupPageIndexReader, start int64) {
		checkChunk(t, rg, pir, c, schema[c], cols[c], start, opts)
	})
}

// checkChunk checks a column chunk's statistics and page index against
// its rows, the rows from start of a.
func checkChunk(t *testing.T, rg *metadata.RowGroupMetaData, pir *metadata.RowGroupPageIndexReader, c int, col pqwrite.Column, a arrow.Array, start int64, opts pqwrite.Options) {
	t.Helper()
	n := rg.NumRows()
	cc, st := chunkStats(t, rg, c)
	if st == nil {
		t.Fatalf("column chunk %d has no statistics", c)
	}
	wantMin, wantMax, ordered, nulls := bounds(a, int(start), int(start+n))
	if st.NullCount() != nulls || cc.NumValues() != n {
		t.Errorf("chunk: %d NULLs of %d values, want %d of %d", st.NullCount(), cc.NumValues(), nulls, n)
	}
	if st.HasMinMax() != ordered || ordered && (!bytes.Equal(st.EncodeMin(), wantMin) || !bytes.Equal(st.EncodeMax(), wantMax)) {
		t.Errorf("chunk: min %x max %x (%v), want %x %x (%v)", st.EncodeMin(), st.EncodeMax(), st.HasMinMax(), wantMin, wantMax, ordered)
	}
	if cc.Compression() != opts.Codec {
		t.Errorf("chunk compressed %s, want %s", cc.Compression(), opts.Codec)
	}
	oi, err := pir.GetOffsetIndex(c)
	if err != nil || oi == nil {
		t.Fatalf("no offset index (%v)", err)
	}
	locs := oi.GetPageLocations()
	ci, err := pir.GetColumnIndex(c)
	if err != nil {
		t.Fatal(err)
	}
	if ci != nil && len(ci.GetNullPages()) != len(locs) {
		t.Fatalf("%d pages in the column index, %d in the offset index", len(ci.GetNullPages()), len(locs))
	}
	hasIndex := true
	var mins, maxs [][]byte
	for p, loc := range locs {
		end := n
		if p+1 < len(locs) {
			end = locs[p+1].FirstRowIndex
		}
		rows := end - loc.FirstRowIndex
		if rows <= 0 || rows > opts.PageRows {
			t.Errorf("page %d holds %d rows (at most %d)", p, rows, opts.PageRows)
		}
		lo, hi, ok, pnulls := bounds(a, int(start+loc.FirstRowIndex), int(start+end))
		if !ok && pnulls < rows {
			hasIndex = false // a page of NaNs
			continue
		}
		if ci == nil {
			continue
		}
		if ci.GetNullPages()[p] != (pnulls == rows) || ci.GetNullCounts()[p] != pnulls {
			t.Errorf("page %d: null page %v, %d NULLs; want %v, %d", p, ci.GetNullPages()[p], ci.GetNullCounts()[p], pnulls == rows, pnulls)
		}
		if ok && (!bytes.Equal(ci.GetMinValues()[p], lo) || !bytes.Equal(ci.GetMaxValues()[p], hi)) {
			t.Errorf("page %d: min %x max %x, want %x %x", p, ci.GetMinValues()[p], ci.GetMaxValues()[p], lo, hi)
		}
		if ok {
			mins, maxs = append(mins, lo), append(maxs, hi)
		}
	}
	if hasIndex != (ci != nil) {
		t.Fatalf("column index present %v, want %v", ci != nil, hasIndex)
	}
	if ci != nil {
		if got, want := ci.GetBoundaryOrder(), boundaryOrder(col.Type, mins, maxs); got != want {
			t.Errorf("boundary order %v, want %v", got, want)
		}
	}
}

// bounds returns the Parquet statistics of rows [lo, hi) of a: min and
// max plain-encoded, whether there are any (not NULL, not NaN), the NULLs.
func bounds(a arrow.Array, lo, hi int) (minV, maxV []byte, ok bool, nulls int64) {
	var keys [][]byte
	for i := lo; i < hi; i++ {
		if a.IsNull(i) {
			nulls++
			continue
		}
		if f, isF := a.(*array.Float64); isF && math.IsNaN(f.Value(i)) {
			continue
		}
		keys = append(keys, plainStat(a, i))
	}
	if len(keys) == 0 {
		return nil, nil, false, nulls
	}
	less := func(x, y []byte) int { return compareStat(a.DataType(), x, y) }
	minV, maxV = slices.MinFunc(keys, less), slices.MaxFunc(keys, less)
	if a.DataType().ID() == arrow.FLOAT64 {
		if math.Float64frombits(binary.LittleEndian.Uint64(minV)) == 0 {
			minV = binary.LittleEndian.AppendUint64(nil, math.Float64bits(math.Copysign(0, -1)))
		}
		if math.Float64frombits(binary.LittleEndian.Uint64(maxV)) == 0 {
			maxV = binary.LittleEndian.AppendUint64(nil, 0)
		}
	}
	return minV, maxV, true, nulls
}

func plainStat(a arrow.Array, i int) []byte {
	switch a := a.(type) {
	case *array.Int64:
		return binary.LittleEndian.AppendUint64(nil, uint64(a.Value(i)))
	case *array.Timestamp:
		return binary.LittleEndian.AppendUint64(nil, uint64(a.Value(i)))
	case *array.Int32:
		return binary.LittleEndian.AppendUint32(nil, uint32(a.Value(i)))
	case *array.Date32:
		return binary.LittleEndian.AppendUint32(nil, uint32(a.Value(i)))
	case *array.Float64:
		return binary.LittleEndian.AppendUint64(nil, math.Float64bits(a.Value(i)))
	case *array.Boolean:
		if a.Value(i) {
			return []byte{1}
		}
		return []byte{0}
	case *array.String:
		return []byte(a.Value(i))
	case *array.Binary:
		return bytes.Clone(a.Value(i))
	}
	panic(fmt.Sprintf("no statistic for %T", a))
}

func compareStat(t arrow.DataType, x, y []byte) int {
	switch t.ID() {
	case arrow.INT64, arrow.TIMESTAMP:
		return cmpOf(int64(binary.LittleEndian.Uint64(x)), int64(binary.LittleEndian.Uint64(y)))
	case arrow.INT32, arrow.DATE32:
		return cmpOf(int32(binary.LittleEndian.Uint32(x)), int32(binary.LittleEndian.Uint32(y)))
	case arrow.FLOAT64:
		return cmpOf(math.Float64frombits(binary.LittleEndian.Uint64(x)), math.Float64frombits(binary.LittleEndian.Uint64(y)))
	}
	return bytes.Compare(x, y)
}

func cmpOf[T int32 | int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func boundaryOrder(t arrow.DataType, mins, maxs [][]byte) metadata.BoundaryOrder {
	if len(mins) == 0 {
		return metadata.Unordered
	}
	asc, desc := true, true
	for i := 1; i < len(mins); i++ {
		if compareStat(t, mins[i], mins[i-1]) < 0 || compareStat(t, maxs[i], maxs[i-1]) < 0 {
			asc = false
		}
		if compareStat(t, mins[i], mins[i-1]) > 0 || compareStat(t, maxs[i], maxs[i-1]) > 0 {
			desc = false
		}
	}
	switch {
	case asc:
		return metadata.Ascending
	case desc:
		return metadata.Descending
	}
	return metadata.Unordered
}

// TestEmptyFile writes no rows: a footer with the schema and no row
// group, which arrow-go reads as an empty table of the columns.
func TestEmptyFile(t *testing.T) {
	schema := []pqwrite.Column{{Name: "k", Type: arrow.BinaryTypes.String}, {Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}
	data := writeFile(t, schema, nil, 1, pqwrite.Options{Codec: compress.Codecs.Zstd})
	pf, got := readBack(t, data)
	defer releaseAll(got)
	if pf.NumRows() != 0 || pf.NumRowGroups() != 0 || len(got) != 2 || got[0].Len() != 0 {
		t.Fatalf("empty file: %d rows, %d row groups, %d columns", pf.NumRows(), pf.NumRowGroups(), len(got))
	}
}

// TestSchemaAsPqarrow writes every type, nullable or not, with the
// Writer and with pqarrow: the Parquet schemas, the restored Arrow schema
// and the key-value metadata must agree.
func TestSchemaAsPqarrow(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	schema, cols := everyType(rng, 100)
	defer releaseAll(cols)
	ours := writeFile(t, schema, cols, 100, pqwrite.Options{Codec: compress.Codecs.Zstd, SortingColumns: 2,
		Metadata: []pqwrite.KeyValue{{Key: "dormouse.schema", Value: "{}"}}})
	theirs := writePqarrow(t, schema, cols)
	a, b := openFile(t, ours), openFile(t, theirs)
	sa, sb := a.MetaData().Schema, b.MetaData().Schema
	if !sa.Equals(sb) {
		t.Errorf("schemas differ:\n%s\n%s", sa, sb)
	}
	for i := range sa.NumColumns() {
		ca, cb := sa.Column(i), sb.Column(i)
		if ca.PhysicalType() != cb.PhysicalType() || ca.ConvertedType() != cb.ConvertedType() ||
			!ca.LogicalType().Equals(cb.LogicalType()) || ca.MaxDefinitionLevel() != cb.MaxDefinitionLevel() {
			t.Errorf("column %d: %s %s %s, pqarrow %s %s %s", i, ca.PhysicalType(), ca.ConvertedType(), ca.LogicalType(),
				cb.PhysicalType(), cb.ConvertedType(), cb.LogicalType())
		}
	}
	kv := a.MetaData().KeyValueMetadata()
	if v := kv.FindValue("dormouse.schema"); v == nil || *v != "{}" {
		t.Error("the caller's key-value entry is missing")
	}
	if va, vb := kv.FindValue("ARROW:schema"), b.MetaData().KeyValueMetadata().FindValue("ARROW:schema"); va == nil || vb == nil || *va != *vb {
		t.Error("ARROW:schema differs from pqarrow's")
	}
	want := []parquet.SortingColumn{{ColumnIdx: 0}, {ColumnIdx: 1}}
	if got := a.MetaData().RowGroup(0).SortingColumns(); !slices.Equal(got, want) {
		t.Errorf("sorting columns %v, want %v", got, want)
	}
}
