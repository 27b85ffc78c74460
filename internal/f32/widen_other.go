//go:build !amd64 || purego

package f32

// addTo64AVX2 stands in for the assembly kernel: never called, as HasAVX2
// is false.
func addTo64AVX2(dst []float64, x []float32) { panic("f32: no assembly") }
