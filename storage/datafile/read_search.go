package datafile

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"

	"github.com/dormousedb/dormouse/storage/schema"
)

// IntSpan is a range of integers [Lo, Hi), with no upper bound when Open.
type IntSpan struct {
	Lo, Hi int64
	Open   bool
}

// ReadSmall reads a small page-pruned selection (at most directMaxRows
// rows, its ranges as ReadRows takes them) of columns by the direct path,
// as one array per column holding the selected rows in order: ReadRows
// without a record reader and its batches, for the few rows a point
// lookup found with SortedIntRows. ok is false when the direct path
// cannot read the selection (the caller then uses ReadRows).
func (r *Reader) ReadSmall(s Selection, columns []int) (cols []arrow.Array, ok bool, err error) {
	if err := r.checkSelection(s); err != nil {
		return nil, false, fmt.Errorf("read %s: %w", r.key, err)
	}
	g, err := r.scratchDirect(s, columns)
	if g == nil || err != nil {
		return nil, false, err
	}
	defer g.reset()
	if cols, err = g.read(columns, s.Rows); err != nil {
		return nil, false, fmt.Errorf("read %s, row group %d: %w", r.key, s.RowGroup, err)
	}
	return cols, true, nil
}

// SortedIntRows returns the rows of selection s whose value of column
// col lies in one of spans (sorted and disjoint), found by binary search
// in the column's pages as they are stored, without decoding them into a
// batch: the point lookup's way to find its row. col must be the column
// the file's rows are sorted by (its first), so that its values rise
// through the selection. ok is false when the column cannot be searched
// so (the direct path does not read it, or it is not 32- or 64-bit
// integers without NULLs, PLAIN or in a dictionary), and the caller then
// reads the column.
func (r *Reader) SortedIntRows(s Selection, col int, spans []IntSpan) (rows []RowRange, ok bool, err error) {
	g, err := r.scratchDirect(s, []int{col})
	if g == nil || err != nil {
		return nil, false, err
	}
	defer g.reset()
	ci := g.chunks[0]
	var width int
	switch ci.phys {
	case parquet.Types.Int64:
		width = 8
	case parquet.Types.Int32:
		width = 4
	default:
		return nil, false, nil
	}
	if ci.maxDef != 0 {
		return nil, false, nil // levels before the values: keys have none
	}
	rows = []RowRange{}
	for _, rr := range s.Rows {
		for p := pageOf(ci, rr.Start); p < len(ci.pages) && ci.pages[p].firstRow < rr.End; p++ {
			loc := ci.pages[p]
			pg, err := g.page(ci, loc.offset, int64(loc.size))
			if err != nil {
				return nil, false, err
			}
			if pg == nil || (pg.hdr.typ != pageData && pg.hdr.typ != pageDataV2) {
				return nil, false, nil
			}
			n := int(pg.hdr.numValues)
			if ci.pageEnd(p)-loc.firstRow != int64(n) {
				return nil, false, errBadHeader
			}
			data, idx := pg.data, []uint32(nil)
			switch pg.hdr.encoding {
			case encPlain:
			case encRLEDictionary, encPlainDict:
				// Keys repeat (several rows per key): the writer keeps
				// them as indexes into a dictionary, in the key's order.
				// Decode the page's indexes, then search through them.
				dict, err := g.page(ci, ci.dictOff, ci.dictLen)
				if err != nil {
					return nil, false, err
				}
				if dict == nil || len(data) < 1 || data[0] > 32 {
					return nil, false, errBadHeader
				}
				if idx, err = decodeHybrid32(data[1:], int(data[0]), n, g.idx[:0]); err != nil {
					return nil, false, fmt.Errorf("dictionary indexes: %w", err)
				}
				g.idx, r.idx = idx, idx
				if len(idx) < n {
					return nil, false, errBadHeader
				}
				for _, i := range idx[:n] {
					if int(i) >= int(dict.hdr.numValues) {
						return nil, false, fmt.Errorf("dictionary index %d of %d values", i, dict.hdr.numValues)
					}
				}
				data = dict.data
				if int(dict.hdr.numValues)*width > len(data) {
					return nil, false, errBadHeader
				}
			default:
				return nil, false, nil
			}
			if idx == nil && n*width > len(data) {
				return nil, false, errBadHeader
			}
			value := func(i int) int64 {
				if idx != nil {
					i = int(idx[i])
				}
				if width == 8 {
					return int64(binary.LittleEndian.Uint64(data[i*8:]))
				}
				return int64(int32(binary.LittleEndian.Uint32(data[i*4:])))
			}
			a := int(max(rr.Start, loc.firstRow) - loc.firstRow)
			b := int(min(rr.End, ci.pageEnd(p)) - loc.firstRow)
			if a >= b {
				continue
			}
			// Keys spread about evenly over a page's rows: search from
			// where they would be.
			first, last := value(a), value(b-1)
			for _, sp := range spans {
				lo := searchFrom(a, b, interpolate(a, b, first, last, sp.Lo), func(i int) bool { return value(i) >= sp.Lo })
				hi := b
				if !sp.Open {
					hi = searchFrom(lo, b, interpolate(a, b, first, last, sp.Hi), func(i int) bool { return value(i) >= sp.Hi })
				}
				if lo >= hi {
					continue
				}
				got := RowRange{Start: loc.firstRow + int64(lo), End: loc.firstRow + int64(hi)}
				if k := len(rows); k > 0 && rows[k-1].End == got.Start {
					rows[k-1].End = got.End
				} else {
					rows = append(rows, got)
				}
			}
		}
	}
	return rows, true, nil
}

