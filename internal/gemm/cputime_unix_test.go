//go:build unix

package gemm

import (
	"syscall"
	"time"
)

// cpuTime returns the processor time (user + system) the process has used:
// on a loaded machine a benchmark's processor time, unlike its wall time,
// does not count the time other processes held the core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
