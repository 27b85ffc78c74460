//go:build !amd64 || purego

package f64

// The row kernels' stand-ins: never called, as HasAVX is false.

func dots7AVX(d *[dotGroup]float64, x *float64, y *[dotGroup]*float64, c int) {
	panic("f64: no assembly")
}

func addCombAVX(dst *float64, b float64, x, a *float64, as int, w *float64, m, c int) {
	panic("f64: no assembly")
}

func finiteAVX(dst, s *float64, n int) float64 { panic("f64: no assembly") }
