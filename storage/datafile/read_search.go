package datafile

import (
	"encoding/binary"
	"sort"

	"github.com/apache/arrow-go/v18/parquet"
)

// IntSpan is a range of integers [Lo, Hi), with no upper bound when Open.
type IntSpan struct {
	Lo, Hi int64
	Open   bool
}

// SortedIntRows returns the rows of selection s whose value of column
// col lies in one of spans (sorted and disjoint), found by binary search
// in the column's pages as they are stored, without decoding them into a
// batch: the point lookup's way to find its row. col must be the column
// the file's rows are sorted by (its first), so that its values rise
// through the selection. ok is false when the column cannot be searched
// so (the direct path does not read it, or it is not PLAIN 32- or 64-bit
// integers without NULLs), and the caller then reads the column.
func (r *Reader) SortedIntRows(s Selection, col int, spans []IntSpan) (rows []RowRange, ok bool, err error) {
	g, err := r.startDirect(s, []int{col})
	if g == nil || err != nil {
		return nil, false, err
	}
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
			if pg == nil || pg.hdr.encoding != encPlain || (pg.hdr.typ != pageData && pg.hdr.typ != pageDataV2) {
				return nil, false, nil
			}
			n := int(pg.hdr.numValues)
			if n*width > len(pg.data) || ci.pageEnd(p)-loc.firstRow != int64(n) {
				return nil, false, errBadHeader
			}
			data := pg.data
			value := func(i int) int64 {
				if width == 8 {
					return int64(binary.LittleEndian.Uint64(data[i*8:]))
				}
				return int64(int32(binary.LittleEndian.Uint32(data[i*4:])))
			}
			a := int(max(rr.Start, loc.firstRow) - loc.firstRow)
			b := int(min(rr.End, ci.pageEnd(p)) - loc.firstRow)
			for _, sp := range spans {
				lo := a + sort.Search(b-a, func(i int) bool { return value(a+i) >= sp.Lo })
				hi := b
				if !sp.Open {
					hi = lo + sort.Search(b-lo, func(i int) bool { return value(lo+i) >= sp.Hi })
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
