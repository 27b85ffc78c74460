package hcgomlx

import (
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
)

// Iteration counts of the exact projection in the graph. As birkhoff.Exact,
// it stops at the element type's floor (the batch's worst token decides) or
// at a cap; the certificate (Coefficients.Deviation) says how far the result
// is from doubly stochastic.
const (
	// DefaultWarmSweeps is the number of Sinkhorn sweeps before Newton
	// (birkhoff.Exact makes one).
	DefaultWarmSweeps = 1
	// DefaultNewtonSteps caps the Newton steps on the semi-dual (the loop
	// stops earlier once every token has converged). From one warm sweep,
	// birkhoff.Exact needs a median of 3–5 steps for n ≤ 16 (SPEC §4); in
	// TestProjectExactGraph (n ≤ 8, logits up to N(0, 8²)) a batch of 16
	// tokens needs at most 13.
	DefaultNewtonSteps = 50
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

// projectExact is the exact projection onto the doubly stochastic matrices,
// birkhoff.Exact's algorithm in graph operations: warm Sinkhorn sweeps, then
// Newton steps on the semi-dual φ(g) = Σ_i LSE_j(z_ij + g_j) − Σ_j g_j, each
// with a backtracking line search whose candidate step lengths are evaluated
// side by side. The Newton steps run in a graph.While loop over the whole
// batch until every token's max column error is ≤ floor/8 (floor: 1e-13 for
// float64, 2e-6 for float32, birkhoff's), or the errors stall at or below
// the floor, or maxSteps steps have run. It returns
// P = exp(z + f_i + g_j), with rows and columns summing to 1 once
// converged, whose gradient is the implicit one (SPEC §4), attached with
// graph.IdentityWithCustomGradient (the iterations themselves are not
// differentiated), and the number of Newton steps run (an int32 scalar).
func projectExact(z *graph.Node, sweeps, maxSteps int) (p, steps *graph.Node) {
	dims := z.Shape().Dimensions
	t, n := dims[0], dims[1]
	g0 := z.Graph()
	dt := z.DType()
	zs := graph.StopGradient(z)
	k := graph.Sub(zs, graph.ReduceAndKeep(zs, graph.ReduceMax, 2)) // row shift
	gp := graph.Zeros(g0, shapes.Make(dt, t, 1, n))                 // potentials [T, 1, n]
	for range sweeps {
		_, c, _, _ := semiDual(k, gp)
		gp = graph.Sub(gp, graph.Log(c))
	}
	floor := 1e-13
	if dt == dtypes.Float32 {
		floor = 2e-6
	}
	colErr := func(k, gp *graph.Node) *graph.Node {
		_, c, _, _ := semiDual(k, gp)
		return graph.ReduceAllMax(graph.Abs(graph.AddScalar(c, -1)))
	}
	// State: k, g, step count, error now, error before. The initial state
	// is built first: graph.Scalar caches constants per graph, and a
	// closure may use the parent's nodes but not the other way round.
	warmScalars(g0, dt, n, floor, maxSteps)
	init := []*graph.Node{k, gp, graph.Scalar(g0, dtypes.Int32, 0), colErr(k, gp), graph.Scalar(g0, dt, math.Inf(1))}
	kShape, gShape := k.Shape(), gp.Shape()
	sShape, eShape := shapes.Make(dtypes.Int32), shapes.Make(dt)
	cond := graph.NewClosure(g0, func(g *graph.Graph) []*graph.Node {
		graph.Parameter(g, "k", kShape)
		graph.Parameter(g, "g", gShape)
		it := graph.Parameter(g, "it", sShape)
		dev := graph.Parameter(g, "dev", eShape)
		prev := graph.Parameter(g, "prev", eShape)
		more := graph.LessThan(it, graph.Scalar(g, dtypes.Int32, maxSteps))
		far := graph.GreaterThan(dev, graph.Scalar(g, dt, floor/8))
		stalled := graph.LogicalAnd(graph.LessOrEqual(dev, graph.Scalar(g, dt, floor)),
			graph.GreaterThan(dev, graph.MulScalar(prev, 0.5)))
		return []*graph.Node{graph.LogicalAnd(more, graph.LogicalAnd(far, graph.LogicalNot(stalled)))}
	})
	body := graph.NewClosure(g0, func(g *graph.Graph) []*graph.Node {
		k := graph.Parameter(g, "k", kShape)
		gp := graph.Parameter(g, "g", gShape)
		it := graph.Parameter(g, "it", sShape)
		dev := graph.Parameter(g, "dev", eShape)
		graph.Parameter(g, "prev", eShape)
		gp = newtonStep(k, gp)
		return []*graph.Node{k, gp, graph.AddScalar(it, 1), colErr(k, gp), dev}
	})
	out := graph.While(cond, body, init...)
	gp = out[1]
	// u_ij = g_j − LSE_j'(k_ij' + g_j') − rowmax_i: the log-scaling of z.
	_, _, lse, _ := semiDual(k, gp)
	u := graph.Sub(graph.Sub(gp, graph.InsertAxes(graph.Squeeze(lse, 1), 2)), graph.ReduceAndKeep(zs, graph.ReduceMax, 2))
	q := graph.Exp(graph.Add(z, graph.StopGradient(u)))
	return graph.IdentityWithCustomGradient(q, implicitGradient), out[2]
}

// warmScalars creates, in the main function of g, every scalar constant the
// loop's closures use. graph.Scalar caches its constants per graph, not per
// function (GoMLX v0.28.2), so a scalar first made inside a closure would
// later be handed to the main function, whose operations may not read a
// closure's nodes; made here first, the closures read the main function's
// (which closures may).
func warmScalars(g *graph.Graph, dt dtypes.DType, n int, floor float64, maxSteps int) {
	eps := 0x1p-52
	if dt == dtypes.Float32 {
		eps = 0x1p-23
	}
	for _, v := range []float64{-1, 0, 0.5, 1, 2, floor, floor / 8, maxStep, 64 * eps, armijo, float64(n)} {
		graph.Scalar(g, dt, v)
	}
	for _, v := range []int{0, 1, maxSteps} {
		graph.Scalar(g, dtypes.Int32, v)
	}
	graph.Scalar(g, dtypes.Bool, 0)
	graph.Scalar(g, dtypes.Bool, 1)
}

// newtonStep is one Newton step on the semi-dual from the potentials g
// ([T, 1, n]) for the shifted logits k ([T, n, n]), with birkhoff's
// backtracking rule: the longest of the step lengths 1, 1/2, …,
// 2^−(lineSearchSteps−1) that satisfies Armijo's condition (with birkhoff's
// rounding slack), or no move if none does.
func newtonStep(k, gp *graph.Node) *graph.Node {
	g0 := k.Graph()
	dt := k.DType()
	n := k.Shape().Dimensions[1]
	ts := make([]float64, lineSearchSteps)
	for i := range ts {
		ts[i] = math.Ldexp(1, -i)
	}
	tc := constOf(g0, dt, ts, 1, lineSearchSteps) // [1, S]
	eps := 0x1p-52
	if dt == dtypes.Float32 {
		eps = 0x1p-23
	}
	jd := make([]float64, n*n)
	for i := range jd {
		jd[i] = 1 / float64(n)
	}
	p, cc, _, phi := semiDual(k, gp)
	p = graph.Squeeze(p, 1)                           // [T, n, n]
	grad := graph.Squeeze(graph.AddScalar(cc, -1), 1) // [T, n]
	// Hessian diag(c) − PᵀP, made definite along 1 by adding J = 11ᵀ/n (the
	// gradient is orthogonal to 1, so the step is unchanged).
	h := graph.Sub(graph.Mul(graph.InsertAxes(identity(g0, dt, n), 0), graph.InsertAxes(graph.Squeeze(cc, 1), 1)),
		graph.Einsum("tki,tkj->tij", p, p))
	h = graph.Add(h, constOf(g0, dt, jd, 1, n, n))
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
	best := graph.ReduceMax(graph.Where(ok, graph.BroadcastToShape(tc, ft.Shape()), graph.ZerosLike(ft)), 1) // [T]
	best = graph.Where(graph.IsFinite(best), best, graph.ZerosLike(best))
	return graph.Add(gp, graph.InsertAxes(graph.Mul(d, graph.InsertAxes(best, 1)), 1))
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
