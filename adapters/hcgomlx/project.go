package hcgomlx

import (
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
)

// Default iteration counts of the exact projection in the graph. A GoMLX
// graph has a fixed shape, so the projection runs a fixed number of steps
// rather than stopping at a tolerance as birkhoff.Exact does; the
// certificate (Coefficients.Deviation) says how far the result is from
// doubly stochastic.
const (
	// DefaultWarmSweeps is the number of Sinkhorn sweeps before Newton
	// (birkhoff.Exact makes one).
	DefaultWarmSweeps = 1
	// DefaultNewtonSteps is the number of Newton steps on the semi-dual.
	// From one warm sweep, birkhoff.Exact needs a median of 3–5 steps for
	// n ≤ 16 (SPEC §4); twelve leave room for logits far from the init
	// (the adapter's tests reach the float64 floor with logits of scale up
	// to 5 at n ≤ 8).
	DefaultNewtonSteps = 12
	// lineSearchSteps is the number of step lengths 1, 1/2, …, 2^-(k−1)
	// tried at once by each Newton step's backtracking line search.
	lineSearchSteps = 16
	// armijo is the sufficient-decrease constant of the line search, as
	// birkhoff's.
	armijo = 1e-4
	// maxStep caps the largest entry of a Newton step, as birkhoff's.
	maxStep = 64
)

// reduceKeep sums x over axis, keeping it with size 1.
func reduceKeep(x *graph.Node, axis int) *graph.Node {
	return graph.ReduceAndKeep(x, graph.ReduceSum, axis)
}

// deviation returns, per token, max over rows and columns of |sum − r| of
// the [T, n, n] matrices h.
func deviation(h *graph.Node, r float64) *graph.Node {
	rows := graph.Abs(graph.AddScalar(graph.ReduceSum(h, 2), -r))
	cols := graph.Abs(graph.AddScalar(graph.ReduceSum(h, 1), -r))
	return graph.ReduceMax(graph.Max(rows, cols), 1)
}

// sinkhornFixed is the paper's projection: exp(z), then sweeps Sinkhorn
// sweeps (column normalisation, then row normalisation), as
// birkhoff.ProjectFixed computes it, and differentiated by autodiff through
// the unrolled sweeps (the exact gradient of the truncated map, as
// birkhoff.BackwardFixed). z is [T, n, n]; each column is first shifted by
// its largest logit, which the first column normalisation cancels. Unlike
// birkhoff, there is no log-domain fallback for logit ranges beyond
// birkhoff.MaxScalingRange: exp underflows there.
func sinkhornFixed(z *graph.Node, sweeps int) *graph.Node {
	shift := graph.StopGradient(graph.ReduceAndKeep(z, graph.ReduceMax, 1))
	m := graph.Exp(graph.Sub(z, shift))
	for range sweeps {
		m = graph.Div(m, reduceKeep(m, 1))
		m = graph.Div(m, reduceKeep(m, 2))
	}
	return m
}

// semiDual evaluates, for the [T, n, n] shifted logits k and column
// potentials g ([T, S, n]: S candidate potentials per token), the row-wise
// softmax P ([T, S, n, n]) of k + g, its column sums c ([T, S, n]), the
// row log-normalisers lse ([T, S, n]) and the semi-dual
// φ(g) = Σ_i LSE_j(k_ij + g_j) − Σ_j g_j ([T, S]).
func semiDual(k, g *graph.Node) (p, c, lse, phi *graph.Node) {
	l := graph.Add(graph.InsertAxes(k, 1), graph.InsertAxes(g, 2)) // [T, S, n, n]
	mx := graph.StopGradient(graph.ReduceAndKeep(l, graph.ReduceMax, 3))
	e := graph.Exp(graph.Sub(l, mx))
	s := reduceKeep(e, 3)
	p = graph.Div(e, s)
	c = graph.ReduceSum(p, 2)
	lse = graph.Squeeze(graph.Add(mx, graph.Log(s)), 3)
	phi = graph.Sub(graph.ReduceSum(lse, 2), graph.ReduceSum(g, 2))
	return p, c, lse, phi
}

