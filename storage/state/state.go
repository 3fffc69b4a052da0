package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
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
	// Seq orders a partition's files by the age of their rows, for
	// iterators whose result depends on row order (last): each ingested
	// file takes the next number of a counter kept in the state, and a
	// compaction output the largest Seq of the job's inputs, so the files
	// of one partition never share a Seq.
	Seq  uint64 `json:"seq,omitempty"`
	Refs int    `json:"refs"` // how many partitions reference it
	// UnreferencedSince is when the last reference went; nil while
	// referenced. The garbage collector deletes the file after the delay.
	UnreferencedSince *time.Time `json:"unreferenced_since,omitempty"`
}

// FileRef is a partition's reference to a file. Values are immutable.
type FileRef struct {
	File      string `json:"file"`
	Partition string `json:"partition"`
	// Rows is exact when Whole, else an estimate of the file's rows inside
	// the partition.
	Rows  int64  `json:"rows"`
	Whole bool   `json:"whole,omitempty"` // every row of the file lies in this partition
	Job   string `json:"job,omitempty"`   // the compaction job that holds it
}

// State is a table's state. A State handed out by the log is read-only:
// Machine.Apply changes clones only, and a clone shares everything it has
// not changed with the state it came from.
type State struct {
	Partitions *partition.Tree

	files *cowMap[*File]
	refs  map[string]*cowMap[*FileRef] // partition id -> its references
	jobs  map[string]*Job
	// history is the last JobHistoryLen ended job attempts, oldest first;
	// shared between clones and never changed in place (see record).
	history []*JobRecord
	// fileSeq is the Seq of the last ingested file.
	fileSeq uint64
	// onces is the Once keys of the last OnceHistoryLen AddFiles that had
	// one, oldest first; shared between clones like history (once.go).
	onces []string

	// unreferenced collects files whose last reference went during the
	// transaction being applied.
	unreferenced []string
}

func newState(t *partition.Tree) *State {
	s := &State{Partitions: t, refs: map[string]*cowMap[*FileRef]{}, jobs: map[string]*Job{}}
	s.files = newCowMap[*File](s, fileShards)
	return s
}

func (s *State) clone() *State {
	c := &State{
		Partitions: s.Partitions.Clone(),
		files:      s.files,
		refs:       make(map[string]*cowMap[*FileRef], len(s.refs)),
		jobs:       make(map[string]*Job, len(s.jobs)),
		history:    s.history,
		fileSeq:    s.fileSeq,
		onces:      s.onces,
	}
	for k, v := range s.refs {
		c.refs[k] = v
	}
	for k, v := range s.jobs {
		c.jobs[k] = v
	}
	return c
}

// stateJSON is the encoded form of a State (snapshots).
type stateJSON struct {
	Partitions *partition.Tree                `json:"partitions"`
	Files      map[string]*File               `json:"files"`
	Refs       map[string]map[string]*FileRef `json:"refs"`
	Jobs       map[string]*Job                `json:"jobs,omitempty"`
	JobHistory []*JobRecord                   `json:"job_history,omitempty"`
	FileSeq    uint64                         `json:"file_seq,omitempty"`
	Onces      []string                       `json:"onces,omitempty"`
}

