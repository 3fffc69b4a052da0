package state

import (
	"fmt"
	"sort"
	"time"

	"github.com/dormousedb/dormouse/storage/txlog"
)

// A compaction job lives in the state from AssignJob until ReplaceFiles
// commits it or ReleaseJob drops it. Between the two, workers take it with
// ClaimJob and keep it with RenewJob: a claim is a lease that ends at a time
// of the log's clock (the entry times), so a worker that stops renewing,
// because it crashed or stalled, loses the job to the next claim after the
// lease, and its late commit is refused. Every decision is made by Apply
// from the entry's time, so replaying the log reaches the same state.

// Job kinds.
const (
	// KindCompact merges files a strategy chose.
	KindCompact = "compact"
	// KindSplit rewrites into a leaf the files that a partition split left
	// referenced from more than one leaf.
	KindSplit = "split"
)

// Job statuses in the history.
const (
	JobFinished = "finished" // committed by ReplaceFiles
	JobFailed   = "failed"   // an attempt failed; the job went back to pending
	JobDropped  = "dropped"  // given up; its references are free again
)

const (
	// MaxJobAttempts is how many claims a job gets: a job released after
	// this many is dropped, and one whose last lease expired can no longer
	// be claimed (a worker drops it with ReleaseJob).
	MaxJobAttempts = 3
	// JobHistoryLen bounds the finished, failed and dropped attempts the
	// state remembers for reports.
	JobHistoryLen = 1000
)

// Job is a compaction job that holds file references of one partition.
// Values are immutable: a change stores a changed copy.
type Job struct {
	ID        string    `json:"id"`
	Partition string    `json:"partition"`
	Files     []string  `json:"files"` // sorted
	Kind      string    `json:"kind"`
	Created   time.Time `json:"created"`
	// Worker holds the job until LeaseUntil; "" while pending.
	Worker     string    `json:"worker,omitempty"`
	LeaseUntil time.Time `json:"lease_until,omitzero"`
	Started    time.Time `json:"started,omitzero"` // first claim
	Attempts   int       `json:"attempts,omitempty"`
	LastError  string    `json:"last_error,omitempty"` // of the last failed attempt
}

// Held reports whether a worker holds the job at time now: claimed, and
// the lease not yet over.
func (j *Job) Held(now time.Time) bool { return j.Worker != "" && now.Before(j.LeaseUntil) }

// Claimable reports whether worker may claim the job at time now, as
// ClaimJob decides it.
func (j *Job) Claimable(worker string, now time.Time) bool {
	if j.Worker == worker {
		return true
	}
	return !j.Held(now) && j.Attempts < MaxJobAttempts
}

// JobRecord is one ended attempt of a job, for reports.
type JobRecord struct {
	ID         string    `json:"id"`
	Partition  string    `json:"partition"`
	Kind       string    `json:"kind"`
	InputFiles int       `json:"input_files"`
	Status     string    `json:"status"` // JobFinished, JobFailed or JobDropped
	Worker     string    `json:"worker,omitempty"`
	Created    time.Time `json:"created"`
	Started    time.Time `json:"started,omitzero"`
	Finished   time.Time `json:"finished"`
	// InputRows is exact for a finished job, else the references' estimate.
	InputRows  int64  `json:"input_rows"`
	OutputRows int64  `json:"output_rows"`
	Error      string `json:"error,omitempty"`
	Attempts   int    `json:"attempts"`
}

// AssignJob creates a pending job holding the references it will replace,
// so that no other job can take them.
type AssignJob struct {
	Job       string   `json:"job"`
	Partition string   `json:"partition"`
	Files     []string `json:"files"`
	Kind      string   `json:"kind,omitempty"` // KindCompact (the default) or KindSplit
}

