//go:build !amd64 || purego

package f64

// adamWAVX2 stands in for the assembly: never called, as HasAVX2 is false.
func adamWAVX2(val, grad, m, v []float64, t *[8]float64) { panic("f64: no assembly") }
