package birkhoff

import "math"

// Exact mode: Newton's method on the semi-dual
//
//	φ(g) = Σ_i LSE_j(Z_ij + g_j) − Σ_j g_j,
//
// whose minimiser g gives P_ij = exp(Z_ij + g_j − LSE_i(Z_i + g)): rows sum
// to 1 by construction and ∇φ = Pᵀ1 − 1 is the column error. The Hessian
// diag(Pᵀ1) − PᵀP is singular along 1 (adding a constant to g changes
// nothing), so the gauge g_{n−1} = 0 is fixed and Newton solves the leading
// (n−1)×(n−1) system by Cholesky, with Armijo backtracking on φ. A few
// Sinkhorn sweeps (g_j −= log c_j) warm-start it.

// warmSweeps is the number of Sinkhorn sweeps before the first Newton step.
// One sweep makes the columns roughly right; Newton then converges
// quadratically (median 3–5 steps for n ≤ 16, TestExactSteps).
const warmSweeps = 1

// polish is how far inside the tolerance Exact aims when the floor allows.
const polish = 8

// armijo is the sufficient-decrease constant of the line search.
const armijo = 1e-4

// maxHalvings bounds the backtracking of one Newton step. When every
// Levenberg shift has failed too, a Sinkhorn sweep stands in for the step.
const maxHalvings = 40

// exact runs the warm-up sweeps and Newton steps until the column error is
// at most tol or maxIter iterations were taken. It leaves P in w.p.
func (w *Workspace[F]) exact(tol float64, maxIter int) int {
	n := w.n
	w.shift(false)
	g := w.u
	for j := range g {
		g[j] = 0
	}
	phi := w.eval(g)
	it := 0
	prev := math.Inf(1)
	for ; it < maxIter; it++ {
		dev := 0.0
		for _, c := range w.c {
			if d := math.Abs(c - 1); d > dev || d != d {
				dev = d
			}
		}
		// Newton converges quadratically: once within tol, one more step is
		// taken unless the deviation is already well inside it or stopped
		// halving (the rounding floor), so results land at the floor rather
		// than just under tol.
		if n == 1 || dev <= tol/polish || (dev <= tol && dev > prev/2) {
			break
		}
		prev = dev
		if w.log && it >= warmSweeps {
			phi = w.fold(g)
		}
		if it < warmSweeps || !w.newton(g, &phi) {
			w.sweep(g)
			phi = w.eval(g)
		}
	}
	return it
}

// fold moves the potentials into the log-kernel, k_ij ← k_ij + g_j − max,
// and zeroes g, returning φ at the folded point. In the log domain the
// entries that carry mass then sit near 0, where float64 resolves them
// finely; unfolded, L_ij + g_j with |g_j| ≈ 1000 rounds at ulp(1000) ≈ 1e-13
// and caps the attainable deviation there. The rounding of one fold is a
// perturbation of the logits of the same size, the problem's own input
// precision.
func (w *Workspace[F]) fold(g []float64) float64 {
	n := w.n
	for i := 0; i < n; i++ {
		row := w.k[i*n : i*n+n]
		m := math.Inf(-1)
		for j := range row {
			row[j] += g[j]
			m = math.Max(m, row[j])
		}
		for j := range row {
			row[j] -= m
		}
	}
	for j := range g {
		g[j] = 0
	}
	return w.eval(g)
}

// sweep applies one Sinkhorn column update g_j −= log c_j (the row update is
// implicit in the semi-dual). In the log domain log c_j is a log-sum-exp of
// log P, so a column whose P underflows to 0 still moves by the right amount.
func (w *Workspace[F]) sweep(g []float64) {
	if !w.log {
		for j, c := range w.c {
			g[j] -= math.Log(c)
		}
		return
	}
	n := w.n
	lse := w.r // row log-normalisers from the last eval
	for j := 0; j < n; j++ {
		m := math.Inf(-1)
		for i := 0; i < n; i++ {
			m = math.Max(m, w.k[i*n+j]-lse[i])
		}
		var s float64
		for i := 0; i < n; i++ {
			s += math.Exp(w.k[i*n+j] - lse[i] - m)
		}
		g[j] -= m + g[j] + math.Log(s)
	}
}

// eval writes P(g) into w.p, its column sums into w.c, and returns φ(g).
func (w *Workspace[F]) eval(g []float64) float64 {
	n := w.n
	for j := range w.c {
		w.c[j] = 0
	}
	var phi float64
	for _, v := range g {
		phi -= v
	}
	if w.log {
		for i := 0; i < n; i++ {
			k := w.k[i*n : i*n+n]
			p := w.p[i*n : i*n+n]
			m := math.Inf(-1)
			for j, v := range k {
				p[j] = v + g[j]
				if p[j] > m {
					m = p[j]
				}
			}
			var s float64
			for j, v := range p {
				p[j] = math.Exp(v - m)
				s += p[j]
			}
			inv := 1 / s
			for j := range p {
				p[j] *= inv
				w.c[j] += p[j]
			}
			w.r[i] = m + math.Log(s)
			phi += w.r[i]
		}
		return phi
	}
	e := w.r // exp(g), reused for every row (scaling domain only)
	for j, v := range g {
		e[j] = math.Exp(v)
	}
	// Σ_i log s_i is taken as log Π_i s_i, the product kept as a mantissa
	// and a binary exponent: one logarithm per evaluation instead of n.
	mant, exp := 1.0, 0
	for i := 0; i < n; i++ {
		k := w.k[i*n : i*n+n]
		p := w.p[i*n : i*n+n]
		var s float64
		for j, v := range k {
			p[j] = v * e[j]
			s += p[j]
		}
		inv := 1 / s
		for j := range p {
			p[j] *= inv
			w.c[j] += p[j]
		}
		f, e := math.Frexp(mant * s)
		mant, exp = f, exp+e
	}
	return phi + math.Log(mant) + float64(exp)*math.Ln2
}

