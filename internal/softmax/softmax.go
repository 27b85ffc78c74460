// Package softmax is the compensated softmax of the mixers whose H_res is a
// convex combination of permutation matrices (mhclite, kromhc): weights
// that sum to 1 within a few roundings even over 8! = 40320 terms of equal
// size, where a plain sum would be biased by ~1e-12 relative.
package softmax

import "math"

// To writes w = softmax(z) (len(w) = len(z) ≥ 1), shifted by max z so that
// no exponential overflows and the largest is exactly 1 (the sum is then in
// [1, len(z)]), the sum compensated (Neumaier) so that Σ w = 1 to a few
// ulps. A NaN or +Inf logit makes every weight NaN.
func To(w, z []float64) {
	hi := z[0]
	for _, v := range z[1:] {
		if v > hi {
			hi = v
		}
	}
	// Neumaier's compensated sum: up to 8! terms of a similar size would
	// otherwise round the same way at every step, a bias of ~1e-12 relative.
	var s, comp float64
	for k, v := range z {
		e := math.Exp(v - hi)
		w[k] = e
		t := s + e
		if s >= e {
			comp += (s - t) + e
		} else {
			comp += (e - t) + s
		}
		s = t
	}
	s += comp
	for k := range w {
		w[k] /= s
	}
}

// Backward writes dz = ∂L/∂z of w = softmax(z) given w and dw = ∂L/∂w:
// dz_k = w_k·(dw_k − Σ_j w_j·dw_j). dz may alias dw.
func Backward(dz, w, dw []float64) {
	var s float64
	for i, v := range w {
		s += v * dw[i]
	}
	for i, v := range w {
		dz[i] = v * (dw[i] - s)
	}
}
