package hc

import "github.com/hyperconn/hyperconn/internal/gemm"

// Threads returns how many goroutines one call of the library may keep
// busy at once: a Layer's token ranges, a matrix product, the element-wise
// work of a training step. The default is GOMAXPROCS at start-up.
func Threads() int { return gemm.Threads() }

// SetThreads sets the count Threads returns, for every package of the
// library, and returns the previous one. A program that runs one
// experiment per core calls SetThreads(1) so that the runs do not compete
// (the CLI's sweep mode does). Results do not depend on it, except that on
// the OpenBLAS backend a product split across threads may round its last
// bit differently. SetThreads panics if k < 1. It must not be called while
// another goroutine is in a call of the library.
func SetThreads(k int) int { return gemm.SetThreads(k) }
