package spectral

import (
	"math"
	"testing"
)

func TestZZMeasure(t *testing.T) {
	rng := newRand(1)
	var worstN, worstV float64
	for _, sh := range shapes {
		r, c := sh[0], sh[1]
		for trial := 0; trial < 200; trial++ {
			m := randn(rng, r*c, 1)
			if trial%2 == 0 {
				k := max(1, min(r, c)/2)
				a, b := randn(rng, r*k, 1), randn(rng, k*c, 1)
				m = make([]float64, r*c)
				mul(m, a, b, r, k, c)
			}
			want := gonumValues(t, m, r, c)
			got := Values(nil, m, r, c)
			worstN = math.Max(worstN, math.Abs(Norm(m, r, c)-want[0])/want[0])
			for i := range got {
				worstV = math.Max(worstV, math.Abs(got[i]-want[i])/want[0])
			}
		}
	}
	t.Logf("worst Norm rel err %.3g, worst values err/σ1 %.3g", worstN, worstV)
}
