package pqwrite_test

import (
	"encoding/binary"
	"fmt"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/compress"

	"github.com/dormousedb/dormouse/storage/datafile/internal/compact/thrifttest"
)

// The layout check: a file's bytes decoded with Apache Thrift's own
// compact protocol (thrifttest), independently of arrow-go's metadata classes and of
// pqwrite, and every offset, size and count of the footer checked against
// the pages actually found at those offsets.

// rawPage is a page found walking a column chunk.
type rawPage struct {
	at, hdrLen     int64
	typ            int64
	uncomp, comp   int64
	numValues      int64 // data page: values, NULLs included; dictionary: entries
	encoding       int64
	defEnc, repEnc int64
	body           []byte // decompressed
}

// fileLayout is what checkLayout found: the footer and every chunk's pages.
type fileLayout struct {
	footer thrifttest.Struct
	pages  [][][]rawPage // row group, column, pages
}

// checkLayout checks every offset, size and count in the footer of data
// (a file of flat columns) against the pages at those offsets: chunks
// that start where the footer says and end where the next begins, page
// sizes that add up to the chunk's totals, page counts by encoding, value
// counts that add up to the rows, an offset index that lists exactly the
// data pages (not the dictionary page) at their offsets and first rows,
// page indexes that lie between the last row group and the footer and
// decode in exactly their length. It returns what it found.
func checkLayout(t testing.TB, data []byte) fileLayout {
	t.Helper()
	footer, fstart := decodeFooter(t, data)
	schemaEls := footer.List(2)
	ncols := len(schemaEls) - 1
	if got := schemaEls[0].(thrifttest.Struct).I64(5); got != int64(ncols) {
		t.Fatalf("root has %d children, %d columns", got, ncols)
	}
	if got := len(footer.List(7)); got != ncols {
		t.Errorf("%d column orders for %d columns", got, ncols)
	}
	var lay fileLayout
	lay.footer = footer
	pos := int64(4) // where the next chunk must start
	var rows int64
	type idxRange struct{ at, n int64 }
	var indexes []idxRange
	for g, rgv := range footer.List(4) {
		rg := rgv.(thrifttest.Struct)
		if rg.I64(7) != int64(g) {
			t.Errorf("row group %d: ordinal %d", g, rg.I64(7))
		}
		if rg.I64(5) != pos {
			t.Errorf("row group %d: file_offset %d, its first chunk at %d", g, rg.I64(5), pos)
		}
		nrows := rg.I64(3)
		rows += nrows
		var rgComp, rgUncomp int64
		var rgPages [][]rawPage
		chunks := rg.List(1)
		if len(chunks) != ncols {
			t.Fatalf("row group %d: %d chunks of %d columns", g, len(chunks), ncols)
		}
		for c, ccv := range chunks {
			cc := ccv.(thrifttest.Struct)
			md := cc.Sub(3)
			el := schemaEls[c+1].(thrifttest.Struct)
			where := fmt.Sprintf("row group %d column %d", g, c)
			if md.I64(1) != el.I64(1) {
				t.Errorf("%s: type %d, schema %d", where, md.I64(1), el.I64(1))
			}
			if path := md.List(3); len(path) != 1 || path[0] != el[4] {
				t.Errorf("%s: path %v, name %v", where, path, el[4])
			}
			start := md.I64(9)
			if md.Has(11) {
				start = md.I64(11)
			}
			if start != pos {
				t.Errorf("%s: chunk starts at %d, previous chunk ended at %d", where, start, pos)
			}
			if cc.I64(2) != start {
				t.Errorf("%s: file_offset %d, chunk at %d", where, cc.I64(2), start)
			}
			end := start + md.I64(7)
			var pages []rawPage
			var uncomp int64
			for at := start; at < end; {
				h, hl, err := thrifttest.Decode(data[at:end])
				if err != nil {
					t.Fatalf("%s: page header at %d: %v", where, at, err)
				}
				p := rawPage{at: at, hdrLen: int64(hl), typ: h.I64(1), uncomp: h.I64(2), comp: h.I64(3)}
				switch p.typ {
				case 0:
					dh := h.Sub(5)
					p.numValues, p.encoding, p.defEnc, p.repEnc = dh.I64(1), dh.I64(2), dh.I64(3), dh.I64(4)
				case 2:
					dh := h.Sub(7)
					p.numValues, p.encoding = dh.I64(1), dh.I64(2)
				default:
					t.Fatalf("%s: page of type %d", where, p.typ)
				}
				bodyEnd := at + int64(hl) + p.comp
				if bodyEnd > end {
					t.Fatalf("%s: page at %d ends at %d past the chunk's end %d", where, at, bodyEnd, end)
				}
				p.body = decompress(t, compress.Compression(md.I64(4)), data[at+int64(hl):bodyEnd], p.uncomp)
				uncomp += int64(hl) + p.uncomp
				pages = append(pages, p)
				at = bodyEnd
			}
			if uncomp != md.I64(6) {
				t.Errorf("%s: pages take %d bytes uncompressed, total_uncompressed_size %d", where, uncomp, md.I64(6))
			}
			// The dictionary page, if any, first and at dictionary_page_offset.
			dictPages := 0
			for i, p := range pages {
				if p.typ == 2 {
					dictPages++
					if i != 0 || !md.Has(11) || md.I64(11) != p.at {
						t.Errorf("%s: dictionary page %d at %d (dictionary_page_offset %v)", where, i, p.at, md[11])
					}
				}
			}
			if md.Has(11) && dictPages == 0 {
				t.Errorf("%s: dictionary_page_offset without a dictionary page", where)
			}
			data0 := pages[dictPages:]
			if len(data0) == 0 || md.I64(9) != data0[0].at {
				t.Fatalf("%s: data_page_offset %d, first data page elsewhere", where, md.I64(9))
			}
			// Value counts, encodings, encoding stats.
			var values int64
			byEnc := map[[2]int64]int64{}
			encs := map[int64]bool{3: true}
			for _, p := range pages {
				byEnc[[2]int64{p.typ, p.encoding}]++
				if p.typ == 0 {
					values += p.numValues
					encs[p.encoding] = true
					if p.defEnc != 3 || p.repEnc != 3 {
						t.Errorf("%s: level encodings %d %d", where, p.defEnc, p.repEnc)
					}
					if p.encoding == 2 || p.encoding == 8 {
						if dictPages == 0 {
							t.Errorf("%s: dictionary-encoded page without a dictionary page", where)
						}
					}
				} else {
					encs[p.encoding] = true
				}
			}
			if values != nrows || md.I64(5) != nrows {
				t.Errorf("%s: pages hold %d values, num_values %d, row group %d rows", where, values, md.I64(5), nrows)
			}
			var gotEncs []int64
			for _, e := range md.List(2) {
				gotEncs = append(gotEncs, int64(e.(int32)))
			}
			var wantEncs []int64
			for e := range encs {
				wantEncs = append(wantEncs, e)
			}
			slices.Sort(gotEncs)
			slices.Sort(wantEncs)
			if !slices.Equal(gotEncs, wantEncs) {
				t.Errorf("%s: encodings %v, pages use %v", where, gotEncs, wantEncs)
			}
			gotStats := map[[2]int64]int64{}
			for _, sv := range md.List(13) {
				s := sv.(thrifttest.Struct)
				gotStats[[2]int64{s.I64(1), s.I64(2)}] += s.I64(3)
			}
			if fmt.Sprint(gotStats) != fmt.Sprint(byEnc) {
				t.Errorf("%s: encoding stats %v, pages %v", where, gotStats, byEnc)
			}
			// The offset index: the data pages, exactly.
			if !cc.Has(4) || !cc.Has(5) {
				t.Errorf("%s: no offset index", where)
			} else {
				at, n := cc.I64(4), cc.I64(5)
				indexes = append(indexes, idxRange{at, n})
				oi, k, err := thrifttest.Decode(data[at : at+n])
				if err != nil || int64(k) != n {
					t.Fatalf("%s: offset index: %v, %d of %d bytes", where, err, k, n)
				}
				locs := oi.List(1)
				if len(locs) != len(data0) {
					t.Fatalf("%s: offset index lists %d pages, chunk has %d data pages", where, len(locs), len(data0))
				}
				first := int64(0)
				for i, lv := range locs {
					l, p := lv.(thrifttest.Struct), data0[i]
					if l.I64(1) != p.at || l.I64(2) != p.hdrLen+p.comp || l.I64(3) != first {
						t.Errorf("%s: page %d located at %d, %d bytes, row %d; it is at %d, %d bytes, row %d",
							where, i, l.I64(1), l.I64(2), l.I64(3), p.at, p.hdrLen+p.comp, first)
					}
					first += p.numValues
				}
			}
			if cc.Has(6) != cc.Has(7) {
				t.Errorf("%s: column index offset without length or the reverse", where)
			}
			if cc.Has(6) {
				at, n := cc.I64(6), cc.I64(7)
				indexes = append(indexes, idxRange{at, n})
				ci, k, err := thrifttest.Decode(data[at : at+n])
				if err != nil || int64(k) != n {
					t.Fatalf("%s: column index: %v, %d of %d bytes", where, err, k, n)
				}
				for _, f := range []int16{1, 2, 3, 5} {
					if len(ci.List(f)) != len(data0) {
						t.Errorf("%s: column index field %d has %d entries for %d pages", where, f, len(ci.List(f)), len(data0))
					}
				}
			}
			rgComp += md.I64(7)
			rgUncomp += md.I64(6)
			rgPages = append(rgPages, pages)
			pos = end
		}
		if rg.I64(6) != rgComp || rg.I64(2) != rgUncomp {
			t.Errorf("row group %d: total_compressed_size %d, total_byte_size %d; chunks %d, %d", g, rg.I64(6), rg.I64(2), rgComp, rgUncomp)
		}
		lay.pages = append(lay.pages, rgPages)
	}
	if footer.I64(3) != rows {
		t.Errorf("file num_rows %d, row groups %d", footer.I64(3), rows)
	}
	// The page indexes: after the last chunk, before the footer, each on
	// its own bytes, leaving no gap.
	slices.SortFunc(indexes, func(a, b idxRange) int { return int(a.at - b.at) })
	for _, r := range indexes {
		if r.at != pos {
			t.Errorf("page index at %d, expected at %d (after the chunks and the indexes before it)", r.at, pos)
		}
		pos = r.at + r.n
	}
	if pos != fstart {
		t.Errorf("footer at %d, the page indexes end at %d", fstart, pos)
	}
	return lay
}

