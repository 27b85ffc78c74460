//go:build !amd64 || purego

package birkhoff

// useAVX2 is false: this build has no assembly kernels.
var useAVX2 = false

// sweeps4AVX2 is never called in this build.
func sweeps4AVX2(_ *[16]float64, _ *float64, _ int) { panic("birkhoff: no assembly kernels") }

// unroll4AVX2 is never called in this build.
func unroll4AVX2(_ *[16]float64, _, _ *float64, _ int) { panic("birkhoff: no assembly kernels") }

// sweepsQuadAVX2 is never called in this build.
func sweepsQuadAVX2(_ *[64]float64, _ *[4]*float64, _ int) { panic("birkhoff: no assembly kernels") }

// unrollQuadAVX2 is never called in this build.
func unrollQuadAVX2(_ *[64]float64, _ *[4]*float64, _ *float64, _ int) {
	panic("birkhoff: no assembly kernels")
}
