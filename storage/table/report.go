package table

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dormousedb/dormouse/storage/partition"
	"github.com/dormousedb/dormouse/storage/schema"
	"github.com/dormousedb/dormouse/storage/state"
)

// PartitionReport describes one partition for people and for --json.
type PartitionReport struct {
	ID       string   `json:"id"`
	Parent   string   `json:"parent,omitempty"`
	Leaf     bool     `json:"leaf"`
	Region   string   `json:"region"`
	Children []string `json:"children,omitempty"`
	SplitDim string   `json:"split_dimension,omitempty"`
	Files    int      `json:"files"`
	Rows     int64    `json:"rows"`
	// NeedsSplit is true for a leaf holding more rows than the table's
	// split threshold.
	NeedsSplit bool `json:"needs_split"`
}

// FileReport describes one data file and its references.
type FileReport struct {
	Key               string          `json:"key"`
	Rows              int64           `json:"rows"`
	Bytes             int64           `json:"bytes"`
	MinKey            []string        `json:"min_key,omitempty"`
	MaxKey            []string        `json:"max_key,omitempty"`
	References        []ReferenceInfo `json:"references"`
	UnreferencedSince *time.Time      `json:"unreferenced_since,omitempty"`
}

// ReferenceInfo is one partition's reference to a file.
type ReferenceInfo struct {
	Partition string `json:"partition"`
	Rows      int64  `json:"rows"`
	Whole     bool   `json:"whole"`
	Job       string `json:"job,omitempty"`
}

// Report is a table's partitions and files at one log sequence number.
type Report struct {
	Table      string            `json:"table"`
	Seq        uint64            `json:"log_seq"`
	Rows       int64             `json:"rows"`
	Partitions []PartitionReport `json:"partitions"`
	Files      []FileReport      `json:"files"`
}

// Report reads the head of the table's log and describes it.
func (t *Table) Report(ctx context.Context) (*Report, error) {
	s, seq, err := t.State(ctx)
	if err != nil {
		return nil, err
	}
	return t.report(s, seq), nil
}

func (t *Table) keyTypes() []schema.Type {
	types := make([]schema.Type, len(t.Def.Schema.RowKeys))
	for i, c := range t.Def.Schema.RowKeys {
		types[i] = c.Type
	}
	return types
}

func (t *Table) report(s *state.State, seq uint64) *Report {
	types := t.keyTypes()
	threshold := t.Def.Properties.Int("split_threshold")
	r := &Report{Table: t.Def.Name, Seq: seq, Rows: s.TotalRows()}
	s.Partitions.Walk(func(p *partition.Partition) {
		pr := PartitionReport{
			ID: p.ID, Parent: p.Parent, Leaf: p.IsLeaf(), Children: p.Children,
			Region: partition.Describe(types, p.Region),
			Files:  s.NumRefs(p.ID), Rows: s.PartitionRows(p.ID),
		}
		if !p.IsLeaf() {
			pr.SplitDim = t.Def.Schema.RowKeys[p.Dim].Name
			for _, leaf := range s.Partitions.Descendants(p.ID) {
				pr.Rows += s.PartitionRows(leaf.ID)
				pr.Files += s.NumRefs(leaf.ID)
			}
		}
		pr.NeedsSplit = pr.Leaf && pr.Rows > threshold
		r.Partitions = append(r.Partitions, pr)
	})
	refsByFile := map[string][]ReferenceInfo{}
	for _, leaf := range s.Partitions.Leaves() {
		for _, ref := range s.PartitionRefs(leaf.ID) {
			refsByFile[ref.File] = append(refsByFile[ref.File], ReferenceInfo{Partition: ref.Partition, Rows: ref.Rows, Whole: ref.Whole, Job: ref.Job})
		}
	}
	for _, f := range s.SortedFiles() {
		fr := FileReport{Key: f.Key, Rows: f.Rows, Bytes: f.Bytes, References: refsByFile[f.Key], UnreferencedSince: f.UnreferencedSince}
		if fr.References == nil {
			fr.References = []ReferenceInfo{}
		}
		for d := range f.MinKey {
			fr.MinKey = append(fr.MinKey, schema.FormatValue(types[d], f.MinKey[d]))
			fr.MaxKey = append(fr.MaxKey, schema.FormatValue(types[d], f.MaxKey[d]))
		}
		r.Files = append(r.Files, fr)
	}
	return r
}

// WritePartitions renders the partition tree as an indented table.
func (r *Report) WritePartitions(w io.Writer) error {
	fmt.Fprintf(w, "table %s at log %d: %d rows in %d partitions\n", r.Table, r.Seq, r.Rows, len(r.Partitions))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PARTITION\tKIND\tROWS\tFILES\tREGION")
	depth := map[string]int{}
	for _, p := range r.Partitions {
		if p.Parent != "" {
			depth[p.ID] = depth[p.Parent] + 1
		}
		kind := "leaf"
		if !p.Leaf {
			kind = "split on " + p.SplitDim
		} else if p.NeedsSplit {
			kind = "leaf, needs split"
		}
		fmt.Fprintf(tw, "%s%s\t%s\t%d\t%d\t%s\n", strings.Repeat("  ", depth[p.ID]), p.ID, kind, p.Rows, p.Files, p.Region)
	}
	return tw.Flush()
}

// WriteFiles renders the files and their references.
func (r *Report) WriteFiles(w io.Writer) error {
	var bytes int64
	for _, f := range r.Files {
		bytes += f.Bytes
	}
	fmt.Fprintf(w, "table %s at log %d: %d files, %d bytes\n", r.Table, r.Seq, len(r.Files), bytes)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tROWS\tBYTES\tMIN KEY\tMAX KEY\tREFERENCED BY")
	for _, f := range r.Files {
		var refs []string
		for _, ref := range f.References {
			s := fmt.Sprintf("%s (%d rows", ref.Partition, ref.Rows)
			if !ref.Whole {
				s += ", estimated"
			}
			if ref.Job != "" {
				s += ", job " + ref.Job
			}
			refs = append(refs, s+")")
		}
		if len(refs) == 0 {
			refs = []string{"none since " + f.UnreferencedSince.Format(time.RFC3339)}
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\n", f.Key, f.Rows, f.Bytes,
			strings.Join(f.MinKey, ","), strings.Join(f.MaxKey, ","), strings.Join(refs, "; "))
	}
	return tw.Flush()
}
