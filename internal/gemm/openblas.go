//go:build openblas

package gemm

// #cgo LDFLAGS: -lopenblas
// void openblas_set_num_threads(int num_threads);
import "C"

import (
	"runtime"

	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
)

// haveOpenBLAS reports whether the OpenBLAS backend is compiled in.
const haveOpenBLAS = true

// A binary built with -tags openblas starts on OpenBLAS, with as many
// OpenBLAS threads as Go threads (GOMAXPROCS).
func init() {
	useOpenBLAS()
	current = OpenBLAS
	setOpenBLASThreads(runtime.GOMAXPROCS(0))
}

// useOpenBLAS installs netlib's cgo bindings (linked to OpenBLAS by the
// LDFLAGS above) as gonum's BLAS, for both element types.
func useOpenBLAS() {
	blas64.Use(netlib.Implementation{})
	blas32.Use(netlib.Implementation{})
}

// setOpenBLASThreads sets OpenBLAS's thread count for later calls.
func setOpenBLASThreads(k int) { C.openblas_set_num_threads(C.int(k)) }
