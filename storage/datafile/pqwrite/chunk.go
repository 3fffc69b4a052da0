package pqwrite

import (
	"encoding/binary"
	"errors"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dormousedb/dormouse/storage/datafile/internal/compact"
)

// chunk writes one column's chunk of the row group being written: it
// encodes rows into pages, compresses each page as it is cut and keeps
// it, with its place and statistics for the page index, until the row
// group is written out. It is reused for the column's next chunk.
type chunk struct {
	col   Column
	phys  physical
	opts  *Options
	codec *compressor
	v     values

	// cur encodes the page being filled: dict while the chunk keeps a
	// dictionary, else direct.
	cur    encoder
	direct encoder
	dict   dictEncoder // nil unless the column is Dictionary
	half   bool        // the dictionary must beat half the PLAIN size
	// probing says the chunk's dictionary is on trial: it has not yet
	// shown over dictionaryProbe rows that it pays.
	probing bool
	levels  rleEncoder // the page's definition levels (nullable columns)

	pageRows, pageNulls int
	rows, nulls         int64 // of the chunk's pages cut so far

	data     segments // the data pages cut, headers and bodies
	dictPage []byte   // the dictionary page, header and body, if any
	pages    []pageInfo
	statBuf  []byte // the pages' min and max values, pageInfo.stat
	// pagesBy counts data pages by encoding; dictPages is 1 with a
	// dictionary page.
	pagesBy      [encRLEDictionary + 1]int32
	dictPages    int32
	uncompressed int64 // bytes of the chunk's pages (headers included)
	compressed   int64

	// plan is how the chunk's data pages are compressed, for planLeft
	// more pages; then a page is a trial, which sets the next plan
	// (compressData).
	plan     pagePlan
	planLeft int

	body, comp []byte // scratch: a page before and after compression
	alt        []byte // scratch: a trial's other compression
	hdrBuf     []byte // scratch: a page header
	hdr        compact.Writer
}

// pageInfo is a data page cut: its place in chunk.data and its
// statistics.
type pageInfo struct {
	offset   int
	size     int32
	firstRow int64
	nulls    int64
	// stat is where the page's min and max are in chunk.statBuf:
	// [stat[0], stat[1]) and [stat[1], stat[2]).
	stat    [3]int
	ordered bool // the page has a min and a max
	tooLong bool // its min or max is too long for the column index
}

func newChunk(col Column, opts *Options, codec *compressor) (*chunk, error) {
	phys, err := physicalOf(col.Type)
	if err != nil {
		return nil, err
	}
	c := &chunk{col: col, phys: phys, opts: opts, codec: codec}
	switch col.Encoding {
	case Dictionary:
		if phys.typ == physBoolean {
			return nil, errors.New("no dictionary encoding for BOOLEAN")
		}
		c.dict = newDictEncoder(phys.typ)
		c.half = col.Fallback != Plain
		if col.Fallback == Dictionary {
			return nil, errors.New("a dictionary cannot fall back to a dictionary")
		}
		if c.direct, err = newEncoder(phys.typ, col.Fallback); err != nil {
			return nil, err
		}
	default:
		if c.direct, err = newEncoder(phys.typ, col.Encoding); err != nil {
			return nil, err
		}
	}
	c.reset()
	return c, nil
}

// reset starts the column's next chunk.
func (c *chunk) reset() {
	c.cur = c.direct
	if c.dict != nil {
		c.dict.resetChunk()
		c.cur, c.probing = c.dict, true
	}
	c.levels.reset(1)
	c.pageRows, c.pageNulls, c.rows, c.nulls = 0, 0, 0, 0
	c.data.release()
	c.dictPage, c.pages, c.statBuf = c.dictPage[:0], c.pages[:0], c.statBuf[:0]
	c.pagesBy, c.dictPages = [len(c.pagesBy)]int32{}, 0
	c.uncompressed, c.compressed = 0, 0
	if c.plan == planStore {
		// A chunk does not start stored: a compressible row group after
		// an incompressible one would have up to planPages-1 pages left
		// uncompressed. A level, a trade of CPU for bytes, carries over.
		c.plan, c.planLeft = planBase, 0
	}
}