// decodeFooter checks the magic bytes of data, a Parquet file, and
// decodes its FileMetaData, which must take exactly the length the file
// gives it. It returns the footer and where it starts.
func decodeFooter(t testing.TB, data []byte) (thrifttest.Struct, int64) {
	t.Helper()
	if len(data) < 12 || string(data[:4]) != "PAR1" || string(data[len(data)-4:]) != "PAR1" {
		t.Fatalf("no magic bytes")
	}
	flen := int64(binary.LittleEndian.Uint32(data[len(data)-8:]))
	fstart := int64(len(data)) - 8 - flen
	footer, n, err := thrifttest.Decode(data[fstart : len(data)-8])
	if err != nil || int64(n) != flen {
		t.Fatalf("footer: %v, %d of %d bytes", err, n, flen)
	}
	return footer, fstart
}

func decompress(t testing.TB, codec compress.Compression, src []byte, n int64) []byte {
	t.Helper()
	if codec == compress.Codecs.Uncompressed {
		if int64(len(src)) != n {
			t.Fatalf("uncompressed page of %d bytes says %d", len(src), n)
		}
		return src
	}
	c, err := compress.GetCodec(codec)
	if err != nil {
		t.Fatal(err)
	}
	out := c.Decode(make([]byte, n), src)
	if int64(len(out)) != n {
		t.Fatalf("page decompresses to %d bytes, header says %d", len(out), n)
	}
	return out
}

// defLevels decodes a v1 data page's definition levels (bit width 1) and
// returns the number of NULLs among the first n rows and the rest of the
// body (the values).
func defLevels(t testing.TB, body []byte, n int) (nulls int, rest []byte) {
	t.Helper()
	ln := int(binary.LittleEndian.Uint32(body))
	lv, rest := body[4:4+ln], body[4+ln:]
	got := 0
	for got < n {
		h, k := binary.Uvarint(lv)
		if k <= 0 {
			t.Fatalf("definition levels end after %d of %d rows", got, n)
		}
		lv = lv[k:]
		if h&1 == 0 { // repeated
			cnt := int(h >> 1)
			if lv[0] == 0 {
				nulls += min(cnt, n-got)
			}
			got += cnt
			lv = lv[1:]
			continue
		}
		groups := int(h >> 1)
		for i := range groups * 8 {
			if got+i >= n {
				break
			}
			if lv[i/8]>>(i%8)&1 == 0 {
				nulls++
			}
		}
		got += groups * 8
		lv = lv[groups:]
	}
	if len(lv) != 0 {
		t.Errorf("%d bytes left after the definition levels", len(lv))
	}
	return nulls, rest
}
