package state

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dormousedb/dormouse/storage/partition"
	"github.com/dormousedb/dormouse/storage/schema"
	"github.com/dormousedb/dormouse/storage/txlog"
)

func key(v int64) []byte { return schema.EncodeInt(v) }

func file(name string, rows, lo, hi int64) File {
	return File{Key: name, Rows: rows, Bytes: rows * 10, MinKey: [][]byte{key(lo)}, MaxKey: [][]byte{key(hi)}}
}

func add(id string, f File, parts ...string) *Txn {
	nf := NewFile{File: f}
	for _, p := range parts {
		nf.Refs = append(nf.Refs, PartRows{Partition: p, Rows: f.Rows / int64(len(parts))})
	}
	return &Txn{ID: id, AddFiles: &AddFiles{Files: []NewFile{nf}}}
}

func split(id, part string, at int64, l, r string) *Txn {
	return &Txn{ID: id, SplitPartition: &SplitPartition{Partition: part, Point: key(at), Left: l, Right: r}}
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// apply runs txns in order on a fresh one-dimensional table, as the log
// would (a failed transaction's half-changed state is thrown away), and
// checks the invariants after each.
func apply(t *testing.T, txns ...*Txn) (*State, []error) {
	t.Helper()
	m := Machine{Initial: partition.New(1)}
	s := m.New()
	errs := make([]error, len(txns))
	for i, txn := range txns {
		next := m.Clone(s)
		errs[i] = m.Apply(next, txn, txlog.Meta{Seq: uint64(i + 1), Time: t0.Add(time.Duration(i) * time.Minute)})
		if errs[i] == nil {
			s = next
		}
		if err := s.Check(); err != nil {
			t.Fatalf("after transaction %d (%s): %v", i+1, txn.Kind(), err)
		}
	}
	return s, errs
}

func TestTransactions(t *testing.T) {
	cases := []struct {
		name    string
		txns    []*Txn
		wantErr []string // per transaction: "" for success, else a substring
		check   func(t *testing.T, s *State)
	}{
		{
			name:    "add to root",
			txns:    []*Txn{add("a", file("f1", 100, 0, 99), partition.RootID)},
			wantErr: []string{""},
			check: func(t *testing.T, s *State) {
				if f, _ := s.File("f1"); s.TotalRows() != 100 || f.Refs != 1 || !ref(s, partition.RootID, "f1").Whole {
					t.Fatalf("state %+v", s)
				}
			},
		},
		{
			name: "duplicate file and retried transaction",
			txns: []*Txn{
				add("a", file("f1", 100, 0, 99), partition.RootID),
				add("b", file("f1", 100, 0, 99), partition.RootID),
				add("a", file("f1", 100, 0, 99), partition.RootID),
			},
			wantErr: []string{"", "already exists", ErrDuplicate.Error()},
		},
		{
			name: "split moves references to both children",
			txns: []*Txn{
				add("a", file("f1", 100, 0, 99), partition.RootID),
				add("b", file("f2", 10, 60, 70), partition.RootID),
				split("c", partition.RootID, 50, "L", "R"),
			},
			wantErr: []string{"", "", ""},
			check: func(t *testing.T, s *State) {
				if f1, f2 := file1(s, "f1"), file1(s, "f2"); f1.Refs != 2 || f2.Refs != 1 {
					t.Fatalf("refs f1=%d f2=%d", f1.Refs, f2.Refs)
				}
				if s.PartitionRows("L") != 50 || s.PartitionRows("R") != 60 {
					t.Fatalf("rows L=%d R=%d", s.PartitionRows("L"), s.PartitionRows("R"))
				}
				if !ref(s, "R", "f2").Whole || ref(s, "R", "f1").Whole {
					t.Fatal("wrong whole flags")
				}
			},
		},
		{
			name: "ingest routed before a split lands below it",
			txns: []*Txn{
				split("s", partition.RootID, 50, "L", "R"),
				add("a", file("f1", 10, 60, 70), partition.RootID),
			},
			wantErr: []string{"", ""},
			check: func(t *testing.T, s *State) {
				if _, ok := s.Ref("R", "f1"); !ok || s.NumRefs("L") != 0 {
					t.Fatalf("refs %v", s.PartitionRefs("R"))
				}
			},
		},
		{
			name: "file outside its partition",
			txns: []*Txn{
				split("s", partition.RootID, 50, "L", "R"),
				add("a", file("f1", 10, 60, 70), "L"),
				add("b", file("f2", 10, 40, 70), "L"),
			},
			wantErr: []string{"", "holds no keys", "outside partition"},
		},
		{
			name: "compaction job lifecycle",
			txns: []*Txn{
				add("a", file("f1", 10, 0, 9), partition.RootID),
				add("b", file("f2", 10, 5, 15), partition.RootID),
				{ID: "j", AssignJob: &AssignJob{Job: "job1", Partition: partition.RootID, Files: []string{"f1", "f2"}}},
				{ID: "j2", AssignJob: &AssignJob{Job: "job2", Partition: partition.RootID, Files: []string{"f1"}}},
				{ID: "r", ReplaceFiles: &ReplaceFiles{Job: "job1", Outputs: []NewFile{{File: file("f3", 20, 0, 15), Refs: []PartRows{{Partition: partition.RootID, Rows: 20}}}}}},
				{ID: "r2", ReplaceFiles: &ReplaceFiles{Job: "job1"}},
				{ID: "d", DeleteFiles: &DeleteFiles{Files: []string{"f1", "f2"}}},
				{ID: "d2", DeleteFiles: &DeleteFiles{Files: []string{"f3"}}},
			},
			wantErr: []string{"", "", "", "already held by job job1", "", "no job job1", "", "still has 1 references"},
			check: func(t *testing.T, s *State) {
				if s.NumFiles() != 1 || s.TotalRows() != 20 || len(s.Jobs()) != 0 {
					t.Fatalf("files %v jobs %v", s.SortedFiles(), s.Jobs())
				}
			},
		},
		{
			name: "split drops the jobs of the split partition",
			txns: []*Txn{
				add("a", file("f1", 10, 0, 99), partition.RootID),
				{ID: "j", AssignJob: &AssignJob{Job: "job1", Partition: partition.RootID, Files: []string{"f1"}}},
				split("s", partition.RootID, 50, "L", "R"),
				{ID: "r", ReplaceFiles: &ReplaceFiles{Job: "job1"}},
			},
			wantErr: []string{"", "", "", "no job job1"},
		},
		{
			name: "unreferenced files are stamped, then deletable",
			txns: []*Txn{
				add("a", file("f1", 10, 0, 9), partition.RootID),
				{ID: "c", ClearTable: &ClearTable{}},
				{ID: "d", DeleteFiles: &DeleteFiles{Files: []string{"f1"}}},
			},
			wantErr: []string{"", "", ""},
		},
		{
			name: "split file references onto children",
			txns: []*Txn{
				add("a", file("f1", 100, 0, 99), partition.RootID),
				split("s", partition.RootID, 50, "L", "R"),
				{ID: "x", SplitFileRefs: &SplitFileRefs{File: "f1", From: "L", To: []PartRows{{Partition: "R", Rows: 5}}}},
				{ID: "y", SplitFileRefs: &SplitFileRefs{File: "f1", From: "L", To: []PartRows{{Partition: "L", Rows: 42}}}},
			},
			wantErr: []string{"", "", "not inside partition L", ""},
			check: func(t *testing.T, s *State) {
				if s.PartitionRows("L") != 42 {
					t.Fatalf("L has %d rows", s.PartitionRows("L"))
				}
			},
		},
		{
			name: "init partitions only when empty",
			txns: []*Txn{
				{ID: "i", InitPartitions: &InitPartitions{Partitions: mustTree(t, 10, 20)}},
				add("a", file("f1", 10, 0, 9), partition.RootID),
				{ID: "i2", InitPartitions: &InitPartitions{Partitions: mustTree(t, 5)}},
			},
			wantErr: []string{"", "", "holds data"},
		},
		{
			name:    "malformed transactions",
			txns:    []*Txn{{ID: "e"}, {AddFiles: &AddFiles{}}, {ID: "2", ClearTable: &ClearTable{}, DeleteFiles: &DeleteFiles{}}},
			wantErr: []string{"0 operations", "no id", "2 operations"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, errs := apply(t, c.txns...)
			for i, err := range errs {
				want := c.wantErr[i]
				switch {
				case want == "" && err != nil:
					t.Fatalf("transaction %d: %v", i+1, err)
				case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
					t.Fatalf("transaction %d: got %v, want an error containing %q", i+1, err, want)
				}
			}
			if c.check != nil {
				c.check(t, s)
			}
		})
	}
}

func ref(s *State, p, f string) *FileRef {
	r, ok := s.Ref(p, f)
	if !ok {
		panic("no reference " + p + "/" + f)
	}
	return r
}

func file1(s *State, key string) *File {
	f, ok := s.File(key)
	if !ok {
		panic("no file " + key)
	}
	return f
}

func mustTree(t *testing.T, pts ...int64) *partition.Tree {
	keys := make([][]byte, len(pts))
	for i, p := range pts {
		keys[i] = key(p)
	}
	n := 0
	tree, err := partition.FromSplitPoints(1, keys, func() string { n++; return "q" + string(rune('a'+n)) })
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

func TestDuplicateIsRecognisable(t *testing.T) {
	_, errs := apply(t, add("a", file("f1", 1, 0, 0), partition.RootID), add("a", file("f1", 1, 0, 0), partition.RootID))
	if !errors.Is(errs[1], ErrDuplicate) {
		t.Fatalf("got %v", errs[1])
	}
}

func TestStateJSONRoundTrip(t *testing.T) {
	s, _ := apply(t,
		add("a", file("f1", 100, 0, 99), partition.RootID),
		split("s", partition.RootID, 50, "L", "R"),
		&Txn{ID: "j", AssignJob: &AssignJob{Job: "job1", Partition: "L", Files: []string{"f1"}}},
	)
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back State
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if err := back.Check(); err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(&back)
	if string(again) != string(data) {
		t.Fatalf("round trip changed the state:\n%s\n%s", data, again)
	}
}

// FuzzDecode feeds arbitrary bytes to the log entry and snapshot decoders
// and applies whatever decodes: nothing may panic, and any state that
// results still passes its checks.
func FuzzDecode(f *testing.F) {
	entry, _ := json.Marshal(map[string]any{"id": "e", "txns": []*Txn{
		add("a", file("f1", 100, 0, 99), partition.RootID),
		split("s", partition.RootID, 50, "L", "R"),
	}})
	f.Add(entry)
	jobs, _ := json.Marshal(map[string]any{"id": "j", "txns": jobLog()})
	f.Add(jobs)
	f.Add([]byte(`{"id":"e","txns":[{"id":"x","replace_files":{"job":"j"}}]}`))
	f.Add([]byte(`{"seq":3,"state":{"partitions":[{"id":"root","region":[{}]}],"files":{}}}`))
	m := Machine{Initial: partition.New(1)}
	f.Fuzz(func(t *testing.T, data []byte) {
		if snap, err := txlog.DecodeSnapshot[*State, *Txn](m, data); err == nil && snap.State != nil && snap.State.Partitions != nil {
			_ = snap.State.Check()
		}
		txns, _, err := txlog.DecodeEntry[*Txn](data)
		if err != nil {
			return
		}
		s := m.New()
		for _, txn := range txns {
			next := m.Clone(s)
			if m.Apply(next, txn, txlog.Meta{Seq: 1, Time: t0}) == nil {
				s = next
				if err := s.Check(); err != nil {
					t.Fatalf("applied transaction broke the state: %v", err)
				}
			}
		}
	})
}
