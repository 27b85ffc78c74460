//go:build !amd64 || purego

package f32

// The assembly kernels' stand-ins: never called, as HasAVX2 is false.

func adamWAVX2(val, grad, m, v []float32, t *[9][8]float32) { panic("f32: no assembly") }
func geluAVX2(a, cdf, x []float32, t *table)                { panic("f32: no assembly") }
func geluBackAVX2(dx, dy, x, cdf []float32, t *table)       { panic("f32: no assembly") }
func sumSquaresAVX2(x []float32, s *[Lanes]float64)         { panic("f32: no assembly") }
func addAVX2(dst, x []float32)                              { panic("f32: no assembly") }
func from64AVX2(dst []float32, src []float64)               { panic("f32: no assembly") }
func to64AVX2(dst []float64, src []float32)                 { panic("f32: no assembly") }
