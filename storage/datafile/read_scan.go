package datafile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
)

// Whole row groups by the direct path.
//
// A full scan through pqarrow spends about a third of its CPU appending
// strings one by one to Arrow builders (offsets, validity and data grown
// value by value) and more in decoding machinery sized for any file. The
// direct path streams a whole row group instead: each column's pages are
// read in order through the read cache's windows (read_cache.go), each
// decompressed into the buffer of the page before it, and decoded
// straight into the batch's Arrow buffers, sized once per batch: values
// copied in one move where there is no NULL, strings too, their bytes
// laid out together once when the page is decoded (layOutByteArrays) and
// their offsets rebased. Pages the page cache holds are taken from it,
// with no fetch of their bytes (rowReader.startRowGroup), and a page read
// is kept there when the cache has room to spare, never at the expense of
// the pages point reads keep there (see PageCache).

// streamDirect returns a directGroup that streams the selected rows of a
// row group in order, or nil if the direct path cannot read one of its
// column chunks. The read cache must already be streaming the chunks, or
// hold the selected pages (and the dictionary pages) fetched.
func (r *Reader) streamDirect(s Selection, columns []int) (*directGroup, error) {
	if r.noDirect || len(columns) == 0 {
		return nil, nil
	}
	chunks, err := r.directChunks(nil, s.RowGroup, columns)
	if chunks == nil {
		return nil, err
	}
	return &directGroup{r: r, chunks: chunks, pages: map[int64]*cachedPage{}, levels: r.levels[:0], idx: r.idx[:0],
		streaming: true, current: map[*chunkInfo]int64{}}, nil
}

// page returns a page of a chunk by offset (size bytes). Streaming, it
// takes a page not held yet from the page cache, or else reads it
// through the read cache, into the buffer of the chunk's page before it,
// which it drops; when the page cache has room to spare, into a buffer
// of its own instead, and offers it to the cache (PageCache.scanPut).
func (g *directGroup) page(ci *chunkInfo, off, size int64) (*cachedPage, error) {
	if pg := g.pages[off]; pg != nil || !g.streaming {
		return pg, nil
	}
	var reuse *cachedPage
	prev, held := g.current[ci]
	if off != ci.dictOff && held {
		if old := g.pages[prev]; !old.shared {
			reuse = old
		}
		delete(g.pages, prev)
	}
	id := g.r.pageID(off)
	pg := g.r.pcache.scanGet(id)
	if pg == nil {
		// Pages decompress to a few times their size: a page the cache
		// has no room for is decoded into the buffer reused, not a new
		// one to be refused (once the cache is full, every page).
		keep := g.r.pcache.scanRoomFor(id, scanPageGuess*size)
		if keep {
			reuse = nil
		}
		var err error
		if pg, err = g.readPage(ci, off, size, reuse); err != nil {
			return nil, err
		}
		if keep {
			pg.trim()
			g.r.pcache.scanPut(pg)
		}
	}
	if off != ci.dictOff {
		g.current[ci] = off
	}
	g.pages[off] = pg
	return pg, nil
}

// scanPageGuess is how many times its stored size a page is guessed to
// take decoded, before it is: a scan offers the page cache a page only
// where its shard has that much room.
const scanPageGuess = 4

// readPage reads the page at off (size bytes: header and body) through
// the read cache and decodes it, into the buffers of reuse (a page no
// longer used, never one in the cache; nil: none) where they have room.
func (g *directGroup) readPage(ci *chunkInfo, off, size int64, reuse *cachedPage) (*cachedPage, error) {
	g.raw = growBytes(g.raw, int(size))
	if err := readFull(g.r.cache, g.raw, off); err != nil {
		return nil, fmt.Errorf("read page at %d: %w", off, err)
	}
	pg, err := decodePage(ci, g.r.pageID(off), g.raw, reuse)
	if err != nil {
		return nil, fmt.Errorf("page at %d: %w", off, err)
	}
	return pg, nil
}

// columnOut is one column of a batch being decoded: its Arrow buffers,
// filled row by row from pages.
type columnOut struct {
	typ   arrow.DataType
	phys  parquet.Type
	width int // bytes per value of a fixed-width type
	rows  int // the batch's rows
	n     int // rows written
	nulls int

	valid *memory.Buffer // nil until the first NULL
	vals  *memory.Buffer // fixed-width values, booleans' bits, or offsets
	data  *memory.Buffer // byte arrays' bytes; nil with goBytes
	used  int            // bytes of data written
	vb    []byte         // vals' bytes (vals is sized once)
	db    []byte         // data's bytes, after its last resize
	// goBytes: byte arrays' offsets and bytes are Go memory the decoder
	// overwrites whole, not cleared first (noZeroBytes), when they would
	// come from Go's allocator anyway.
	goBytes bool
}

