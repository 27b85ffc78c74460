//go:build !unix

package gemm

import "time"

// cpuTime is unavailable here: benchmarks report no processor-time rate.
func cpuTime() time.Duration { return 0 }
