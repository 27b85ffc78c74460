//go:build amd64 && !purego

package f32

// from64SumSquaresAVX2 is From64 over len(dst) elements, a multiple of 16,
// adding src[i]² to s[i mod 16].
//
//go:noescape
func from64SumSquaresAVX2(dst []float32, src []float64, s *[Lanes]float64)

// addTo64ScaledAVX2 is AddTo64Scaled over len(dst) elements, a multiple
// of 8.
//
//go:noescape
func addTo64ScaledAVX2(dst []float64, a float64, x []float64, g []float32)