// start makes o, which may hold a column already handed on (array), the
// empty column of a batch of rows: a point read decodes its columns one
// after another into its group's one columnOut.
func (o *columnOut) start(mem memory.Allocator, typ arrow.DataType, phys parquet.Type, rows int) {
	*o = columnOut{typ: typ, phys: phys, rows: rows, width: fixedWidth(phys)}
	if phys != parquet.Types.ByteArray || mem != memory.DefaultAllocator {
		o.vals = memory.NewResizableBuffer(mem)
	}
	switch phys {
	case parquet.Types.Boolean:
		o.vals.Resize(int(bitutil.BytesForBits(int64(rows))))
		clear(o.vals.Bytes())
	case parquet.Types.ByteArray:
		if o.goBytes = mem == memory.DefaultAllocator; o.goBytes {
			o.vals = memory.NewBufferBytes(noZeroBytes(4 * (rows + 1)))
		} else {
			o.vals.Resize(4 * (rows + 1))
			o.data = memory.NewResizableBuffer(mem)
		}
		binary.LittleEndian.PutUint32(o.vals.Bytes(), 0)
	default:
		o.vals.Resize(o.width * rows)
	}
	o.vb = o.vals.Bytes()
}

// noZeroBytes returns n bytes of Go memory that are not cleared: the
// runtime clears every large allocation, which for the bytes of a scan's
// strings, written whole straight after, cost as much as writing them.
// strings.Builder.Grow allocates without clearing; the bytes are then
// taken from under the Builder, which is dropped. Only the bytes a caller
// writes may be read.
func noZeroBytes(n int) []byte {
	if n < 4096 {
		return make([]byte, n) // small: cleared cheaply, from a size class
	}
	var sb strings.Builder
	sb.Grow(n)
	sb.WriteByte(0) // a string of one byte, at the start of the n
	return unsafe.Slice(unsafe.StringData(sb.String()), n)
}

// null marks row n NULL, its value zero.
func (o *columnOut) null(mem memory.Allocator) {
	if o.valid == nil {
		o.valid = memory.NewResizableBuffer(mem)
		o.valid.Resize(int(bitutil.BytesForBits(int64(o.rows))))
		bitutil.SetBitsTo(o.valid.Bytes(), 0, int64(o.rows), true)
	}
	bitutil.ClearBit(o.valid.Bytes(), o.n)
	o.nulls++
	switch o.phys {
	case parquet.Types.ByteArray:
		binary.LittleEndian.PutUint32(o.vb[4*(o.n+1):], uint32(o.used))
	case parquet.Types.Boolean:
	default:
		clear(o.vb[o.n*o.width : (o.n+1)*o.width])
	}
	o.n++
}

// bytes appends one byte array.
func (o *columnOut) bytes(v []byte) {
	if o.used+len(v) > len(o.db) {
		o.reserve(len(v))
	}
	copy(o.db[o.used:], v)
	o.used += len(v)
	binary.LittleEndian.PutUint32(o.vb[4*(o.n+1):], uint32(o.used))
	o.n++
}

// plainBytes appends len(offs)-1 byte arrays, all set, laid out in data
// as layOutByteArrays lays them (value i is data[offs[i]:offs[i+1]], the
// offsets checked there): their bytes in one copy, their offsets rebased
// onto the batch's. Every row of a scan goes through it.
func (o *columnOut) plainBytes(data []byte, offs []int32) {
	lo, hi := offs[0], offs[len(offs)-1]
	o.reserve(int(hi - lo))
	copy(o.db[o.used:], data[lo:hi])
	// Arrow's offsets as int32s, in the machine's order (as arrow-go
	// reads them back).
	dst := arrow.Int32Traits.CastFromBytes(o.vb[4*(o.n+1) : 4*(o.n+len(offs))])
	base := int32(o.used) - lo
	for i, off := range offs[1:] {
		dst[i] = off + base
	}
	o.used += int(hi - lo)
	o.n += len(offs) - 1
}

