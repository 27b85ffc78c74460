//go:build !amd64 || purego

package f32

// expSumAVX2 stands in for the assembly kernel: never called, as HasAVX2
// is false.
func expSumAVX2(x []float32, shift float32, t *table, s *[Lanes]float64) {
	panic("f32: no assembly")
}
