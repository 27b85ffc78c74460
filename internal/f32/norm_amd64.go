//go:build amd64 && !purego

package f32

// mulScaledAVX2 is MulScaled over len(dst) elements, a multiple of 8.
//
//go:noescape
func mulScaledAVX2(dst, g, x []float32, s float32)

// rmsGradAVX2 is RMSGrad over len(dg) elements, a multiple of 16, adding
// term i to s[i mod 16].
//
//go:noescape
func rmsGradAVX2(dg, g, dy, x []float32, inv float32, s *[Lanes]float64)

// rmsInputGradAVX2 is RMSInputGrad over len(dx) elements, a multiple of 8.
//
//go:noescape
func rmsInputGradAVX2(dx, g, dy, x []float32, inv, c float32)
