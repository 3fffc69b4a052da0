package export

import (
	"fmt"
	"sort"
	"time"

	"github.com/dormousedb/dormouse/storage/txlog"
)

// The exports log's state: every export and import not yet forgotten,
// with its tasks. A task is claimed, renewed, finished and released like a
// compaction job (storage/state/jobs.go): a claim is a lease that ends at a
// time of the log's clock, so every decision is made by Apply from the
// entry's time and a replay reaches the same state.

// Kinds of record.
const (
	KindExport = "export"
	KindImport = "import"
)

// Statuses of an export and of a task.
const (
	StatusRunning = "running" // export: tasks pending or running
	StatusDone    = "done"    // export: manifest written (import: every task committed)
	StatusFailed  = "failed"

	TaskPending = "pending"
	TaskRunning = "running"
	TaskDone    = "done"
	TaskFailed  = "failed"
)

const (
	// MaxAttempts is how many claims a task gets; a task released after
	// this many, or whose last lease ran out, fails its export.
	MaxAttempts = 3
	// HistoryLen bounds the ended exports the state remembers.
	HistoryLen = 200
)

// Export is one export or import. Values are immutable: a change stores a
// changed copy.
type Export struct {
	ID      string  `json:"id"`
	Kind    string  `json:"kind"`
	Target  Target  `json:"target"`
	Options Options `json:"options"`
	// Query is what an export writes; Table (and TableID, to tell a table
	// dropped and created again) what an import fills.
	Query   *Query   `json:"query,omitempty"`
	Table   string   `json:"table,omitempty"`
	TableID string   `json:"table_id,omitempty"`
	Columns []Column `json:"columns,omitempty"`
	// SortedBy are the output columns every file is sorted by, in order
	// (Parquet's sorting-columns metadata); empty when the order is
	// not known.
	SortedBy []int  `json:"sorted_by,omitempty"`
	Tasks    []Task `json:"tasks"`
	// By names who started it (a worker name, a session).
	By       string    `json:"by,omitempty"`
	Created  time.Time `json:"created"`
	Finished time.Time `json:"finished,omitzero"`
	Status   string    `json:"status"`
	Error    string    `json:"error,omitempty"`
	// Cleaned is set once a failed export's files have been deleted.
	Cleaned bool `json:"cleaned,omitempty"`
}

// Query is an export's query, as every task runs it: the statement, the
// log sequence number of every table it reads, and its time.
type Query struct {
	SQL    string `json:"sql"`
	Tables []Pin  `json:"tables,omitempty"`
	// Now is the statement's time, microseconds since the epoch.
	Now int64 `json:"now"`
}

// Pin is a table as the query read it.
type Pin struct {
	Name string `json:"name"`
	ID   string `json:"id"`
	Seq  uint64 `json:"log_seq"`
}

// Column is a result column, for the manifest.
type Column struct {
	Name string `json:"name"`
	// Type is the PostgreSQL type name, Arrow the Arrow type.
	Type     string `json:"type"`
	Arrow    string `json:"arrow"`
	Nullable bool   `json:"nullable"`
}

// Task is one piece of an export (a leaf partition's rows, or the whole
// result) or of an import (a group of input files).
type Task struct {
	// Partition is the leaf partition an export task reads, "" for the
	// whole result.
	Partition string `json:"partition,omitempty"`
	// Inputs are an import task's files, relative to the source.
	Inputs []Input `json:"inputs,omitempty"`

	Status     string    `json:"status"`
	Worker     string    `json:"worker,omitempty"`
	LeaseUntil time.Time `json:"lease_until,omitzero"`
	Attempts   int       `json:"attempts,omitempty"`
	Started    time.Time `json:"started,omitzero"`
	Finished   time.Time `json:"finished,omitzero"`
	// Files are what a finished export task wrote, in order.
	Files []File `json:"files,omitempty"`
	Rows  int64  `json:"rows,omitempty"`
	Bytes int64  `json:"bytes,omitempty"`
	Error string `json:"error,omitempty"` // of the last failed attempt
}

// Input is one input file of an import.
type Input struct {
	Name  string `json:"name"`
	Bytes int64  `json:"bytes"`
}

