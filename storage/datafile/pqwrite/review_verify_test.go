package pqwrite_test

import (
	"bytes"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/dormousedb/dormouse/storage/datafile/pqwrite"
)

// The review's verification of a written file: everything checkFile
// checks, the layout (checkLayout), the definition levels of each page
// against the column index, and the column chunk statistics against what
// arrow-go's own writer computes for the same rows in the same row
// groups.

// writeBatches writes batches (each one array per column) and returns
// the file.
func writeBatches(t testing.TB, schema []pqwrite.Column, batches [][]arrow.Array, opts pqwrite.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := pqwrite.NewWriter(&buf, schema, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range batches {
		if err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// concatBatches concatenates each column's arrays across batches.
func concatBatches(t testing.TB, schema []pqwrite.Column, batches [][]arrow.Array) []arrow.Array {
	t.Helper()
	out := make([]arrow.Array, len(schema))
	for c := range schema {
		var parts []arrow.Array
		for _, b := range batches {
			parts = append(parts, b[c])
		}
		if len(parts) == 0 {
			out[c] = array.MakeArrayOfNull(memory.DefaultAllocator, schema[c].Type, 0)
			continue
		}
		a, err := array.Concatenate(parts, memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		out[c] = a
	}
	return out
}

// reviewDefaults fills in opts' defaults as the Writer does.
func reviewDefaults(o pqwrite.Options) pqwrite.Options {
	if o.PageBytes <= 0 {
		o.PageBytes = pqwrite.DefaultPageBytes
	}
	if o.PageRows <= 0 {
		o.PageRows = pqwrite.DefaultPageRows
	}
	if o.RowGroupRows <= 0 {
		o.RowGroupRows = pqwrite.DefaultRowGroupRows
	}
	if o.DictionaryBytes <= 0 {
		o.DictionaryBytes = pqwrite.DefaultDictionaryBytes
	}
	return o
}

// verifyFile checks data, the file written of whole (each column's rows).
func verifyFile(t testing.TB, schema []pqwrite.Column, whole []arrow.Array, data []byte, opts pqwrite.Options) fileLayout {
	t.Helper()
	opts = reviewDefaults(opts)
	lay := checkLayout(t, data)
	pf, got := readBack(t, data)
	defer releaseAll(got)
	for i, a := range whole {
		if !sameValues(a, got[i]) {
			t.Fatalf("column %s (%s): read back differs (%d rows, %d read)", schema[i].Name, schema[i].Type, a.Len(), got[i].Len())
		}
	}
	md := pf.MetaData()
	tt, _ := t.(*testing.T)
	start := int64(0)
	for g := range md.NumRowGroups() {
		rg := md.RowGroup(g)
		if want := min(opts.RowGroupRows, int64(whole[0].Len())-start); rg.NumRows() != want {
			t.Fatalf("row group %d has %d rows, want %d", g, rg.NumRows(), want)
		}
		pir, err := pf.GetPageIndexReader().RowGroup(g)
		if err != nil {
			t.Fatal(err)
		}
		for c, a := range whole {
			if !longStrings(a, int(start), int(start+rg.NumRows())) {
				if tt != nil {
					checkChunk(tt, rg, pir, c, schema[c], a, start, opts)
				}
			} else {
				checkLongChunk(t, rg, pir, c, a, start)
			}
			checkPageNulls(t, schema[c], a, start, lay.pages[g][c], pir, c)
		}
		start += rg.NumRows()
	}
	if start != int64(whole[0].Len()) {
		t.Fatalf("file holds %d rows, wrote %d", start, whole[0].Len())
	}
	compareStatsWithArrowGo(t, schema, whole, data, opts)
	return lay
}

// checkLongChunk checks a chunk of byte arrays some longer than
// statistics keep (4096 bytes): its min and max are the rows' unless
// either is too long, and it has a column index only if no page's min or
// max is too long, then the pages'.
func checkLongChunk(t testing.TB, rg *metadata.RowGroupMetaData, pir *metadata.RowGroupPageIndexReader, c int, a arrow.Array, start int64) {
	t.Helper()
	n := rg.NumRows()
	cc, err := rg.ColumnChunk(c)
	if err != nil {
		t.Fatal(err)
	}
	st, err := cc.Statistics()
	if err != nil {
		t.Fatal(err)
	}
	lo, hi, ok, _ := bounds(a, int(start), int(start+n))
	if ok && (len(lo) > 4096 || len(hi) > 4096) {
		ok = false
	}
	if st.HasMinMax() != ok || ok && (!bytes.Equal(st.EncodeMin(), lo) || !bytes.Equal(st.EncodeMax(), hi)) {
		t.Errorf("chunk of long values: min %x max %x (%v), want %x %x (%v)", short(st.EncodeMin()), short(st.EncodeMax()), st.HasMinMax(),
			short(lo), short(hi), ok)
	}
	oi, err := pir.GetOffsetIndex(c)
	if err != nil {
		t.Fatal(err)
	}
	ci, err := pir.GetColumnIndex(c)
	if err != nil {
		t.Fatal(err)
	}
	locs := oi.GetPageLocations()
	want := true
	for p, loc := range locs {
		end := n
		if p+1 < len(locs) {
			end = locs[p+1].FirstRowIndex
		}
		plo, phi, pok, _ := bounds(a, int(start+loc.FirstRowIndex), int(start+end))
		if pok && (len(plo) > 4096 || len(phi) > 4096) {
			want = false
		}
		if ci != nil && pok && (!bytes.Equal(ci.GetMinValues()[p], plo) || !bytes.Equal(ci.GetMaxValues()[p], phi)) {
			t.Errorf("page %d: min %x max %x, want %x %x", p, short(ci.GetMinValues()[p]), short(ci.GetMaxValues()[p]), short(plo), short(phi))
		}
	}
	if (ci != nil) != want {
		t.Errorf("column index present %v, want %v", ci != nil, want)
	}
}

// longStrings says whether rows [lo, hi) of a hold a byte array longer
// than arrow-go's statistics keep (checkChunk's bounds do not model the
// limit: compareStatsWithArrowGo checks those chunks).
func longStrings(a arrow.Array, lo, hi int) bool {
	switch a := a.(type) {
	case *array.String:
		for i := lo; i < hi; i++ {
			if a.IsValid(i) && len(a.Value(i)) > 4096 {
				return true
			}
		}
	case *array.Binary:
		for i := lo; i < hi; i++ {
			if a.IsValid(i) && len(a.Value(i)) > 4096 {
				return true
			}
		}
	}
	return false
}

// checkPageNulls decodes each data page's definition levels and checks
// them against the rows written and the column index's NULL counts.
func checkPageNulls(t testing.TB, col pqwrite.Column, a arrow.Array, start int64, pages []rawPage, pir *metadata.RowGroupPageIndexReader, c int) {
	t.Helper()
	ci, err := pir.GetColumnIndex(c)
	if err != nil {
		t.Fatal(err)
	}
	row, p := start, 0
	for _, pg := range pages {
		if pg.typ != 0 {
			continue
		}
		n := int(pg.numValues)
		want := 0
		for i := range n {
			if a.IsNull(int(row) + i) {
				want++
			}
		}
		got := 0
		if col.Nullable {
			got, _ = defLevels(t, pg.body, n)
		}
		if got != want {
			t.Errorf("column %s, page %d (rows %d-%d): definition levels mark %d NULLs, rows have %d", col.Name, p, row, row+int64(n), got, want)
		}
		if ci != nil && (ci.GetNullCounts()[p] != int64(want) || ci.GetNullPages()[p] != (want == n)) {
			t.Errorf("column %s, page %d: column index says %d NULLs (null page %v), rows have %d of %d", col.Name, p,
				ci.GetNullCounts()[p], ci.GetNullPages()[p], want, n)
		}
		row += int64(n)
		p++
	}
}

// compareStatsWithArrowGo writes whole with arrow-go in the same row
// groups and compares every column chunk's statistics: NULL count, and
// min and max, which each must have or not have alike (arrow-go may keep
// one without the other: it then has none for this comparison).
func compareStatsWithArrowGo(t testing.TB, schema []pqwrite.Column, whole []arrow.Array, data []byte, opts pqwrite.Options) {
	t.Helper()
	if whole[0].Len() == 0 {
		return
	}
	fields := make([]arrow.Field, len(schema))
	for i, c := range schema {
		fields[i] = arrow.Field{Name: c.Name, Type: c.Type, Nullable: c.Nullable}
	}
	sch := arrow.NewSchema(fields, nil)
	var buf bytes.Buffer
	fw, err := pqarrow.NewFileWriter(sch, &buf, parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithMaxRowGroupLength(opts.RowGroupRows), parquet.WithStats(true)),
		pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		t.Fatal(err)
	}
	rec := array.NewRecordBatch(sch, whole, int64(whole[0].Len()))
	defer rec.Release()
	if err := fw.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	ours, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	// arrow-go leaves out a min or a max longer than 4096 bytes, each on
	// its own, and its reader then says HasMinMax with the other one
	// empty: what it wrote is read from the footer itself.
	theirFooter := decodeFooter(t, buf.Bytes())
	if ours.NumRowGroups() != theirs.NumRowGroups() {
		t.Fatalf("%d row groups, arrow-go %d", ours.NumRowGroups(), theirs.NumRowGroups())
	}
	for g := range ours.NumRowGroups() {
		for c := range schema {
			a, err := ours.MetaData().RowGroup(g).ColumnChunk(c)
			if err != nil {
				t.Fatal(err)
			}
			b, err := theirs.MetaData().RowGroup(g).ColumnChunk(c)
			if err != nil {
				t.Fatal(err)
			}
			sa, err := a.Statistics()
			if err != nil {
				t.Fatal(err)
			}
			sb, err := b.Statistics()
			if err != nil {
				t.Fatal(err)
			}
			if sa.NullCount() != sb.NullCount() || !sa.HasNullCount() {
				t.Errorf("row group %d column %s: %d NULLs, arrow-go %d", g, schema[c].Name, sa.NullCount(), sb.NullCount())
			}
			raw := theirFooter.list(4)[g].(tstruct).list(1)[c].(tstruct).sub(3).sub(12)
			hasB := raw.has(5) && raw.has(6)
			switch {
			case sa.HasMinMax() && hasB:
				if !bytes.Equal(sa.EncodeMin(), sb.EncodeMin()) || !bytes.Equal(sa.EncodeMax(), sb.EncodeMax()) {
					t.Errorf("row group %d column %s (%s): min %x max %x, arrow-go %x %x", g, schema[c].Name, schema[c].Type,
						short(sa.EncodeMin()), short(sa.EncodeMax()), short(sb.EncodeMin()), short(sb.EncodeMax()))
				}
			case sa.HasMinMax() && !hasB:
				t.Errorf("row group %d column %s (%s): min %x max %x, arrow-go none", g, schema[c].Name, schema[c].Type,
					short(sa.EncodeMin()), short(sa.EncodeMax()))
			case !sa.HasMinMax() && hasB:
				t.Errorf("row group %d column %s (%s): no min and max, arrow-go %x %x", g, schema[c].Name, schema[c].Type,
					short(sb.EncodeMin()), short(sb.EncodeMax()))
			}
		}
	}
}

func short(b []byte) []byte {
	if len(b) > 24 {
		return b[:24]
	}
	return b
}
