package net

import (
	"fmt"
	"math"

	"github.com/hyperconn/hyperconn/birkhoff"
	"github.com/hyperconn/hyperconn/hc"
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
	layers := make([]*hc.Layer, len(m.blocks))
	for l := range m.blocks {
		layers[l] = m.blocks[l].layer
	}
	return summarize(layers, m.n, samples, nil)
}

// layerGains are the per-layer curves a summary can also collect: for each
// layer l (0-based) the forward Amax of the prefix composite
// Π_f(l) = H̄_l···H̄_0, the backward Amax of the suffix composite
// Π_b(l) = H̄_{L−1}···H̄_l, the worst per-token DS deviation and the identity
// distance of H̄_l (MatrixStats.IdentityDist). Its slices have one entry
// per layer.
type layerGains struct {
	forward, backward, dsDev, identity []float64
}

// summarize returns the Summary of the last batch run through layers (in
// forward order; every one must have run the same tokens through n
// streams) and, unless per is nil, fills per's slices (allocating them if
// they are too short). It panics with ErrSequence if no batch has run.
func summarize(layers []*hc.Layer, n, samples int, per *layerGains) Summary {
	tokens := layers[0].Tokens()
	if tokens == 0 {
		panic(fmt.Errorf("%w: Summarize before a batch", ErrSequence))
	}
	if samples <= 0 || samples > tokens {
		samples = tokens
	}
	L, nn := len(layers), n*n
	var means [][]float64
	if per != nil {
		per.forward = resize(per.forward, L)
		per.backward = resize(per.backward, L)
		per.dsDev = resize(per.dsDev, L)
		per.identity = resize(per.identity, L)
		means = make([][]float64, L)
	}
	mean, p, tmp := make([]float64, nn), identity(n), make([]float64, nn)
	var s Summary
	for l, lay := range layers {
		_, _, res := lay.Coefficients()
		var dev float64
		for t := range tokens {
			dev = math.Max(dev, birkhoff.Deviation(res[t*nn:(t+1)*nn], n))
		}
		s.MaxDSDeviation = math.Max(s.MaxDSDeviation, dev)
		lay.MeanResTo(mean)
		matMul(tmp, mean, p, n)
		p, tmp = tmp, p
		if per != nil {
			per.dsDev[l] = dev
			per.forward[l] = forwardAmax(p, n)
			per.identity[l] = identityDist(mean, n)
			means[l] = append([]float64(nil), mean...)
		}
	}
	s.ForwardAmax, s.BackwardAmax = forwardAmax(p, n), backwardAmax(p, n)
	if per != nil {
		p = identity(n)
		for l := L - 1; l >= 0; l-- { // Π_b(l) = Π_b(l+1)·H̄_l
			matMul(tmp, p, means[l], n)
			p, tmp = tmp, p
			per.backward[l] = backwardAmax(p, n)
		}
	}
	w := 1 / float64(samples)
	for k := range samples {
		t := k * tokens / samples
		p = identity(n)
		for _, lay := range layers {
			_, _, res := lay.Coefficients()
			matMul(tmp, res[t*nn:(t+1)*nn], p, n)
			p, tmp = tmp, p
		}
		s.SampledForwardAmax += w * forwardAmax(p, n)
		s.SampledBackwardAmax += w * backwardAmax(p, n)
	}
	return s
}

// resize returns s with length k, reusing its array when it is long enough.
func resize(s []float64, k int) []float64 {
	if cap(s) < k {
		return make([]float64, k)
	}
	return s[:k]
}

// identityDist returns ‖M − I‖_F/√(n−1) of the n×n row-major m (0 when
// n = 1), as Measure computes MatrixStats.IdentityDist.
func identityDist(m []float64, n int) float64 {
	if n < 2 {
		return 0
	}
	var sq float64
	for i := range n {
		for j, v := range m[i*n : (i+1)*n] {
			d := v
			if i == j {
				d--
			}
			sq += d * d
		}
	}
	return math.Sqrt(sq / float64(n-1))
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
