//go:build !amd64 || purego

package gemm

// available lists no assembly kernels: the default backend multiplies with
// gonum's kernels, and the tests run the packed path on the pure-Go
// micro-kernel twin (goKernels).
func available() []kernels { return nil }