// dictBytes appends the byte arrays of a dictionary at idx, all set: the
// loop of plainBytes, for dictionary-encoded strings.
func (o *columnOut) dictBytes(dict *cachedPage, idx []uint32) error {
	n := uint32(dict.hdr.numValues)
	offs, data := dict.offsets, dict.data
	db, vb, used, row := o.db, o.vb, o.used, o.n
	for _, k := range idx {
		if k >= n || int(k)+1 >= len(offs) {
			return fmt.Errorf("dictionary index %d of %d", k, n)
		}
		lo, hi := int(offs[k]), int(offs[k+1])
		l := hi - lo
		if used+max(l, 16) > len(db) {
			o.used = used
			o.reserve(max(l, 16))
			db = o.db
		}
		if l <= 16 && lo+16 <= len(data) {
			*(*[16]byte)(db[used:]) = *(*[16]byte)(data[lo:])
		} else {
			copy(db[used:], data[lo:hi])
		}
		used += l
		row++
		binary.LittleEndian.PutUint32(vb[4*row:], uint32(used))
	}
	o.used, o.n = used, row
	return nil
}

// reserve makes room for n more bytes of byte arrays.
func (o *columnOut) reserve(n int) {
	if o.used+n <= len(o.db) {
		return
	}
	size := max(2*len(o.db), o.used+n, min(4096, 64*o.rows))
	if o.goBytes {
		db := noZeroBytes(size)
		copy(db, o.db[:o.used])
		o.db = db
		return
	}
	o.data.Resize(size)
	o.db = o.data.Bytes()
}

// array returns the column as an Arrow array, releasing the buffers to it.
func (o *columnOut) array() arrow.Array {
	// Room for the byte arrays' data too: the slice goes into the array.
	bufs := make([]*memory.Buffer, 2, 3)
	bufs[0], bufs[1] = o.valid, o.vals
	if o.goBytes {
		bufs = append(bufs, memory.NewBufferBytes(o.db[:o.used]))
	} else if o.data != nil {
		o.data.Resize(o.used)
		bufs = append(bufs, o.data)
	}
	d := array.NewData(o.typ, o.n, bufs, nil, o.nulls, 0)
	a := array.MakeFromData(d)
	d.Release()
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
	return a
}

// read decodes the rows of ranges (sorted) of the selected columns (in
// the group's order) into arrays, one per column.
func (g *directGroup) read(columns []int, ranges []RowRange) ([]arrow.Array, error) {
	var n int64
	for _, rr := range ranges {
		n += rr.End - rr.Start
	}
	cols := make([]arrow.Array, len(g.chunks))
	for i, ci := range g.chunks {
		_, mem := g.r.columnAlloc(columns[i])
		o := &g.out
		o.start(mem, g.r.arrow.Field(columns[i]).Type, ci.phys, int(n))
		if ci.rowBytes > 0 {
			// A sixteenth over the average, for batches of longer values.
			o.reserve(int(ci.rowBytes*float64(n)*17/16) + 64)
		}
		var err error
		for _, rr := range ranges {
			if err = g.decodeRows(ci, o, mem, rr.Start, rr.End); err != nil {
				break
			}
		}
		if err == nil && o.n != o.rows {
			err = fmt.Errorf("decoded %d rows of %d", o.n, o.rows)
		}
		if err != nil {
			o.array().Release()
			for _, c := range cols[:i] {
				c.Release()
			}
			return nil, fmt.Errorf("column %d: %w", columns[i], err)
		}
		cols[i] = o.array()
	}
	return cols, nil
}

// decodeRows decodes rows [start, end) of a chunk into o.
func (g *directGroup) decodeRows(ci *chunkInfo, o *columnOut, mem memory.Allocator, start, end int64) error {
	for p := pageOf(ci, start); start < end; p++ {
		if p < 0 || p >= len(ci.pages) {
			return fmt.Errorf("row %d past the last page", start)
		}
		pe := min(ci.pageEnd(p), end)
		pg, err := g.page(ci, ci.pages[p].offset, int64(ci.pages[p].size))
		if err != nil {
			return err
		}
		first := ci.pages[p].firstRow
		if err := g.decodePageRows(ci, pg, o, mem, int(start-first), int(pe-first)); err != nil {
			return fmt.Errorf("page %d: %w", p, err)
		}
		start = pe
	}
	return nil
}