// File is one file an export wrote.
type File struct {
	Name      string `json:"name"`
	Partition string `json:"partition,omitempty"`
	Rows      int64  `json:"rows"`
	Bytes     int64  `json:"bytes"`
}

// Held reports whether a worker holds the task at time now.
func (t *Task) Held(now time.Time) bool { return t.Worker != "" && now.Before(t.LeaseUntil) }

// Claimable reports whether worker may claim the task at time now.
func (t *Task) Claimable(worker string, now time.Time) bool {
	switch t.Status {
	case TaskPending:
		return t.Attempts < MaxAttempts
	case TaskRunning:
		return t.Worker == worker || (!t.Held(now) && t.Attempts < MaxAttempts)
	}
	return false
}

// Rows is the rows of the finished tasks; Bytes their bytes.
func (e *Export) Rows() (rows, bytes int64) {
	for i := range e.Tasks {
		rows += e.Tasks[i].Rows
		bytes += e.Tasks[i].Bytes
	}
	return rows, bytes
}

// Count returns how many tasks are in each status.
func (e *Export) Count(status string) int {
	n := 0
	for i := range e.Tasks {
		if e.Tasks[i].Status == status {
			n++
		}
	}
	return n
}

// Ended reports whether the export is done or failed.
func (e *Export) Ended() bool { return e.Status != StatusRunning }

// State is the exports log's state.
type State struct {
	Exports map[string]*Export `json:"exports"`
}

// List returns the exports, newest first.
func (s *State) List() []*Export {
	out := make([]*Export, 0, len(s.Exports))
	for _, e := range s.Exports {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.After(out[j].Created)
		}
		return out[i].ID > out[j].ID
	})
	return out
}

// Txn is one change of the exports log; exactly one field is set.
type Txn struct {
	Create   *Export   `json:"create,omitempty"`
	Claim    *Claim    `json:"claim,omitempty"`
	Renew    *Claim    `json:"renew,omitempty"`
	Finish   *Finish   `json:"finish,omitempty"`
	Release  *Release  `json:"release,omitempty"`
	Complete *Complete `json:"complete,omitempty"`
	Fail     *Fail     `json:"fail,omitempty"`
	Cleaned  *Complete `json:"cleaned,omitempty"`
}

// Claim gives a task to a worker until the entry's time plus Lease; Renew
// extends the lease of the worker that holds it.
type Claim struct {
	Export string        `json:"export"`
	Task   int           `json:"task"`
	Worker string        `json:"worker"`
	Lease  time.Duration `json:"lease"`
}

// Finish ends a task that its worker holds with what it wrote.
type Finish struct {
	Export string `json:"export"`
	Task   int    `json:"task"`
	Worker string `json:"worker"`
	Files  []File `json:"files,omitempty"`
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
}

// Release ends a failed attempt: the task goes back to pending, or with
// Permanent (the error would recur) or after MaxAttempts, fails and fails
// its export. It applies for the holder, and for anyone once the lease is
// over.
type Release struct {
	Export    string `json:"export"`
	Task      int    `json:"task"`
	Worker    string `json:"worker"`
	Error     string `json:"error"`
	Permanent bool   `json:"permanent,omitempty"`
}

// Complete marks an export whose tasks are all done as done (its
// manifest written); as Cleaned, it marks a failed export's files deleted.
type Complete struct {
	Export string `json:"export"`
}

// Fail fails a running export: its statement was cancelled, or it cannot
// go on.
type Fail struct {
	Export string `json:"export"`
	Error  string `json:"error"`
}

// machine applies exports log transactions.
type machine struct{}

func (machine) New() *State { return &State{Exports: map[string]*Export{}} }

func (machine) Clone(s *State) *State {
	c := &State{Exports: make(map[string]*Export, len(s.Exports))}
	for k, v := range s.Exports {
		c.Exports[k] = v
	}
	return c
}

