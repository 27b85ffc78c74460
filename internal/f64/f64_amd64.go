//go:build !purego

package f64

// adamWAVX2 is AdamW over len(val) elements, a multiple of 4; t holds β₁,
// 1−β₁, β₂, 1−β₂, StepSize, InvSqrtBC2, Eps, Decay.
//
//go:noescape
func adamWAVX2(val, grad, m, v []float64, t *[8]float64)