// newton takes one damped Newton step from g, updating g, *phi, w.p and
// w.c. It reports false, leaving g unchanged, when the Hessian is not
// numerically positive definite or the line search fails.
func (w *Workspace[F]) newton(g []float64, phi *float64) bool {
	n := w.n
	m := n - 1
	// H = diag(c) − PᵀP on the leading m×m block, stored with leading
	// dimension n; grad = c − 1. W = PᵀP is accumulated row by row
	// (contiguous) over all n columns, gauge column included, and each
	// diagonal is formed as the sum of its row's off-diagonal W: H is then
	// exactly a weighted graph Laplacian, free of the cancellation in
	// c_a − W_aa that ruins it when P is near a permutation.
	h := w.h
	for a := range h {
		h[a] = 0
	}
	for i := 0; i < n; i++ {
		row := w.p[i*n : i*n+n]
		for a := 1; a < n; a++ {
			pa := row[a]
			hr := h[a*n : a*n+a]
			for b, pb := range row[:a] {
				hr[b] += pa * pb
			}
		}
	}
	diag := w.diag
	for a := range diag {
		diag[a] = 0
	}
	for a := 1; a < n; a++ {
		for b, v := range h[a*n : a*n+a] {
			diag[a] += v
			diag[b] += v
		}
	}
	for a := 0; a < m; a++ {
		hr := h[a*n : a*n+a]
		for b := range hr {
			hr[b] = -hr[b]
			h[b*n+a] = hr[b] // the strict upper copy survives the factorisation
		}
		h[a*n+a] = diag[a]
	}
	for a := 0; a < m; a++ {
		w.grad[a] = w.c[a] - 1
	}
	for a := 0; a < m; a++ {
		w.diag[a] = h[a*n+a]
	}
	// Levenberg shifts: when H is singular in floating point (columns whose
	// coupling has underflowed) or the step fails the line search, retry with
	// H + μI, μ growing, which bends the step toward steepest descent.
	var dmax float64
	for _, d := range w.diag[:m] {
		dmax = max(dmax, d)
	}
	mu := 0.0
	for attempt := 0; attempt < maxShifts; attempt++ {
		if attempt > 0 {
			mu = max(100*mu, 1e-12*dmax+1e-300)
			restoreLaplacian(h, w.diag[:m], n, mu)
		}
		if !cholesky(h, m, n) {
			continue
		}
		if w.lineSearch(g, phi) {
			return true
		}
	}
	return false
}

// maxShifts bounds the Levenberg retries of one Newton step.
const maxShifts = 8

// maxStep caps the largest potential change of one Newton step, in nats: a
// nearly singular Hessian proposes steps far beyond where φ's quadratic model
// holds, and the cap keeps the line search from halving for ever.
const maxStep = 64

// restoreLaplacian rebuilds the factorised lower triangle of h from its
// untouched strict upper triangle (cholesky reads only the lower one) and
// sets the diagonal to d + mu.
func restoreLaplacian(h, d []float64, n int, mu float64) {
	m := len(d)
	for a := 0; a < m; a++ {
		for b := 0; b < a; b++ {
			h[a*n+b] = h[b*n+a]
		}
		h[a*n+a] = d[a] + mu
	}
}

// lineSearch solves for the Newton step with the factor in w.h, caps it, and
// backtracks until φ decreases sufficiently (Armijo), updating g and *phi.
func (w *Workspace[F]) lineSearch(g []float64, phi *float64) bool {
	n := w.n
	m := n - 1
	step := w.step[:m]
	for a := range step {
		step[a] = -w.grad[a]
	}
	cholSolve(w.h, step, m, n)
	var big, slope float64
	for a, d := range step {
		big = max(big, math.Abs(d))
		slope += w.grad[a] * d
	}
	if !(slope < 0) || math.IsInf(big, 0) {
		return false
	}
	t := 1.0
	if big > maxStep {
		t = maxStep / big
	}
	trial := w.trial
	trial[m] = g[m]
	slack := 64 * 0x1p-52 * (math.Abs(*phi) + float64(n))
	for k := 0; k < maxHalvings; k++ {
		for a := range step {
			trial[a] = g[a] + t*step[a]
		}
		f := w.eval(trial)
		if f <= *phi+armijo*t*slope+slack {
			copy(g, trial)
			*phi = f
			return true
		}
		t /= 2
	}
	*phi = w.eval(g)
	return false
}