// write encodes rows [lo, hi) of a, cutting pages as they fill.
func (c *chunk) write(a arrow.Array, lo, hi int) {
	c.v.set(a, c.phys.typ)
	runs := validRuns{off: -1}
	if c.col.Nullable && a.NullN() > 0 {
		runs = validRuns{bits: a.NullBitmapBytes(), off: a.Data().Offset()}
	}
	pageRows, pageBytes := int(c.opts.PageRows), int(c.opts.PageBytes)
	for lo < hi {
		n := min(hi-lo, pageRows-c.pageRows)
		if c.probing {
			n = min(n, max(dictionaryProbe-c.pageRows, 1))
		}
		if c.cur == c.dict {
			// The dictionary's size is checked after each put: a put
			// takes no more rows than, all new, would fill the room left
			// (or a sixteenth of the limit, so that rows repeating its
			// entries are not put a few at a time), so the dictionary
			// passes its limit by that at most, not by a whole batch.
			limit := int(c.opts.DictionaryBytes)
			room := max(limit-c.dict.dictBytes(), limit/16)
			n = max(min(n, c.dict.fitNew(&c.v, lo, n, room)), 1)
		}
		k := c.cur.fit(&c.v, lo, n, pageBytes-c.cur.size())
		if k <= 0 {
			if c.pageRows > 0 {
				c.cutPage()
				continue
			}
			k = 1 // a value larger than a page has a page of its own
		}
		c.putRows(&runs, lo, lo+k)
		lo += k
		c.pageRows += k
		if c.probing && c.pageRows >= dictionaryProbe {
			c.weighDictionary()
		}
		// A page nearly full is cut rather than topped up a few rows at
		// a time.
		if c.pageRows >= pageRows || c.cur.size() >= pageBytes-pageBytes/32 ||
			(c.cur == c.dict && c.dict.dictBytes() >= int(c.opts.DictionaryBytes)) {
			c.cutPage()
		}
	}
	c.cur.keep()
	c.v = values{} // the caller's buffers are the caller's again
}

// dictionaryProbe is how many rows of a column chunk try its dictionary:
// if it does not pay over them, the chunk goes on without.
const dictionaryProbe = 4096

// weighDictionary ends the dictionary's trial: if it does not pay, the
// values of the page are encoded again without it, and so are the
// chunk's next pages.
func (c *chunk) weighDictionary() {
	c.probing = false
	if !c.dict.pays(c.half) {
		c.dict.replay(c.direct)
		c.cur = c.direct
	}
}

// putRows puts rows [lo, hi) on the page: definition levels and values.
func (c *chunk) putRows(runs *validRuns, lo, hi int) {
	if runs.off < 0 {
		if c.col.Nullable {
			c.levels.putRun(1, hi-lo)
		}
		c.cur.put(&c.v, lo, hi)
		return
	}
	runs.pos, runs.end = lo, hi
	for {
		start, stop, valid, ok := runs.next()
		if !ok {
			return
		}
		if valid {
			c.levels.putRun(1, stop-start)
			c.cur.put(&c.v, start, stop)
		} else {
			c.levels.putRun(0, stop-start)
			c.pageNulls += stop - start
		}
	}
}

// cutPage encodes, compresses and keeps the page being filled, and
// starts the next.
func (c *chunk) cutPage() {
	if c.pageRows == 0 {
		return
	}
	if c.probing {
		c.weighDictionary()
	}
	var mm minMax
	start := len(c.statBuf)
	c.statBuf, mm = c.cur.stats(c.statBuf)
	body := c.body[:0]
	if c.col.Nullable {
		lv := c.levels.finish()
		body = binary.LittleEndian.AppendUint32(body, uint32(len(lv)))
		body = append(body, lv...)
		c.levels.reset(1)
	}
	enc := c.cur.encoding()
	body = c.cur.flush(body)
	c.body = body
	p := pageInfo{offset: c.data.len(), firstRow: c.rows, nulls: int64(c.pageNulls), ordered: mm.ok, tooLong: mm.tooLong}
	if mm.ok {
		p.stat = [3]int{start, start + len(mm.min), start + len(mm.min) + len(mm.max)}
	}
	hdr, comp := c.encodePage(pageData, body, c.pageRows, enc)
	c.data.append(hdr)
	c.data.append(comp)
	p.size = int32(c.data.len() - p.offset)
	c.pages = append(c.pages, p)
	c.pagesBy[enc]++
	c.rows += int64(c.pageRows)
	c.nulls += int64(c.pageNulls)
	c.pageRows, c.pageNulls = 0, 0
	if c.cur == c.dict && c.dict.dictBytes() >= int(c.opts.DictionaryBytes) {
		c.cur = c.direct // the dictionary is full: the chunk goes on without it
	}
}

// encodePage compresses body and returns its page header and the
// compressed body: a data page of n values in encoding enc, or the
// dictionary page of n values. Both are scratch, the chunk's until its
// next page.
func (c *chunk) encodePage(typ int32, body []byte, n int, enc int32) (hdr, comp []byte) {
	if typ == pageData {
		comp = c.compressData(body)
	} else {
		comp = c.codec.compress(c.comp, body)
	}
	if c.opts.Codec != 0 {
		c.comp = comp
	}
	w := &c.hdr
	w.Reset(c.hdrBuf[:0])
	w.I32(1, typ)
	w.I32(2, int32(len(body)))
	w.I32(3, int32(len(comp)))
	if typ == pageDictionary {
		w.Begin(7)
		w.I32(1, int32(n))
		w.I32(2, encPlain)
		w.Bool(3, false)
	} else {
		w.Begin(5)
		w.I32(1, int32(n))
		w.I32(2, enc)
		w.I32(3, encRLE)
		w.I32(4, encRLE)
	}
	w.End()
	w.Stop()
	hdr = w.Bytes()
	c.hdrBuf = hdr
	c.uncompressed += int64(len(hdr) + len(body))
	c.compressed += int64(len(hdr) + len(comp))
	return hdr, comp
}