// ClaimJob gives a job to a worker until the entry's time plus Lease. It
// applies when the job is pending, when its lease is over, or when Worker
// already holds it; a claim after MaxJobAttempts is refused.
type ClaimJob struct {
	Job    string        `json:"job"`
	Worker string        `json:"worker"`
	Lease  time.Duration `json:"lease"`
}

// RenewJob extends the lease of the worker that holds a job to the entry's
// time plus Lease. It is refused to any other worker: one that sees the
// refusal has lost the job and must stop working on it.
type RenewJob struct {
	Job    string        `json:"job"`
	Worker string        `json:"worker"`
	Lease  time.Duration `json:"lease"`
}

// ReleaseJob ends a failed attempt: the job goes back to pending with its
// references, or, with Drop or after MaxJobAttempts attempts, is dropped and
// its references freed. It applies for the worker that holds the job, and
// for any worker once the lease is over (to drop an abandoned job).
type ReleaseJob struct {
	Job    string `json:"job"`
	Worker string `json:"worker"`
	Error  string `json:"error,omitempty"`
	Drop   bool   `json:"drop,omitempty"`
}

// ReplaceFiles commits a compaction: the job's input references are replaced
// by the outputs' (none when every input row was dropped). When Worker is
// set it must hold the job, so a worker that lost its lease cannot commit.
type ReplaceFiles struct {
	Job        string    `json:"job"`
	Outputs    []NewFile `json:"outputs,omitempty"`
	Worker     string    `json:"worker,omitempty"`
	InputRows  int64     `json:"input_rows,omitempty"`
	OutputRows int64     `json:"output_rows,omitempty"`
	Started    time.Time `json:"started,omitzero"` // when the worker began the run
}

