package shadow

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// threadCPUMeter measures the CPU time of the calling goroutine by the time of
// its thread, which it keeps until stopped: waits (a re-ask of the primary,
// the lock of a route) cost no budget, and what the goroutine spends decoding,
// parsing, allocating and collecting (its GC assists) does.
func threadCPUMeter() func() time.Duration {
	runtime.LockOSThread()
	start, ok := threadCPU()
	if !ok {
		runtime.UnlockOSThread()
		return wallMeter()
	}
	return func() time.Duration {
		end, ok := threadCPU()
		runtime.UnlockOSThread()
		if !ok || end < start {
			return 0
		}
		return end - start
	}
}

func threadCPU() (time.Duration, bool) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}
