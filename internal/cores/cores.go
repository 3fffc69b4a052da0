// Package cores says how many goroutines CPU-bound work is split into.
//
// That is GOMAXPROCS as the process started (Go's default: the CPUs the
// process may use, cgroup limits included; or the GOMAXPROCS variable),
// not GOMAXPROCS now: dormouse serve raises it above the cores, because
// a goroutine in a socket write holds its P for the write, and the work
// that splits itself by core (parallel scans, ingest's writers and
// sorts, CSV parsing) must not double with it.
package cores

import "runtime"

// n is read at start-up, before anything raises GOMAXPROCS.
var n = runtime.GOMAXPROCS(0)

// N is how many goroutines CPU-bound work is split into.
func N() int { return n }