// Jobs returns the pending and running compaction jobs sorted by id.
func (s *State) Jobs() []*Job {
	out := make([]*Job, 0, len(s.jobs))
	for _, j := range s.jobs {
		out = append(out, j)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Job returns a compaction job by id.
func (s *State) Job(id string) (*Job, bool) {
	j, ok := s.jobs[id]
	return j, ok
}

// JobHistory returns the last JobHistoryLen ended attempts, oldest first.
// The slice is shared: callers must not change it.
func (s *State) JobHistory() []*JobRecord { return s.history }

func (s *State) assignJob(op *AssignJob, at txlog.Meta) error {
	if op.Job == "" {
		return fmt.Errorf("job has no id")
	}
	if _, ok := s.jobs[op.Job]; ok {
		return fmt.Errorf("job %s already exists", op.Job)
	}
	kind := op.Kind
	switch kind {
	case "":
		kind = KindCompact
	case KindCompact, KindSplit:
	default:
		return fmt.Errorf("job %s has unknown kind %q", op.Job, op.Kind)
	}
	if len(op.Files) == 0 {
		return fmt.Errorf("job %s has no files", op.Job)
	}
	files := append([]string(nil), op.Files...)
	sort.Strings(files)
	for i, f := range files {
		if i > 0 && files[i-1] == f {
			return fmt.Errorf("job %s names file %s twice", op.Job, f)
		}
		r, ok := s.ref(op.Partition, f)
		if !ok {
			return fmt.Errorf("partition %s does not reference %s", op.Partition, f)
		}
		if r.Job != "" {
			return fmt.Errorf("reference %s/%s is already held by job %s", op.Partition, f, r.Job)
		}
	}
	for _, f := range files {
		r, _ := s.ref(op.Partition, f)
		c := *r
		c.Job = op.Job
		s.setRef(&c)
	}
	s.jobs[op.Job] = &Job{ID: op.Job, Partition: op.Partition, Files: files, Kind: kind, Created: at.Time}
	return nil
}

// lookupJob returns the job, or ErrJobGone.
func (s *State) lookupJob(id string) (*Job, error) {
	j, ok := s.jobs[id]
	if !ok {
		return nil, fmt.Errorf("%w: no job %s (committed, dropped, or its partition was split)", ErrJobGone, id)
	}
	return j, nil
}

// holder returns the job if worker holds it, else ErrJobGone.
func (s *State) holder(id, worker string) (*Job, error) {
	j, err := s.lookupJob(id)
	if err != nil {
		return nil, err
	}
	if j.Worker != worker {
		return nil, fmt.Errorf("%w: job %s is held by %q, not %q", ErrJobGone, id, j.Worker, worker)
	}
	return j, nil
}

func checkLease(worker string, lease time.Duration) error {
	if worker == "" {
		return fmt.Errorf("no worker")
	}
	if lease <= 0 {
		return fmt.Errorf("lease %v is not positive", lease)
	}
	return nil
}

func (s *State) claimJob(op *ClaimJob, at txlog.Meta) error {
	if err := checkLease(op.Worker, op.Lease); err != nil {
		return err
	}
	j, err := s.lookupJob(op.Job)
	if err != nil {
		return err
	}
	if !j.Claimable(op.Worker, at.Time) {
		if j.Held(at.Time) {
			return fmt.Errorf("job %s is held by %s until %s", op.Job, j.Worker, j.LeaseUntil.Format(time.RFC3339Nano))
		}
		return fmt.Errorf("job %s has had its %d attempts", op.Job, j.Attempts)
	}
	c := *j
	c.Worker = op.Worker
	c.LeaseUntil = at.Time.Add(op.Lease)
	if c.Started.IsZero() {
		c.Started = at.Time
	}
	c.Attempts++
	s.jobs[c.ID] = &c
	return nil
}

func (s *State) renewJob(op *RenewJob, at txlog.Meta) error {
	if err := checkLease(op.Worker, op.Lease); err != nil {
		return err
	}
	j, err := s.holder(op.Job, op.Worker)
	if err != nil {
		return err
	}
	c := *j
	c.LeaseUntil = at.Time.Add(op.Lease)
	s.jobs[c.ID] = &c
	return nil
}

func (s *State) releaseJob(op *ReleaseJob, at txlog.Meta) error {
	if op.Worker == "" {
		return fmt.Errorf("no worker")
	}
	j, err := s.lookupJob(op.Job)
	if err != nil {
		return err
	}
	if j.Worker != op.Worker && (j.Worker == "" || j.Held(at.Time)) {
		return fmt.Errorf("%w: job %s is held by %q until %s", ErrJobGone, op.Job, j.Worker, j.LeaseUntil.Format(time.RFC3339Nano))
	}
	if op.Drop || j.Attempts >= MaxJobAttempts {
		s.dropJob(j, op.Error, at)
		return nil
	}
	s.record(j, JobFailed, op.Error, at, s.refRows(j), 0, j.Started)
	c := *j
	c.Worker, c.LeaseUntil, c.LastError = "", time.Time{}, op.Error
	s.jobs[c.ID] = &c
	return nil
}

// dropJob forgets a job, freeing the references it holds, and records why.
func (s *State) dropJob(j *Job, why string, at txlog.Meta) {
	s.record(j, JobDropped, why, at, s.refRows(j), 0, j.Started)
	delete(s.jobs, j.ID)
	for _, f := range j.Files {
		if r, ok := s.ref(j.Partition, f); ok && r.Job == j.ID {
			c := *r
			c.Job = ""
			s.setRef(&c)
		}
	}
}

// refRows is the estimated number of input rows of a job.
func (s *State) refRows(j *Job) int64 {
	var n int64
	for _, f := range j.Files {
		if r, ok := s.ref(j.Partition, f); ok {
			n += r.Rows
		}
	}
	return n
}

// record appends an ended attempt to the history. The history slice is
// shared by every state cloned from this one, so it is copied, never
// appended to in place; that costs one copy per ended job, not per clone.
func (s *State) record(j *Job, status, errMsg string, at txlog.Meta, in, out int64, started time.Time) {
	drop := max(len(s.history)+1-JobHistoryLen, 0)
	h := make([]*JobRecord, 0, len(s.history)-drop+1)
	h = append(h, s.history[drop:]...)
	s.history = append(h, &JobRecord{
		ID: j.ID, Partition: j.Partition, Kind: j.Kind, InputFiles: len(j.Files), Status: status,
		Worker: j.Worker, Created: j.Created, Started: started, Finished: at.Time,
		InputRows: in, OutputRows: out, Error: errMsg, Attempts: j.Attempts,
	})
}

func (s *State) replaceFiles(txnID string, op *ReplaceFiles, at txlog.Meta) error {
	j, err := s.lookupJob(op.Job)
	if err != nil {
		if len(op.Outputs) > 0 {
			if f, ok := s.file(op.Outputs[0].File.Key); ok && f.AddedBy == txnID {
				return ErrDuplicate
			}
		}
		return err
	}
	if op.Worker != "" && j.Worker != op.Worker {
		return fmt.Errorf("%w: job %s is held by %q, not %q", ErrJobGone, op.Job, j.Worker, op.Worker)
	}
	if op.InputRows < 0 || op.OutputRows < 0 {
		return fmt.Errorf("job %s: negative row counts", op.Job)
	}
	for _, f := range j.Files {
		r, ok := s.ref(j.Partition, f)
		if !ok || r.Job != op.Job {
			return fmt.Errorf("%w: job %s no longer holds %s/%s", ErrJobGone, op.Job, j.Partition, f)
		}
	}
	var seq uint64
	for _, f := range j.Files {
		r, _ := s.ref(j.Partition, f)
		if in, _ := s.file(f); in.Seq > seq {
			seq = in.Seq
		}
		s.dropRef(r)
	}
	delete(s.jobs, op.Job)
	started := op.Started
	if started.IsZero() {
		started = j.Started
	}
	s.record(j, JobFinished, "", at, op.InputRows, op.OutputRows, started)
	return s.addFiles(txnID, op.Outputs, op.Job, seq)
}

// checkJobs verifies the jobs and the history.
func (s *State) checkJobs() error {
	for id, j := range s.jobs {
		if j.ID != id {
			return fmt.Errorf("job %s is filed under %s", j.ID, id)
		}
		if j.Kind != KindCompact && j.Kind != KindSplit {
			return fmt.Errorf("job %s has unknown kind %q", id, j.Kind)
		}
		if p, ok := s.Partitions.Get(j.Partition); !ok || !p.IsLeaf() {
			return fmt.Errorf("job %s is on %s, not a leaf partition", id, j.Partition)
		}
		if (j.Worker == "") != j.LeaseUntil.IsZero() {
			return fmt.Errorf("job %s has worker %q but lease until %v", id, j.Worker, j.LeaseUntil)
		}
		if j.Attempts < 0 || j.Attempts > MaxJobAttempts || (j.Worker != "" && j.Attempts == 0) {
			return fmt.Errorf("job %s has %d attempts with worker %q", id, j.Attempts, j.Worker)
		}
		if (j.Attempts > 0) == j.Started.IsZero() {
			return fmt.Errorf("job %s has %d attempts but started %v", id, j.Attempts, j.Started)
		}
		for i, f := range j.Files {
			if i > 0 && j.Files[i-1] >= f {
				return fmt.Errorf("job %s files are not sorted and distinct", id)
			}
			r, ok := s.ref(j.Partition, f)
			if !ok || r.Job != id {
				return fmt.Errorf("job %s claims %s/%s but does not hold it", id, j.Partition, f)
			}
		}
	}
	if len(s.history) > JobHistoryLen {
		return fmt.Errorf("job history holds %d records, bound is %d", len(s.history), JobHistoryLen)
	}
	for _, r := range s.history {
		switch r.Status {
		case JobFinished, JobFailed, JobDropped:
		default:
			return fmt.Errorf("job history: job %s has status %q", r.ID, r.Status)
		}
	}
	return nil
}
