package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/dormousedb/dormouse/storage/partition"
)

// File is a data file known to the table. Values are immutable: a change
// stores a changed copy.
type File struct {
	Key       string   `json:"key"`
	SketchKey string   `json:"sketch_key,omitempty"`
	Rows      int64    `json:"rows"`
	Bytes     int64    `json:"bytes"`
	MinKey    [][]byte `json:"min_key,omitempty"` // plain encodings of the first row's row keys
	MaxKey    [][]byte `json:"max_key,omitempty"` // ... and of the last row's
	AddedBy   string   `json:"added_by"`          // id of the transaction that added it
	Refs      int      `json:"refs"`              // how many partitions reference it
	// UnreferencedSince is when the last reference went; nil while
	// referenced. The garbage collector deletes the file after the delay.
	UnreferencedSince *time.Time `json:"unreferenced_since,omitempty"`
}

// FileRef is a partition's reference to a file.
type FileRef struct {
	File      string `json:"file"`
	Partition string `json:"partition"`
	// Rows is exact when Whole, else an estimate of the file's rows inside
	// the partition.
	Rows  int64  `json:"rows"`
	Whole bool   `json:"whole,omitempty"` // every row of the file lies in this partition
	Job   string `json:"job,omitempty"`   // the compaction job that holds it
}

// Job is a compaction job that holds file references of one partition.
type Job struct {
	ID        string    `json:"id"`
	Partition string    `json:"partition"`
	Files     []string  `json:"files"`
	Assigned  time.Time `json:"assigned"`
}

// State is a table's state. Treat it as read-only: Machine.Apply changes
// clones only.
type State struct {
	Partitions *partition.Tree                `json:"partitions"`
	Files      map[string]*File               `json:"files"`
	Refs       map[string]map[string]*FileRef `json:"refs"` // partition -> file -> ref
	Jobs       map[string]*Job                `json:"jobs,omitempty"`
}

func newState(t *partition.Tree) *State {
	return &State{
		Partitions: t,
		Files:      map[string]*File{},
		Refs:       map[string]map[string]*FileRef{},
		Jobs:       map[string]*Job{},
	}
}

func (s *State) clone() *State {
	c := newState(s.Partitions.Clone())
	for k, f := range s.Files {
		c.Files[k] = f
	}
	for p, refs := range s.Refs {
		m := make(map[string]*FileRef, len(refs))
		for k, r := range refs {
			m[k] = r
		}
		c.Refs[p] = m
	}
	for k, j := range s.Jobs {
		c.Jobs[k] = j
	}
	return c
}

// UnmarshalJSON fills in empty maps so a decoded state is always usable.
func (s *State) UnmarshalJSON(data []byte) error {
	type plain State
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	if p.Partitions == nil {
		return fmt.Errorf("state has no partitions")
	}
	*s = State(p)
	if s.Files == nil {
		s.Files = map[string]*File{}
	}
	if s.Refs == nil {
		s.Refs = map[string]map[string]*FileRef{}
	}
	if s.Jobs == nil {
		s.Jobs = map[string]*Job{}
	}
	return nil
}

// PartitionRefs returns the references of a partition sorted by file key.
func (s *State) PartitionRefs(id string) []*FileRef {
	refs := s.Refs[id]
	out := make([]*FileRef, 0, len(refs))
	for _, r := range refs {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].File < out[j].File })
	return out
}

// PartitionRows is the (estimated) number of rows in a partition.
func (s *State) PartitionRows(id string) int64 {
	var n int64
	for _, r := range s.Refs[id] {
		n += r.Rows
	}
	return n
}

// TotalRows is the (estimated) number of rows in the table.
func (s *State) TotalRows() int64 {
	var n int64
	for id := range s.Refs {
		n += s.PartitionRows(id)
	}
	return n
}

// SortedFiles returns every file known to the state sorted by key.
func (s *State) SortedFiles() []*File {
	out := make([]*File, 0, len(s.Files))
	for _, f := range s.Files {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Check verifies the state's invariants: the partition tree covers the key
// space exactly once, only leaves hold references, every reference names a
// known file and partition, reference counts add up, and job assignments
// agree with the references they hold.
func (s *State) Check() error {
	if err := s.Partitions.Check(); err != nil {
		return err
	}
	counts := map[string]int{}
	for pid, refs := range s.Refs {
		p, ok := s.Partitions.Get(pid)
		if !ok {
			return fmt.Errorf("references to missing partition %s", pid)
		}
		if !p.IsLeaf() && len(refs) > 0 {
			return fmt.Errorf("partition %s is split but still holds %d references", pid, len(refs))
		}
		for key, r := range refs {
			if r.File != key || r.Partition != pid {
				return fmt.Errorf("reference %s/%s is filed under %s/%s", r.Partition, r.File, pid, key)
			}
			f, ok := s.Files[key]
			if !ok {
				return fmt.Errorf("partition %s references unknown file %s", pid, key)
			}
			if r.Rows < 0 || r.Rows > f.Rows {
				return fmt.Errorf("reference %s/%s counts %d rows of a %d-row file", pid, key, r.Rows, f.Rows)
			}
			if r.Job != "" {
				j, ok := s.Jobs[r.Job]
				if !ok || j.Partition != pid {
					return fmt.Errorf("reference %s/%s is held by unknown job %s", pid, key, r.Job)
				}
			}
			counts[key]++
		}
	}
	for key, f := range s.Files {
		if f.Key != key {
			return fmt.Errorf("file %s is filed under %s", f.Key, key)
		}
		if f.Refs != counts[key] {
			return fmt.Errorf("file %s counts %d references, has %d", key, f.Refs, counts[key])
		}
		if (f.Refs == 0) != (f.UnreferencedSince != nil) {
			return fmt.Errorf("file %s has %d references but unreferenced_since=%v", key, f.Refs, f.UnreferencedSince)
		}
		for i := range f.MinKey {
			if i < len(f.MaxKey) && i == 0 && bytes.Compare(f.MinKey[0], f.MaxKey[0]) > 0 {
				return fmt.Errorf("file %s has min key above max key", key)
			}
		}
	}
	for id, j := range s.Jobs {
		if j.ID != id {
			return fmt.Errorf("job %s is filed under %s", j.ID, id)
		}
		for _, f := range j.Files {
			r, ok := s.Refs[j.Partition][f]
			if !ok || r.Job != id {
				return fmt.Errorf("job %s claims %s/%s but does not hold it", id, j.Partition, f)
			}
		}
	}
	return nil
}
