package state

import (
	"bytes"
	"fmt"

	"github.com/dormousedb/dormouse/storage/partition"
	"github.com/dormousedb/dormouse/storage/txlog"
)

// Txn is one transaction on a table's state. Exactly one of the operation
// fields is set. ID is unique per transaction; a retried job reuses its id so
// that a second commit of the same work is recognised (ErrDuplicate).
type Txn struct {
	ID string `json:"id"`

	InitPartitions *InitPartitions `json:"init_partitions,omitempty"`
	AddFiles       *AddFiles       `json:"add_files,omitempty"`
	SplitPartition *SplitPartition `json:"split_partition,omitempty"`
	SplitFileRefs  *SplitFileRefs  `json:"split_file_refs,omitempty"`
	AssignJob      *AssignJob      `json:"assign_job,omitempty"`
	ClaimJob       *ClaimJob       `json:"claim_job,omitempty"`
	RenewJob       *RenewJob       `json:"renew_job,omitempty"`
	ReleaseJob     *ReleaseJob     `json:"release_job,omitempty"`
	ReplaceFiles   *ReplaceFiles   `json:"replace_files,omitempty"`
	DeleteFiles    *DeleteFiles    `json:"delete_files,omitempty"`
	ClearTable     *ClearTable     `json:"clear_table,omitempty"`
}

// InitPartitions replaces the partition tree of a table that holds no data.
type InitPartitions struct {
	Partitions *partition.Tree `json:"partitions"`
}

// NewFile is a file to add and the partitions that reference it.
type NewFile struct {
	File File       `json:"file"` // Refs, AddedBy, UnreferencedSince are set on apply
	Refs []PartRows `json:"refs"`
}

// PartRows names a partition and the rows of a file inside it.
type PartRows struct {
	Partition string `json:"partition"`
	Rows      int64  `json:"rows"`
}

// AddFiles adds newly written files (an ingest). A reference to a partition
// that has been split since the ingest routed its rows is pushed down to the
// leaves below it that the file's key range meets.
//
// Once, when set, makes the commit happen at most once: an AddFiles whose
// Once the state has seen among its last OnceHistoryLen is refused with
// ErrDuplicate. A bulk import job sets it to its own id, so that two
// workers that both ran the job (one of them past its lease) commit its
// rows once, whatever files each wrote.
type AddFiles struct {
	Files []NewFile `json:"files"`
	Once  string    `json:"once,omitempty"`
}

// SplitPartition splits a leaf in two. Its references move to the children
// the file's key range meets, with Rows[file] = [left, right] estimates, or
// halves when absent.
type SplitPartition struct {
	Partition string              `json:"partition"`
	Dim       int                 `json:"dim"`
	Point     []byte              `json:"point"`
	Left      string              `json:"left"`
	Right     string              `json:"right"`
	Rows      map[string][2]int64 `json:"rows,omitempty"`
}

// SplitFileRefs replaces one reference by references on leaves inside the
// referencing partition's region, with better row estimates.
type SplitFileRefs struct {
	File string     `json:"file"`
	From string     `json:"from"`
	To   []PartRows `json:"to"`
}

// DeleteFiles forgets files whose objects the garbage collector removed.
// Each must have no references.
type DeleteFiles struct {
	Files []string `json:"files"`
}

// ClearTable drops every reference (and job); the files become garbage.
type ClearTable struct{}

// Kind names the operation, for reports and errors.
func (t *Txn) Kind() string {
	switch {
	case t.InitPartitions != nil:
		return "init_partitions"
	case t.AddFiles != nil:
		return "add_files"
	case t.SplitPartition != nil:
		return "split_partition"
	case t.SplitFileRefs != nil:
		return "split_file_refs"
	case t.AssignJob != nil:
		return "assign_job"
	case t.ClaimJob != nil:
		return "claim_job"
	case t.RenewJob != nil:
		return "renew_job"
	case t.ReleaseJob != nil:
		return "release_job"
	case t.ReplaceFiles != nil:
		return "replace_files"
	case t.DeleteFiles != nil:
		return "delete_files"
	case t.ClearTable != nil:
		return "clear_table"
	}
	return "empty"
}

