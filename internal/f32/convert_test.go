package f32

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestConvertTwins checks Add, From64 and To64 against their twins, bit
// for bit, at every length, on random data with special values (float64
// values that overflow float32, round to subnormals or to zero included).
func TestConvertTwins(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	specials64 := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 1e300, -1e300, 1e-40, -1e-45, 1e-320, math.MaxFloat32 * 1.0000001, 0.1}
	for _, k := range lengths {
		x, y := randSlice(rnd, k, true), randSlice(rnd, k, true)
		y2 := append([]float32(nil), y...)
		Add(y, x)
		AddGo(y2, x)
		if i, ok := same(y, y2); !ok {
			t.Fatalf("len %d: Add at %d: %v, twin %v", k, i, y[i], y2[i])
		}
		src := make([]float64, k)
		for i := range src {
			src[i] = rnd.NormFloat64() * math.Pow(10, 80*rnd.Float64()-40)
			if rnd.IntN(6) == 0 {
				src[i] = specials64[rnd.IntN(len(specials64))]
			}
		}
		a, b := make([]float32, k), make([]float32, k)
		From64(a, src)
		From64Go(b, src)
		if i, ok := same(a, b); !ok {
			t.Fatalf("len %d: From64(%v) = %v, twin %v", k, src[i], a[i], b[i])
		}
		w1, w2 := make([]float64, k), make([]float64, k)
		To64(w1, a)
		To64Go(w2, a)
		for i := range w1 {
			if math.Float64bits(w1[i]) != math.Float64bits(w2[i]) && !(math.IsNaN(w1[i]) && math.IsNaN(w2[i])) {
				t.Fatalf("len %d: To64(%v) = %v, twin %v", k, a[i], w1[i], w2[i])
			}
		}
	}
}
