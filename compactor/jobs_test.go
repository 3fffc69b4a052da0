package compactor

import (
	"strings"
	"testing"
	"time"

	"github.com/dormousedb/dormouse/storage/partition"
	"github.com/dormousedb/dormouse/storage/state"
	"github.com/dormousedb/dormouse/storage/table"
)

// TestJobsReport checks table.JobsReport, the report of the jobs this
// package creates and runs, on a state built without a store.
func TestJobsReport(t *testing.T) {
	p := newPlanState(t) // transaction n is applied at Unix second n
	p.add("a", 10, 0, 9).add("b", 10, 0, 9).add("c", 10, 0, 9).add("d", 10, 0, 9).add("e", 10, 0, 9).add("f", 10, 0, 9)
	p.assign("done", partition.RootID, "a", "b")                                                  // 7
	p.apply(&state.Txn{ClaimJob: &state.ClaimJob{Job: "done", Worker: "w1", Lease: time.Minute}}) // 8
	p.apply(&state.Txn{ReplaceFiles: &state.ReplaceFiles{Job: "done", Worker: "w1", InputRows: 20, OutputRows: 20,
		Started: time.Unix(8, 0).UTC()}}) // 9: finished in a second
	p.assign("running", partition.RootID, "c")                                                       // 10
	p.apply(&state.Txn{ClaimJob: &state.ClaimJob{Job: "running", Worker: "w2", Lease: time.Minute}}) // 11
	p.assign("pending", partition.RootID, "d", "e")                                                  // 12
	p.apply(&state.Txn{ClaimJob: &state.ClaimJob{Job: "pending", Worker: "w3", Lease: time.Minute}}) // 13
	p.apply(&state.Txn{ReleaseJob: &state.ReleaseJob{Job: "pending", Worker: "w3", Error: "boom"}})  // 14

	got := table.JobsReport(p.s, time.Unix(20, 0))
	var lines []string
	for _, j := range got {
		lines = append(lines, strings.Join([]string{j.ID, j.Status, j.Worker, j.Error}, ","))
	}
	want := "running,running,w2, pending,pending,,boom pending,failed,w3,boom done,finished,w1,"
	if strings.Join(lines, " ") != want {
		t.Fatalf("got  %q\nwant %q", strings.Join(lines, " "), want)
	}
	if got[0].Duration != 9*time.Second || got[1].InputRows != 20 || got[3].RowsPerSec != 20 || got[3].Duration != time.Second {
		t.Fatalf("report %+v", got)
	}
	// Once the lease is over, the running job shows as pending.
	if later := table.JobsReport(p.s, time.Unix(200, 0)); later[0].Status != table.StatusPending {
		t.Fatalf("job with an expired lease shows as %s", later[0].Status)
	}
	var b strings.Builder
	if err := table.WriteJobs(&b, "t", 14, got); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "1 pending, 1 running; last 2 ended: 1 finished, 1 failed, 0 dropped") {
		t.Fatalf("report:\n%s", b.String())
	}
}
