package splitter

import (
	"bytes"
	"math"
	"slices"
	"sort"

	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/partition"
	"github.com/dormousedb/dormouse/storage/state"
)

// gridSteps is how many candidate points each file offers inside the leaf:
// its quantiles at every 1/gridSteps of its rows there. With one file the
// nearest candidate to the true median is within 1/(2·gridSteps) of its
// rank, below the sketch's own error; more files only add candidates.
const gridSteps = 64

// part is one file's contribution to a leaf on one dimension: the file's
// sketch of that dimension, the sketch ranks of the leaf's bounds, and the
// rows the state counts for the file's reference from the leaf.
type part struct {
	file   string
	sketch *datafile.Sketch
	lo, hi float64 // Rank of the region's Min and Max: its share lies in [lo, hi)
	rows   int64
}

// below estimates the part's rows in the leaf with keys below x: the
// reference's rows times the share of the file's keys inside the region
// that lie below x.
func (p *part) below(x []byte) float64 {
	r, err := p.sketch.Rank(x)
	if err != nil {
		return 0 // unreachable: parts have non-empty sketches
	}
	f := (r - p.lo) / (p.hi - p.lo)
	return min(max(f, 0), 1) * float64(p.rows)
}

// split is a point that divides a leaf on one dimension, with each file's
// estimated [below, at or above] rows.
type split struct {
	point    []byte
	fileRows map[string][2]int64
}

// median finds the point on dimension d that divides the rows of leaf most
// evenly, from the sketches (by file key, one per row key) of the files its
// references name. The leaf's rows follow the mixture of the files' key
// distributions inside the region, each weighted by its reference's rows,
// so a file that reaches into other leaves counts only with its keys
// inside this one. It reports false when no point lies strictly inside
// the region, as when every key is equal on d.
//
// Files without a usable sketch are left out and get no estimate: the
// state then shares their rows between the children evenly.
func median(leaf *partition.Partition, d int, refs []*state.FileRef, sketches map[string][]*datafile.Sketch) (split, bool) {
	region := leaf.Region[d]
	var parts []*part
	var total float64
	for _, ref := range refs {
		sk := sketches[ref.File]
		if len(sk) <= d || sk[d].N() == 0 || ref.Rows == 0 {
			continue
		}
		p := &part{file: ref.File, sketch: sk[d], lo: 0, hi: 1, rows: ref.Rows}
		if len(region.Min) > 0 {
			p.lo, _ = p.sketch.Rank(region.Min)
		}
		if len(region.Max) > 0 {
			p.hi, _ = p.sketch.Rank(region.Max)
		}
		if p.hi <= p.lo {
			continue // the sketch saw none of the file's keys in the region
		}
		parts = append(parts, p)
		total += float64(p.rows)
	}
	cands := candidates(parts, region)
	if len(cands) == 0 {
		return split{}, false
	}
	below := func(x []byte) float64 {
		var n float64
		for _, p := range parts {
			n += p.below(x)
		}
		return n
	}
	// below grows with the point: find the first candidate with half the
	// rows below it and take it or the one before, whichever is nearer.
	half := total / 2
	i := sort.Search(len(cands), func(i int) bool { return below(cands[i]) >= half })
	best := min(i, len(cands)-1)
	if i > 0 && (i == len(cands) || math.Abs(below(cands[i-1])-half) <= math.Abs(below(cands[i])-half)) {
		best = i - 1
	}
	point := cands[best]
	rows := make(map[string][2]int64, len(parts))
	for _, p := range parts {
		left := int64(math.Round(p.below(point)))
		rows[p.file] = [2]int64{left, p.rows - left}
	}
	return split{point: point, fileRows: rows}, true
}

// candidates returns, sorted and without repeats, the quantiles of every
// part at each 1/gridSteps of its share inside the region that lie
// strictly inside it (a split point must be above the region's Min and
// below its Max).
func candidates(parts []*part, region partition.Range) [][]byte {
	var out [][]byte
	for _, p := range parts {
		for i := 1; i < gridSteps; i++ {
			q, err := p.sketch.Quantile(p.lo + (p.hi-p.lo)*float64(i)/gridSteps)
			if err != nil {
				continue
			}
			if bytes.Compare(q, region.Min) > 0 && (len(region.Max) == 0 || bytes.Compare(q, region.Max) < 0) {
				out = append(out, q)
			}
		}
	}
	slices.SortFunc(out, bytes.Compare)
	return slices.CompactFunc(out, bytes.Equal)
}
