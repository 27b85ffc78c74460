package birkhoff_test

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/hyperconn/hyperconn/birkhoff"
)

// mixUlps bounds the error of the compensated mixture against the exact sum
// of the same float64 weights, in units of the entry's magnitude times ε:
// Neumaier summation is correct to about one rounding, plus O(n!·ε²).
const mixUlps = 2

// exactMix is the oracle: every entry of Σ_k w[k]·P_k summed exactly in
// math/big, then rounded once to float64.
func exactMix(p *birkhoff.Perms, w []float64) []float64 {
	n := p.N()
	acc := make([]big.Float, n*n)
	for i := range acc {
		acc[i].SetPrec(2000)
	}
	var t big.Float
	for k, wk := range w {
		for i, j := range p.At(k) {
			acc[i*n+j].Add(&acc[i*n+j], t.SetFloat64(wk))
		}
	}
	out := make([]float64, n*n)
	for i := range out {
		out[i], _ = acc[i].Float64()
	}
	return out
}

// softmaxRef is a plain max-shifted softmax for building test weights.
func softmaxRef(w, z []float64) {
	m := z[0]
	for _, v := range z {
		m = max(m, v)
	}
	var s float64
	for k, v := range z {
		w[k] = math.Exp(v - m)
		s += w[k]
	}
	for k := range w {
		w[k] /= s
	}
}

// TestMixCompensated checks Mix against the exact oracle, on mHC-lite's
// init weights (all non-identity weights equal: the worst case for a plain
// sum, whose rounding is then the same at every step) and on a softmax of
// N(0, 5²) logits, at every n ≤ MaxPermN.
func TestMixCompensated(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 8))
	for n := 2; n <= birkhoff.MaxPermN; n++ {
		perms, err := birkhoff.NewPerms(n)
		if err != nil {
			t.Fatal(err)
		}
		count := perms.Len()
		z := make([]float64, count)
		w := make([]float64, count)
		for _, in := range []string{"init", "normal"} {
			for k := range z {
				switch {
				case in == "normal":
					z[k] = 5 * rnd.NormFloat64()
				case k > 0:
					z[k] = -8
				}
			}
			softmaxRef(w, z)
			want := exactMix(perms, w)
			got := make([]float64, n*n)
			birkhoff.Mix(got, perms, w)
			var worst float64
			for i, v := range want {
				worst = max(worst, math.Abs(got[i]-v)/v)
			}
			if worst > mixUlps*0x1p-52 {
				t.Errorf("n=%d %s: relative error %.3g > %d ulps", n, in, worst, mixUlps)
			}
		}
	}
}