func (t *Txn) ops() int {
	n := 0
	for _, set := range []bool{t.InitPartitions != nil, t.AddFiles != nil, t.SplitPartition != nil,
		t.SplitFileRefs != nil, t.AssignJob != nil, t.ClaimJob != nil, t.RenewJob != nil, t.ReleaseJob != nil,
		t.ReplaceFiles != nil, t.DeleteFiles != nil, t.ClearTable != nil} {
		if set {
			n++
		}
	}
	return n
}

// Machine applies transactions to table states. It implements
// txlog.Machine[*State, *Txn].
type Machine struct {
	// Initial is the partition tree of a table before its first transaction
	// (from the split points it was created with).
	Initial *partition.Tree
}

// New returns the state of a table with no transactions yet.
func (m Machine) New() *State { return newState(m.Initial.Clone()) }

// Clone returns a copy of s that Apply may change.
func (m Machine) Clone(s *State) *State { return s.clone() }

// Apply applies t to s, or returns why it does not apply.
func (m Machine) Apply(s *State, t *Txn, at txlog.Meta) error {
	if t == nil {
		return fmt.Errorf("%w: null transaction", ErrInvalid)
	}
	if t.ID == "" {
		return fmt.Errorf("%w: transaction has no id", ErrInvalid)
	}
	if t.ops() != 1 {
		return fmt.Errorf("%w: transaction %s has %d operations, want 1", ErrInvalid, t.ID, t.ops())
	}
	// An operation may leave s half changed when it fails: the log then
	// throws s away (see txlog.Machine).
	scratch := s
	var err error
	switch {
	case t.InitPartitions != nil:
		err = scratch.initPartitions(t.InitPartitions)
	case t.AddFiles != nil:
		if err = scratch.once(t.AddFiles.Once); err == nil {
			err = scratch.addFiles(t.ID, t.AddFiles.Files, "", 0)
		}
	case t.SplitPartition != nil:
		err = scratch.splitPartition(t.SplitPartition, at)
	case t.SplitFileRefs != nil:
		err = scratch.splitFileRefs(t.SplitFileRefs)
	case t.AssignJob != nil:
		err = scratch.assignJob(t.AssignJob, at)
	case t.ClaimJob != nil:
		err = scratch.claimJob(t.ClaimJob, at)
	case t.RenewJob != nil:
		err = scratch.renewJob(t.RenewJob, at)
	case t.ReleaseJob != nil:
		err = scratch.releaseJob(t.ReleaseJob, at)
	case t.ReplaceFiles != nil:
		err = scratch.replaceFiles(t.ID, t.ReplaceFiles, at)
	case t.DeleteFiles != nil:
		err = scratch.deleteFiles(t.DeleteFiles)
	case t.ClearTable != nil:
		scratch.clearTable(at)
	}
	if err != nil {
		if isDuplicate(err) {
			return err
		}
		return fmt.Errorf("%w: %s %s: %w", ErrInvalid, t.Kind(), t.ID, err)
	}
	scratch.markUnreferenced(at)
	return nil
}

func isDuplicate(err error) bool { return err == ErrDuplicate }

func (s *State) initPartitions(op *InitPartitions) error {
	if op.Partitions == nil {
		return fmt.Errorf("no partitions")
	}
	if err := op.Partitions.Check(); err != nil {
		return err
	}
	if op.Partitions.Dims() != s.Partitions.Dims() {
		return fmt.Errorf("tree has %d dimensions, table has %d", op.Partitions.Dims(), s.Partitions.Dims())
	}
	for _, rs := range s.refs {
		if rs.n > 0 {
			return fmt.Errorf("table holds data; partitions can only be initialised when empty")
		}
	}
	s.Partitions = op.Partitions.Clone()
	s.refs = map[string]*cowMap[*FileRef]{}
	return nil
}

