//go:build !amd64 || purego

package f32

// The assembly kernels' stand-ins: never called, as HasAVX2 is false.

func from64SumSquaresAVX2(dst []float32, src []float64, s *[Lanes]float64) {
	panic("f32: no assembly")
}

func addTo64ScaledAVX2(dst []float64, a float64, x []float64, g []float32) {
	panic("f32: no assembly")
}
