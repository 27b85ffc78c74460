package net

import (
	"fmt"
	"math"

	"github.com/hyperconn/hyperconn/birkhoff"
)

// Summary is the part of Diagnostics cheap enough to take during training:
// the gains of the composite residual map and the worst DS deviation of any
// block, for the last batch. Each field equals the Diagnostics field named
// beside it, bit for bit, at about a hundredth of Diagnose's cost (no
// singular values): O(L·tokens·n² + (samples+1)·L·n³).
type Summary struct {
	// ForwardAmax and BackwardAmax are the forward (max |row sum|) and
	// backward (max |column sum|) Amax of Π = H̄_L···H̄_1, the composite of
	// the token-averaged matrices: Composite.Mean.ForwardAmax and
	// Composite.Mean.BackwardAmax.
	ForwardAmax, BackwardAmax float64
	// SampledForwardAmax and SampledBackwardAmax average the same two gains
	// of the sampled tokens' own composites: Composite.Sampled.ForwardAmax
	// and Composite.Sampled.BackwardAmax.
	SampledForwardAmax, SampledBackwardAmax float64
	// MaxDSDeviation is the largest DS deviation (max |row or column sum −
	// 1|) of any single token's H_res in any block: the maximum over the
	// blocks of LayerStats.MaxDSDeviation.
	MaxDSDeviation float64
}

// Summarize returns the Summary of the last batch run through the model,
// with the composites of samples tokens spread evenly over the batch (all
// tokens if samples ≤ 0 or larger than the batch), as Diagnose(samples)
// measures them. It panics with ErrSequence if no batch has run.
func (m *Model) Summarize(samples int) Summary {
	n := m.n
	tokens := m.blocks[0].layer.Tokens()
	if tokens == 0 {
		panic(fmt.Errorf("%w: Summarize before a batch", ErrSequence))
	}
	if samples <= 0 || samples > tokens {
		samples = tokens
	}
	nn := n * n
	mean, p, tmp := make([]float64, nn), identity(n), make([]float64, nn)
	var s Summary
	for _, b := range m.blocks {
		lay := b.layer
		_, _, res := lay.Coefficients()
		for t := range tokens {
			s.MaxDSDeviation = math.Max(s.MaxDSDeviation, birkhoff.Deviation(res[t*nn:(t+1)*nn], n))
		}
		lay.MeanResTo(mean)
		matMul(tmp, mean, p, n)
		p, tmp = tmp, p
	}
	s.ForwardAmax, s.BackwardAmax = forwardAmax(p, n), backwardAmax(p, n)
	w := 1 / float64(samples)
	for k := range samples {
		t := k * tokens / samples
		p = identity(n)
		for _, b := range m.blocks {
			_, _, res := b.layer.Coefficients()
			matMul(tmp, res[t*nn:(t+1)*nn], p, n)
			p, tmp = tmp, p
		}
		s.SampledForwardAmax += w * forwardAmax(p, n)
		s.SampledBackwardAmax += w * backwardAmax(p, n)
	}
	return s
}

// forwardAmax returns max_i |Σ_j m_ij| of the n×n row-major m, summed as
// Measure sums it.
func forwardAmax(m []float64, n int) float64 {
	var a float64
	for i := range n {
		var sum float64
		for _, v := range m[i*n : (i+1)*n] {
			sum += v
		}
		a = math.Max(a, math.Abs(sum))
	}
	return a
}

// backwardAmax returns max_j |Σ_i m_ij| of the n×n row-major m, summed as
// Measure sums it.
func backwardAmax(m []float64, n int) float64 {
	var a float64
	for j := range n {
		var sum float64
		for i := range n {
			sum += m[i*n+j]
		}
		a = math.Max(a, math.Abs(sum))
	}
	return a
}
