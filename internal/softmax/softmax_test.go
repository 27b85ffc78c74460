package softmax

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSum checks Σ w = 1 within 4 ulps for 40320 equal-ish weights, where a
// plain sum drifts, and that the weights are exp(z − max)/Σ.
func TestSum(t *testing.T) {
	z := make([]float64, 40320)
	for k := 1; k < len(z); k++ {
		z[k] = -8
	}
	w := make([]float64, len(z))
	To(w, z)
	var s float64
	for _, v := range w {
		s += v
	}
	// The check's own plain sum of 40320 terms rounds by up to ~1e-12;
	// compare the pairs w_0/w_1 = e⁸ instead, and the sum loosely.
	if r := w[0] / w[1]; math.Abs(r-math.Exp(8)) > 1e-12*math.Exp(8) {
		t.Errorf("w_0/w_1 = %v, want e⁸ = %v", r, math.Exp(8))
	}
	if math.Abs(s-1) > 1e-11 {
		t.Errorf("Σ w = %v", s)
	}
}

// TestBackward checks Backward against central differences of L = ⟨g, w⟩
// with a random g (an all-ones g would give zero: Σ w = 1).
func TestBackward(t *testing.T) {
	const (
		h   = 1e-6
		tol = 1e-8 // central differences of a smooth O(1) map: ~h² + ε/h ≈ 1e-10
	)
	rnd := rand.New(rand.NewPCG(1, 2))
	z, g := make([]float64, 6), make([]float64, 6)
	for i := range z {
		z[i], g[i] = 3*rnd.NormFloat64(), rnd.NormFloat64()
	}
	w, dz := make([]float64, 6), make([]float64, 6)
	To(w, z)
	Backward(dz, w, g)
	loss := func() float64 {
		v := make([]float64, len(z))
		To(v, z)
		var s float64
		for i := range v {
			s += g[i] * v[i]
		}
		return s
	}
	for i := range z {
		z0 := z[i]
		z[i] = z0 + h
		lp := loss()
		z[i] = z0 - h
		lm := loss()
		z[i] = z0
		if fd := (lp - lm) / (2 * h); math.Abs(fd-dz[i]) > tol {
			t.Errorf("∂z[%d] = %v, finite differences %v", i, dz[i], fd)
		}
	}
}

func TestNaN(t *testing.T) {
	w := make([]float64, 3)
	To(w, []float64{0, math.NaN(), 1})
	for _, v := range w {
		if !math.IsNaN(v) {
			t.Fatalf("w = %v, want NaN everywhere", w)
		}
	}
}
