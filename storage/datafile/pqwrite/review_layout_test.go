package pqwrite_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/thrift/lib/go/thrift"
)

// The layout check: a file's bytes decoded with Apache Thrift's own
// compact protocol, independently of arrow-go's metadata classes and of
// pqwrite, and every offset, size and count of the footer checked against
// the pages actually found at those offsets.

// tstruct is a Thrift struct read generically: field id to value.
type tstruct map[int16]any

func (s tstruct) i64(id int16) int64 {
	switch v := s[id].(type) {
	case int64:
		return v
	case int32:
		return int64(v)
	case int16:
		return int64(v)
	}
	return -1
}

func (s tstruct) has(id int16) bool { _, ok := s[id]; return ok }
func (s tstruct) sub(id int16) tstruct {
	v, _ := s[id].(tstruct)
	return v
}
func (s tstruct) list(id int16) []any { v, _ := s[id].([]any); return v }

func readTStruct(ctx context.Context, p thrift.TProtocol) (tstruct, error) {
	out := tstruct{}
	if _, err := p.ReadStructBegin(ctx); err != nil {
		return nil, err
	}
	for {
		_, typ, id, err := p.ReadFieldBegin(ctx)
		if err != nil {
			return nil, err
		}
		if typ == thrift.STOP {
			break
		}
		if out[id], err = readTValue(ctx, p, typ); err != nil {
			return nil, err
		}
	}
	return out, p.ReadStructEnd(ctx)
}

