//go:build unix

package expr

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the process has used, which measures a
// benchmark fairly on a machine busy with other work.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
