package net

import (
	"math"

	"gonum.org/v1/gonum/mat"
)

// Utilisation says how many of a block's n residual streams carry the
// signal over a batch (2026 analyses found mHC models using about 2 of 4).
// With Σ the n×n covariance of the streams over the batch — Σ_ij the mean
// over tokens and channels of (x_i − μ_i)(x_j − μ_j), μ_i stream i's mean —
// and λ its eigenvalues normalised to sum to 1:
//
//	Effective = exp(−Σ_k λ_k·ln λ_k)   (1 … n: the effective rank)
//	Dominant  = max_k λ_k              (1/n … 1: the leading direction's share)
//	Variance  = the share of the total variance in each stream, Σ_ii/tr Σ
//
// n identical streams give Effective 1 and Dominant 1; n independent
// streams of equal variance give Effective ≈ n and Dominant ≈ 1/n.
type Utilisation struct {
	Effective float64   `json:"effective_streams"`
	Dominant  float64   `json:"dominant_share"`
	Variance  []float64 `json:"variance_share"`
}

// StreamUtilisation measures the utilisation of the n streams of width c
// of rows tokens, x being rows×n×c row-major (token r's stream i at
// (r·n + i)·c), the layout of hc.Layer's streams. Constant streams (zero
// total variance) give Effective 0, Dominant 0 and zero shares; so does an
// empty batch. It panics with ErrShape if len(x) ≠ rows·n·c or n, c < 1.
func StreamUtilisation(x []float64, rows, n, c int) Utilisation {
	if n < 1 || c < 1 || rows < 0 || len(x) != rows*n*c {
		panic(ErrShape)
	}
	u := Utilisation{Variance: make([]float64, n)}
	if rows == 0 {
		return u
	}
	mean := make([]float64, n)
	for r := range rows {
		for i := range n {
			for _, v := range x[(r*n+i)*c : (r*n+i+1)*c] {
				mean[i] += v
			}
		}
	}
	k := float64(rows * c)
	for i := range mean {
		mean[i] /= k
	}
	cov := make([]float64, n*n)
	for r := range rows {
		for i := range n {
			xi := x[(r*n+i)*c : (r*n+i+1)*c]
			for j := i; j < n; j++ {
				xj := x[(r*n+j)*c : (r*n+j+1)*c]
				var s float64
				for e, v := range xi {
					s += (v - mean[i]) * (xj[e] - mean[j])
				}
				cov[i*n+j] += s
			}
		}
	}
	var trace float64
	for i := range n {
		for j := i; j < n; j++ {
			cov[i*n+j] /= k
			cov[j*n+i] = cov[i*n+j]
		}
		trace += cov[i*n+i]
	}
	if !(trace > 0) || math.IsInf(trace, 0) {
		return u
	}
	for i := range n {
		u.Variance[i] = cov[i*n+i] / trace
	}
	var eig mat.EigenSym
	if !eig.Factorize(mat.NewSymDense(n, cov), false) {
		return Utilisation{Effective: math.NaN(), Dominant: math.NaN(), Variance: u.Variance}
	}
	var h float64
	for _, l := range eig.Values(nil) {
		p := max(l, 0) / trace // rounding can leave tiny negative eigenvalues
		if p > 0 {
			h -= p * math.Log(p)
		}
		u.Dominant = max(u.Dominant, p)
	}
	u.Effective = math.Exp(h)
	return u
}
