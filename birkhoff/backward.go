package birkhoff

import "math"

// Backward writes into dst the gradient ∂L/∂logits of the last successful
// Project, given g = ∂L/∂P; both are n×n row-major and may be the same slice.
//
// For Fixed it is the exact gradient of the truncated map (the 2·Iterations
// normalisations unrolled, O(Iterations·n²)). For Tolerance and Exact it is
// the implicit gradient of the exact projection, obtained by differentiating
// the optimality conditions (one n×n Cholesky solve, O(n³)): exact for
// Exact's result, and off by the order of the tolerance for Tolerance's.
// The implicit gradient has zero row and column sums. It is finite and true
// also when the result's support is disconnected (entries underflowed to 0
// near a permutation or a block matrix; Stats.Components > 1): each
// component is solved with its own gauge, and the gradient through entries
// outside the support is zero.
//
// Backward panics with ErrShape on mismatched lengths, and if no projection
// has been made.
func (w *Workspace[F]) Backward(dst, g []F) {
	n := w.n
	checkSquare(len(dst), n)
	checkSquare(len(g), n)
	for i, v := range g {
		w.g[i] = float64(v)
	}
	switch {
	case w.method == Fixed && w.sweeps == 0:
		panic(ErrShape)
	case w.method == Fixed:
		w.unrolled()
	default:
		implicit(w.g, w.p, w.g, n, w)
	}
	for i, v := range w.g {
		dst[i] = F(v)
	}
}

// unrolled back-propagates w.g through the recorded Fixed iterates, in place.
func (w *Workspace[F]) unrolled() { unroll(w.g, w.hist, 2*w.sweeps, w.n, w.c) }

// unroll back-propagates the gradient gr with respect to the last of the
// steps+1 n×n iterates in hist through the steps normalisations that made
// them, in place; t is scratch of length n. Each normalisation M' = M/s is,
// on logarithms, L' = L − LSE, whose adjoint subtracts M' times the sum of
// the upstream gradient over the same column (or row). The conversions
// float64(m·t) keep the products unfused, so every platform computes the
// same bits (unroll4Go relies on it).
func unroll(gr, hist []float64, steps, n int, t []float64) {
	nn := n * n
	p := hist[steps*nn : (steps+1)*nn]
	for i := range gr {
		gr[i] *= p[i]
	}
	for s := steps; s >= 1; s-- {
		m := hist[s*nn : (s+1)*nn]
		if s%2 == 1 { // step s normalised columns
			for j := range t {
				t[j] = 0
			}
			for i := 0; i < n; i++ {
				for j, v := range gr[i*n : i*n+n] {
					t[j] += v
				}
			}
			for i := 0; i < n; i++ {
				row, mr := gr[i*n:i*n+n], m[i*n:i*n+n]
				for j := range row {
					row[j] -= float64(mr[j] * t[j])
				}
			}
			continue
		}
		for i := 0; i < n; i++ {
			row, mr := gr[i*n:i*n+n], m[i*n:i*n+n]
			var s float64
			for _, v := range row {
				s += v
			}
			for j := range row {
				row[j] -= float64(mr[j] * s)
			}
		}
	}
}