// decodePageRows decodes rows [a, b) of a data page into o.
func (g *directGroup) decodePageRows(ci *chunkInfo, pg *cachedPage, o *columnOut, mem memory.Allocator, a, b int) error {
	data, levels, skip, count, err := g.pageLevels(ci, pg, a, b)
	if err != nil {
		return err
	}
	set := func(i int) bool { return levels == nil || levels[i-a] != 0 }
	switch pg.hdr.encoding {
	case encPlain:
		return decodePlain(o, mem, data, pg.offsets, skip, count, a, b, set)
	case encRLEDictionary, encPlainDict:
		if ci.dictOff < 0 {
			return errors.New("dictionary page missing")
		}
		dict, err := g.page(ci, ci.dictOff, ci.dictLen)
		if err != nil {
			return err
		}
		if dict == nil || len(data) < 1 {
			return errors.New("dictionary page missing")
		}
		bw := int(data[0])
		if bw > 32 {
			return fmt.Errorf("dictionary index width %d", bw)
		}
		idx, err := decodeHybrid32(data[1:], bw, skip+count, g.idx[:0])
		if err != nil {
			return fmt.Errorf("dictionary indexes: %w", err)
		}
		g.idx, g.r.idx = idx, idx
		if levels == nil && o.phys == parquet.Types.ByteArray {
			return o.dictBytes(dict, idx[skip:skip+count])
		}
		return decodeDict(o, mem, dict, idx[skip:], a, b, set)
	}
	return fmt.Errorf("unsupported encoding %d", pg.hdr.encoding)
}

// decodePlain decodes rows [a, b) from PLAIN values, of which skip come
// before row a and count are in [a, b); byte arrays as laid out by
// layOutByteArrays, at offs.
func decodePlain(o *columnOut, mem memory.Allocator, data []byte, offs []int32, skip, count, a, b int, set func(int) bool) error {
	switch o.phys {
	case parquet.Types.Boolean:
		if (skip+count+7)/8 > len(data) {
			return errBadHeader
		}
		v := skip
		for i := a; i < b; i++ {
			if !set(i) {
				o.null(mem)
				continue
			}
			bitutil.SetBitTo(o.vb, o.n, data[v>>3]>>(v&7)&1 == 1)
			o.n++
			v++
		}
		return nil
	case parquet.Types.ByteArray:
		// The offsets end with the page's data (decodePage makes sure):
		// no look at the last, a cache line a point read would not touch.
		if skip+count >= len(offs) {
			return errBadHeader
		}
		offs = offs[skip : skip+count+1]
		if count == b-a {
			o.plainBytes(data, offs)
			return nil
		}
		o.reserve(int(offs[count] - offs[0]))
		v := 0
		for i := a; i < b; i++ {
			if !set(i) {
				o.null(mem)
				continue
			}
			o.bytes(data[offs[v]:offs[v+1]])
			v++
		}
		return nil
	}
	w := o.width
	if (skip+count)*w > len(data) {
		return errBadHeader
	}
	if count == b-a { // no NULL: one move
		copy(o.vb[o.n*w:], data[skip*w:(skip+count)*w])
		o.n += count
		return nil
	}
	v := skip
	for i := a; i < b; i++ {
		if !set(i) {
			o.null(mem)
			continue
		}
		copy(o.vb[o.n*w:(o.n+1)*w], data[v*w:])
		o.n++
		v++
	}
	return nil
}

// decodeDict decodes rows [a, b) whose set values are dictionary entries
// idx (in order).
func decodeDict(o *columnOut, mem memory.Allocator, dict *cachedPage, idx []uint32, a, b int, set func(int) bool) error {
	n := uint32(dict.hdr.numValues)
	v := 0
	for i := a; i < b; i++ {
		if !set(i) {
			o.null(mem)
			continue
		}
		k := idx[v]
		v++
		if k >= n {
			return fmt.Errorf("dictionary index %d of %d", k, n)
		}
		switch o.phys {
		case parquet.Types.ByteArray:
			if int(k)+1 >= len(dict.offsets) {
				return fmt.Errorf("dictionary index %d of %d", k, n)
			}
			o.bytes(dict.data[dict.offsets[k]:dict.offsets[k+1]])
			continue
		case parquet.Types.Boolean:
			bitutil.SetBitTo(o.vb, o.n, dict.data[k>>3]>>(k&7)&1 == 1)
		default:
			w := uint32(o.width)
			if int((k+1)*w) > len(dict.data) {
				return errBadHeader
			}
			copy(o.vb[o.n*o.width:], dict.data[k*w:(k+1)*w])
		}
		o.n++
	}
	return nil
}