func (m machine) Apply(s *State, t *Txn, at txlog.Meta) error {
	if t == nil {
		return fmt.Errorf("%w: null transaction", errInvalid)
	}
	var err error
	switch {
	case t.Create != nil:
		err = s.create(t.Create, at)
	case t.Claim != nil:
		err = s.claim(t.Claim, at)
	case t.Renew != nil:
		err = s.renew(t.Renew, at)
	case t.Finish != nil:
		err = s.finish(t.Finish, at)
	case t.Release != nil:
		err = s.release(t.Release, at)
	case t.Complete != nil:
		err = s.complete(t.Complete, at)
	case t.Fail != nil:
		err = s.fail(t.Fail, at)
	case t.Cleaned != nil:
		err = s.cleaned(t.Cleaned)
	default:
		err = fmt.Errorf("empty transaction")
	}
	if err != nil {
		return fmt.Errorf("%w: %w", errInvalid, err)
	}
	return nil
}

// errInvalid wraps every reason a transaction does not apply.
var errInvalid = fmt.Errorf("exports log transaction does not apply")

func (s *State) create(e *Export, at txlog.Meta) error {
	if e.ID == "" {
		return fmt.Errorf("export has no id")
	}
	if _, ok := s.Exports[e.ID]; ok {
		return fmt.Errorf("export %s already exists", e.ID)
	}
	if e.Kind != KindExport && e.Kind != KindImport {
		return fmt.Errorf("export %s has kind %q", e.ID, e.Kind)
	}
	if (e.Kind == KindExport) != (e.Query != nil) {
		return fmt.Errorf("export %s: an export has a query, an import none", e.ID)
	}
	if len(e.Tasks) == 0 {
		return fmt.Errorf("export %s has no tasks", e.ID)
	}
	c := *e
	c.Tasks = make([]Task, len(e.Tasks))
	for i, t := range e.Tasks {
		c.Tasks[i] = Task{Partition: t.Partition, Inputs: t.Inputs, Status: TaskPending}
	}
	c.Created, c.Status, c.Finished, c.Error, c.Cleaned = at.Time, StatusRunning, time.Time{}, "", false
	s.Exports[c.ID] = &c
	s.forgetOld()
	return nil
}

// forgetOld drops the oldest ended exports beyond HistoryLen. A failed
// export is kept until its files are cleaned.
func (s *State) forgetOld() {
	var ended []*Export
	for _, e := range s.Exports {
		if e.Ended() && (e.Status != StatusFailed || e.Cleaned) {
			ended = append(ended, e)
		}
	}
	if len(ended) <= HistoryLen {
		return
	}
	sort.Slice(ended, func(i, j int) bool {
		if !ended[i].Finished.Equal(ended[j].Finished) {
			return ended[i].Finished.Before(ended[j].Finished)
		}
		return ended[i].ID < ended[j].ID
	})
	for _, e := range ended[:len(ended)-HistoryLen] {
		delete(s.Exports, e.ID)
	}
}

// task returns a copy of a running export and its task i, for changing.
func (s *State) task(id string, i int) (*Export, *Task, error) {
	e, ok := s.Exports[id]
	if !ok {
		return nil, nil, fmt.Errorf("no export %s", id)
	}
	if e.Status != StatusRunning {
		return nil, nil, fmt.Errorf("export %s is %s", id, e.Status)
	}
	if i < 0 || i >= len(e.Tasks) {
		return nil, nil, fmt.Errorf("export %s has no task %d", id, i)
	}
	c := *e
	c.Tasks = append([]Task(nil), e.Tasks...)
	s.Exports[id] = &c
	return &c, &c.Tasks[i], nil
}

func (s *State) claim(op *Claim, at txlog.Meta) error {
	if op.Worker == "" || op.Lease <= 0 {
		return fmt.Errorf("claim needs a worker and a positive lease")
	}
	_, t, err := s.task(op.Export, op.Task)
	if err != nil {
		return err
	}
	if !t.Claimable(op.Worker, at.Time) {
		if t.Held(at.Time) {
			return fmt.Errorf("task %d of %s is held by %s", op.Task, op.Export, t.Worker)
		}
		return fmt.Errorf("task %d of %s is %s after %d attempts", op.Task, op.Export, t.Status, t.Attempts)
	}
	if t.Worker != op.Worker || t.Status != TaskRunning {
		t.Attempts++
	}
	t.Status, t.Worker, t.LeaseUntil = TaskRunning, op.Worker, at.Time.Add(op.Lease)
	if t.Started.IsZero() {
		t.Started = at.Time
	}
	return nil
}