// addFiles adds files and their references. job is the compaction job whose
// outputs these are, or "" for an ingest; seq is the outputs' Seq (an
// ingested file takes the next of the state's counter).
func (s *State) addFiles(txnID string, files []NewFile, job string, seq uint64) error {
	if len(files) == 0 && job == "" {
		return fmt.Errorf("no files")
	}
	for i, nf := range files {
		f := nf.File
		if f.Key == "" {
			return fmt.Errorf("file %d has no key", i+1)
		}
		if old, ok := s.file(f.Key); ok {
			if old.AddedBy == txnID {
				return ErrDuplicate
			}
			return fmt.Errorf("file %s already exists", f.Key)
		}
		if f.Rows < 0 || f.Bytes < 0 {
			return fmt.Errorf("file %s has negative size", f.Key)
		}
		if len(f.MinKey) != len(f.MaxKey) || (len(f.MinKey) > 0 && len(f.MinKey) != s.Partitions.Dims()) {
			return fmt.Errorf("file %s has min/max keys of %d/%d dimensions, table has %d", f.Key, len(f.MinKey), len(f.MaxKey), s.Partitions.Dims())
		}
		if len(f.MinKey) > 0 && bytes.Compare(f.MinKey[0], f.MaxKey[0]) > 0 {
			return fmt.Errorf("file %s has min key above max key", f.Key)
		}
		if len(nf.Refs) == 0 {
			return fmt.Errorf("file %s has no references", f.Key)
		}
		f.AddedBy = txnID
		f.Seq = seq
		if job == "" {
			s.fileSeq++
			f.Seq = s.fileSeq
		}
		f.Refs = 0
		f.UnreferencedSince = nil
		s.putFile(&f)
		for _, pr := range nf.Refs {
			if err := s.addRef(&f, pr, len(nf.Refs) == 1); err != nil {
				return err
			}
		}
	}
	return nil
}

// addRef references file f from partition pr.Partition, pushing the
// reference down to leaves if the partition has been split.
func (s *State) addRef(f *File, pr PartRows, whole bool) error {
	p, ok := s.Partitions.Get(pr.Partition)
	if !ok {
		return fmt.Errorf("file %s: no partition %s", f.Key, pr.Partition)
	}
	if pr.Rows < 0 || pr.Rows > f.Rows {
		return fmt.Errorf("file %s: %d rows in partition %s of a %d-row file", f.Key, pr.Rows, pr.Partition, f.Rows)
	}
	if len(f.MinKey) > 0 && !p.Region[0].Overlaps(f.MinKey[0], f.MaxKey[0]) {
		return fmt.Errorf("file %s holds no keys of partition %s", f.Key, p.ID)
	}
	if len(f.MinKey) > 0 && whole && (!p.Region[0].Contains(f.MinKey[0]) || !p.Region[0].Contains(f.MaxKey[0])) {
		return fmt.Errorf("file %s has keys outside partition %s", f.Key, p.ID)
	}
	leaves := s.leavesMeeting(p.ID, f)
	for i, leaf := range leaves {
		if _, dup := s.ref(leaf.ID, f.Key); dup {
			return fmt.Errorf("file %s is referenced twice by partition %s", f.Key, leaf.ID)
		}
		s.putRef(&FileRef{
			File:      f.Key,
			Partition: leaf.ID,
			Rows:      share(pr.Rows, len(leaves), i),
			Whole:     whole && len(leaves) == 1,
		})
	}
	return nil
}

// leavesMeeting returns the leaves at or below partition id whose region the
// file's rows may fall in (its key range is known on dimension 0 only).
func (s *State) leavesMeeting(id string, f *File) []*partition.Partition {
	all := s.Partitions.Descendants(id)
	if len(f.MinKey) == 0 {
		return all
	}
	var out []*partition.Partition
	for _, leaf := range all {
		if leaf.Region[0].Overlaps(f.MinKey[0], f.MaxKey[0]) {
			out = append(out, leaf)
		}
	}
	return out
}

// share divides n into parts nearly equal shares and returns share i.
func share(n int64, parts, i int) int64 {
	q, r := n/int64(parts), n%int64(parts)
	if int64(i) < r {
		return q + 1
	}
	return q
}

func (s *State) putRef(r *FileRef) {
	s.writableRefs(r.Partition).put(r.File, r)
	old, _ := s.file(r.File)
	f := *old
	f.Refs++
	f.UnreferencedSince = nil
	s.putFile(&f)
}

// setRef replaces an existing reference.
func (s *State) setRef(r *FileRef) { s.writableRefs(r.Partition).put(r.File, r) }

func (s *State) dropRef(r *FileRef) {
	refs := s.writableRefs(r.Partition)
	refs.del(r.File)
	if refs.n == 0 {
		delete(s.refs, r.Partition)
	}
	old, _ := s.file(r.File)
	f := *old
	f.Refs--
	s.putFile(&f)
	if f.Refs == 0 {
		s.unreferenced = append(s.unreferenced, f.Key)
	}
}

