package sql

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/schema"
	"github.com/dormousedb/dormouse/storage/state"
)

// pg_stats: column statistics estimated when asked, the way ANALYZE would
// from a sample, but from what the store already keeps — cheap enough for
// a planner (Trino reads null_frac, n_distinct and avg_width per column):
//   - row key columns from the KLL sketches written beside each data file
//     (merged over a few of the largest files): n_distinct from how many
//     distinct values 200 evenly spaced quantiles take, histogram_bounds
//     from 101 quantiles; they are NOT NULL;
//   - other columns from a sample of rows (the first rows of a few files,
//     up to statsSampleRows): null_frac, avg_width, and n_distinct by the
//     Haas–Stokes estimator PostgreSQL's ANALYZE uses.
// A table with no rows has no statistics, as a table never analyzed.

const (
	statsFiles      = 8     // files whose sketches are merged
	statsSampleFile = 4     // files the row sample reads from
	statsSampleRows = 30000 // rows in the sample, as ANALYZE's default target
	statsQuantiles  = 200   // quantiles that decide a key's n_distinct
	statsHistogram  = 101   // histogram bounds of a key
)

func pgStatsRows(c *pgCatalog) ([]pgRow, error) {
	var out []pgRow
	for _, t := range c.tables {
		ts, err := c.tableState(t)
		if err != nil {
			return nil, err
		}
		rows, err := tableStats(c.ctx, ts, t)
		if err != nil {
			return nil, fmt.Errorf("statistics of %s: %w", t.name, err)
		}
		out = append(out, rows...)
	}
	return out, nil
}

// columnSample is what a row sample tells of one column.
type columnSample struct {
	n, nulls int64
	width    int64
	counts   map[any]int64
}

func tableStats(ctx context.Context, ts *tableSnapshot, t *pgRel) ([]pgRow, error) {
	total := ts.state.TotalRows()
	if total == 0 {
		return nil, nil
	}
	d := ts.t.Def
	sch := d.Schema
	files := referencedFiles(ts.state)
	sketches, err := mergedSketches(ctx, ts, files)
	if err != nil {
		return nil, err
	}
	samples, err := sampleRows(ctx, ts, files)
	if err != nil {
		return nil, err
	}
	all := sch.Columns()
	var out []pgRow
	for _, i := range d.DeclaredColumns() {
		col := all[i]
		row := pgRow{"schemaname": "public", "tablename": t.name, "attname": col.Name, "inherited": false,
			"null_frac": float32(0), "avg_width": int32(typeWidth(col.Type)), "n_distinct": float32(0), "correlation": nil}
		s := samples[i]
		switch {
		case i < len(sch.RowKeys) && sketches[i] != nil && sketches[i].N() > 0:
			nd, hist := keyStats(sketches[i], col.Type, total)
			row["n_distinct"], row["histogram_bounds"] = nd, hist
			if i == 0 {
				row["correlation"] = float32(1) // rows are kept in key order
			}
		case s.n > 0:
			row["null_frac"] = float32(float64(s.nulls) / float64(s.n))
			row["n_distinct"] = sampleDistinct(s, total)
		default:
			continue // nothing known
		}
		if s.n > s.nulls && (col.Type == schema.Varchar || col.Type == schema.Varbinary) {
			row["avg_width"] = int32(s.width / (s.n - s.nulls))
		}
		out = append(out, row)
	}
	return out, nil
}

// typeWidth is the stored width of a fixed-size type, and a guess for the
// others until a sample says.
func typeWidth(t schema.Type) int {
	switch t {
	case schema.BigInt, schema.Double, schema.Timestamp:
		return 8
	case schema.Integer, schema.Date:
		return 4
	case schema.Boolean:
		return 1
	}
	return 32
}

// referencedFiles are the files of the table's current partitions,
// largest first.
func referencedFiles(s *state.State) []*state.File {
	var files []*state.File
	s.EachFile(func(f *state.File) {
		if f.Refs > 0 {
			files = append(files, f)
		}
	})
	sort.Slice(files, func(i, j int) bool {
		if files[i].Rows != files[j].Rows {
			return files[i].Rows > files[j].Rows
		}
		return files[i].Key < files[j].Key
	})
	return files
}

