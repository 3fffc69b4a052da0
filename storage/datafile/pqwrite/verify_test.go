package pqwrite_test

import (
	"bytes"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/metadata"

	"github.com/dormousedb/dormouse/storage/datafile/internal/compact/thrifttest"
	"github.com/dormousedb/dormouse/storage/datafile/pqwrite"
)

// The review's verification of a written file: everything checkFile
// checks, the layout (checkLayout), the definition levels of each page
// against the column index, and the column chunk statistics against what
// arrow-go's own writer computes for the same rows in the same row
// groups.

// withDefaults fills in opts' defaults as the Writer does.
func withDefaults(o pqwrite.Options) pqwrite.Options {
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
	opts = withDefaults(opts)
	lay := checkLayout(t, data)
	tt, _ := t.(*testing.T)
	checkRowGroups(t, schema, whole, data, opts, func(g, c int, rg *metadata.RowGroupMetaData, pir *metadata.RowGroupPageIndexReader, start int64) {
		a := whole[c]
		if !longStrings(a, int(start), int(start+rg.NumRows())) {
			if tt != nil {
				checkChunk(tt, rg, pir, c, schema[c], a, start, opts)
			}
		} else {
			checkLongChunk(t, rg, pir, c, a, start)
		}
		checkPageNulls(t, schema[c], a, start, lay.pages[g][c], pir, c)
	})
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
	_, st := chunkStats(t, rg, c)
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
	theirData := writePqarrow(t, schema, whole, parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithMaxRowGroupLength(opts.RowGroupRows), parquet.WithStats(true))
	ours, theirs := openFile(t, data), openFile(t, theirData)
	// arrow-go leaves out a min or a max longer than 4096 bytes, each on
	// its own, and its reader then says HasMinMax with the other one
	// empty: what it wrote is read from the footer itself.
	theirFooter, _ := decodeFooter(t, theirData)
	if ours.NumRowGroups() != theirs.NumRowGroups() {
		t.Fatalf("%d row groups, arrow-go %d", ours.NumRowGroups(), theirs.NumRowGroups())
	}
	for g := range ours.NumRowGroups() {
		for c := range schema {
			_, sa := chunkStats(t, ours.MetaData().RowGroup(g), c)
			_, sb := chunkStats(t, theirs.MetaData().RowGroup(g), c)
			if sa.NullCount() != sb.NullCount() || !sa.HasNullCount() {
				t.Errorf("row group %d column %s: %d NULLs, arrow-go %d", g, schema[c].Name, sa.NullCount(), sb.NullCount())
			}
			raw := theirFooter.List(4)[g].(thrifttest.Struct).List(1)[c].(thrifttest.Struct).Sub(3).Sub(12)
			hasB := raw.Has(5) && raw.Has(6)
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