// pagePlan is how a chunk compresses its data pages between trials.
type pagePlan uint8

const (
	planBase  pagePlan = iota // at the codec's level
	planUp                    // at its higher zstd level
	planStore                 // stored as zstd raw blocks (compressor.store)
)

// compressData returns a data page's body compressed by the chunk's plan.
// Every planPages-th page of the column (and a chunk's first after
// stored pages) is a trial instead, which sets the plan of the pages
// after it:
//   - with a higher zstd level, pages are compressed at it if, on a sample
//     of the trial page, it makes them upGain smaller than the codec's
//     level does;
//   - a page that compression shrinks by less than 1/poorGain (trial or
//     not) has the next pages stored as they are: a column of
//     incompressible values (random integers, bit-packed) costs the
//     codec's search for nothing on one page in planPages.
//
// A column whose values change on the way gets a plan that suits them at
// the next trial.
func (c *chunk) compressData(body []byte) []byte {
	var comp []byte
	switch {
	case c.planLeft > 0 && c.plan == planStore:
		c.planLeft--
		return c.codec.store(c.comp, body)
	case c.planLeft > 0 && c.plan == planUp:
		c.planLeft--
		comp = c.codec.compressUp(c.comp, body)
	case c.planLeft > 0:
		c.planLeft--
		comp = c.codec.compress(c.comp, body)
	default:
		c.plan, c.planLeft = planBase, planPages-1
		comp = c.trial(body)
	}
	if c.codec.canStore() && len(comp) > len(body)-len(body)/poorGain {
		c.plan, c.planLeft = planStore, planPages-1
	}
	return comp
}

// trial compresses a trial page (compressData) and sets the plan to
// planUp if the higher zstd level pays on it. The levels are compared on
// the page's first upSample bytes, or on the whole page if it is no
// larger, whose smaller compression it then returns; a page whose sample
// does not compress is stored.
func (c *chunk) trial(body []byte) []byte {
	if c.codec.up == 0 {
		return c.codec.compress(c.comp, body)
	}
	sample := body[:min(len(body), upSample)]
	c.comp = c.codec.compress(c.comp, sample)
	pays := false
	switch {
	case len(c.comp) <= len(sample)-len(sample)/poorGain:
		c.alt = c.codec.compressUp(c.alt, sample)
		pays = len(c.alt) <= len(c.comp)-len(c.comp)/upGain
	case len(sample) < len(body) && c.codec.canStore():
		// The sample does not compress, nor will the page, most likely:
		// stored without the search through the rest (compressData
		// then stores the next pages too).
		return c.codec.store(c.comp, body)
	}
	if pays {
		c.plan = planUp
	}
	switch {
	case len(sample) < len(body) && pays:
		return c.codec.compressUp(c.comp, body)
	case len(sample) < len(body):
		return c.codec.compress(c.comp, body)
	case pays:
		c.comp, c.alt = c.alt, c.comp // the chunk keeps c.comp as its scratch
	}
	return c.comp
}

const (
	// planPages is how many data pages a plan lasts, the trial's
	// included.
	planPages = 16
	// poorGain: a page that compression shrinks by less than 1/poorGain
	// is poor.
	poorGain = 32
	// upGain: the higher zstd level pays if it makes a sample 1/upGain
	// smaller.
	upGain = 10
	// upSample is the most bytes of a page a trial compresses at both
	// levels: just past 256 KiB, above which libzstd compresses with the
	// parameters it has for large inputs, those of a full page (a 64 KiB
	// sample, compressed with those for small inputs, found level 1 as
	// good as level 2 on the pages of DOUBLEs that level 2 makes 40%
	// smaller).
	upSample = 256<<10 + 1
)

// finish cuts the last page and makes the dictionary page, if any page
// refers to it.
func (c *chunk) finish() {
	c.cutPage()
	if c.dict != nil && c.pagesBy[encRLEDictionary] > 0 {
		c.body = c.dict.appendDict(c.body[:0])
		hdr, comp := c.encodePage(pageDictionary, c.body, c.dict.entries(), encPlain)
		c.dictPage = append(append(c.dictPage[:0], hdr...), comp...)
		c.dictPages = 1
	}
}
