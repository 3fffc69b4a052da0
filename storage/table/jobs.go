package table

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/dormousedb/dormouse/storage/state"
)

// Job statuses in a report: the state's history statuses, and these two
// for jobs still in the state.
const (
	StatusPending = "pending" // waiting for a worker, or its lease ran out
	StatusRunning = "running" // a worker holds its lease
)

// JobInfo is one line of a jobs report (dormouse report jobs, the
// dormouse.jobs view): a pending or running job, or one ended attempt from
// the state's history.
type JobInfo struct {
	ID         string    `json:"id"`
	Partition  string    `json:"partition"`
	Kind       string    `json:"kind"`
	Status     string    `json:"status"` // pending, running, finished, failed, dropped
	Worker     string    `json:"worker,omitempty"`
	Files      int       `json:"files"`
	InputRows  int64     `json:"input_rows"` // exact when finished, else the references' estimate
	OutputRows int64     `json:"output_rows"`
	Created    time.Time `json:"created"`
	Started    time.Time `json:"started,omitzero"`
	Finished   time.Time `json:"finished,omitzero"`
	LeaseUntil time.Time `json:"lease_until,omitzero"`
	Attempts   int       `json:"attempts"`
	Error      string    `json:"error,omitempty"`
	// Duration is Finished-Started for ended attempts, and the time since
	// Started for running ones; RowsPerSec is InputRows over it, for
	// finished jobs only.
	Duration   time.Duration `json:"duration"`
	RowsPerSec float64       `json:"rows_per_s,omitempty"`
}

// JobsReport lists a table's jobs at state s: pending and running jobs
// (running while a lease lasts at now), oldest first, then the history,
// newest first.
func JobsReport(s *state.State, now time.Time) []JobInfo {
	var out []JobInfo
	for _, j := range s.Jobs() {
		info := JobInfo{ID: j.ID, Partition: j.Partition, Kind: j.Kind, Status: StatusPending, Files: len(j.Files),
			Created: j.Created, Started: j.Started, Attempts: j.Attempts, Error: j.LastError}
		for _, f := range j.Files {
			if r, ok := s.Ref(j.Partition, f); ok {
				info.InputRows += r.Rows
			}
		}
		if j.Held(now) {
			info.Status, info.Worker, info.LeaseUntil = StatusRunning, j.Worker, j.LeaseUntil
			info.Duration = now.Sub(j.Started)
		}
		out = append(out, info)
	}
	slices.SortStableFunc(out, func(a, b JobInfo) int { return cmp.Compare(a.Created.UnixNano(), b.Created.UnixNano()) })
	h := s.JobHistory()
	for i := len(h) - 1; i >= 0; i-- {
		r := h[i]
		info := JobInfo{ID: r.ID, Partition: r.Partition, Kind: r.Kind, Status: r.Status, Worker: r.Worker,
			Files: r.InputFiles, InputRows: r.InputRows, OutputRows: r.OutputRows, Created: r.Created,
			Started: r.Started, Finished: r.Finished, Attempts: r.Attempts, Error: r.Error}
		if !r.Started.IsZero() {
			info.Duration = r.Finished.Sub(r.Started)
		}
		if r.Status == state.JobFinished && info.Duration > 0 {
			info.RowsPerSec = float64(r.InputRows) / info.Duration.Seconds()
		}
		out = append(out, info)
	}
	return out
}

// WriteJobs renders a jobs report as a table for people.
func WriteJobs(w io.Writer, table string, seq uint64, jobs []JobInfo) error {
	counts := map[string]int{}
	for _, j := range jobs {
		counts[j.Status]++
	}
	fmt.Fprintf(w, "table %s at log %d: %d pending, %d running; last %d ended: %d finished, %d failed, %d dropped\n",
		table, seq, counts[StatusPending], counts[StatusRunning],
		counts[state.JobFinished]+counts[state.JobFailed]+counts[state.JobDropped],
		counts[state.JobFinished], counts[state.JobFailed], counts[state.JobDropped])
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tKIND\tSTATUS\tPARTITION\tFILES\tIN ROWS\tOUT ROWS\tCREATED\tDURATION\tROWS/S\tATTEMPTS\tWORKER\tERROR")
	for _, j := range jobs {
		dur, rate := "", ""
		if j.Duration > 0 {
			dur = j.Duration.Round(time.Millisecond).String()
		}
		if j.RowsPerSec > 0 {
			rate = fmt.Sprintf("%.0f", j.RowsPerSec)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\t%d\t%s\t%s\n", j.ID, j.Kind, j.Status, j.Partition,
			j.Files, j.InputRows, j.OutputRows, j.Created.Format(time.RFC3339), dur, rate, j.Attempts, j.Worker, j.Error)
	}
	return tw.Flush()
}