// projectExact is the exact projection onto the doubly stochastic matrices
// (birkhoff.Exact's algorithm with fixed counts): warm Sinkhorn sweeps, then
// Newton steps on the semi-dual φ(g) with a backtracking line search, its
// candidate step lengths evaluated side by side. It returns
// P = exp(z + f_i + g_j) — rows and columns summing to 1 once converged —
// whose gradient is the implicit one (SPEC §4), attached with
// graph.IdentityWithCustomGradient; the iterations themselves are not
// differentiated.
func projectExact(z *graph.Node, sweeps, steps int) *graph.Node {
	dims := z.Shape().Dimensions
	t, n := dims[0], dims[1]
	g0 := z.Graph()
	dt := z.DType()
	zs := graph.StopGradient(z)
	k := graph.Sub(zs, graph.ReduceAndKeep(zs, graph.ReduceMax, 2)) // row shift
	gp := graph.Zeros(g0, shapes.Make(dt, t, 1, n))                 // potentials [T, 1, n]
	_, c, _, phi := semiDual(k, gp)
	for range sweeps {
		gp = graph.Sub(gp, graph.Log(c))
		_, c, _, phi = semiDual(k, gp)
	}
	// Step lengths 1, 1/2, … as a [1, S] constant.
	ts := make([]float64, lineSearchSteps)
	for i := range ts {
		ts[i] = math.Ldexp(1, -i)
	}
	tc := constOf(g0, dt, ts, 1, lineSearchSteps)
	eps := 0x1p-52
	if dt == dtypes.Float32 {
		eps = 0x1p-23
	}
	jd := make([]float64, n*n)
	for i := range jd {
		jd[i] = 1 / float64(n)
	}
	jn := constOf(g0, dt, jd, 1, n, n)
	for range steps {
		p, cc, _, _ := semiDual(k, gp)
		p = graph.Squeeze(p, 1)                           // [T, n, n]
		grad := graph.Squeeze(graph.AddScalar(cc, -1), 1) // [T, n]
		// Hessian diag(c) − PᵀP, made definite along 1 by adding J = 11ᵀ/n
		// (the gradient is orthogonal to 1, so the step is unchanged).
		h := graph.Sub(graph.Mul(graph.InsertAxes(identity(g0, dt, n), 0), graph.InsertAxes(graph.Squeeze(cc, 1), 1)),
			graph.Einsum("tki,tkj->tij", p, p))
		h = graph.Add(h, jn)
		d := graph.Squeeze(solveGJ(h, graph.InsertAxes(graph.Neg(grad), 2)), 2) // [T, n]
		slope := graph.ReduceSum(graph.Mul(grad, d), 1)                         // [T]
		big := graph.ReduceMax(graph.Abs(d), 1)
		scale := graph.Min(graph.OnesLike(big), graph.Div(graph.Scalar(g0, dt, maxStep), big))
		d = graph.Mul(d, graph.InsertAxes(scale, 1))
		slope = graph.Mul(slope, scale)
		// Candidates g + t·d for every t, evaluated side by side.
		trial := graph.Add(gp, graph.Mul(graph.InsertAxes(tc, 2), graph.InsertAxes(d, 1))) // [T, S, n]
		_, _, _, ft := semiDual(k, trial)                                                  // [T, S]
		phi0 := graph.Squeeze(phi, 1)
		slack := graph.MulScalar(graph.AddScalar(graph.Abs(phi0), float64(n)), 64*eps)
		bound := graph.Add(graph.InsertAxes(graph.Add(phi0, slack), 1), graph.Mul(graph.MulScalar(tc, armijo), graph.InsertAxes(slope, 1)))
		ok := graph.LogicalAnd(graph.LessOrEqual(ft, bound), graph.LessThan(graph.InsertAxes(slope, 1), graph.ZerosLike(ft)))
		// The longest acceptable step; 0 (stay) if none is.
		best := graph.ReduceMax(graph.Where(ok, graph.BroadcastToShape(tc, ft.Shape()), graph.ZerosLike(ft)), 1) // [T]
		best = graph.Where(graph.IsFinite(best), best, graph.ZerosLike(best))
		gp = graph.Add(gp, graph.InsertAxes(graph.Mul(d, graph.InsertAxes(best, 1)), 1))
		_, _, _, phi = semiDual(k, gp)
	}
	// u_ij = g_j − LSE_j'(k_ij' + g_j') − rowmax_i: the log-scaling of z.
	_, _, lse, _ := semiDual(k, gp)
	u := graph.Sub(graph.Sub(gp, graph.InsertAxes(graph.Squeeze(lse, 1), 2)), graph.ReduceAndKeep(zs, graph.ReduceMax, 2))
	q := graph.Exp(graph.Add(z, graph.StopGradient(u)))
	return graph.IdentityWithCustomGradient(q, implicitGradient)
}

// implicitGradient is the exact projection's backward (SPEC §4), written in
// graph operations: given P and the upstream gradient G (both [T, n, n]),
// with A = P∘G, a = A·1, b = Aᵀ·1, it solves the SPD system
// (I − PᵀP + 11ᵀ/n)·y = b − Pᵀa, sets x = a − P·y and returns
// W = G − x·1ᵀ − 1·yᵀ, the gradient with respect to P = exp(z + u); the
// exponential's own derivative then gives ∂L/∂z = P∘W.
func implicitGradient(p, grad *graph.Node) *graph.Node {
	p = graph.StopGradient(p)
	n := p.Shape().Dimensions[1]
	g := p.Graph()
	dt := p.DType()
	a := graph.Mul(p, grad)
	ra := graph.ReduceSum(a, 2) // [T, n]
	cb := graph.ReduceSum(a, 1)
	m := graph.Sub(graph.InsertAxes(identity(g, dt, n), 0), graph.Einsum("tki,tkj->tij", p, p))
	m = graph.AddScalar(m, 1/float64(n))
	rhs := graph.Sub(cb, graph.Einsum("tki,tk->ti", p, ra))
	y := graph.Squeeze(solveGJ(m, graph.InsertAxes(rhs, 2)), 2)
	x := graph.Sub(ra, graph.Einsum("tij,tj->ti", p, y))
	return graph.Sub(graph.Sub(grad, graph.InsertAxes(x, 2)), graph.InsertAxes(y, 1))
}
