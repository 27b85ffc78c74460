package spectral

import "math"

// Helmert writes into dst the n×(n−1) row-major Helmert basis U_z of 1^⊥, the
// subspace of vectors whose entries sum to zero, and returns it; a nil dst
// allocates. Column i−1, for i = 1, …, n−1, is
//
//	(1, …, 1, −i, 0, …, 0)/√(i(i+1))   (i ones, −i in row i),
//
// so U_zᵀU_z = I, U_zᵀ1 = 0 and U_z·U_zᵀ = I − J with J = 11ᵀ/n. It panics
// with ErrShape if n < 1 or dst is not nil and len(dst) != n(n−1).
func Helmert[F Float](dst []F, n int) []F {
	if n < 1 {
		panic(ErrShape)
	}
	m := n - 1
	dst = use(dst, n*m)
	clear(dst)
	for i := 1; i <= m; i++ {
		d := math.Sqrt(float64(i * (i + 1)))
		for r := 0; r < i; r++ {
			dst[r*m+i-1] = F(1 / d)
		}
		dst[i*m+i-1] = F(-float64(i) / d)
	}
	return dst
}
