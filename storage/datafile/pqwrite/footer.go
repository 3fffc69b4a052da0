package pqwrite

import (
	"bytes"
	"encoding/binary"

	"github.com/dormousedb/dormouse/storage/datafile/internal/compact"
)

// chunkMeta is what the page index and the footer need of a column chunk
// written out.
type chunkMeta struct {
	offset       int64 // of its first page
	dataOffset   int64 // of its first data page
	dictOffset   int64 // of its dictionary page, or -1
	uncompressed int64
	compressed   int64
	values       int64 // rows, NULLs included
	nulls        int64
	encodings    []int32
	encStats     [][3]int32 // page type, encoding, pages
	// min and max are the chunk's, when ordered.
	min, max []byte
	ordered  bool
	// colIndex and offIndex are the serialized column and offset
	// indexes (colIndex nil when a page has no min and max), written
	// after the row groups at colIndexAt and offIndexAt.
	colIndex, offIndex     []byte
	colIndexAt, offIndexAt int64
}

// writeTo writes the chunk's pages to w and returns what the footer
// needs of them.
func (c *chunk) writeTo(w *Writer, tw *compact.Writer) (chunkMeta, error) {
	m := chunkMeta{offset: w.pos, dictOffset: -1, uncompressed: c.uncompressed, compressed: c.compressed,
		values: c.rows, nulls: c.nulls}
	if c.dictPages > 0 {
		m.dictOffset = w.pos
		if err := w.write(c.dictPage); err != nil {
			return m, err
		}
	}
	m.dataOffset = w.pos
	if err := c.data.writeTo(w.write); err != nil {
		return m, err
	}
	m.encodings, m.encStats = c.encodings()
	lo, hi, ok := c.chunkStats()
	// Copies: statBuf is the next chunk's.
	m.min, m.max, m.ordered = bytes.Clone(lo), bytes.Clone(hi), ok
	m.colIndex = c.columnIndex(tw)
	m.offIndex = c.offsetIndex(tw, m.dataOffset)
	return m, nil
}

// encodings lists the encodings of the chunk (data pages', the
// dictionary's, RLE for levels, as arrow-go lists them) and counts its
// pages by type and encoding.
func (c *chunk) encodings() ([]int32, [][3]int32) {
	var encs []int32
	var stats [][3]int32
	if c.dictPages > 0 {
		stats = append(stats, [3]int32{pageDictionary, encPlain, c.dictPages})
	}
	for _, e := range [...]int32{encRLEDictionary, encPlain, encDeltaBinaryPacked, encDeltaByteArray} {
		if n := c.pagesBy[e]; n > 0 {
			encs = append(encs, e)
			stats = append(stats, [3]int32{pageData, e, n})
		}
	}
	if c.dictPages > 0 && c.pagesBy[encPlain] == 0 {
		encs = append(encs, encPlain)
	}
	return append(encs, encRLE), stats
}

// chunkStats returns the least min and greatest max of the pages, or
// false when no page has values to order or the min or the max is a byte
// array too long to keep.
func (c *chunk) chunkStats() (lo, hi []byte, ok bool) {
	for _, p := range c.pages {
		if !p.ordered {
			continue
		}
		pmin, pmax := c.statBuf[p.stat[0]:p.stat[1]], c.statBuf[p.stat[1]:p.stat[2]]
		if !ok || statLess(c.phys.typ, pmin, lo) {
			lo = pmin
		}
		if !ok || statLess(c.phys.typ, hi, pmax) {
			hi = pmax
		}
		ok = true
	}
	if len(lo) > maxStatBytes || len(hi) > maxStatBytes {
		return nil, nil, false
	}
	return lo, hi, ok
}

// columnIndex serializes the chunk's ColumnIndex, or returns nil if a
// page with values has no min and max (all NaN, or too long), which the
// index cannot express (arrow-go then leaves the index out too).
func (c *chunk) columnIndex(tw *compact.Writer) []byte {
	for i, p := range c.pages {
		end := c.rows
		if i+1 < len(c.pages) {
			end = c.pages[i+1].firstRow
		}
		if !p.ordered && p.nulls < end-p.firstRow || p.tooLong {
			return nil
		}
	}
	tw.Reset(nil)
	tw.ListBegin(1, compact.BoolTrue, len(c.pages))
	for _, p := range c.pages {
		tw.ListBool(!p.ordered)
	}
	for _, f := range [2]int16{2, 3} {
		tw.ListBegin(f, compact.Binary, len(c.pages))
		for _, p := range c.pages {
			if !p.ordered {
				tw.ListBinary(nil)
			} else if f == 2 {
				tw.ListBinary(c.statBuf[p.stat[0]:p.stat[1]])
			} else {
				tw.ListBinary(c.statBuf[p.stat[1]:p.stat[2]])
			}
		}
	}
	tw.I32(4, c.boundaryOrder())
	tw.ListBegin(5, compact.I64, len(c.pages))
	for _, p := range c.pages {
		tw.ListI64(p.nulls)
	}
	tw.Stop()
	return tw.Bytes()
}

