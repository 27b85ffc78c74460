//go:build openblas

package gemm

// #cgo LDFLAGS: -lopenblas
// void openblas_set_num_threads(int num_threads);
import "C"

import (
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
)

// haveOpenBLAS reports whether the OpenBLAS backend is compiled in.
const haveOpenBLAS = true

// A binary built with -tags openblas starts on OpenBLAS. OpenBLAS itself
// runs single-threaded: Mul splits a product across its own helper
// goroutines (see SetThreads), which, unlike OpenBLAS's worker threads,
// do not spin after a call and take no core from the element-wise work
// between products.
func init() {
	useOpenBLAS()
	current = OpenBLAS
	C.openblas_set_num_threads(1)
}

// useOpenBLAS installs netlib's cgo bindings (linked to OpenBLAS by the
// LDFLAGS above) as gonum's BLAS, for both element types.
func useOpenBLAS() {
	blas64.Use(netlib.Implementation{})
	blas32.Use(netlib.Implementation{})
}