// markUnreferenced stamps files whose last reference went in this
// transaction.
func (s *State) markUnreferenced(at txlog.Meta) {
	for _, k := range s.unreferenced {
		if f, ok := s.file(k); ok && f.Refs == 0 && f.UnreferencedSince == nil {
			c := *f
			t := at.Time
			c.UnreferencedSince = &t
			s.putFile(&c)
		}
	}
	s.unreferenced = s.unreferenced[:0]
}

func (s *State) splitPartition(op *SplitPartition, at txlog.Meta) error {
	old := s.PartitionRefs(op.Partition)
	if err := s.Partitions.Split(op.Partition, op.Dim, op.Point, op.Left, op.Right); err != nil {
		return err
	}
	// The jobs of the partition are gone; their commits will fail cleanly.
	for _, r := range old {
		if j, ok := s.jobs[r.Job]; ok {
			s.dropJob(j, "partition "+op.Partition+" was split", at)
		}
	}
	for _, r := range old {
		s.dropRef(r)
		f, _ := s.file(r.File)
		leaves := s.leavesMeeting(op.Partition, f)
		est, hasEst := op.Rows[r.File]
		for i, leaf := range leaves {
			rows := share(r.Rows, len(leaves), i)
			if hasEst && len(leaves) == 2 {
				rows = min(max(est[i], 0), f.Rows)
			}
			s.putRef(&FileRef{File: r.File, Partition: leaf.ID, Rows: rows, Whole: r.Whole && len(leaves) == 1})
		}
	}
	return nil
}

func (s *State) splitFileRefs(op *SplitFileRefs) error {
	r, ok := s.ref(op.From, op.File)
	if !ok {
		return fmt.Errorf("partition %s does not reference %s", op.From, op.File)
	}
	if r.Job != "" {
		return fmt.Errorf("reference %s/%s is held by job %s", op.From, op.File, r.Job)
	}
	from, _ := s.Partitions.Get(op.From)
	if len(op.To) == 0 {
		return fmt.Errorf("no target partitions")
	}
	f, _ := s.file(op.File)
	seen := map[string]bool{}
	for _, to := range op.To {
		p, ok := s.Partitions.Get(to.Partition)
		if !ok || !p.IsLeaf() {
			return fmt.Errorf("target %s is not a leaf partition", to.Partition)
		}
		if seen[to.Partition] {
			return fmt.Errorf("target %s named twice", to.Partition)
		}
		seen[to.Partition] = true
		if !inside(p.Region, from.Region) {
			return fmt.Errorf("target %s is not inside partition %s", to.Partition, op.From)
		}
		if to.Partition != op.From {
			if _, dup := s.ref(to.Partition, op.File); dup {
				return fmt.Errorf("partition %s already references %s", to.Partition, op.File)
			}
		}
		if to.Rows < 0 || to.Rows > f.Rows {
			return fmt.Errorf("target %s: %d rows of a %d-row file", to.Partition, to.Rows, f.Rows)
		}
	}
	s.dropRef(r)
	for _, to := range op.To {
		s.putRef(&FileRef{File: op.File, Partition: to.Partition, Rows: to.Rows, Whole: r.Whole && len(op.To) == 1})
	}
	return nil
}

func inside(inner, outer []partition.Range) bool {
	for d := range inner {
		if bytes.Compare(inner[d].Min, outer[d].Min) < 0 {
			return false
		}
		if len(outer[d].Max) > 0 && (len(inner[d].Max) == 0 || bytes.Compare(inner[d].Max, outer[d].Max) > 0) {
			return false
		}
	}
	return true
}

func (s *State) deleteFiles(op *DeleteFiles) error {
	if len(op.Files) == 0 {
		return fmt.Errorf("no files")
	}
	for _, k := range op.Files {
		f, ok := s.file(k)
		if !ok {
			return fmt.Errorf("no file %s", k)
		}
		if f.Refs > 0 {
			return fmt.Errorf("file %s still has %d references", k, f.Refs)
		}
	}
	for _, k := range op.Files {
		s.deleteFile(k)
	}
	return nil
}

func (s *State) clearTable(at txlog.Meta) {
	for _, j := range s.Jobs() {
		s.dropJob(j, "table cleared", at)
	}
	for _, p := range s.Partitions.Leaves() {
		for _, r := range s.PartitionRefs(p.ID) {
			s.dropRef(r)
		}
	}
	s.refs = map[string]*cowMap[*FileRef]{}
}
