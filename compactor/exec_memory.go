package compactor

import (
	"github.com/dormousedb/dormouse/storage/schema"
	"github.com/dormousedb/dormouse/storage/state"
	"github.com/dormousedb/dormouse/storage/table"
)

// What a run holds at once, for k inputs:
//
//   - per input, one decoded batch, and per column a decompressed page
//     and the window of the column chunk being decoded (the reader fetches
//     a whole-row-group read a datafile.DefaultFetchWindow at a time, and
//     on a slow store reads the next window ahead: at most two windows per
//     column, whatever the size of the row group);
//   - the merge's output batch being gathered, and the iterators' output;
//   - the writer's row group, encoded and compressed, until it is flushed.
//
// The decoded batches and the output row group are what a run can size:
// memoryPlan gives each a share of the bound. Both are set from the bound
// and the inputs' number and row width, never from their length, so a
// run over files of a billion rows holds what a run over small ones does.
// The inputs' pages are as their writer made them (the table's
// page_size_bytes) and their fetch windows as the reader's setting:
// bounded per input and column, and independent of the inputs' row groups
// (before the windows, each input held a whole compressed row group, 17
// MiB for a million benchmark rows).

const (
	// minBatchRows and maxBatchRows clamp the rows per batch: below a few
	// hundred rows per-batch costs dominate; above 16Ki nothing is gained.
	// Merging 11 files of the benchmark rows (bench/compare) took the same
	// CPU with batches of 16Ki rows as of 56Ki (what the bound gave under
	// a cap of 64Ki), at 540 MiB peak RSS instead of 720; 8Ki and 4Ki
	// saved little more memory and began to cost CPU.
	minBatchRows = 256
	maxBatchRows = 16 << 10
	// minRowGroupRows is the smallest output row group a tight bound
	// makes: smaller ones would bloat the footer and defeat pruning.
	minRowGroupRows = 16 << 10
)

// memoryPlan is how a run spends its memory bound.
type memoryPlan struct {
	batchRows    int   // rows per batch read from each input and merged
	rowGroupRows int64 // rows per row group of the output
	rowBytes     int64 // estimated bytes of one decoded row
}

// newMemoryPlan gives a quarter of the bound to the decoded batches (one
// per input, the merge's and the iterators' outputs) and a quarter to the
// output's row group, leaving half for the inputs' fetch windows and the
// decoders' pages. The output's row groups shrink below the table's
// row_group_rows only when its share cannot hold one.
func newMemoryPlan(t *table.Table, s *state.State, j *state.Job, bound int64) memoryPlan {
	var rows, bytes int64
	for _, k := range j.Files {
		if f, ok := s.File(k); ok {
			rows += f.Rows
			bytes += f.Bytes
		}
	}
	stored := int64(16) // compressed bytes per row, when the inputs are empty
	if rows > 0 {
		stored = max(bytes/rows, 1)
	}
	p := memoryPlan{rowBytes: decodedRowBytes(t.Def.Schema, stored)}
	batches := int64(len(j.Files) + 2)
	p.batchRows = int(min(max(bound/4/batches/p.rowBytes, minBatchRows), maxBatchRows))
	p.rowGroupRows = t.Def.Properties.Int("row_group_rows")
	if fit := bound / 4 / stored; fit < p.rowGroupRows {
		p.rowGroupRows = max(fit, minRowGroupRows)
	}
	return p
}

// decodedRowBytes estimates the Arrow size of a row: the fixed-width
// values, and for strings their offsets and, for want of statistics, a
// generous multiple of the stored (compressed) row size.
func decodedRowBytes(sch *schema.Schema, stored int64) int64 {
	n := int64(0)
	vars := false
	for _, c := range sch.Columns() {
		switch c.Type {
		case schema.BigInt, schema.Double, schema.Timestamp:
			n += 8
		case schema.Integer, schema.Date:
			n += 4
		case schema.Boolean:
			n++
		default:
			n += 4
			vars = true
		}
	}
	if vars {
		n += 4 * stored
	}
	return max(n, 16)
}
