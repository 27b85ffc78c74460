// Package gemm is the one place hyperconn multiplies dense matrices: a
// general matrix product over row-major slices that stays on gonum's serial
// kernel, so that it never allocates and composes with the callers' own
// token-parallel goroutines.
//
// gonum's pure-Go Dgemm goes parallel, allocating a channel and a goroutine
// per 64×64 block of the result, once the result spans four or more such
// blocks. Mul cuts the result into tiles of at most TileRows×TileCols (3
// blocks), each of which gonum computes serially with the same assembly
// kernels.
package gemm

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// Tile sizes of Mul: a tile covers at most three of gonum's 64×64 blocks.
const (
	TileRows = 64
	TileCols = 192
)

// Mul computes C = alpha·op(A)·op(B) + beta·C with C m×n and the inner
// dimension k. A, B and C are row-major with strides lda, ldb and ldc; op is
// the transpose when tA (tB) is blas.Trans. With k = 0 it scales C by beta.
func Mul(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		for i := range m {
			row := c[i*ldc : i*ldc+n]
			for j := range row {
				row[j] *= beta
			}
		}
		return
	}
	for i0 := 0; i0 < m; i0 += TileRows {
		mi := min(TileRows, m-i0)
		var as blas64.General
		if tA == blas.Trans {
			as = blas64.General{Rows: k, Cols: mi, Stride: lda, Data: a[i0:]}
		} else {
			as = blas64.General{Rows: mi, Cols: k, Stride: lda, Data: a[i0*lda:]}
		}
		for j0 := 0; j0 < n; j0 += TileCols {
			nj := min(TileCols, n-j0)
			var bs blas64.General
			if tB == blas.Trans {
				bs = blas64.General{Rows: nj, Cols: k, Stride: ldb, Data: b[j0*ldb:]}
			} else {
				bs = blas64.General{Rows: k, Cols: nj, Stride: ldb, Data: b[j0:]}
			}
			cs := blas64.General{Rows: mi, Cols: nj, Stride: ldc, Data: c[i0*ldc+j0:]}
			blas64.Gemm(tA, tB, alpha, as, bs, beta, cs)
		}
	}
}