// mergedSketches merges the row key sketches of the largest files, one
// per row key column (nil where there are none).
func mergedSketches(ctx context.Context, ts *tableSnapshot, files []*state.File) ([]*datafile.Sketch, error) {
	out := make([]*datafile.Sketch, len(ts.t.Def.Schema.RowKeys))
	read := 0
	for _, f := range files {
		if read == statsFiles {
			break
		}
		if f.SketchKey == "" {
			continue
		}
		sk, err := datafile.ReadSketches(ctx, ts.t.Store, f.SketchKey)
		if err != nil {
			return nil, err
		}
		read++
		for i := range out {
			if i >= len(sk) {
				break
			}
			if out[i] == nil {
				out[i] = datafile.NewSketch()
			}
			out[i].Merge(sk[i])
		}
	}
	return out, nil
}

// keyStats are a key column's n_distinct and histogram bounds from its
// sketch.
func keyStats(sk *datafile.Sketch, t schema.Type, total int64) (float32, any) {
	distinct := map[string]bool{}
	for i := 0; i < statsQuantiles; i++ {
		q, err := sk.Quantile(float64(i) / (statsQuantiles - 1))
		if err != nil {
			return 0, nil
		}
		distinct[string(q)] = true
	}
	var nd float32
	switch d := int64(len(distinct)); {
	case d >= statsQuantiles*9/10 || d >= total:
		// Every quantile differs: as many values as rows, near enough.
		nd = -1
	case float64(d) > 0.1*float64(total):
		nd = -float32(float64(d) / float64(total))
	default:
		nd = float32(d)
	}
	var hist []any
	last := ""
	for i := 0; i < statsHistogram; i++ {
		q, err := sk.Quantile(float64(i) / (statsHistogram - 1))
		if err != nil {
			return nd, nil
		}
		v := schema.FormatValue(t, q)
		if i > 0 && v == last {
			continue
		}
		hist, last = append(hist, v), v
	}
	if len(hist) < 2 {
		return nd, nil
	}
	return nd, hist
}

// sampleRows reads up to statsSampleRows rows from the first rows of a
// few of the largest files; one sample per storage column.
func sampleRows(ctx context.Context, ts *tableSnapshot, files []*state.File) ([]*columnSample, error) {
	sch := ts.t.Def.Schema
	ncols := len(sch.Columns())
	out := make([]*columnSample, ncols)
	for i := range out {
		out[i] = &columnSample{counts: map[any]int64{}}
	}
	if len(files) > statsSampleFile {
		files = files[:statsSampleFile]
	}
	if len(files) == 0 {
		return out, nil
	}
	per := int64(statsSampleRows / len(files))
	for _, f := range files {
		if err := sampleFile(ctx, ts, f.Key, per, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func sampleFile(ctx context.Context, ts *tableSnapshot, key string, limit int64, out []*columnSample) error {
	r, err := datafile.Open(ctx, ts.t.Store, key, ts.t.Def.Schema)
	if err != nil {
		return err
	}
	defer r.Close()
	rr, err := r.Records(ctx, nil, nil)
	if err != nil {
		return err
	}
	defer rr.Close()
	var read int64
	for read < limit {
		rec, err := rr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		n := rec.NumRows()
		if read+n > limit {
			n = limit - read
		}
		for c := 0; c < int(rec.NumCols()) && c < len(out); c++ {
			sampleColumn(out[c], rec.Column(c), int(n))
		}
		read += n
		rec.Release()
	}
	return nil
}

func sampleColumn(s *columnSample, a arrow.Array, n int) {
	for i := 0; i < n; i++ {
		s.n++
		v := expr.ValueAt(a, i)
		if v == nil {
			s.nulls++
			continue
		}
		switch x := v.(type) {
		case string:
			s.width += int64(len(x))
		case []byte:
			s.width += int64(len(x))
			v = string(x)
		}
		s.counts[v]++
	}
}

// sampleDistinct estimates n_distinct from a sample as ANALYZE does:
// unique when no value repeats, else the Haas–Stokes estimate
// n·d / (n − f1 + f1·n/N), as a fraction of the rows (negative) when it
// exceeds a tenth of them.
func sampleDistinct(s *columnSample, total int64) float32 {
	n := float64(s.n - s.nulls)
	if n == 0 {
		return 0
	}
	d := float64(len(s.counts))
	var f1 float64
	for _, c := range s.counts {
		if c == 1 {
			f1++
		}
	}
	if f1 == d {
		return -1
	}
	N := float64(total) * n / float64(s.n) // non-null rows of the table
	if N < n {
		N = n
	}
	est := n * d / (n - f1 + f1*n/N)
	if est < d {
		est = d
	}
	if est > N {
		est = N
	}
	if est > 0.1*float64(total) {
		return -float32(est / float64(total))
	}
	return float32(int64(est + 0.5))
}
