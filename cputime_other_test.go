//go:build !unix

package livestat

import "time"

// processCPU returns the CPU time, user and system, that this process has
// used so far; ok is false where it is unknown.
func processCPU() (d time.Duration, ok bool) { return 0, false }
