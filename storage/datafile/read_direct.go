package datafile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"

	"github.com/dormousedb/dormouse/storage/datafile/internal/libzstd"
)

// Why a direct read path beside pqarrow.
//
// A point or narrow range read wants a few rows of one page per column.
// Through pqarrow it pays for a column reader per column and query (each
// decoding the row group's offset index again to seek), a record reader
// sized for 64Ki-row batches, and the whole page decompressed and decoded
// into Arrow before the few rows are cut out: about a millisecond of CPU
// per lookup, where a B-tree database answers in tens of microseconds.
//
// The direct path decodes the pages itself: it finds them in the offset
// index (decoded once per Reader, pageLocs), takes them decompressed from
// the PageCache when the Reader has one, else fetches and decompresses
// them, and decodes just the selected rows into Arrow buffers
// (read_scan.go). It knows the encodings our Writer produces (PLAIN,
// RLE_DICTIONARY over a PLAIN dictionary, and the delta encodings, which
// it recodes to PLAIN (read_recode.go), with RLE definition levels, data
// pages v1 and v2) for flat columns; a column chunk in any other
// shape is read by pqarrow. ReadRows takes it for page-pruned selections
// of at most directMaxRows rows, fetched and decoded at once, and for
// whole row groups and larger selections, streamed (read_scan.go).

// directMaxRows is the largest page-pruned selection of a row group that
// ReadRows reads by the direct path with its pages fetched and decoded at
// once; larger ones are streamed, a decoded page per column at a time.
const directMaxRows = 16 << 10

// pageLoc is one data page of a column chunk, from the offset index.
type pageLoc struct {
	offset   int64
	size     int32
	firstRow int64
}

// chunkInfo is what the Reader keeps of one column chunk for page reads:
// its page locations and, for the direct path, how it is encoded.
type chunkInfo struct {
	pages   []pageLoc
	numRows int64
	// direct says whether the direct path can read the chunk; the fields
	// below are set only when it can.
	direct  bool
	phys    parquet.Type
	maxDef  int16
	codec   compress.Codec
	dictOff int64 // offset of the dictionary page, or -1
	dictLen int64
	// pageMins are the lowest values of the pages of a row group's first
	// column, as integers (SortedIntKeyRows), once asked for.
	pageMins []int64
	// rowBytes estimates the bytes of a row's value once decoded, for a
	// PLAIN byte array chunk (from its uncompressed size, less a length
	// per value), so that a batch's buffer is sized once; 0 when unknown.
	rowBytes float64
}

// pageEnd returns the row after the last of page p.
func (c *chunkInfo) pageEnd(p int) int64 {
	if p+1 < len(c.pages) {
		return c.pages[p+1].firstRow
	}
	return c.numRows
}

// pageRowsAt returns the rows of the data page at offset off, if the
// chunk's offset index lists one there.
func (c *chunkInfo) pageRowsAt(off int64) (int64, bool) {
	p := sort.Search(len(c.pages), func(i int) bool { return c.pages[i].offset >= off })
	if p == len(c.pages) || c.pages[p].offset != off {
		return 0, false
	}
	return c.pageEnd(p) - c.pages[p].firstRow, true
}

