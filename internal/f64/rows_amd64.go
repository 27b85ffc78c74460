//go:build !purego

package f64

// dots7AVX sets d[i] = x·y[i] for the seven rows y[i], each of c ≥ 1
// values, in the order of the package documentation.
//
//go:noescape
func dots7AVX(d *[dotGroup]float64, x *float64, y *[dotGroup]*float64, c int)

// addCombAVX adds b·x + Σ_{i<m} a[i·as]·w_i to the c ≥ 1 values at dst,
// where w_i is at w + i·c, element by element in that order. A nil x drops
// the term b·x; a and w are not read when m = 0.
//
//go:noescape
func addCombAVX(dst *float64, b float64, x, a *float64, as int, w *float64, m, c int)

// finiteAVX returns the sum of s[i]·0 over the n values at s, a multiple
// of 16 (0 if all are finite, NaN otherwise), copying them to dst unless
// dst is nil.
//
//go:noescape
func finiteAVX(dst, s *float64, n int) float64
