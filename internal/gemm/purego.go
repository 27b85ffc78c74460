//go:build !openblas

package gemm

// haveOpenBLAS reports whether the OpenBLAS backend is compiled in.
const haveOpenBLAS = false

func useOpenBLAS() {}
