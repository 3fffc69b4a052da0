package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dormousedb/dormouse/storage/objstore/local"
	"github.com/dormousedb/dormouse/storage/partition"
	"github.com/dormousedb/dormouse/storage/txlog"
)

// The apply helper runs transaction i at t0 + i minutes, so a lease of
// lease90 granted by transaction i is live at i+1 and over at i+2.
const lease90 = 90 * time.Second

func assign(job string, kind string, files ...string) *Txn {
	return &Txn{ID: "a-" + job, AssignJob: &AssignJob{Job: job, Partition: partition.RootID, Files: files, Kind: kind}}
}

func claim(id, job, worker string) *Txn {
	return &Txn{ID: id, ClaimJob: &ClaimJob{Job: job, Worker: worker, Lease: lease90}}
}

func renew(id, job, worker string) *Txn {
	return &Txn{ID: id, RenewJob: &RenewJob{Job: job, Worker: worker, Lease: lease90}}
}

func release(id, job, worker, msg string, drop bool) *Txn {
	return &Txn{ID: id, ReleaseJob: &ReleaseJob{Job: job, Worker: worker, Error: msg, Drop: drop}}
}

func commitJob(id, job, worker, out string) *Txn {
	return &Txn{ID: id, ReplaceFiles: &ReplaceFiles{Job: job, Worker: worker, InputRows: 20, OutputRows: 20,
		Outputs: []NewFile{{File: file(out, 20, 0, 15), Refs: []PartRows{{Partition: partition.RootID, Rows: 20}}}}}}
}

// twoFiles is the start of every job case: two files in the root.
func twoFiles(txns ...*Txn) []*Txn {
	return append([]*Txn{add("f1", file("f1", 10, 0, 9), partition.RootID), add("f2", file("f2", 10, 5, 15), partition.RootID)}, txns...)
}

