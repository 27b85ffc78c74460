//go:build !amd64 || purego

package f32

// The assembly kernels' stand-ins: never called, as HasAVX2 is false.

func mulScaledAVX2(dst, g, x []float32, s float32) { panic("f32: no assembly") }

func rmsGradAVX2(dg, g, dy, x []float32, inv float32, s *[Lanes]float64) {
	panic("f32: no assembly")
}

func rmsInputGradAVX2(dx, g, dy, x []float32, inv, c float32) { panic("f32: no assembly") }
