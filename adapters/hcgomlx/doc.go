// Package hcgomlx puts the residual hyper-connection mixers of hyperconn into
// GoMLX graphs (github.com/gomlx/gomlx v0.28.2): every mixer's coefficient map
// written in graph operations, so that GoMLX's autodiff, optimisers, training
// loop and backends train it like any other layer. It is a separate package,
// beside package hcgorgonia under adapters/, so that the rest of the library
// never imports GoMLX.
//
// # What it computes
//
// One sub-layer of a hyper-connected network maps the n residual streams
// X ∈ R^{n×C} of every token to
//
//	X' = H_res·X + h_postᵀ·F(h_pre·X)
//
// with per-token coefficients h_pre, h_post and H_res (see package hc). New
// takes a native mixer — *hc.HC (static or dynamic), *mhc.Mixer with the
// paper's Fixed Sinkhorn or the Exact projection, *mhclite.Mixer or a
// structural *shc.Mixer — and returns its graph form. In a model function:
//
//	co := mix.Coefficients(scope, x)   // x: [..., n, C]
//	in := co.Read(x)                   // h_pre·X: [..., C]
//	f := F(in)                         // the caller's branch
//	x = co.Write(x, f)                 // H_res·X + h_postᵀ·f: [..., n, C]
//
// or x, co = mix.Apply(scope, x, F). Expand (n copies of the embedding) and
// Reduce (the sum of the streams) start and end the stream part of a network.
// Row i of H_res builds output stream i (hc's convention; PyTorch ports store
// the transpose).
//
// # Parameters
//
// The native mixer is the reference. Its Params give the GoMLX variables,
// one flat vector per hc.Param in the scope passed to Coefficients, named
// after it ("phi", "alpha", "b_pre", "b_post", "b_res", "A_r", …), with its
// flat row-major layout; a variable that does not exist yet starts from the
// Param's current value, so a fresh native mixer gives the reference init.
// CopyToNative moves trained values from GoMLX into the native Params (then
// hc.Layer, the depth diagnostics of package net and birkhoff.Decompose apply
// to the GoMLX-trained mixer), CopyFromNative the other way. Variables are
// float32 or float64 (New's dtype); the native side is always float64.
//
// # The projections in the graph
//
// mhc's Fixed projection is the paper's: exp, then 20 Sinkhorn sweeps (column,
// then row normalisation), differentiated by autodiff through the unrolled
// sweeps, as birkhoff.BackwardFixed does. mhc's Exact projection is
// birkhoff.Exact's algorithm in graph operations: one Sinkhorn sweep, then
// Newton steps on the semi-dual φ(g) = Σ_i LSE_j(z_ij + g_j) − Σ_j g_j, whose
// Hessian system is solved by Gauss–Jordan elimination unrolled into graph
// operations, with a backtracking line search whose candidate steps are
// evaluated side by side. The steps run in a graph.While loop until every
// token of the batch reaches the floor (max column error ≤ 1e-13/8 in
// float64), stall at the floor, or DefaultNewtonSteps have run. Its backward
// is the implicit gradient (SPEC §4: solve (I − PᵀP + 11ᵀ/n)·y = b − Pᵀa,
// also by Gauss–Jordan, SPD), attached with graph.IdentityWithCustomGradient:
// the Newton iterations are never differentiated. mhclite mixes the n!
// permutation matrices with a softmax (one matrix product with a constant);
// shc builds its Cayley factors with the same elimination (I + A with A
// skew-symmetric needs no pivoting).
//
// Every Coefficients carries a certificate, Deviation: the largest |row or
// column sum − 1| of H_res over the batch (|sum − r| for shc of radius r), as
// birkhoff.Stats.Deviation. It is ≤ 1e-13 for Exact in float64 once
// converged (tests: ≤ 1.2e-14 for logits N(0, σ²), σ ≤ 8, n ≤ 8), the real
// column gap of the paper's Fixed-20, a few ulps for mhclite and shc, and
// the drift of unconstrained HC. Steps reports the Newton steps the Exact
// projection ran.
//
// # Exactness against the native mixers
//
// The tests compare every mixer at n = 2, 3, 4 and 8 in float64 with hc.Layer
// on the same data, with random upstream gradients: forward ≤ 1e-12
// (measured ≤ 1.1e-14), gradients of X, the branch output and every
// parameter ≤ 1e-9 (measured ≤ 3.9e-14). The Exact projection alone agrees
// with birkhoff.Exact to 5.3e-15 and its implicit gradient with
// birkhoff.Workspace.BackwardAt to 4e-15, and with central differences of
// the graph's own forward. Float32 graphs agree with the float64 native
// layer to float32 rounding (≤ 1e-4 relative in the tests).
//
// # What is not here
//
// hc.Residual (use x + F(x)), mhc's Tolerance projection, and shc's
// normalised form (H = r·A/σ₁(A): an exact σ₁ needs an SVD, which has no
// graph form here) make New return ErrUnsupported. Unlike birkhoff, the
// Fixed projection has no log-domain fallback for logit ranges beyond
// birkhoff.MaxScalingRange (exp underflows there). The Exact projection's
// loop runs for the whole batch until its worst token converges.
//
// # Backend
//
// Everything here runs on GoMLX's pure-Go backend (github.com/gomlx/compute
// v0.1.2, gobackend: no cgo, no C library) and is tested with
// CGO_ENABLED=0. Create it with gobackend.New("ops_sequential"): with the
// default configuration, which runs independent operations of a graph in
// parallel, a graph with several concurrent matrix products stalled for good
// on this project's 2-core machine (every goroutine waiting in the backend's
// workerspool.Pool.Saturate; BenchmarkSubLayer stalled so in two of the
// four processes that ran it that way); with ops_sequential the operations
// run one at a time and a matrix product still uses every core. Any other
// GoMLX backend (XLA) takes the same graphs.
//
// # Cost
//
// A GoMLX graph executes one operation at a time, each materialising its
// result; the pure-Go backend has no SIMD float64 kernels. The native
// hc.Layer fuses the mixing and the coefficient head's element-wise work
// into AVX kernels around blocked matrix products. BenchmarkSubLayer measures
// both in the same run (see the README's adapter section for the figures).
package hcgomlx