// MarshalJSON encodes the state with files, references and jobs as plain
// objects keyed by file key, partition id and job id.
func (s *State) MarshalJSON() ([]byte, error) {
	j := stateJSON{Partitions: s.Partitions, Files: map[string]*File{}, Refs: map[string]map[string]*FileRef{}, Jobs: s.jobs, JobHistory: s.history, FileSeq: s.fileSeq, Onces: s.onces}
	s.eachFile(func(f *File) { j.Files[f.Key] = f })
	for p, rs := range s.refs {
		if rs.n > 0 {
			m := make(map[string]*FileRef, rs.n)
			rs.each(func(k string, r *FileRef) { m[k] = r })
			j.Refs[p] = m
		}
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes a state written by MarshalJSON.
func (s *State) UnmarshalJSON(data []byte) error {
	var j stateJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	if j.Partitions == nil {
		return fmt.Errorf("state has no partitions")
	}
	*s = *newState(j.Partitions)
	s.fileSeq = j.FileSeq
	for k, f := range j.Files {
		if f == nil {
			return fmt.Errorf("file %s is null", k)
		}
		if f.Key != k {
			return fmt.Errorf("file %s is filed under %s", f.Key, k)
		}
		s.putFile(f)
	}
	for p, refs := range j.Refs {
		m := s.writableRefs(p)
		for k, r := range refs {
			if r == nil {
				return fmt.Errorf("reference %s/%s is null", p, k)
			}
			m.put(k, r)
		}
	}
	for k, job := range j.Jobs {
		if job == nil {
			return fmt.Errorf("job %s is null", k)
		}
		if job.Kind == "" {
			job.Kind = KindCompact // written before jobs had kinds
		}
		s.jobs[k] = job
	}
	for i, r := range j.JobHistory {
		if r == nil {
			return fmt.Errorf("job history record %d is null", i)
		}
	}
	s.history = j.JobHistory
	s.onces = j.Onces
	return nil
}

// File returns the file with the given key.
func (s *State) File(key string) (*File, bool) { return s.file(key) }

// EachFile calls fn for every file the state knows, in no particular
// order. fn must not change the file.
func (s *State) EachFile(fn func(*File)) { s.eachFile(fn) }

// NumFiles is the number of files the state knows, referenced or not.
func (s *State) NumFiles() int { return s.files.n }

// Ref returns partition p's reference to file key.
func (s *State) Ref(p, key string) (*FileRef, bool) { return s.ref(p, key) }

// NumRefs is the number of references partition p holds.
func (s *State) NumRefs(p string) int {
	if rs := s.refs[p]; rs != nil {
		return rs.n
	}
	return 0
}

// PartitionRefs returns the references of a partition sorted by file key.
func (s *State) PartitionRefs(id string) []*FileRef {
	rs := s.refs[id]
	if rs == nil {
		return nil
	}
	out := make([]*FileRef, 0, rs.n)
	rs.each(func(_ string, r *FileRef) { out = append(out, r) })
	slices.SortFunc(out, func(a, b *FileRef) int { return strings.Compare(a.File, b.File) })
	return out
}

// PartitionRows is the (estimated) number of rows in a partition.
func (s *State) PartitionRows(id string) int64 {
	var n int64
	if rs := s.refs[id]; rs != nil {
		rs.each(func(_ string, r *FileRef) { n += r.Rows })
	}
	return n
}

// TotalRows is the (estimated) number of rows in the table.
func (s *State) TotalRows() int64 {
	var n int64
	for id := range s.refs {
		n += s.PartitionRows(id)
	}
	return n
}

// SortedFiles returns every file known to the state sorted by key.
func (s *State) SortedFiles() []*File {
	out := make([]*File, 0, s.files.n)
	s.eachFile(func(f *File) { out = append(out, f) })
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
	for pid, rs := range s.refs {
		p, ok := s.Partitions.Get(pid)
		if !ok {
			return fmt.Errorf("references to missing partition %s", pid)
		}
		if !p.IsLeaf() && rs.n > 0 {
			return fmt.Errorf("partition %s is split but still holds %d references", pid, rs.n)
		}
		for _, r := range s.PartitionRefs(pid) {
			key := r.File
			if r.Partition != pid {
				return fmt.Errorf("reference %s/%s is filed under %s", r.Partition, r.File, pid)
			}
			if got, _ := rs.get(key); got != r {
				return fmt.Errorf("reference %s/%s is filed under another key", pid, key)
			}
			f, ok := s.file(key)
			if !ok {
				return fmt.Errorf("partition %s references unknown file %s", pid, key)
			}
			if r.Rows < 0 || r.Rows > f.Rows {
				return fmt.Errorf("reference %s/%s counts %d rows of a %d-row file", pid, key, r.Rows, f.Rows)
			}
			if r.Job != "" {
				j, ok := s.jobs[r.Job]
				if !ok || j.Partition != pid {
					return fmt.Errorf("reference %s/%s is held by unknown job %s", pid, key, r.Job)
				}
			}
			counts[key]++
		}
	}
	n := 0
	var err error
	s.files.each(func(key string, f *File) {
		n++
		if f.Key != key && err == nil {
			err = fmt.Errorf("file %s is filed under %s", f.Key, key)
		}
		switch {
		case err != nil:
		case f.Refs != counts[f.Key]:
			err = fmt.Errorf("file %s counts %d references, has %d", f.Key, f.Refs, counts[f.Key])
		case (f.Refs == 0) != (f.UnreferencedSince != nil):
			err = fmt.Errorf("file %s has %d references but unreferenced_since=%v", f.Key, f.Refs, f.UnreferencedSince)
		case len(f.MinKey) > 0 && len(f.MaxKey) > 0 && bytes.Compare(f.MinKey[0], f.MaxKey[0]) > 0:
			err = fmt.Errorf("file %s has min key above max key", f.Key)
		}
	})
	if err != nil {
		return err
	}
	if n != s.files.n {
		return fmt.Errorf("state counts %d files, holds %d", s.files.n, n)
	}
	return s.checkJobs()
}
