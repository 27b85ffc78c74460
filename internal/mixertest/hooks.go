package mixertest

import (
	"math/rand/v2"

	"github.com/hyperconn/hyperconn/hc"
)

// PerturbPhi is a Case.Perturb for the coefficient-head mixers: it draws
// every entry of the head's φ ("phi") from N(0, 0.3²), off its zero init,
// where the gates' gradients vanish, so that every token gets its own
// coefficients.
func PerturbPhi(m hc.Mixer, rnd *rand.Rand) {
	phi := hc.Lookup(m, "phi").Value
	for i := range phi {
		phi[i] = 0.3 * rnd.NormFloat64()
	}
}

// FarGate is the start of a Case.Far for the mixers whose residual logits
// pass through the gate α_res·raw + b_res: PerturbPhi, α_res = 1 and every
// b_res from N(0, σ²). It returns b_res for the caller's own shift (e.g.
// taking σ off an identity's logit), or nil if m has none (n = 1).
func FarGate(m hc.Mixer, rnd *rand.Rand, sigma float64) []float64 {
	PerturbPhi(m, rnd)
	b := hc.Lookup(m, "b_res")
	if b == nil {
		return nil
	}
	hc.Lookup(m, "alpha_res").Value[0] = 1
	for i := range b.Value {
		b.Value[i] = sigma * rnd.NormFloat64()
	}
	return b.Value
}

// MulTo writes dst = a·b for n×n row-major matrices (dst must not alias a
// or b): how the suite composes the H_res of 64 layers.
func MulTo(dst, a, b []float64, n int) {
	for i := range n {
		for j := range n {
			var v float64
			for q := range n {
				v += a[i*n+q] * b[q*n+j]
			}
			dst[i*n+j] = v
		}
	}
}
