//go:build !linux

package shadow

import "time"

// threadCPUMeter measures wall time where a thread's CPU time is not read: the
// comparison's waits count against the budget too.
func threadCPUMeter() func() time.Duration { return wallMeter() }
