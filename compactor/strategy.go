package compactor

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/dormousedb/dormouse/storage/catalog"
)

// Candidate is a leaf's file reference that no job holds: what a strategy
// may put into a job.
type Candidate struct {
	File string
	// Rows is the reference's row count: exact when Whole, else an
	// estimate of the file's rows inside the leaf. Strategies measure a
	// file's size in rows, as Sleeper does.
	Rows  int64
	Whole bool
	Seq   uint64 // the file's age order (state.File.Seq)
}

// Strategy chooses which files of one leaf partition to compact together.
// Implementations are pure functions of their input, so that every creator
// that sees the same state proposes the same jobs.
type Strategy interface {
	// Name is the compaction_strategy property value that selects it.
	Name() string
	// Groups returns groups of files to compact, each of at least two
	// files, no file in two groups. When contiguous is false, files are in
	// no particular order and any files may go together. When it is true,
	// files are consecutive references of the leaf in its age order
	// (state.File.Seq, then key), oldest first, and each group must be a
	// run of consecutive elements of files: an order-dependent iterator
	// (last) may only merge files that no other file's rows lie between.
	Groups(files []Candidate, contiguous bool) [][]Candidate
}

// StrategyFor returns the strategy a table's properties select.
func StrategyFor(def *catalog.TableDef) (Strategy, error) {
	batch := int(def.Properties.Int("compaction_files_batch_size"))
	switch name := def.Properties.Get("compaction_strategy"); name {
	case "sizeratio":
		return SizeRatio{Ratio: def.Properties.Int("size_ratio"), BatchSize: batch}, nil
	case "basic":
		return Basic{BatchSize: batch}, nil
	default:
		return nil, fmt.Errorf("table %s: unknown compaction_strategy %q", def.Name, name)
	}
}

// SizeRatio is Sleeper's size-ratio strategy (SizeRatioCompactionStrategy,
// after Accumulo's): with a leaf's files sorted by size, the group of the
// smallest n is compacted when s1+…+s(n-1) ≥ Ratio·sn, taking the largest
// n for which that holds. A group of more than BatchSize files is cut into
// batches of BatchSize, and each batch that meets the test on its own
// becomes a job. Files of very different sizes are left alone, so each row
// is rewritten about log(rows) times, not once per compaction.
type SizeRatio struct {
	Ratio     int64
	BatchSize int
}

// Name returns "sizeratio".
func (SizeRatio) Name() string { return "sizeratio" }

// Groups implements Strategy.
func (s SizeRatio) Groups(files []Candidate, contiguous bool) [][]Candidate {
	if contiguous {
		return s.contiguousGroups(files)
	}
	sorted := bySize(files)
	n := len(sorted)
	for n > 1 && !s.meets(sorted[:n]) {
		n--
	}
	if n < 2 {
		return nil
	}
	sorted = sorted[:n]
	if n <= s.BatchSize {
		return [][]Candidate{sorted}
	}
	// Sleeper's batching: slide over the qualifying files, taking a batch
	// where it meets the test and moving one file on where it does not.
	var out [][]Candidate
	for pos := 0; pos < n; {
		end := min(pos+s.BatchSize, n)
		if s.meets(sorted[pos:end]) {
			out = append(out, sorted[pos:end])
			pos = end
		} else {
			pos++
		}
	}
	return out
}

// contiguousGroups applies the size-ratio test to runs of consecutive
// files: from each position it takes the longest run of at most BatchSize
// files that meets the test, else moves one file on.
func (s SizeRatio) contiguousGroups(files []Candidate) [][]Candidate {
	var out [][]Candidate
	for pos := 0; pos < len(files)-1; {
		taken := 0
		for end := min(pos+s.BatchSize, len(files)); end-pos >= 2; end-- {
			if s.meets(files[pos:end]) {
				out = append(out, files[pos:end])
				taken = end - pos
				break
			}
		}
		pos += max(taken, 1)
	}
	return out
}

// meets reports whether the files other than the largest add up to at
// least Ratio times the largest.
func (s SizeRatio) meets(files []Candidate) bool {
	if len(files) < 2 {
		return false
	}
	var sum, largest int64
	for _, f := range files {
		sum += f.Rows
		largest = max(largest, f.Rows)
	}
	return sum-largest >= s.Ratio*largest
}

// Basic is Sleeper's basic strategy: the files, smallest first, in batches
// of exactly BatchSize; a last batch that falls short waits for more files.
type Basic struct {
	BatchSize int
}

// Name returns "basic".
func (Basic) Name() string { return "basic" }

// Groups implements Strategy.
func (b Basic) Groups(files []Candidate, contiguous bool) [][]Candidate {
	// A batch of one file would rewrite it into itself forever.
	size := max(b.BatchSize, 2)
	if !contiguous {
		files = bySize(files)
	}
	var out [][]Candidate
	for pos := 0; pos+size <= len(files); pos += size {
		out = append(out, files[pos:pos+size])
	}
	return out
}

// bySize returns a copy of files sorted by rows, then by file key so that
// every creator sorts equal sizes the same way.
func bySize(files []Candidate) []Candidate {
	out := slices.Clone(files)
	slices.SortFunc(out, func(a, b Candidate) int {
		return cmp.Or(cmp.Compare(a.Rows, b.Rows), cmp.Compare(a.File, b.File))
	})
	return out
}
