package engine

import (
	"bytes"
	"math"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/schema"
)

// scanOutcome is what statistics say of a filter over a group of rows.
type scanOutcome int

const (
	scanSome scanOutcome = iota // some rows may match: check them
	scanNone                    // no row matches: skip the group
	scanAll                     // every row matches: no check needed
)

// settle judges a filter by the statistics of a row group or page of
// rows rows. NULL never matches a filter, so a group of NULLs is skipped.
//
// A DOUBLE column's maximum is not trusted: Parquet statistics leave NaN
// out, and NaN sorts above every number (as in PostgreSQL), so a group
// whose recorded maximum is 3 may hold rows > 5.
func (f *scanFilter) settle(cs datafile.ColumnStats, rows int64) scanOutcome {
	if !cs.HasMinMax {
		if cs.NullCount == rows {
			return scanNone
		}
		return scanSome
	}
	hi := cs.Max
	if f.typ == schema.Double {
		hi = nil // +inf
	}
	if !f.spans.Overlaps(cs.Min, hi) {
		return scanNone
	}
	if cs.NullCount == 0 && f.spans.Covers(cs.Min, hi) {
		return scanAll
	}
	return scanSome
}

// match clears keep[i] for every row of col that is NULL or outside the
// filter's spans; rows already cleared are not looked at.
func (f *scanFilter) match(col arrow.Array, keep []bool, scratch *[]byte) {
	if f.ints != nil {
		switch a := col.(type) {
		case *array.Int64:
			scanMatchInts(a.Int64Values(), col, f.ints, keep)
			return
		case *array.Int32:
			scanMatchInts(a.Int32Values(), col, f.ints, keep)
			return
		case *array.Timestamp:
			scanMatchInts(a.TimestampValues(), col, f.ints, keep)
			return
		case *array.Date32:
			scanMatchInts(a.Date32Values(), col, f.ints, keep)
			return
		}
	}
	nulls := col.NullN() > 0
	buf := *scratch
	for i := range keep {
		if !keep[i] {
			continue
		}
		if nulls && col.IsNull(i) {
			keep[i] = false
			continue
		}
		buf = schema.AppendValue(buf[:0], col, i)
		keep[i] = f.spans.Contains(buf)
	}
	*scratch = buf
}

// scanIntSpans are a span set of an integer-like column (BIGINT,
// INTEGER, TIMESTAMP, DATE: one encoding) as integers, so rows are checked
// without encoding them.
type scanIntSpans []datafile.IntSpan

func newScanIntSpans(t schema.Type, ss SpanSet) scanIntSpans {
	return appendScanIntSpans(nil, t, ss)
}

// appendScanIntSpans appends the spans as integers to dst, so that a
// caller with room of its own allocates nothing: nil when they are not
// integers' encodings, else non-nil even when empty (newScanIntSpans).
func appendScanIntSpans(dst scanIntSpans, t schema.Type, ss SpanSet) scanIntSpans {
	if !t.IntegerLike() {
		return nil
	}
	out := dst
	if out == nil {
		out = make(scanIntSpans, 0, len(ss)+1)
	}
	for _, s := range ss {
		span := datafile.IntSpan{Lo: math.MinInt64, Open: len(s.Hi) == 0}
		var err error
		if len(s.Lo) > 0 {
			if span.Lo, err = schema.DecodeInt(s.Lo); err != nil {
				return nil // not an integer encoding: check the bytes
			}
		}
		if !span.Open {
			if span.Hi, err = schema.DecodeInt(s.Hi); err != nil {
				return nil
			}
		}
		out = append(out, span)
	}
	return out
}

func (ss scanIntSpans) contains(v int64) bool {
	if len(ss) == 1 {
		return v >= ss[0].Lo && (ss[0].Open || v < ss[0].Hi)
	}
	i := sort.Search(len(ss), func(i int) bool { return ss[i].Open || ss[i].Hi > v })
	return i < len(ss) && v >= ss[i].Lo
}

func scanMatchInts[T int64 | int32 | arrow.Timestamp | arrow.Date32](vals []T, col arrow.Array, ss scanIntSpans, keep []bool) {
	nulls := col.NullN() > 0
	for i, v := range vals {
		if !keep[i] {
			continue
		}
		if nulls && col.IsNull(i) {
			keep[i] = false
			continue
		}
		keep[i] = ss.contains(int64(v))
	}
}