func readTValue(ctx context.Context, p thrift.TProtocol, typ thrift.TType) (any, error) {
	switch typ {
	case thrift.BOOL:
		return p.ReadBool(ctx)
	case thrift.BYTE:
		return p.ReadByte(ctx)
	case thrift.I16:
		return p.ReadI16(ctx)
	case thrift.I32:
		return p.ReadI32(ctx)
	case thrift.I64:
		return p.ReadI64(ctx)
	case thrift.STRING:
		return p.ReadString(ctx)
	case thrift.STRUCT:
		return readTStruct(ctx, p)
	case thrift.LIST:
		elem, n, err := p.ReadListBegin(ctx)
		if err != nil {
			return nil, err
		}
		l := []any{}
		for range n {
			v, err := readTValue(ctx, p, elem)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, p.ReadListEnd(ctx)
	}
	return nil, fmt.Errorf("unexpected thrift type %v", typ)
}

// decodeT decodes a struct from b and returns it with the bytes it took.
func decodeT(b []byte) (tstruct, int, error) {
	buf := thrift.NewTMemoryBuffer()
	buf.Write(b)
	s, err := readTStruct(context.Background(), thrift.NewTCompactProtocolConf(buf, nil))
	return s, len(b) - buf.Len(), err
}

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
	footer tstruct
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
	if len(data) < 12 || string(data[:4]) != "PAR1" || string(data[len(data)-4:]) != "PAR1" {
		t.Fatalf("no magic bytes")
	}
	flen := int64(binary.LittleEndian.Uint32(data[len(data)-8:]))
	fstart := int64(len(data)) - 8 - flen
	footer, n, err := decodeT(data[fstart : len(data)-8])
	if err != nil || int64(n) != flen {
		t.Fatalf("footer: %v, %d of %d bytes", err, n, flen)
	}
	schemaEls := footer.list(2)
	ncols := len(schemaEls) - 1
	if got := schemaEls[0].(tstruct).i64(5); got != int64(ncols) {
		t.Fatalf("root has %d children, %d columns", got, ncols)
	}
	if got := len(footer.list(7)); got != ncols {
		t.Errorf("%d column orders for %d columns", got, ncols)
	}
	var lay fileLayout
	lay.footer = footer
	pos := int64(4) // where the next chunk must start
	var rows int64
	type idxRange struct{ at, n int64 }
	var indexes []idxRange
	for g, rgv := range footer.list(4) {
		rg := rgv.(tstruct)
		if rg.i64(7) != int64(g) {
			t.Errorf("row group %d: ordinal %d", g, rg.i64(7))
		}
		if rg.i64(5) != pos {
			t.Errorf("row group %d: file_offset %d, its first chunk at %d", g, rg.i64(5), pos)
		}
		nrows := rg.i64(3)
		rows += nrows
		var rgComp, rgUncomp int64
		var rgPages [][]rawPage
		chunks := rg.list(1)
		if len(chunks) != ncols {
			t.Fatalf("row group %d: %d chunks of %d columns", g, len(chunks), ncols)
		}
		for c, ccv := range chunks {
			cc := ccv.(tstruct)
			md := cc.sub(3)
			el := schemaEls[c+1].(tstruct)
			where := fmt.Sprintf("row group %d column %d", g, c)
			if md.i64(1) != el.i64(1) {
				t.Errorf("%s: type %d, schema %d", where, md.i64(1), el.i64(1))
			}
			if path := md.list(3); len(path) != 1 || path[0] != el[4] {
				t.Errorf("%s: path %v, name %v", where, path, el[4])
			}
			start := md.i64(9)
			if md.has(11) {
				start = md.i64(11)
			}
			if start != pos {
				t.Errorf("%s: chunk starts at %d, previous chunk ended at %d", where, start, pos)
			}
			if cc.i64(2) != start {
				t.Errorf("%s: file_offset %d, chunk at %d", where, cc.i64(2), start)
			}
			end := start + md.i64(7)
			var pages []rawPage
			var uncomp int64
			for at := start; at < end; {
				h, hl, err := decodeT(data[at:end])
				if err != nil {
					t.Fatalf("%s: page header at %d: %v", where, at, err)
				}
				p := rawPage{at: at, hdrLen: int64(hl), typ: h.i64(1), uncomp: h.i64(2), comp: h.i64(3)}
				switch p.typ {
				case 0:
					dh := h.sub(5)
					p.numValues, p.encoding, p.defEnc, p.repEnc = dh.i64(1), dh.i64(2), dh.i64(3), dh.i64(4)
				case 2:
					dh := h.sub(7)
					p.numValues, p.encoding = dh.i64(1), dh.i64(2)
				default:
					t.Fatalf("%s: page of type %d", where, p.typ)
				}
				bodyEnd := at + int64(hl) + p.comp
				if bodyEnd > end {
					t.Fatalf("%s: page at %d ends at %d past the chunk's end %d", where, at, bodyEnd, end)
				}
				p.body = decompress(t, compress.Compression(md.i64(4)), data[at+int64(hl):bodyEnd], p.uncomp)
				uncomp += int64(hl) + p.uncomp
				pages = append(pages, p)
				at = bodyEnd
			}
			if uncomp != md.i64(6) {
				t.Errorf("%s: pages take %d bytes uncompressed, total_uncompressed_size %d", where, uncomp, md.i64(6))
			}
			// The dictionary page, if any, first and at dictionary_page_offset.
			dictPages := 0
			for i, p := range pages {
				if p.typ == 2 {
					dictPages++
					if i != 0 || !md.has(11) || md.i64(11) != p.at {
						t.Errorf("%s: dictionary page %d at %d (dictionary_page_offset %v)", where, i, p.at, md[11])
					}
				}
			}
			if md.has(11) && dictPages == 0 {
				t.Errorf("%s: dictionary_page_offset without a dictionary page", where)
			}
			data0 := pages[dictPages:]
			if len(data0) == 0 || md.i64(9) != data0[0].at {
				t.Fatalf("%s: data_page_offset %d, first data page elsewhere", where, md.i64(9))
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
			if values != nrows || md.i64(5) != nrows {
				t.Errorf("%s: pages hold %d values, num_values %d, row group %d rows", where, values, md.i64(5), nrows)
			}
			var gotEncs []int64
			for _, e := range md.list(2) {
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
			for _, sv := range md.list(13) {
				s := sv.(tstruct)
				gotStats[[2]int64{s.i64(1), s.i64(2)}] += s.i64(3)
			}
			if fmt.Sprint(gotStats) != fmt.Sprint(byEnc) {
				t.Errorf("%s: encoding stats %v, pages %v", where, gotStats, byEnc)
			}
			// The offset index: the data pages, exactly.
			if !cc.has(4) || !cc.has(5) {
				t.Errorf("%s: no offset index", where)
			} else {
				at, n := cc.i64(4), cc.i64(5)
				indexes = append(indexes, idxRange{at, n})
				oi, k, err := decodeT(data[at : at+n])
				if err != nil || int64(k) != n {
					t.Fatalf("%s: offset index: %v, %d of %d bytes", where, err, k, n)
				}
				locs := oi.list(1)
				if len(locs) != len(data0) {
					t.Fatalf("%s: offset index lists %d pages, chunk has %d data pages", where, len(locs), len(data0))
				}
				first := int64(0)
				for i, lv := range locs {
					l, p := lv.(tstruct), data0[i]
					if l.i64(1) != p.at || l.i64(2) != p.hdrLen+p.comp || l.i64(3) != first {
						t.Errorf("%s: page %d located at %d, %d bytes, row %d; it is at %d, %d bytes, row %d",
							where, i, l.i64(1), l.i64(2), l.i64(3), p.at, p.hdrLen+p.comp, first)
					}
					first += p.numValues
				}
			}
			if cc.has(6) != cc.has(7) {
				t.Errorf("%s: column index offset without length or the reverse", where)
			}
			if cc.has(6) {
				at, n := cc.i64(6), cc.i64(7)
				indexes = append(indexes, idxRange{at, n})
				ci, k, err := decodeT(data[at : at+n])
				if err != nil || int64(k) != n {
					t.Fatalf("%s: column index: %v, %d of %d bytes", where, err, k, n)
				}
				for _, f := range []int16{1, 2, 3, 5} {
					if len(ci.list(f)) != len(data0) {
						t.Errorf("%s: column index field %d has %d entries for %d pages", where, f, len(ci.list(f)), len(data0))
					}
				}
			}
			rgComp += md.i64(7)
			rgUncomp += md.i64(6)
			rgPages = append(rgPages, pages)
			pos = end
		}
		if rg.i64(6) != rgComp || rg.i64(2) != rgUncomp {
			t.Errorf("row group %d: total_compressed_size %d, total_byte_size %d; chunks %d, %d", g, rg.i64(6), rg.i64(2), rgComp, rgUncomp)
		}
		lay.pages = append(lay.pages, rgPages)
	}
	if footer.i64(3) != rows {
		t.Errorf("file num_rows %d, row groups %d", footer.i64(3), rows)
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