// chunk returns the Reader's chunkInfo of a column of a row group,
// decoding the offset index once.
func (r *Reader) chunk(rowGroup, column int) (*chunkInfo, error) {
	k := [2]int{rowGroup, column}
	if ci, ok := r.chunks[k]; ok {
		return ci, nil
	}
	pir, err := r.pageIndex(rowGroup)
	if err != nil {
		return nil, err
	}
	oi, err := pir.GetOffsetIndex(column)
	if err == nil && oi == nil {
		err = ErrNoPageIndex
	}
	if err != nil {
		return nil, fmt.Errorf("offset index of %s, row group %d, column %d: %w", r.key, rowGroup, column, err)
	}
	rg := r.pf.MetaData().RowGroup(rowGroup)
	locs := oi.GetPageLocations()
	ci := &chunkInfo{pages: make([]pageLoc, len(locs)), numRows: rg.NumRows(), dictOff: -1}
	for i, l := range locs {
		ci.pages[i] = pageLoc{offset: l.Offset, size: l.CompressedPageSize, firstRow: l.FirstRowIndex}
	}
	cc, err := rg.ColumnChunk(column)
	if err != nil {
		return nil, err
	}
	desc := r.pf.MetaData().Schema.Column(column)
	ci.phys, ci.maxDef = cc.Type(), desc.MaxDefinitionLevel()
	codec, cerr := compress.GetCodec(cc.Compression())
	ci.codec = codec
	if cc.Compression() == compress.Codecs.Zstd {
		ci.codec = zstdCodec{codec}
	}
	ci.direct = cerr == nil && desc.MaxRepetitionLevel() == 0 && ci.maxDef <= 1 && directType(ci.phys, r.arrow.Field(column).Type)
	if cc.HasDictionaryPage() && cc.DictionaryPageOffset() < cc.DataPageOffset() {
		ci.dictOff, ci.dictLen = cc.DictionaryPageOffset(), cc.DataPageOffset()-cc.DictionaryPageOffset()
	} else if ci.phys == parquet.Types.ByteArray && ci.numRows > 0 {
		// Page headers and levels make it a little over: the buffer then
		// never grows.
		ci.rowBytes = max(0, float64(cc.TotalUncompressedSize()-4*cc.NumValues())/float64(ci.numRows))
	}
	r.chunks[k] = ci
	return ci, nil
}

// directType says whether the direct path decodes the physical type into
// the Arrow type.
func directType(phys parquet.Type, t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT64, arrow.TIMESTAMP:
		return phys == parquet.Types.Int64
	case arrow.INT32, arrow.DATE32:
		return phys == parquet.Types.Int32
	case arrow.FLOAT64:
		return phys == parquet.Types.Double
	case arrow.BOOL:
		return phys == parquet.Types.Boolean
	case arrow.STRING, arrow.BINARY:
		return phys == parquet.Types.ByteArray
	}
	return false
}

// directGroup reads the selected rows of one row group by the direct
// path.
type directGroup struct {
	r      *Reader
	chunks []*chunkInfo // per distinct column
	pages  map[int64]*cachedPage
	levels []uint8 // scratch: definition levels
	idx    []uint32
	raw    []byte // scratch: a page's bytes as read
	// want and needDict are fillDirect's scratch.
	want     []pageWant
	needDict []*chunkInfo
	out      columnOut // the column read decodes, one at a time
	// streaming (read_scan.go): the whole row group is read in order,
	// each page read when first needed and dropped when the next page of
	// its column is taken.
	streaming bool
	current   map[*chunkInfo]int64 // the data page held of each chunk
}

// startDirect returns a directGroup for the selection, or nil if the
// direct path does not apply to it. It fetches, in few merged requests,
// the pages the page cache does not hold.
func (r *Reader) startDirect(s Selection, columns []int) (*directGroup, error) {
	return r.fillDirect(&directGroup{r: r, pages: map[int64]*cachedPage{}}, s, columns)
}

// scratchDirect is startDirect into the Reader's own directGroup, for a
// read that is over before it returns (SortedIntRows, ReadSmall): a point
// lookup then makes no group, map or list of its own. The caller resets
// the group when it is through with it.
func (r *Reader) scratchDirect(s Selection, columns []int) (*directGroup, error) {
	sg := r.scratch
	if sg == nil {
		sg = &directGroup{r: r, pages: map[int64]*cachedPage{}}
		r.scratch = sg
	}
	sg.reset()
	g, err := r.fillDirect(sg, s, columns)
	if g == nil {
		sg.reset()
	}
	return g, err
}

// reset empties a scratch group (scratchDirect), keeping its room: its
// pages go, so that an idle Reader in a pool pins none.
func (g *directGroup) reset() {
	clear(g.pages)
	clear(g.want)
	g.chunks, g.raw, g.want = g.chunks[:0], g.raw[:0], g.want[:0]
}

// pageWant is a page to fetch, with its chunk.
type pageWant struct {
	ci *chunkInfo
	byteRange
}

