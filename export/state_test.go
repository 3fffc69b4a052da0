package export

import (
	"strings"
	"testing"
	"time"

	"github.com/dormousedb/dormouse/storage/txlog"
)

// TestStateMachine applies sequences of transactions to an export of two
// tasks, a minute apart on the log's clock, and checks each outcome: claims
// and leases, a takeover after a lease ran out, a late worker's refused
// finish, permanent failures and attempts running out, completion and
// cleaning.
func TestStateMachine(t *testing.T) {
	create := func() *Txn {
		return &Txn{Create: &Export{ID: "e", Kind: KindExport, Query: &Query{SQL: "SELECT 1"},
			Tasks: []Task{{Partition: "p1"}, {Partition: "p2"}}}}
	}
	claim := func(task int, w string, lease time.Duration) *Txn {
		return &Txn{Claim: &Claim{Export: "e", Task: task, Worker: w, Lease: lease}}
	}
	finish := func(task int, w string) *Txn {
		return &Txn{Finish: &Finish{Export: "e", Task: task, Worker: w, Rows: 10, Bytes: 100,
			Files: []File{{Name: FileName("p", task, "parquet"), Rows: 10, Bytes: 100}}}}
	}
	release := func(task int, w string, perm bool) *Txn {
		return &Txn{Release: &Release{Export: "e", Task: task, Worker: w, Error: "boom", Permanent: perm}}
	}
	complete := &Txn{Complete: &Complete{Export: "e"}}
	cases := []struct {
		name    string
		txns    []*Txn
		wantErr []string // per transaction: "" applies, else a substring of the refusal
		status  string
	}{
		{"two workers finish", []*Txn{create(), claim(0, "a", time.Hour), claim(1, "b", time.Hour), finish(0, "a"), finish(1, "b"), complete},
			[]string{"", "", "", "", "", ""}, StatusDone},
		{"a held task is not claimed", []*Txn{create(), claim(0, "a", time.Hour), claim(0, "b", time.Hour)},
			[]string{"", "", "held by a"}, StatusRunning},
		{"complete before every task is done", []*Txn{create(), claim(0, "a", time.Hour), finish(0, "a"), complete},
			[]string{"", "", "", "1 of 2 tasks done"}, StatusRunning},
		{"takeover after the lease; the late worker cannot finish", []*Txn{create(), claim(0, "a", time.Second), claim(0, "b", time.Hour), finish(0, "a"), finish(0, "b")},
			[]string{"", "", "", "held by \"b\"", ""}, StatusRunning},
		{"a released task goes back to pending", []*Txn{create(), claim(0, "a", time.Hour), release(0, "a", false), claim(0, "b", time.Hour)},
			[]string{"", "", "", ""}, StatusRunning},
		{"a permanent failure fails the export", []*Txn{create(), claim(0, "a", time.Hour), release(0, "a", true), claim(1, "b", time.Hour), {Cleaned: &Complete{Export: "e"}}},
			[]string{"", "", "", "is failed", ""}, StatusFailed},
		{"attempts run out", []*Txn{create(), claim(0, "a", time.Second), claim(0, "b", time.Second), claim(0, "c", time.Second), claim(0, "d", time.Hour), release(0, "x", false)},
			[]string{"", "", "", "", "after 3 attempts", ""}, StatusFailed},
		{"only a failed export is cleaned", []*Txn{create(), {Cleaned: &Complete{Export: "e"}}},
			[]string{"", "not failed"}, StatusRunning},
		{"an export needs tasks and a query", []*Txn{{Create: &Export{ID: "e", Kind: KindExport, Tasks: []Task{{}}}}, {Create: &Export{ID: "e", Kind: KindExport, Query: &Query{}}}},
			[]string{"an export has a query", "no tasks"}, ""},
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := machine{}
			s := m.New()
			for i, txn := range c.txns {
				next := m.Clone(s)
				err := m.Apply(next, txn, txlog.Meta{Seq: uint64(i + 1), Time: t0.Add(time.Duration(i) * time.Minute)})
				switch want := c.wantErr[i]; {
				case want == "" && err != nil:
					t.Fatalf("transaction %d: %v", i+1, err)
				case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
					t.Fatalf("transaction %d: error %v, want %q", i+1, err, want)
				case err == nil:
					s = next
				}
			}
			e := s.Exports["e"]
			if (e == nil) != (c.status == "") || (e != nil && e.Status != c.status) {
				t.Fatalf("export is %+v, want status %q", e, c.status)
			}
		})
	}
}

// TestHistory keeps at most HistoryLen ended exports, and a failed one
// until it is cleaned.
func TestHistory(t *testing.T) {
	m := machine{}
	s := m.New()
	at := txlog.Meta{Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	apply := func(txn *Txn) {
		t.Helper()
		at.Seq++
		at.Time = at.Time.Add(time.Second)
		if err := m.Apply(s, txn, at); err != nil {
			t.Fatal(err)
		}
	}
	apply(&Txn{Create: &Export{ID: "failed", Kind: KindImport, Tasks: []Task{{}}}})
	apply(&Txn{Fail: &Fail{Export: "failed", Error: "cancelled"}})
	for i := range HistoryLen + 5 {
		id := string(rune('a'+i/26/26)) + string(rune('a'+i/26%26)) + string(rune('a'+i%26))
		apply(&Txn{Create: &Export{ID: id, Kind: KindImport, Tasks: []Task{{}}}})
		apply(&Txn{Claim: &Claim{Export: id, Worker: "w", Lease: time.Hour}})
		apply(&Txn{Finish: &Finish{Export: id, Worker: "w"}})
		apply(&Txn{Complete: &Complete{Export: id}})
	}
	if len(s.Exports) != HistoryLen+1 || s.Exports["failed"] == nil || s.Exports["aaa"] != nil {
		t.Fatalf("%d exports kept; the uncleaned failure kept %v", len(s.Exports), s.Exports["failed"] != nil)
	}
	apply(&Txn{Cleaned: &Complete{Export: "failed"}})
	if len(s.Exports) != HistoryLen || s.Exports["failed"] != nil {
		t.Fatalf("%d exports kept after the failure was cleaned", len(s.Exports))
	}
}