// boundaryOrder says whether the pages' mins and maxes both ascend or
// both descend, as arrow-go determines it.
func (c *chunk) boundaryOrder() int32 {
	var prev *pageInfo
	asc, desc := true, true
	for i := range c.pages {
		p := &c.pages[i]
		if !p.ordered {
			continue
		}
		if prev != nil {
			pmin, pmax := c.statBuf[p.stat[0]:p.stat[1]], c.statBuf[p.stat[1]:p.stat[2]]
			qmin, qmax := c.statBuf[prev.stat[0]:prev.stat[1]], c.statBuf[prev.stat[1]:prev.stat[2]]
			if statLess(c.phys.typ, pmin, qmin) || statLess(c.phys.typ, pmax, qmax) {
				asc = false
			}
			if statLess(c.phys.typ, qmin, pmin) || statLess(c.phys.typ, qmax, pmax) {
				desc = false
			}
		}
		prev = p
	}
	switch {
	case prev == nil:
		return orderUnordered
	case asc:
		return orderAscending
	case desc:
		return orderDescending
	}
	return orderUnordered
}

// offsetIndex serializes the chunk's OffsetIndex, its data pages starting
// at dataOffset in the file.
func (c *chunk) offsetIndex(tw *compact.Writer, dataOffset int64) []byte {
	tw.Reset(nil)
	tw.ListBegin(1, compact.Struct, len(c.pages))
	for _, p := range c.pages {
		tw.BeginStruct()
		tw.I64(1, dataOffset+int64(p.offset))
		tw.I32(2, p.size)
		tw.I64(3, p.firstRow)
		tw.End()
	}
	tw.Stop()
	return tw.Bytes()
}