// fillDirect makes g, empty, the directGroup of the selection (see
// startDirect), or returns nil.
func (r *Reader) fillDirect(g *directGroup, s Selection, columns []int) (*directGroup, error) {
	if s.Rows == nil || len(columns) == 0 || r.noDirect {
		return nil, nil
	}
	var n int64
	for _, rr := range s.Rows {
		n += rr.End - rr.Start
	}
	if n > directMaxRows {
		return nil, nil
	}
	chunks, err := r.directChunks(g.chunks[:0], s.RowGroup, columns)
	if chunks == nil {
		return nil, err
	}
	g.chunks, g.levels, g.idx = chunks, r.levels[:0], r.idx[:0]
	want := g.want[:0]
	needDict := g.needDict[:0] // the chunks whose dictionary page is needed, once each
	addDict := func(ci *chunkInfo) {
		if !slices.Contains(needDict, ci) {
			needDict = append(needDict, ci)
		}
	}
	for _, ci := range g.chunks {
		for p := range selectedPages(ci, s.Rows) {
			loc := ci.pages[p]
			if pg := r.pcache.get(r.pageID(loc.offset)); pg != nil {
				g.pages[loc.offset] = pg
				if pg.hdr.encoding == encRLEDictionary || pg.hdr.encoding == encPlainDict {
					addDict(ci)
				}
				continue
			}
			want = append(want, pageWant{ci, byteRange{loc.offset, loc.offset + int64(loc.size)}})
			if ci.dictOff >= 0 {
				addDict(ci) // known once the page is read; fetch alongside
			}
		}
	}
	for _, ci := range needDict {
		if pg := r.pcache.get(r.pageID(ci.dictOff)); pg != nil {
			g.pages[ci.dictOff] = pg
		} else {
			want = append(want, pageWant{ci, byteRange{ci.dictOff, ci.dictOff + ci.dictLen}})
		}
	}
	g.want, g.needDict = want, needDict
	if len(want) == 0 {
		return g, nil
	}
	sort.Slice(want, func(i, j int) bool { return want[i].off < want[j].off })
	ranges := make([]byteRange, len(want))
	for i, w := range want {
		ranges[i] = w.byteRange
	}
	if err := r.cache.fetch(ranges, r.cfg.coalesceGap, false); err != nil {
		return nil, err
	}
	for _, w := range want {
		pg, err := g.readPage(w.ci, w.off, w.end-w.off, nil)
		if err != nil {
			r.cache.release()
			return nil, err
		}
		if r.pcache != nil {
			pg.trim()
			r.pcache.put(pg)
		}
		g.pages[w.off] = pg
	}
	r.cache.release()
	return g, nil
}

// selectedPages yields, in order and once each, the pages of the chunk
// that hold rows of the sorted ranges.
func selectedPages(ci *chunkInfo, rows []RowRange) func(func(int) bool) {
	return func(yield func(int) bool) {
		last := -1
		for _, rr := range rows {
			for p := max(pageOf(ci, rr.Start), last+1); p <= pageOf(ci, rr.End-1); p++ {
				if !yield(p) {
					return
				}
				last = p
			}
		}
	}
}

// directChunks appends to chunks those of the columns of a row group, or
// returns nil if the direct path cannot read one of them.
func (r *Reader) directChunks(chunks []*chunkInfo, rowGroup int, columns []int) ([]*chunkInfo, error) {
	if chunks == nil {
		chunks = make([]*chunkInfo, 0, len(columns))
	}
	for _, c := range columns {
		ci, err := r.chunk(rowGroup, c)
		if errors.Is(err, ErrNoPageIndex) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if !ci.direct {
			return nil, nil
		}
		chunks = append(chunks, ci)
	}
	return chunks, nil
}

func (r *Reader) pageID(off int64) pageID {
	return pageID{file: r.file, offset: off}
}