// implicit writes into dst the implicit gradient at the doubly stochastic p
// for the upstream gradient g (dst may be g):
//
//	A = P∘G, a = A1, b = Aᵀ1,
//	(I − PᵀP + Π)·y = b − Pᵀa, x = a − P·y,
//	∂L/∂Z = P∘(G − x1ᵀ − 1yᵀ).
//
// I − PᵀP is singular: its null space holds the indicator of the columns of
// each connected component of P's support (a constant added to x on the
// component's rows and taken from y on its columns changes nothing on the
// support, and P is zero off it). Π fixes that gauge: it is Σ_k 1_k1_kᵀ/|k|
// over the column sets of the components, which makes the system symmetric
// positive definite and adds nothing to the right-hand side, which is
// orthogonal to every 1_k. With a connected support Π = 11ᵀ/n. The gradient
// P∘(G − x1ᵀ − 1yᵀ) is the same for every solution of the singular system,
// so it is the true gradient whatever the number of components.
//
// Entries at or below supportTol(Deviation(p)) are taken as outside the
// support: coupling that weak is below what the system resolves in floating
// point (it made Cholesky fail), and ignoring it moves the gradient by
// the order of the threshold. Should the factorisation still fail, the
// threshold grows until it succeeds; at the last, infinite, threshold every
// column is its own component and the matrix is 2I − PᵀP, positive definite
// for any p of spectral norm below √2 (a doubly stochastic p has norm 1).
// If even that fails, p is far from doubly stochastic and dst is filled with
// NaN. It reports the number of support components used.
func implicit[F Float](dst, p, g []float64, n int, w *Workspace[F]) int {
	a, b, y, r := w.a, w.b, w.y, w.step
	for i := range a {
		a[i], b[i] = 0, 0
	}
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			v := p[i*n+j] * g[i*n+j]
			a[i] += v
			b[j] += v
		}
	}
	// r = b − Pᵀa.
	copy(r, b)
	for i := 0; i < n; i++ {
		ai := a[i]
		for j, pv := range p[i*n : i*n+n] {
			r[j] -= pv * ai
		}
	}
	h, uf := w.h, w.uf
	tol := supportTol(Deviation(p, n))
	var comps int
	for {
		comps = support(p, n, tol, uf)
		implicitSystem(h, p, n, uf)
		if cholesky(h, n, n) {
			break
		}
		if math.IsInf(tol, 1) {
			// Even 2I − PᵀP is not positive definite: p is far from doubly
			// stochastic (BackwardAt's precondition), and no gradient of the
			// projection is defined at it.
			for i := range dst {
				dst[i] = math.NaN()
			}
			return comps
		}
		if tol *= 1e3; tol >= 1 {
			tol = math.Inf(1)
		}
	}
	copy(y, r)
	cholSolve(h, y, n, n)
	x := w.x
	for i := 0; i < n; i++ {
		s := a[i]
		for j := 0; j < n; j++ {
			s -= p[i*n+j] * y[j]
		}
		x[i] = s
	}
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			dst[i*n+j] = p[i*n+j] * (g[i*n+j] - x[i] - y[j])
		}
	}
	return comps
}

// implicitSystem writes into the lower triangle of h the matrix
// I − PᵀP + Σ_k 1_k1_kᵀ/|k|, the components k as labelled by support in uf.
// PᵀP is accumulated row by row.
func implicitSystem(h, p []float64, n int, uf []int) {
	lab, size := uf[n:2*n], uf[2*n:4*n]
	for r := 0; r < n; r++ {
		inv := 1 / float64(size[lab[r]])
		for c := 0; c < r; c++ {
			h[r*n+c] = 0
			if lab[c] == lab[r] {
				h[r*n+c] = inv
			}
		}
		h[r*n+r] = 1 + inv
	}
	for i := 0; i < n; i++ {
		row := p[i*n : i*n+n]
		for r, pr := range row {
			hr := h[r*n : r*n+r+1]
			for c, pc := range row[:r+1] {
				hr[c] -= pr * pc
			}
		}
	}
}

// BackwardAt writes into dst the implicit gradient ∂L/∂logits of the exact
// projection whose result is the doubly stochastic p, given g = ∂L/∂P. It
// needs only p, so a caller that stored the projections of many matrices
// can differentiate them later with one Workspace. The gradient is that of
// Exact's map, and is exact to the degree p is doubly stochastic.
func (w *Workspace[F]) BackwardAt(dst, p, g []F) {
	n := w.n
	checkSquare(len(dst), n)
	checkSquare(len(p), n)
	checkSquare(len(g), n)
	for i := range g {
		w.g[i] = float64(g[i])
		w.z[i] = float64(p[i])
	}
	implicit(w.g, w.z, w.g, n, w)
	for i, v := range w.g {
		dst[i] = F(v)
	}
}
