// Package micro holds the micro-kernels of package gemm's default
// (pure-Go, no cgo) backend: small assembly routines that compute one
// MR×NR tile of a matrix product C ← alpha·op(A)·op(B) + beta·C, with a
// pure-Go twin that the tests compare against.
//
// A tile is an inner sum of k steps. Step p reads MR consecutive values of
// A (column p of op(A) restricted to the tile's rows) and NR consecutive
// values of B (row p of op(B) restricted to the tile's columns); the steps
// are aStep and bStep elements apart. gemm packs the operands into
// contiguous micro-panels (aStep = MR, bStep = NR) or, where the layout
// already has this form (op(A) = Aᵀ, op(B) = B), reads them in place with
// aStep = lda or bStep = ldb. The avx512 kernels also have a variant,
// TileRows, that reads op(A) = A in place: step p broadcasts a[i·lda+p]
// from MR rows of A. The MR·NR accumulators stay in vector
// registers for the whole sum: every step broadcasts the MR values of A and
// multiplies them into two vectors of B with fused multiply-adds. Then
// each row of the tile is written as alpha·acc, or alpha·acc + beta·C
// when C is to be read (BLAS's beta = 0 never reads C, so NaN there
// vanishes).
//
// # Kernels
//
//	name     instructions            float32 MR×NR   float64 MR×NR
//	avx512   AVX-512F (zmm) + FMA    12×32           12×16
//	avx2     AVX2 (ymm) + FMA        6×16            6×8
//	go       pure Go (the twins)     6×16            6×8
//
// Available lists the assembly pairs the processor runs (internal/cpu),
// fastest first; none in binaries built with -tags purego or for other
// architectures. The twins use separate multiplies and adds, so they
// differ from the assembly by rounding only: at most about k+2 units of
// roundoff of the sum of |terms| per entry.
//
// # Cost
//
// 2·MR·NR·k flops per tile, two vector loads and MR broadcasts per step:
// the avx512 float32 kernel does 24 fused multiply-adds of 16 lanes per
// step, about 120 GFLOP per second of processor time on one core of the
// Xeon VM it was written on (BenchmarkTile, operands in cache).
package micro