func growBytes(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// ReadAt must fill the whole buffer; the read cache may stop short at the
// end of a fetched range, so read until full.
func readFull(r io.ReaderAt, p []byte, off int64) error {
	for len(p) > 0 {
		n, err := r.ReadAt(p, off)
		if n == 0 && err == nil {
			err = errors.New("short read")
		}
		if err != nil {
			return err
		}
		p, off = p[n:], off+int64(n)
	}
	return nil
}

// decodePage decodes a page's header and decompresses its body, into the
// buffers of reuse (a page dropped, or nil) when they have room (a v1
// page). raw holds exactly the page (header and body); the result does
// not keep it.
func decodePage(ci *chunkInfo, id pageID, raw []byte, reuse *cachedPage) (*cachedPage, error) {
	var dst []byte
	var offs []int32
	if reuse != nil {
		dst, offs = reuse.data, reuse.offsets
	}
	h, err := readPageHeader(raw)
	if err != nil {
		return nil, err
	}
	body := raw[h.headerLen:]
	if int(h.compressedSize) > len(body) {
		return nil, fmt.Errorf("%w: body of %d bytes, %d there", errBadHeader, h.compressedSize, len(body))
	}
	body = body[:h.compressedSize]
	if h.typ != pageDictionary {
		// A flat column's page holds a value or a NULL per row: a count
		// past the offset index's rows is a corrupt header, not memory
		// to allocate for its values.
		if rows, ok := ci.pageRowsAt(id.offset); ok && int64(h.numValues) > rows {
			return nil, fmt.Errorf("%w: %d values in a page of %d rows", errBadHeader, h.numValues, rows)
		}
	}
	pg := &cachedPage{id: id, hdr: h}
	var scratch *recodeScratch
	if h.typ != pageDictionary && recoded(h.encoding) {
		// Decompressed into scratch, then recoded into dst.
		scratch = recodeScratchPool.Get().(*recodeScratch)
		defer recodeScratchPool.Put(scratch)
		dst, scratch.raw = scratch.raw, dst
	}
	switch h.typ {
	case pageData, pageDictionary:
		if h.typ == pageData && !dataEncoding(h.encoding) {
			return nil, fmt.Errorf("unsupported encoding %d", h.encoding)
		}
		if h.typ == pageDictionary && h.encoding != encPlain && h.encoding != encPlainDict {
			return nil, fmt.Errorf("unsupported dictionary encoding %d", h.encoding)
		}
		if h.typ == pageData && ci.maxDef > 0 && h.defEncoding != encRLE {
			return nil, fmt.Errorf("unsupported definition level encoding %d", h.defEncoding)
		}
		pg.data, err = decompress(ci.codec, body, int(h.uncompressedSize), dst)
	case pageDataV2:
		if !dataEncoding(h.encoding) {
			return nil, fmt.Errorf("unsupported encoding %d", h.encoding)
		}
		lv := int(h.repBytes + h.defBytes)
		if lv > len(body) {
			return nil, fmt.Errorf("%w: levels past the page", errBadHeader)
		}
		vals := body[lv:]
		if h.v2Compressed {
			vals, err = decompress(ci.codec, vals, int(h.uncompressedSize)-lv, nil)
		}
		if err == nil {
			// Keep definition levels then values; repetition levels are
			// empty for flat columns.
			pg.data = append(append(make([]byte, 0, int(h.defBytes)+len(vals)), body[h.repBytes:lv]...), vals...)
		}
	default:
		return nil, fmt.Errorf("unexpected page type %d", h.typ)
	}
	if err != nil {
		return nil, err
	}
	if scratch != nil {
		raw := pg.data
		pg.data, pg.offsets, err = recode(ci, h, raw, scratch.raw, offs, scratch)
		scratch.raw = raw[:0]
		if err != nil {
			return nil, err
		}
		if n := len(pg.offsets); n > 0 {
			// decodePlain relies on the byte arrays ending where the page
			// does, as layOutByteArrays leaves them.
			if start, err := valuesStart(ci, h, pg.data); err != nil || int(pg.offsets[n-1]) != len(pg.data)-start {
				return nil, fmt.Errorf("%w: byte arrays do not end with the page", errBadDelta)
			}
		}
		pg.hdr.encoding = encPlain
		pg.noteLevels(ci)
		return pg, nil
	}
	if ci.phys == parquet.Types.ByteArray && (h.typ == pageDictionary || h.encoding == encPlain) {
		start, err := valuesStart(ci, h, pg.data)
		if err != nil {
			return nil, err
		}
		vals, offs, err := layOutByteArrays(pg.data[start:], offs[:0], int(h.numValues))
		if err == nil && h.typ == pageDictionary && len(offs)-1 < int(h.numValues) {
			err = fmt.Errorf("%d values of %d", len(offs)-1, h.numValues)
		}
		if err != nil {
			return nil, fmt.Errorf("byte arrays: %w", err)
		}
		pg.data, pg.offsets = pg.data[:start+len(vals)], offs
	}
	pg.noteLevels(ci)
	return pg, nil
}

// noteLevels notes whether the definition levels of a data page of a
// nullable column mark every row set, and where its values start: a
// point read of such a page (most are: NULLs are rare) then goes
// straight to its value. Reading the levels first costs a cache line
// from memory, on a page no read has touched lately, as much as the
// value's own. Levels it cannot decode leave the page to pageLevels,
// which reports them.
func (p *cachedPage) noteLevels(ci *chunkInfo) {
	if p.hdr.typ == pageDictionary || ci.maxDef == 0 {
		return
	}
	start, err := valuesStart(ci, p.hdr, p.data)
	if err != nil {
		return
	}
	lv := p.data[:start]
	if p.hdr.typ == pageData {
		lv = lv[4:] // the levels' length, then the levels
	}
	all := true
	if err := hybrid(lv, 1, int(p.hdr.numValues), func(v uint32, _ int) { all = all && v != 0 }); err != nil || !all {
		return
	}
	p.allSet, p.valuesAt = true, int32(start)
}

// dataEncoding says whether the direct path decodes data pages in
// encoding enc.
func dataEncoding(enc int32) bool {
	return enc == encPlain || enc == encRLEDictionary || enc == encPlainDict || recoded(enc)
}

// trim drops what the page's buffers hold past their ends before it is
// kept in a cache: byte arrays laid out leave the room of their lengths
// behind, and decompression a little slack (decodeSlack). A scan kept
// within the cache's room keeps more pages for it.
func (p *cachedPage) trim() {
	if cap(p.data)-len(p.data) > 64 {
		p.data = append(noZeroBytes(len(p.data))[:0], p.data...)
	}
	if cap(p.offsets)-len(p.offsets) > 16 {
		p.offsets = append(make([]int32, 0, len(p.offsets)), p.offsets...)
	}
}

// valuesStart returns where a page's values start in its decoded data:
// past the definition levels (pageLevels reads them).
func valuesStart(ci *chunkInfo, h pageHeader, data []byte) (int, error) {
	switch {
	case h.typ == pageDictionary || ci.maxDef == 0:
		return 0, nil
	case h.typ == pageDataV2:
		return int(h.defBytes), nil
	}
	if len(data) < 4 {
		return 0, errBadHeader
	}
	n := int(binary.LittleEndian.Uint32(data))
	if n < 0 || 4+n > len(data) {
		return 0, errBadHeader
	}
	return 4 + n, nil
}

// decodeSlack is room left past the end of a decompressed page:
// klauspost/compress's decoders (arrow-go's snappy; its zstd, which
// read zstd pages before libzstd) copy 16 bytes at a time, overrunning
// their end, and take that fast path only where the output has 16 bytes
// to spare; without them they copy byte-exact, at about half the speed.
// libzstd needs none.
const decodeSlack = 16

// zstdCodec is arrow-go's zstd codec with pages decompressed by libzstd:
// a quarter faster than klauspost/compress on the pages Dormouse writes
// (package libzstd).
type zstdCodec struct{ compress.Codec }

// DecodeWithError decompresses src into dst, which must be as long as
// what src holds.
func (zstdCodec) DecodeWithError(dst, src []byte) ([]byte, error) {
	n, err := libzstd.Decompress(dst, src)
	return dst[:n], err
}

// Decode is DecodeWithError that panics on error, as arrow-go's codecs
// do.
func (c zstdCodec) Decode(dst, src []byte) []byte {
	out, err := c.DecodeWithError(dst, src)
	if err != nil {
		panic(err)
	}
	return out
}

// decompress decompresses src, of n bytes decompressed, into dst if it
// has room (with decodeSlack), else into a new slice (not cleared first:
// the codec writes all n bytes, which the length check below makes sure
// of).
func decompress(codec compress.Codec, src []byte, n int, dst []byte) ([]byte, error) {
	if n < 0 {
		return nil, errBadHeader
	}
	if cap(dst) < n+decodeSlack {
		dst = noZeroBytes(n + decodeSlack)
	}
	dst = dst[:n]
	var out []byte
	if ec, ok := codec.(compress.ErrorCodec); ok {
		var err error
		if out, err = ec.DecodeWithError(dst, src); err != nil {
			return nil, fmt.Errorf("decompress page: %w", err)
		}
	} else {
		out = codec.Decode(dst, src)
	}
	if len(out) != n {
		return nil, fmt.Errorf("decompress page: %d bytes, header says %d", len(out), n)
	}
	return out, nil
}

// layOutByteArrays lays PLAIN byte arrays (each a 4-byte length then its
// bytes, to the end of b) out as Arrow lays them out, in place: it moves
// their bytes together at the start of b, which it returns, and returns
// their offsets apart (value i is vals[offs[i]:offs[i+1]]), appended to
// offs. n is about how many there are (the room to make in offs). A page
// is laid out once, when it is decoded; every read of it then appends its
// strings with one copy and an offset rebase (columnOut.plainBytes).
func layOutByteArrays(b []byte, offs []int32, n int) (vals []byte, _ []int32, err error) {
	offs = slices.Grow(offs, n+1)
	w, pos := 0, 0
	for pos < len(b) {
		if pos+4 > len(b) {
			return nil, nil, errors.New("byte array past the page")
		}
		l := int(binary.LittleEndian.Uint32(b[pos:]))
		pos += 4
		if l < 0 || l > len(b)-pos {
			return nil, nil, errors.New("byte array past the page")
		}
		offs = append(offs, int32(w))
		if l <= 16 && pos+16 <= len(b) && w+16 <= pos+l {
			// Short values (keys, codes): two word moves rather than a
			// call to memmove, once the bytes moved have fallen far
			// enough behind that the 16 written never reach the next
			// length (the bytes past l are overwritten next).
			v := *(*[16]byte)(b[pos:])
			*(*[16]byte)(b[w:]) = v
		} else {
			copy(b[w:w+l], b[pos:pos+l])
		}
		w += l
		pos += l
	}
	return b[:w], append(offs, int32(w)), nil
}

// pageOf returns the page holding row, searching from where it would be
// if the chunk's pages held as many rows each.
func pageOf(ci *chunkInfo, row int64) int {
	n := len(ci.pages)
	guess := interpolate(0, n, 0, ci.numRows, row)
	return searchFrom(0, n, guess, func(i int) bool { return ci.pages[i].firstRow > row }) - 1
}

// pageLevels reads a data page's definition levels for rows [a, b): it
// returns the page's values, the levels of [a, b) (nil when every row of
// them is set), and how many values come before row a (skip)
// and within [a, b) (count).
func (g *directGroup) pageLevels(ci *chunkInfo, pg *cachedPage, a, b int) (data []byte, levels []uint8, skip, count int, err error) {
	h := pg.hdr
	data = pg.data
	if b > int(h.numValues) {
		return nil, nil, 0, 0, fmt.Errorf("rows to %d of a page of %d", b, h.numValues)
	}
	if ci.maxDef == 0 {
		return data, nil, a, b - a, nil
	}
	if pg.allSet {
		return data[pg.valuesAt:], nil, a, b - a, nil
	}
	var lv []byte
	if h.typ == pageDataV2 {
		lv, data = data[:h.defBytes], data[h.defBytes:]
	} else {
		if len(data) < 4 {
			return nil, nil, 0, 0, errBadHeader
		}
		n := int(binary.LittleEndian.Uint32(data))
		if 4+n > len(data) {
			return nil, nil, 0, 0, errBadHeader
		}
		lv, data = data[4:4+n], data[4+n:]
	}
	// Count the set rows before a; keep the levels of [a, b) only, and
	// only from the first NULL on: rows all set (the usual run of ones)
	// need none.
	levels = g.levels[:0]
	row, nulls := 0, false
	err = hybrid(lv, 1, b, func(v uint32, rep int) {
		lo, hi := row, row+rep
		row = hi
		if lo < a {
			if v != 0 {
				skip += min(hi, a) - lo
			}
			lo = min(hi, a)
		}
		if lo >= hi {
			return
		}
		if v != 0 {
			count += hi - lo
		} else if !nulls {
			nulls = true
			levels = appendRepeat(levels, 1, lo-a) // the rows before, all set
		}
		if nulls {
			levels = appendRepeat(levels, uint8(v), hi-lo)
		}
	})
	if err != nil {
		return nil, nil, 0, 0, fmt.Errorf("definition levels: %w", err)
	}
	g.levels, g.r.levels = levels, levels
	if !nulls {
		return data, nil, skip, count, nil
	}
	return data, levels, skip, count, nil
}

// decodeHybrid32 decodes n values of the RLE/bit-packed hybrid encoding
// with the given bit width, appending them to out.
func decodeHybrid32(b []byte, width, n int, out []uint32) ([]uint32, error) {
	if width == 0 {
		return appendRepeat(out, 0, n), nil
	}
	if width > 16 { // groups wider than two words: value by value
		err := hybrid(b, width, n, func(v uint32, rep int) { out = appendRepeat(out, v, rep) })
		return out, err
	}
	vbytes := (width + 7) / 8
	mask := uint64(1)<<width - 1
	pos := 0
	for n > 0 {
		h, k := binary.Uvarint(b[pos:])
		if k <= 0 {
			return out, errBadHeader
		}
		pos += k
		if h&1 == 0 { // RLE run
			run := int(h >> 1)
			if pos+vbytes > len(b) || run <= 0 {
				return out, errBadHeader
			}
			var v uint32
			for i := range vbytes {
				v |= uint32(b[pos+i]) << (8 * i)
			}
			pos += vbytes
			take := min(run, n)
			out = appendRepeat(out, v, take)
			n -= take
			continue
		}
		groups := int(h >> 1)
		size := groups * width
		if groups <= 0 || pos+size > len(b) {
			return out, errBadHeader
		}
		packed := b[pos : pos+size]
		pos += size
		// Eight values of width bits take width bytes: unpack each group
		// from one or two 64-bit little-endian words.
		for g := 0; g < groups && n > 0; g++ {
			grp := packed[g*width : (g+1)*width]
			var lo, hi uint64
			var buf [16]byte
			copy(buf[:], grp)
			lo, hi = binary.LittleEndian.Uint64(buf[:8]), binary.LittleEndian.Uint64(buf[8:])
			for i := 0; i < 8 && n > 0; i++ {
				bit := uint(i * width)
				var v uint64
				switch {
				case bit >= 64:
					v = hi >> (bit - 64)
				case bit+uint(width) <= 64:
					v = lo >> bit
				default:
					v = lo>>bit | hi<<(64-bit)
				}
				out = append(out, uint32(v&mask))
				n--
			}
		}
	}
	return out, nil
}

func appendRepeat[T uint8 | uint32](out []T, v T, n int) []T {
	for range n {
		out = append(out, v)
	}
	return out
}

// hybrid decodes the first n values of an RLE/bit-packed hybrid run list,
// handing each value to emit (with a repeat count).
func hybrid(b []byte, width, n int, emit func(v uint32, rep int)) error {
	if width == 0 {
		emit(0, n)
		return nil
	}
	vbytes := (width + 7) / 8
	pos := 0
	for n > 0 {
		h, k := binary.Uvarint(b[pos:])
		if k <= 0 {
			return errBadHeader
		}
		pos += k
		if h&1 == 0 { // RLE run
			run := int(h >> 1)
			if pos+vbytes > len(b) || run <= 0 {
				return errBadHeader
			}
			var v uint32
			for i := range vbytes {
				v |= uint32(b[pos+i]) << (8 * i)
			}
			pos += vbytes
			take := min(run, n)
			emit(v, take)
			n -= take
			continue
		}
		groups := int(h >> 1)
		size := groups * width // bytes: 8 values of width bits per group
		if groups <= 0 || pos+size > len(b) {
			return errBadHeader
		}
		packed := b[pos : pos+size]
		pos += size
		mask := uint64(1)<<width - 1
		for i := 0; i < groups*8 && n > 0; i++ {
			bit := i * width
			var w uint64
			for j := bit >> 3; j < len(packed) && j <= (bit+width-1)>>3; j++ {
				w |= uint64(packed[j]) << (8 * (j - bit>>3))
			}
			emit(uint32(w>>(bit&7)&mask), 1)
			n--
		}
	}
	return nil
}