func TestJobTransactions(t *testing.T) {
	cases := []struct {
		name    string
		txns    []*Txn // after the two files
		wantErr []string
		gone    []bool // per transaction: the refusal must be ErrJobGone
		check   func(t *testing.T, s *State)
	}{
		{
			name:    "assign kinds",
			txns:    []*Txn{assign("j1", "", "f1"), assign("j2", KindSplit, "f2"), assign("j3", "merge", "f2")},
			wantErr: []string{"", "", `unknown kind "merge"`},
			check: func(t *testing.T, s *State) {
				j1, _ := s.Job("j1")
				j2, _ := s.Job("j2")
				if j1.Kind != KindCompact || j2.Kind != KindSplit || !j1.Created.Equal(t0.Add(2*time.Minute)) {
					t.Fatalf("jobs %+v %+v", j1, j2)
				}
			},
		},
		{
			name: "claim a pending job, refuse a second worker while the lease lasts, give it after",
			txns: []*Txn{
				assign("j", "", "f1", "f2"),
				claim("c1", "j", "w1"),
				claim("c2", "j", "w2"),
				claim("c3", "j", "w2"),
			},
			wantErr: []string{"", "", "held by w1", ""},
			check: func(t *testing.T, s *State) {
				j, _ := s.Job("j")
				if j.Worker != "w2" || j.Attempts != 2 || !j.Started.Equal(t0.Add(3*time.Minute)) ||
					!j.LeaseUntil.Equal(t0.Add(5*time.Minute+lease90)) {
					t.Fatalf("job %+v", j)
				}
			},
		},
		{
			name:    "the holder may claim again; claims need a worker, a lease and a job",
			txns:    []*Txn{assign("j", "", "f1"), claim("c1", "j", "w1"), claim("c2", "j", "w1"), {ID: "c3", ClaimJob: &ClaimJob{Job: "j", Lease: time.Second}}, {ID: "c4", ClaimJob: &ClaimJob{Job: "j", Worker: "w", Lease: -1}}, claim("c5", "nope", "w1")},
			wantErr: []string{"", "", "", "no worker", "not positive", "no job nope"},
			gone:    []bool{false, false, false, false, false, true},
		},
		{
			name:    "renew only by the holder",
			txns:    []*Txn{assign("j", "", "f1"), claim("c1", "j", "w1"), renew("r1", "j", "w1"), renew("r2", "j", "w2"), renew("r3", "nope", "w1")},
			wantErr: []string{"", "", "", `held by "w1", not "w2"`, "no job nope"},
			gone:    []bool{false, false, false, true, true},
			check: func(t *testing.T, s *State) {
				if j, _ := s.Job("j"); !j.LeaseUntil.Equal(t0.Add(4*time.Minute + lease90)) {
					t.Fatalf("lease until %v", j.LeaseUntil)
				}
			},
		},
		{
			name: "a renewal keeps the job from the next claimer",
			txns: []*Txn{assign("j", "", "f1"), claim("c1", "j", "w1"), renew("r1", "j", "w1"), claim("c2", "j", "w2")},
			// c2 comes 2 minutes after the claim but 1 after the renewal.
			wantErr: []string{"", "", "", "held by w1"},
		},
		{
			name: "failed attempts go back to pending, the third is dropped and frees the references",
			txns: []*Txn{
				assign("j", "", "f1", "f2"),
				claim("c1", "j", "w1"), release("x1", "j", "w1", "boom 1", false),
				claim("c2", "j", "w2"), release("x2", "j", "w2", "boom 2", false),
				claim("c3", "j", "w1"), release("x3", "j", "w1", "boom 3", false),
			},
			wantErr: []string{"", "", "", "", "", "", ""},
			check: func(t *testing.T, s *State) {
				if len(s.Jobs()) != 0 || ref(s, partition.RootID, "f1").Job != "" || ref(s, partition.RootID, "f2").Job != "" {
					t.Fatalf("jobs %v", s.Jobs())
				}
				h := s.JobHistory()
				if got := statuses(h); got != "failed failed dropped" {
					t.Fatalf("history %s", got)
				}
				if h[1].Worker != "w2" || h[1].Error != "boom 2" || h[1].Attempts != 2 || h[2].InputRows != 20 ||
					!h[2].Finished.Equal(t0.Add(8*time.Minute)) || !h[2].Started.Equal(t0.Add(3*time.Minute)) {
					t.Fatalf("history %+v %+v", h[1], h[2])
				}
			},
		},
		{
			name:    "a pending job keeps its last error",
			txns:    []*Txn{assign("j", "", "f1"), claim("c1", "j", "w1"), release("x1", "j", "w1", "boom", false)},
			wantErr: []string{"", "", ""},
			check: func(t *testing.T, s *State) {
				if j, _ := s.Job("j"); j.Worker != "" || !j.LeaseUntil.IsZero() || j.LastError != "boom" || j.Attempts != 1 {
					t.Fatalf("job %+v", j)
				}
			},
		},
		{
			name:    "drop at once",
			txns:    []*Txn{assign("j", "", "f1"), claim("c1", "j", "w1"), release("x1", "j", "w1", "input missing", true), assign("j2", "", "f1")},
			wantErr: []string{"", "", "", ""},
			check: func(t *testing.T, s *State) {
				if got := statuses(s.JobHistory()); got != "dropped" {
					t.Fatalf("history %s", got)
				}
			},
		},
		{
			name: "release by another worker: refused while the lease lasts or before any claim, allowed after",
			txns: []*Txn{
				assign("j", "", "f1"),
				release("x0", "j", "w2", "", true),
				claim("c1", "j", "w1"),
				release("x1", "j", "w2", "", true),
				release("x2", "j", "w2", "abandoned", true),
			},
			wantErr: []string{"", `held by ""`, "", `held by "w1"`, ""},
			gone:    []bool{false, true, false, true, false},
		},
		{
			name: "an exhausted job whose lease ran out cannot be claimed; anyone may drop it",
			txns: []*Txn{
				assign("j", "", "f1"),
				claim("c1", "j", "w1"), release("x1", "j", "w1", "", false),
				claim("c2", "j", "w1"), release("x2", "j", "w1", "", false),
				claim("c3", "j", "w1"),
				renew("r", "j", "w1"), // keeps it two minutes more
				claim("c4", "j", "w2"),
				claim("c5", "j", "w2"),
				release("x3", "j", "w2", "abandoned", false),
			},
			wantErr: []string{"", "", "", "", "", "", "", "held by w1", "had its 3 attempts", ""},
			check: func(t *testing.T, s *State) {
				if len(s.Jobs()) != 0 || statuses(s.JobHistory()) != "failed failed dropped" {
					t.Fatalf("jobs %v history %s", s.Jobs(), statuses(s.JobHistory()))
				}
			},
		},
		{
			name: "commit by the holder is recorded",
			txns: []*Txn{assign("j", "", "f1", "f2"), claim("c1", "j", "w1"),
				{ID: "r", ReplaceFiles: &ReplaceFiles{Job: "j", Worker: "w1", InputRows: 20, OutputRows: 18, Started: t0.Add(150 * time.Second),
					Outputs: []NewFile{{File: file("f3", 18, 0, 15), Refs: []PartRows{{Partition: partition.RootID, Rows: 18}}}}}}},
			wantErr: []string{"", "", ""},
			check: func(t *testing.T, s *State) {
				h := s.JobHistory()
				want := JobRecord{ID: "j", Partition: partition.RootID, Kind: KindCompact, InputFiles: 2, Status: JobFinished, Worker: "w1",
					Created: t0.Add(2 * time.Minute), Started: t0.Add(150 * time.Second), Finished: t0.Add(4 * time.Minute),
					InputRows: 20, OutputRows: 18, Attempts: 1}
				if len(h) != 1 || *h[0] != want {
					t.Fatalf("history %+v", h)
				}
				if f, _ := s.File("f3"); f.Seq != 2 {
					t.Fatalf("output seq %d", f.Seq)
				}
			},
		},
		{
			name: "a worker that lost its lease cannot commit, before or after the new holder does",
			txns: []*Txn{
				assign("j", "", "f1", "f2"),
				claim("c1", "j", "w1"),
				claim("c2", "j", "w2"), // w1's lease is over
				claim("c3", "j", "w2"),
				commitJob("r1", "j", "w1", "late"),
				commitJob("r2", "j", "w2", "f3"),
				commitJob("r3", "j", "w1", "late"),
				renew("r4", "j", "w1"),
				release("r5", "j", "w1", "", false),
			},
			wantErr: []string{"", "", "held by w1", "", `held by "w2", not "w1"`, "", "no job j", "no job j", "no job j"},
			gone:    []bool{false, false, false, false, true, false, true, true, true},
			check: func(t *testing.T, s *State) {
				if _, ok := s.File("late"); ok || statuses(s.JobHistory()) != "finished" {
					t.Fatal("the late commit left a trace")
				}
			},
		},
		{
			name:    "a commit without a worker needs no claim",
			txns:    []*Txn{assign("j", "", "f1", "f2"), commitJob("r", "j", "", "f3")},
			wantErr: []string{"", ""},
		},
		{
			name:    "a retried commit is a duplicate",
			txns:    []*Txn{assign("j", "", "f1", "f2"), claim("c", "j", "w"), commitJob("r", "j", "w", "f3"), commitJob("r", "j", "w", "f3")},
			wantErr: []string{"", "", "", ErrDuplicate.Error()},
		},
		{
			name:    "a split drops the partition's jobs and records them",
			txns:    []*Txn{assign("j", "", "f1"), claim("c", "j", "w"), split("s", partition.RootID, 7, "L", "R"), commitJob("r", "j", "w", "f3")},
			wantErr: []string{"", "", "", "no job j"},
			gone:    []bool{false, false, false, true},
			check: func(t *testing.T, s *State) {
				h := s.JobHistory()
				if statuses(h) != "dropped" || !strings.Contains(h[0].Error, "split") || h[0].Worker != "w" {
					t.Fatalf("history %+v", h)
				}
			},
		},
		{
			name:    "clearing the table drops its jobs",
			txns:    []*Txn{assign("j", "", "f1"), {ID: "c", ClearTable: &ClearTable{}}},
			wantErr: []string{"", ""},
			check: func(t *testing.T, s *State) {
				if len(s.Jobs()) != 0 || statuses(s.JobHistory()) != "dropped" {
					t.Fatal("job survived")
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, errs := apply(t, twoFiles(c.txns...)...)
			errs = errs[2:]
			for i, err := range errs {
				want := c.wantErr[i]
				switch {
				case want == "" && err != nil:
					t.Fatalf("transaction %d: %v", i+1, err)
				case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
					t.Fatalf("transaction %d: got %v, want an error containing %q", i+1, err, want)
				case want != "" && want != ErrDuplicate.Error() && !errors.Is(err, ErrInvalid):
					t.Fatalf("transaction %d: %v is not ErrInvalid", i+1, err)
				}
				if c.gone != nil && c.gone[i] != errors.Is(err, ErrJobGone) {
					t.Fatalf("transaction %d: %v: ErrJobGone is %v, want %v", i+1, err, !c.gone[i], c.gone[i])
				}
			}
			if c.check != nil {
				c.check(t, s)
			}
		})
	}
}

func statuses(h []*JobRecord) string {
	var out []string
	for _, r := range h {
		out = append(out, r.Status)
	}
	return strings.Join(out, " ")
}

func TestJobHistoryIsBoundedAndShared(t *testing.T) {
	m := Machine{Initial: partition.New(1)}
	s := m.New()
	step := func(txn *Txn, i int) {
		t.Helper()
		next := m.Clone(s)
		if err := m.Apply(next, txn, txlog.Meta{Seq: uint64(i), Time: t0.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
		s = next
	}
	step(add("f", file("f", 10, 0, 9), partition.RootID), 0)
	var kept *State
	for i := range JobHistoryLen + 5 {
		job := fmt.Sprint("j", i)
		step(&Txn{ID: "a" + job, AssignJob: &AssignJob{Job: job, Partition: partition.RootID, Files: []string{"f"}}}, 3*i+1)
		step(claim("c"+job, job, "w"), 3*i+2)
		step(release("x"+job, job, "w", "", true), 3*i+3)
		if i == 10 {
			kept = s
		}
	}
	h := s.JobHistory()
	if len(h) != JobHistoryLen || h[0].ID != "j5" || h[len(h)-1].ID != fmt.Sprint("j", JobHistoryLen+4) {
		t.Fatalf("history of %d from %s to %s", len(h), h[0].ID, h[len(h)-1].ID)
	}
	// A state handed out earlier still sees its own history.
	if kh := kept.JobHistory(); len(kh) != 11 || kh[10].ID != "j10" {
		t.Fatalf("earlier state's history changed: %d records", len(kh))
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

// jobLog is a sequence with every job transaction in it, including ones
// refused, for replay and snapshot tests.
func jobLog() []*Txn {
	return twoFiles(
		assign("j1", "", "f1", "f2"),
		claim("c1", "j1", "w1"),
		renew("r1", "j1", "w1"),
		release("x1", "j1", "w1", "boom", false),
		claim("c2", "j1", "w2"),
		claim("c3", "j1", "w3"), // refused: w2 holds it
		commitJob("r2", "j1", "w2", "f3"),
		add("f4", file("f4", 10, 20, 30), partition.RootID),
		assign("j2", KindSplit, "f4"),
		claim("c4", "j2", "w1"),
	)
}

func TestJobReplayIsDeterministic(t *testing.T) {
	a, _ := apply(t, jobLog()...)
	b, _ := apply(t, jobLog()...)
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Fatalf("two replays differ:\n%s\n%s", ja, jb)
	}
	if statuses(a.JobHistory()) != "failed finished" || len(a.Jobs()) != 1 {
		t.Fatalf("history %s jobs %v", statuses(a.JobHistory()), a.Jobs())
	}
}

// TestJobReplayThroughLog commits job transactions through a real log and
// checks that a reader replaying the log from scratch, and one starting
// from a snapshot, reach the committer's state exactly (times come from
// the entries, not the readers' clocks).
func TestJobReplayThroughLog(t *testing.T) {
	ctx := context.Background()
	store, err := local.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m := Machine{Initial: partition.New(1)}
	open := func() *txlog.Log[*State, *Txn] {
		l, err := txlog.Open[*State, *Txn](ctx, store, "t/", m, txlog.Options{SnapshotEvery: -1})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	w := open()
	committed := 0
	for _, txn := range jobLog() {
		if _, err := w.Commit(ctx, txn); err == nil {
			committed++
		}
	}
	want, seq := w.Cached()
	if seq != uint64(committed) || len(want.JobHistory()) != 2 {
		t.Fatalf("seq %d after %d commits, history %d", seq, committed, len(want.JobHistory()))
	}
	wantJSON, _ := json.Marshal(want)
	got, _, err := open().Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if gotJSON, _ := json.Marshal(got); string(gotJSON) != string(wantJSON) {
		t.Fatalf("replay differs from the committer's state:\n%s\n%s", gotJSON, wantJSON)
	}
	if _, err := w.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	fromSnap, _, err := open().Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := fromSnap.Check(); err != nil {
		t.Fatal(err)
	}
	if gotJSON, _ := json.Marshal(fromSnap); string(gotJSON) != string(wantJSON) {
		t.Fatalf("snapshot differs from the committer's state:\n%s\n%s", gotJSON, wantJSON)
	}
}

func TestCheckCatchesBrokenJobs(t *testing.T) {
	base, _ := apply(t, twoFiles(assign("j", "", "f1"), claim("c", "j", "w"))...)
	cases := []struct {
		name   string
		change func(j *Job)
		want   string
	}{
		{"kind", func(j *Job) { j.Kind = "x" }, "unknown kind"},
		{"worker without lease", func(j *Job) { j.LeaseUntil = time.Time{} }, "lease until"},
		{"too many attempts", func(j *Job) { j.Attempts = MaxJobAttempts + 1 }, "attempts"},
		{"claimed without attempts", func(j *Job) { j.Attempts = 0 }, "attempts"},
		{"not started", func(j *Job) { j.Started = time.Time{} }, "started"},
		{"file it does not hold", func(j *Job) { j.Files = []string{"f1", "f2"} }, "does not hold"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := base.clone()
			j := *s.jobs["j"]
			c.change(&j)
			s.jobs["j"] = &j
			if err := s.Check(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
}
