// Package compactor keeps tables fast as they grow: it merges a leaf
// partition's many small sorted files into fewer large ones, and rewrites
// the files a partition split left referenced from several leaves into
// each leaf. It sits above storage and engine and below cmd/dormouse.
//
// The life of a job, every step a transaction on the table's log
// (storage/state), so that any number of creators and workers, in any
// number of processes on any number of machines, share a table safely:
//
//  1. Creation (create.go). CreateJobs reads the state and, per leaf, asks
//     the table's Strategy (strategy.go: Sleeper's size ratio, or basic)
//     which of the references no job holds to merge, then adds splitting
//     jobs for partial references. Each job is an AssignJob commit holding
//     its references; the state refuses a job on a reference another job
//     holds, so racing creators never overlap.
//  2. Claim (worker.go). A Worker commits ClaimJob for a pending job, or
//     one whose lease is over, and renews the lease while it runs. A
//     worker that stops renewing loses the job to the next claim, and the
//     state refuses its late commit.
//  3. Run (run.go). Run merges the inputs into one sorted file and commits
//     ReplaceFiles, which applies only while the worker holds the job. The
//     inputs are read and merged a batch ahead of the writer, on a
//     goroutine of their own; the output's row key sketches are the merge
//     of the inputs' when it holds exactly their rows (exec_sketch.go).
//  4. End. Success removes the job; a failure commits ReleaseJob, which
//     sends the job back to pending or, after state.MaxJobAttempts or for
//     an error a retry cannot cure, drops it and frees its references for
//     a new job. The state keeps the last ended attempts for reports
//     (table.JobsReport).
//
// Tables with an order-dependent iterator (last) only ever merge files
// adjacent in their leaf's age order (state.File.Seq), so that the merged
// file's place in that order is true of all its rows.
package compactor