// SortedIntKeyRows is SortedIntRows over a whole row group's first column
// (the one its rows are sorted by): it finds the pages that can hold the
// spans by binary search among the pages' lowest values, kept as integers
// per Reader (page i's values lie between its lowest and the next page's),
// and searches those. A point lookup's probes then fall in one small
// array rather than in a page index of byte strings.
func (r *Reader) SortedIntKeyRows(rowGroup int, spans []IntSpan) (rows []RowRange, ok bool, err error) {
	ci, err := r.chunk(rowGroup, 0)
	if errors.Is(err, ErrNoPageIndex) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if ci.pageMins == nil {
		if ci.pageMins, err = r.pageMins(rowGroup); err != nil || ci.pageMins == nil {
			return nil, false, err
		}
	}
	mins := ci.pageMins
	if len(mins) == 0 {
		return []RowRange{}, true, nil
	}
	n, lowest, highest := len(mins), mins[0], mins[len(mins)-1]
	var sel []RowRange
	for _, sp := range spans {
		first := max(searchFrom(0, n, interpolate(0, n, lowest, highest, sp.Lo), func(i int) bool { return mins[i] >= sp.Lo })-1, 0)
		end := n
		if !sp.Open {
			end = searchFrom(0, n, interpolate(0, n, lowest, highest, sp.Hi), func(i int) bool { return mins[i] >= sp.Hi })
		}
		if first >= end {
			continue
		}
		rr := RowRange{Start: ci.pages[first].firstRow, End: ci.pageEnd(end - 1)}
		if k := len(sel); k > 0 && sel[k-1].End >= rr.Start {
			sel[k-1].End = max(sel[k-1].End, rr.End)
		} else {
			sel = append(sel, rr)
		}
	}
	if len(sel) == 0 {
		return []RowRange{}, true, nil
	}
	return r.SortedIntRows(Selection{RowGroup: rowGroup, Rows: sel}, 0, spans)
}

// pageMins returns the lowest value of each page of a row group's first
// column as an integer, from the page index, or nil if a page has none
// (or the column holds no integers).
func (r *Reader) pageMins(rowGroup int) ([]int64, error) {
	if !r.sch.Column(0).Type.IntegerLike() {
		return nil, nil
	}
	ps, err := r.PageStats(rowGroup, 0)
	if err != nil {
		return nil, err
	}
	mins := make([]int64, len(ps))
	for i, p := range ps {
		if !p.HasMinMax {
			return nil, nil
		}
		if mins[i], err = schema.DecodeInt(p.Min); err != nil {
			return nil, nil
		}
	}
	return mins, nil
}