// writePageIndex writes every row group's column indexes, then their
// offset indexes, after the row groups (as arrow-go lays them out: a
// reader fetches each kind in one read).
func (w *Writer) writePageIndex() error {
	for pass := range 2 {
		for g := range w.groups {
			for i := range w.groups[g].chunks {
				m := &w.groups[g].chunks[i]
				idx, at := m.colIndex, &m.colIndexAt
				if pass == 1 {
					idx, at = m.offIndex, &m.offIndexAt
				}
				if idx == nil {
					continue
				}
				*at = w.pos
				if err := w.write(idx); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// writeFooter writes the FileMetaData, its length and the magic bytes.
func (w *Writer) writeFooter() error {
	tw := &w.tw
	tw.Reset(nil)
	tw.I32(1, 2) // version, as arrow-go writes it
	w.writeSchema(tw)
	tw.I64(3, w.rows)
	tw.ListBegin(4, compact.Struct, len(w.groups))
	for g := range w.groups {
		w.writeRowGroup(tw, g)
	}
	tw.ListBegin(5, compact.Struct, len(w.opts.Metadata)+1)
	for _, kv := range append(w.opts.Metadata[:len(w.opts.Metadata):len(w.opts.Metadata)], KeyValue{"ARROW:schema", w.arrow}) {
		tw.BeginStruct()
		tw.String(1, kv.Key)
		tw.String(2, kv.Value)
		tw.End()
	}
	tw.String(6, w.opts.CreatedBy)
	// Every column is in its type's defined order (TypeDefinedOrder).
	tw.ListBegin(7, compact.Struct, len(w.cols))
	for range w.cols {
		tw.BeginStruct()
		tw.Begin(1)
		tw.End()
		tw.End()
	}
	tw.Stop()
	footer := tw.Bytes()
	footer = binary.LittleEndian.AppendUint32(footer, uint32(len(footer)))
	footer = append(footer, magic...)
	return w.write(footer)
}

// writeSchema writes the schema: a root group of the flat columns.
func (w *Writer) writeSchema(tw *compact.Writer) {
	tw.ListBegin(2, compact.Struct, len(w.cols)+1)
	tw.BeginStruct()
	tw.String(4, "schema")
	tw.I32(5, int32(len(w.cols)))
	tw.End()
	for i, c := range w.cols {
		p := w.chunks[i].phys
		tw.BeginStruct()
		tw.I32(1, p.typ)
		if c.Nullable {
			tw.I32(3, repOptional)
		} else {
			tw.I32(3, repRequired)
		}
		tw.String(4, c.Name)
		if p.converted >= 0 {
			tw.I32(6, p.converted)
		}
		writeLogical(tw, p.logical)
		tw.End()
	}
}

// writeLogical writes a SchemaElement's logicalType (field 10).
func writeLogical(tw *compact.Writer, l logicalType) {
	if l == logicalNone {
		return
	}
	tw.Begin(10)
	switch l {
	case logicalString:
		tw.Begin(1) // STRING
		tw.End()
	case logicalDate:
		tw.Begin(6) // DATE
		tw.End()
	case logicalTimestampMicros:
		tw.Begin(8) // TIMESTAMP
		tw.Bool(1, false)
		tw.Begin(2)
		tw.Begin(2) // MICROS
		tw.End()
		tw.End()
		tw.End()
	case logicalInt32, logicalInt64:
		tw.Begin(10) // INTEGER
		if l == logicalInt32 {
			tw.I8(1, 32)
		} else {
			tw.I8(1, 64)
		}
		tw.Bool(2, true)
		tw.End()
	}
	tw.End()
}

func (w *Writer) writeRowGroup(tw *compact.Writer, g int) {
	rg := &w.groups[g]
	tw.BeginStruct()
	tw.ListBegin(1, compact.Struct, len(rg.chunks))
	for i := range rg.chunks {
		w.writeColumnChunk(tw, i, &rg.chunks[i])
	}
	tw.I64(2, rg.uncompressed)
	tw.I64(3, rg.rows)
	if n := w.opts.SortingColumns; n > 0 {
		tw.ListBegin(4, compact.Struct, n)
		for i := range n {
			tw.BeginStruct()
			tw.I32(1, int32(i))
			tw.Bool(2, false) // ascending
			tw.Bool(3, false) // NULLs last
			tw.End()
		}
	}
	tw.I64(5, rg.offset)
	tw.I64(6, rg.written)
	tw.I16(7, int16(g))
	tw.End()
}

func (w *Writer) writeColumnChunk(tw *compact.Writer, col int, m *chunkMeta) {
	c, phys := w.cols[col], w.chunks[col].phys.typ
	tw.BeginStruct()
	tw.I64(2, m.offset)
	tw.Begin(3) // ColumnMetaData
	tw.I32(1, phys)
	tw.ListBegin(2, compact.I32, len(m.encodings))
	for _, e := range m.encodings {
		tw.ListI32(e)
	}
	tw.ListBegin(3, compact.Binary, 1)
	tw.ListString(c.Name)
	tw.I32(4, int32(w.opts.Codec))
	tw.I64(5, m.values)
	tw.I64(6, m.uncompressed)
	tw.I64(7, m.compressed)
	tw.I64(9, m.dataOffset)
	if m.dictOffset >= 0 {
		tw.I64(11, m.dictOffset)
	}
	tw.Begin(12) // Statistics
	if m.ordered && phys != physByteArray {
		// The deprecated max and min, whose order is signed: arrow-go
		// writes them for the types that order so.
		tw.Binary(1, m.max)
		tw.Binary(2, m.min)
	}
	tw.I64(3, m.nulls)
	if m.ordered {
		tw.Binary(5, m.max)
		tw.Binary(6, m.min)
	}
	tw.End()
	tw.ListBegin(13, compact.Struct, len(m.encStats))
	for _, s := range m.encStats {
		tw.BeginStruct()
		tw.I32(1, s[0])
		tw.I32(2, s[1])
		tw.I32(3, s[2])
		tw.End()
	}
	tw.End() // ColumnMetaData
	if m.offIndex != nil {
		tw.I64(4, m.offIndexAt)
		tw.I32(5, int32(len(m.offIndex)))
	}
	if m.colIndex != nil {
		tw.I64(6, m.colIndexAt)
		tw.I32(7, int32(len(m.colIndex)))
	}
	tw.End()
}
