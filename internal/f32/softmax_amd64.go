//go:build amd64 && !purego

package f32

// expSumAVX2 is ExpSum over len(x) elements, a multiple of 16, adding
// term i to s[i mod 16]; t is geluTab (Exp's constants).
//
//go:noescape
func expSumAVX2(x []float32, shift float32, t *table, s *[Lanes]float64)