// scanPageRows returns the rows of row group rg (of rows rows) whose pages
// the unsettled filters can match, intersected over the filters, and
// whether that leaves out any row. An empty (non-nil) result means no row
// can match. A column without a page index prunes nothing.
func scanPageRows(r *datafile.Reader, rg int, rows int64, filters []*scanFilter) ([]datafile.RowRange, bool) {
	out := []datafile.RowRange{{Start: 0, End: rows}}
	pruned := false
	for _, f := range filters {
		pages, err := r.PageStats(rg, f.col)
		if err != nil {
			continue
		}
		var keep []datafile.RowRange
		lo, hi := scanSortedPages(f, pages)
		for i := lo; i < hi; i++ {
			p := pages[i]
			end := rows
			if i+1 < len(pages) {
				end = pages[i+1].FirstRow
			}
			if end <= p.FirstRow || f.settle(p.ColumnStats, end-p.FirstRow) == scanNone {
				pruned = true
				continue
			}
			if n := len(keep); n > 0 && keep[n-1].End == p.FirstRow {
				keep[n-1].End = end
			} else {
				keep = append(keep, datafile.RowRange{Start: p.FirstRow, End: end})
			}
		}
		if lo > 0 || hi < len(pages) {
			pruned = true
		}
		out = scanIntersectRows(out, keep)
		if len(out) == 0 {
			return out, true
		}
	}
	return out, pruned
}

// scanSortedPages returns the pages [lo, hi) that can hold the filter's
// values: all of them, or, on a file's first column, which its rows are
// sorted by, so that its pages' bounds rise from page to page, the pages
// from the first whose maximum reaches the filter's lowest value to the
// last whose minimum is below its highest, found by binary search. A
// point lookup in a row group of hundreds of pages then weighs a few.
func scanSortedPages(f *scanFilter, pages []datafile.PageStats) (lo, hi int) {
	if f.col != 0 || f.typ == schema.Double || len(f.spans) == 0 {
		return 0, len(pages)
	}
	// Only the pages the searches probe need bounds: the rows being
	// sorted, a page between two probed ones holds values between theirs.
	// A probed page without bounds (a value too long for statistics)
	// leaves every page to be weighed.
	bounded := true
	probe := func(i int, v []byte, min bool) int {
		if !pages[i].HasMinMax {
			bounded = false
			return 0
		}
		if min {
			return bytes.Compare(pages[i].Min, v)
		}
		return bytes.Compare(pages[i].Max, v)
	}
	first, last := f.spans[0], f.spans[len(f.spans)-1]
	lo = sort.Search(len(pages), func(i int) bool { return probe(i, first.Lo, false) >= 0 })
	hi = len(pages)
	if len(last.Hi) > 0 {
		hi = sort.Search(len(pages), func(i int) bool { return probe(i, last.Hi, true) >= 0 })
	}
	if !bounded {
		return 0, len(pages)
	}
	return lo, max(lo, hi)
}

// sortedRuns returns the runs of rows of col that pass the filter, found
// by binary search, when col is a batch of a file's first column (sorted)
// of integers without NULLs; ok is false otherwise.
func (f *scanFilter) sortedRuns(col arrow.Array) (runs []mergeRun, ok bool) {
	if f.col != 0 || f.ints == nil || col.NullN() > 0 {
		return nil, false
	}
	switch a := col.(type) {
	case *array.Int64:
		return scanSortedIntRuns(a.Int64Values(), f.ints), true
	case *array.Int32:
		return scanSortedIntRuns(a.Int32Values(), f.ints), true
	case *array.Timestamp:
		return scanSortedIntRuns(a.TimestampValues(), f.ints), true
	case *array.Date32:
		return scanSortedIntRuns(a.Date32Values(), f.ints), true
	}
	return nil, false
}

func scanSortedIntRuns[T int64 | int32 | arrow.Timestamp | arrow.Date32](vals []T, ss scanIntSpans) []mergeRun {
	var runs []mergeRun
	from := 0
	for _, s := range ss {
		rest := vals[from:]
		start := from + sort.Search(len(rest), func(i int) bool { return int64(rest[i]) >= s.Lo })
		end := len(vals)
		if !s.Open {
			end = from + sort.Search(len(rest), func(i int) bool { return int64(rest[i]) >= s.Hi })
		}
		if start < end {
			runs = append(runs, mergeRun{start: start, end: end})
		}
		from = max(from, end)
	}
	return runs
}

// scanIntersectRows intersects two sorted lists of disjoint row ranges;
// the result is never nil.
func scanIntersectRows(a, b []datafile.RowRange) []datafile.RowRange {
	out := []datafile.RowRange{}
	for i, j := 0, 0; i < len(a) && j < len(b); {
		lo, hi := max(a[i].Start, b[j].Start), min(a[i].End, b[j].End)
		if lo < hi {
			out = append(out, datafile.RowRange{Start: lo, End: hi})
		}
		if a[i].End < b[j].End {
			i++
		} else {
			j++
		}
	}
	return out
}
