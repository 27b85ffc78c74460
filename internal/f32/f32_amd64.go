//go:build amd64 && !purego

package f32

// adamWAVX2 is AdamW over len(val) elements, a multiple of 8; t holds the
// constants of adamWTable.
//
//go:noescape
func adamWAVX2(val, grad, m, v []float32, t *[9][8]float32)

// geluAVX2 is GELU over len(x) elements, a multiple of 8.
//
//go:noescape
func geluAVX2(a, cdf, x []float32, t *table)

// geluBackAVX2 is GELUBackward over len(x) elements, a multiple of 8.
//
//go:noescape
func geluBackAVX2(dx, dy, x, cdf []float32, t *table)

// sumSquaresAVX2 adds x[i]² to s[i mod 16] over len(x) elements, a
// multiple of 16.
//
//go:noescape
func sumSquaresAVX2(x []float32, s *[Lanes]float64)

// addAVX2 is Add over len(dst) elements, a multiple of 8.
//
//go:noescape
func addAVX2(dst, x []float32)

// from64AVX2 is From64 over len(dst) elements, a multiple of 8.
//
//go:noescape
func from64AVX2(dst []float32, src []float64)

// to64AVX2 is To64 over len(dst) elements, a multiple of 8.
//
//go:noescape
func to64AVX2(dst []float64, src []float32)
