package spectral

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestNormNearlyDependentColumns is a regression test: the sHC matrix of the
// no-matching logits at n = 7 (found by the exactness report) has nearly
// dependent columns, on which a rotation's squared-norm update rounded below
// zero, its square root was NaN, and Jacobi divided 0 by 0.
func TestNormNearlyDependentColumns(t *testing.T) {
	const n = 7
	s := NewSphere[float64](n)
	zU := make([]float64, SkewLen(n-1))
	for i := range zU {
		zU[i] = -1
	}
	zV := append([]float64(nil), zU...)
	zV[0] = 0
	h := make([]float64, n*n)
	if _, err := s.Forward(h, zU, zV, []float64{0, -1, 0, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	var svd mat.SVD
	if !svd.Factorize(mat.NewDense(n, n, append([]float64(nil), h...)), mat.SVDNone) {
		t.Fatal("gonum SVD failed")
	}
	want := svd.Values(nil)
	got := Values(nil, h, n, n)
	for i := range want {
		if math.Abs(got[i]-want[i]) > valuesAbsTol*want[0] {
			t.Errorf("σ_%d = %v, gonum %v", i, got[i], want[i])
		}
	}
	if got := Norm(h, n, n); math.Abs(got-1) > sphereTol64 {
		t.Errorf("Norm = %v, want 1 (the sHC guarantee)", got)
	}
}
