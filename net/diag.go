package net

import (
	"fmt"
	"math"

	"github.com/hyperconn/hyperconn/birkhoff"
	"github.com/hyperconn/hyperconn/spectral"
)

// MatrixStats are the depth diagnostics of SPEC §6 for one n×n residual
// matrix or composite M, in the library's orientation (row i of M builds
// output stream i): row sums are the forward gain, column sums the backward
// (gradient) gain.
type MatrixStats struct {
	ForwardAmax   float64 // max_i |Σ_j M_ij|: mHC's forward "Amax gain magnitude"
	BackwardAmax  float64 // max_j |Σ_i M_ij|: the backward Amax
	RowNorm       float64 // max_i Σ_j |M_ij|: the induced ∞-norm
	ColNorm       float64 // max_j Σ_i |M_ij|: the induced 1-norm
	Sigma1        float64 // largest singular value ‖M‖₂
	Sigma2        float64 // second singular value (0 when n = 1)
	SigmaMin      float64 // smallest singular value
	DistJ         float64 // ‖M − J‖₂, J = 11ᵀ/n
	EffectiveRank float64 // exp of the entropy of the normalised singular values
	DSDeviation   float64 // max |row or column sum − 1| (signs not checked)
	MinEntry      float64 // smallest entry (negative: not doubly stochastic)
	IdentityDist  float64 // ‖M − I‖_F/√(n−1); 0 when n = 1
}

// Measure returns the MatrixStats of the n×n row-major m. It panics with
// ErrShape if n < 1 or len(m) ≠ n². Non-finite entries give NaN spectral
// values, never a panic.
func Measure(m []float64, n int) MatrixStats {
	if n < 1 || len(m) != n*n {
		panic(ErrShape)
	}
	var s MatrixStats
	s.MinEntry = math.Inf(1)
	var idSq float64
	for i := range n {
		var sum, abs float64
		for j, v := range m[i*n : (i+1)*n] {
			sum += v
			abs += math.Abs(v)
			s.MinEntry = math.Min(s.MinEntry, v)
			d := v
			if i == j {
				d--
			}
			idSq += d * d
		}
		s.ForwardAmax = math.Max(s.ForwardAmax, math.Abs(sum))
		s.RowNorm = math.Max(s.RowNorm, abs)
	}
	for j := range n {
		var sum, abs float64
		for i := range n {
			sum += m[i*n+j]
			abs += math.Abs(m[i*n+j])
		}
		s.BackwardAmax = math.Max(s.BackwardAmax, math.Abs(sum))
		s.ColNorm = math.Max(s.ColNorm, abs)
	}
	s.DSDeviation = birkhoff.Deviation(m, n)
	if n > 1 {
		s.IdentityDist = math.Sqrt(idSq / float64(n-1))
	}
	sv := spectral.Values(nil, m, n, n)
	s.Sigma1, s.SigmaMin = sv[0], sv[n-1]
	if n > 1 {
		s.Sigma2 = sv[1]
	}
	s.DistJ = spectral.DistJ(m, n)
	s.EffectiveRank = spectral.EffectiveRank(m, n, n)
	return s
}

// add accumulates w·o into s, field by field.
func (s *MatrixStats) add(o MatrixStats, w float64) {
	s.ForwardAmax += w * o.ForwardAmax
	s.BackwardAmax += w * o.BackwardAmax
	s.RowNorm += w * o.RowNorm
	s.ColNorm += w * o.ColNorm
	s.Sigma1 += w * o.Sigma1
	s.Sigma2 += w * o.Sigma2
	s.SigmaMin += w * o.SigmaMin
	s.DistJ += w * o.DistJ
	s.EffectiveRank += w * o.EffectiveRank
	s.DSDeviation += w * o.DSDeviation
	s.MinEntry += w * o.MinEntry
	s.IdentityDist += w * o.IdentityDist
}

// LayerStats are the diagnostics of one block for the last batch.
type LayerStats struct {
	// Res, Pre and Post are the token averages of H_res (n×n, row-major),
	// h_pre and h_post (n each).
	Res, Pre, Post []float64
	// Mean holds the MatrixStats of the token-averaged H_res (Res).
	Mean MatrixStats
	// MaxDSDeviation is the largest DS deviation (max |row or column sum −
	// 1|) of any single token's H_res: for shc it is the sum error.
	MaxDSDeviation float64
	// MaxSphereError is the largest |σ₁(H_res) − 1| of any single token:
	// the sphere error of shc (radius 1), and 0 up to rounding for every
	// doubly stochastic matrix, whose spectral norm is 1.
	MaxSphereError float64
	// GradNorm is ‖∂L/∂X_l‖_F, the norm of the gradient of the batch-mean
	// loss reaching the block's output streams, from the last backward pass.
	GradNorm float64
}

// CompositeStats describe the products of the residual matrices across the
// blocks: Π = H_L···H_1, the map from the expanded embedding to the last
// streams that the residual path alone would apply.
type CompositeStats struct {
	// Matrix is Π of the token-averaged matrices, n×n row-major.
	Matrix []float64
	// Mean holds the MatrixStats of Matrix.
	Mean MatrixStats
	// Sampled averages, over the sampled tokens, the MatrixStats of each
	// token's own composite Π_t = H_L(t)···H_1(t).
	Sampled MatrixStats
	// SampledMaxDSDeviation and SampledMaxSphereError are the worst DS
	// deviation and |σ₁ − 1| over the sampled tokens' composites.
	SampledMaxDSDeviation, SampledMaxSphereError float64
	// ForwardAmax[l−1] is the forward Amax of Π_f(l) = H̄_l···H̄_1 and
	// BackwardAmax[l−1] the backward Amax of Π_b(l) = H̄_L···H̄_l, for
	// l = 1..L, on the token-averaged matrices H̄ (mHC Fig. 8's curves).
	ForwardAmax, BackwardAmax []float64
}