// held returns the task if worker holds it (claimed by it and not taken
// since, even if its lease ran out).
func (s *State) held(id string, i int, worker string) (*Export, *Task, error) {
	e, t, err := s.task(id, i)
	if err != nil {
		return nil, nil, err
	}
	if t.Status != TaskRunning || t.Worker != worker {
		return nil, nil, fmt.Errorf("task %d of %s is %s, held by %q, not %q", i, id, t.Status, t.Worker, worker)
	}
	return e, t, nil
}

func (s *State) renew(op *Claim, at txlog.Meta) error {
	if op.Lease <= 0 {
		return fmt.Errorf("lease %v is not positive", op.Lease)
	}
	_, t, err := s.held(op.Export, op.Task, op.Worker)
	if err != nil {
		return err
	}
	t.LeaseUntil = at.Time.Add(op.Lease)
	return nil
}

func (s *State) finish(op *Finish, at txlog.Meta) error {
	_, t, err := s.held(op.Export, op.Task, op.Worker)
	if err != nil {
		return err
	}
	if op.Rows < 0 || op.Bytes < 0 {
		return fmt.Errorf("task %d of %s: negative counts", op.Task, op.Export)
	}
	t.Status, t.Worker, t.LeaseUntil, t.Finished = TaskDone, op.Worker, time.Time{}, at.Time
	t.Files, t.Rows, t.Bytes, t.Error = op.Files, op.Rows, op.Bytes, ""
	return nil
}

func (s *State) release(op *Release, at txlog.Meta) error {
	e, t, err := s.task(op.Export, op.Task)
	if err != nil {
		return err
	}
	if t.Status != TaskRunning {
		return fmt.Errorf("task %d of %s is %s", op.Task, op.Export, t.Status)
	}
	if t.Worker != op.Worker && t.Held(at.Time) {
		return fmt.Errorf("task %d of %s is held by %s", op.Task, op.Export, t.Worker)
	}
	t.Worker, t.LeaseUntil, t.Error = "", time.Time{}, op.Error
	if !op.Permanent && t.Attempts < MaxAttempts {
		t.Status = TaskPending
		return nil
	}
	t.Status, t.Finished = TaskFailed, at.Time
	e.Status, e.Finished = StatusFailed, at.Time
	e.Error = fmt.Sprintf("task %d%s: %s", op.Task, partitionNote(t.Partition), op.Error)
	if !op.Permanent {
		e.Error += fmt.Sprintf(" (after %d attempts)", t.Attempts)
	}
	return nil
}

func partitionNote(p string) string {
	if p == "" {
		return ""
	}
	return " (partition " + p + ")"
}

func (s *State) complete(op *Complete, at txlog.Meta) error {
	e, ok := s.Exports[op.Export]
	if !ok {
		return fmt.Errorf("no export %s", op.Export)
	}
	if e.Status != StatusRunning {
		return fmt.Errorf("export %s is %s", op.Export, e.Status)
	}
	if n := e.Count(TaskDone); n != len(e.Tasks) {
		return fmt.Errorf("export %s has %d of %d tasks done", op.Export, n, len(e.Tasks))
	}
	c := *e
	c.Status, c.Finished = StatusDone, at.Time
	s.Exports[c.ID] = &c
	s.forgetOld()
	return nil
}

func (s *State) fail(op *Fail, at txlog.Meta) error {
	e, ok := s.Exports[op.Export]
	if !ok {
		return fmt.Errorf("no export %s", op.Export)
	}
	if e.Status != StatusRunning {
		return fmt.Errorf("export %s is %s", op.Export, e.Status)
	}
	c := *e
	c.Status, c.Finished, c.Error = StatusFailed, at.Time, op.Error
	s.Exports[c.ID] = &c
	return nil
}

func (s *State) cleaned(op *Complete) error {
	e, ok := s.Exports[op.Export]
	if !ok {
		return fmt.Errorf("no export %s", op.Export)
	}
	if e.Status != StatusFailed {
		return fmt.Errorf("export %s is %s, not failed", op.Export, e.Status)
	}
	c := *e
	c.Cleaned = true
	s.Exports[c.ID] = &c
	s.forgetOld()
	return nil
}
