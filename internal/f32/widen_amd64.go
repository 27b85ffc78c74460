//go:build amd64 && !purego

package f32

// addTo64AVX2 is AddTo64 over len(dst) elements, a multiple of 8.
//
//go:noescape
func addTo64AVX2(dst []float64, x []float32)