// Diagnostics are the depth diagnostics of a model for its last batch.
type Diagnostics struct {
	N       int          // streams
	Tokens  int          // tokens the averages run over
	Sampled int          // tokens whose own composites were measured
	Layers  []LayerStats // one per block, in order
	// Composite describes the products of the residual matrices.
	Composite CompositeStats
}

// Diagnose measures the residual matrices of the last batch run through the
// model (by Forward, Logits or the last chunk of Evaluate), as SPEC §6
// defines them. Which values are token averages:
//
//   - LayerStats.Res, Pre, Post and Mean, CompositeStats.Matrix, Mean,
//     ForwardAmax and BackwardAmax use the token-averaged matrices H̄_l;
//   - LayerStats.MaxDSDeviation and MaxSphereError are maxima over all tokens;
//   - CompositeStats.Sampled averages the stats of the per-token composites
//     of samples tokens spread evenly over the batch (all tokens if samples
//     ≤ 0 or larger than the batch).
//
// GradNorm comes from the last backward pass (0 before any). Diagnose
// allocates its result; it panics with ErrSequence if no batch has run.
func (m *Model) Diagnose(samples int) Diagnostics {
	n, L := m.n, len(m.blocks)
	tokens := m.blocks[0].layer.Tokens()
	if tokens == 0 {
		panic(fmt.Errorf("%w: Diagnose before a batch", ErrSequence))
	}
	if samples <= 0 || samples > tokens {
		samples = tokens
	}
	nn := n * n
	d := Diagnostics{N: n, Tokens: tokens, Sampled: samples, Layers: make([]LayerStats, L)}
	means := make([][]float64, L)
	for l := range m.blocks {
		lay := m.blocks[l].layer
		pre, post, res := lay.Coefficients()
		ls := &d.Layers[l]
		ls.Res = lay.MeanResTo(nil)
		ls.Pre, ls.Post = meanRows(pre, n), meanRows(post, n)
		ls.Mean = Measure(ls.Res, n)
		ls.GradNorm = m.gradNorm[l]
		for t := range tokens {
			h := res[t*nn : (t+1)*nn]
			ls.MaxDSDeviation = math.Max(ls.MaxDSDeviation, birkhoff.Deviation(h, n))
			ls.MaxSphereError = math.Max(ls.MaxSphereError, math.Abs(spectral.Norm(h, n, n)-1))
		}
		means[l] = ls.Res
	}

	cs := &d.Composite
	cs.ForwardAmax = make([]float64, L)
	cs.BackwardAmax = make([]float64, L)
	p, tmp := identity(n), make([]float64, nn)
	for l := range L { // Π_f(l) = H̄_l·Π_f(l−1)
		matMul(tmp, means[l], p, n)
		p, tmp = tmp, p
		cs.ForwardAmax[l] = forwardAmax(p, n)
	}
	cs.Matrix = append([]float64(nil), p...)
	cs.Mean = Measure(cs.Matrix, n)
	p = identity(n)
	for l := L - 1; l >= 0; l-- { // Π_b(l) = Π_b(l+1)·H̄_l
		matMul(tmp, p, means[l], n)
		p, tmp = tmp, p
		cs.BackwardAmax[l] = backwardAmax(p, n)
	}

	ress := make([][]float64, L)
	for l := range m.blocks {
		_, _, ress[l] = m.blocks[l].layer.Coefficients()
	}
	w := 1 / float64(samples)
	for k := range samples {
		t := k * tokens / samples
		p = identity(n)
		for l := range L {
			matMul(tmp, ress[l][t*nn:(t+1)*nn], p, n)
			p, tmp = tmp, p
		}
		s := Measure(p, n)
		cs.Sampled.add(s, w)
		cs.SampledMaxDSDeviation = math.Max(cs.SampledMaxDSDeviation, s.DSDeviation)
		cs.SampledMaxSphereError = math.Max(cs.SampledMaxSphereError, math.Abs(s.Sigma1-1))
	}
	return d
}

// meanRows returns the average of the rows of the len(x)/n × n matrix x.
func meanRows(x []float64, n int) []float64 {
	dst := make([]float64, n)
	rows := len(x) / n
	for r := range rows {
		for i, v := range x[r*n : (r+1)*n] {
			dst[i] += v
		}
	}
	for i := range dst {
		dst[i] /= float64(rows)
	}
	return dst
}

// identity returns the n×n identity.
func identity(n int) []float64 {
	id := make([]float64, n*n)
	for i := range n {
		id[i*n+i] = 1
	}
	return id
}

// matMul sets dst = a·b for n×n row-major matrices; dst must not alias them.
func matMul(dst, a, b []float64, n int) {
	clear(dst)
	for i := range n {
		for k, v := range a[i*n : (i+1)*n] {
			for j, w := range b[k*n : (k+1)*n] {
				dst[i*n+j] += v * w
			}
		}
	}
}
