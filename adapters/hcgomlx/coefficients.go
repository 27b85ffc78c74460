package hcgomlx

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/hyperconn/hyperconn/spectral"
)

// Eps is the constant inside every RMS norm of the coefficient maps, as the
// native mixers' (hc's per-stream norm and the mHC head's norm of vec(X)).
const Eps = 1e-6

// Coefficients are one sub-layer's per-token coefficients in a graph, for
// streams x of shape [..., n, C].
type Coefficients struct {
	// Pre and Post are h_pre and h_post, of shape [..., n].
	Pre, Post *graph.Node
	// Res is H_res, of shape [..., n, n]; row i holds the weights that build
	// output stream i (hc's orientation; PyTorch ports store the
	// transpose).
	Res *graph.Node
	// Deviation is the certificate of H_res, a scalar: the largest
	// |row or column sum − r| over the tokens, with r = 1 (shc: its radius).
	// It is the exact projection's reported precision (≤ 1e-13 in float64
	// once converged), the real column gap of the paper's Fixed-20 Sinkhorn,
	// rounding for mhclite and shc, and the drift of unconstrained HC.
	Deviation *graph.Node
	// Steps is the number of Newton steps the exact projection ran (an
	// int32 scalar; see DefaultNewtonSteps), nil for other mixers.
	Steps *graph.Node
}

// Coefficients computes the coefficients of the tokens x ([..., n, C], of
// m's dtype) from m's variables in scope (see Variables). It panics with
// ErrShape if x's last two axes are not n and C or its dtype is not m's.
func (m *Mixer) Coefficients(scope *model.Scope, x *graph.Node) Coefficients {
	dims := x.Shape().Dimensions
	if x.Rank() < 3 || dims[len(dims)-2] != m.n || dims[len(dims)-1] != m.c || x.DType() != m.dtype {
		panic(fmt.Errorf("%w: x is %s, want (%s)[..., %d, %d]", ErrShape, x.Shape(), m.dtype, m.n, m.c))
	}
	lead := dims[:len(dims)-2]
	t := 1
	for _, d := range lead {
		t *= d
	}
	xt := graph.Reshape(x, t, m.n, m.c)
	ps := m.native.Params()
	nodes := m.Variables(scope, x.Graph())
	v := make(map[string]*graph.Node, len(ps))
	for i, p := range ps {
		v[p.Name] = nodes[i]
	}
	var pre, post, res, steps *graph.Node
	if m.kind == kindHC {
		pre, post, res = m.hcCoefficients(xt, v)
	} else {
		var raw *graph.Node
		pre, post, raw = m.head(xt, v)
		res, steps = m.residual(raw, v, t)
	}
	r := 1.0
	if m.kind == kindSHC {
		r = m.radius
	}
	c := Coefficients{Deviation: graph.ReduceAllMax(deviation(res, r)), Steps: steps}
	c.Pre = graph.Reshape(pre, append(append([]int(nil), lead...), m.n)...)
	c.Post = graph.Reshape(post, append(append([]int(nil), lead...), m.n)...)
	c.Res = graph.Reshape(res, append(append([]int(nil), lead...), m.n, m.n)...)
	return c
}

// scalarOf returns element i of the vector node p as a scalar.
func scalarOf(p *graph.Node, i int) *graph.Node {
	return graph.Reshape(graph.Slice(p, graph.AxisRange(i, i+1)))
}

// rowVector returns the vector p as [1, len(p)], for broadcasting over
// tokens.
func rowVector(p *graph.Node) *graph.Node { return graph.InsertAxes(p, 0) }

// hcCoefficients is hc.HC's map (hc package doc): static B, A_m, A_r
// (H_res = A_rᵀ) plus, for dynamic HC, s·act(x̄_i·W) with x̄_i stream i
// normalised over C.
func (m *Mixer) hcCoefficients(x *graph.Node, v map[string]*graph.Node) (pre, post, res *graph.Node) {
	n, c := m.n, m.c
	t := x.Shape().Dimensions[0]
	post = graph.BroadcastToDims(rowVector(v["B"]), t, n)
	pre = graph.BroadcastToDims(rowVector(v["A_m"]), t, n)
	ar := graph.Transpose(graph.Reshape(v["A_r"], n, n), 0, 1) // [j][i] = A_r[i][j]
	res = graph.BroadcastToDims(graph.InsertAxes(ar, 0), t, n, n)
	if !m.dynamic {
		return pre, post, res
	}
	// z[t][i] = ρ_ti·x_ti·[W_beta W_m W_r], ρ = 1/√(mean_c x² + ε).
	w := graph.Concatenate([]*graph.Node{
		graph.Reshape(v["W_beta"], c, 1), graph.Reshape(v["W_m"], c, 1), graph.Reshape(v["W_r"], c, n)}, 1)
	rho := graph.Reciprocal(graph.Sqrt(graph.AddScalar(graph.DivScalar(reduceKeep(graph.Square(x), 2), float64(c)), Eps))) // [T, n, 1]
	z := graph.Mul(graph.Einsum("tic,ck->tik", x, w), rho)                                                                 // [T, n, n+2]
	if m.tanh {
		z = graph.Tanh(z)
	}
	sa, sb := scalarOf(v["s_alpha"], 0), scalarOf(v["s_beta"], 0)
	all := graph.AxisRange()
	post = graph.Add(post, graph.Mul(sb, graph.Squeeze(graph.Slice(z, all, all, graph.AxisRange(0, 1)), 2)))
	pre = graph.Add(pre, graph.Mul(sa, graph.Squeeze(graph.Slice(z, all, all, graph.AxisRange(1, 2)), 2)))
	dr := graph.Transpose(graph.Slice(z, all, all, graph.AxisRange(2, n+2)), 1, 2) // [t][j][i] = z[t][i][2+j]
	res = graph.Add(res, graph.Mul(sa, dr))
	return pre, post, res
}

// head is the mHC family's coefficient head (internal/head): x̂ =
// vec(X)/√(mean(vec(X)²) + ε), y = x̂·Φᵀ, h_pre = sigmoid(α_pre·y_pre +
// b_pre), h_post = 2·sigmoid(α_post·y_post + b_post), and the raw residual
// logits y_res ([T, k]).
func (m *Mixer) head(x *graph.Node, v map[string]*graph.Node) (pre, post, raw *graph.Node) {
	n, c := m.n, m.c
	t := x.Shape().Dimensions[0]
	xf := graph.Reshape(x, t, n*c)
	phi := v["phi"]
	r := phi.Shape().Dimensions[0] / (n * c)
	inv := graph.Reciprocal(graph.Sqrt(graph.AddScalar(graph.DivScalar(reduceKeep(graph.Square(xf), 1), float64(n*c)), Eps))) // [T, 1]
	y := graph.Mul(graph.Einsum("tk,rk->tr", xf, graph.Reshape(phi, r, n*c)), inv)
	all := graph.AxisRange()
	alpha := v["alpha"]
	pre = graph.Sigmoid(graph.Add(graph.Mul(scalarOf(alpha, 0), graph.Slice(y, all, graph.AxisRange(0, n))), rowVector(v["b_pre"])))
	post = graph.MulScalar(graph.Sigmoid(graph.Add(graph.Mul(scalarOf(alpha, 1), graph.Slice(y, all, graph.AxisRange(n, 2*n))),
		rowVector(v["b_post"]))), 2)
	raw = graph.Slice(y, all, graph.AxisRange(2*n, r))
	return pre, post, raw
}

// residual maps the head's raw logits ([T, k]) to H_res ([T, n, n]); for
// the exact projection it also returns the number of Newton steps.
func (m *Mixer) residual(raw *graph.Node, v map[string]*graph.Node, t int) (res, steps *graph.Node) {
	n := m.n
	g := raw.Graph()
	if n == 1 {
		return graph.BroadcastToDims(graph.Scalar(g, m.dtype, m.radius), t, 1, 1), nil
	}
	switch m.kind {
	case kindMHCFixed, kindMHCExact:
		z := graph.Add(graph.Mul(scalarOf(v["alpha_res"], 0), raw), rowVector(v["b_res"]))
		z = graph.Reshape(z, t, n, n)
		if m.kind == kindMHCFixed {
			return sinkhornFixed(z, m.sweeps), nil
		}
		return projectExact(z, m.warm, m.newton)
	case kindLite:
		w := graph.Softmax(graph.Add(graph.Mul(scalarOf(v["alpha_res"], 0), raw), rowVector(v["b_res"])), -1)
		k := len(m.perms) / (n * n)
		return graph.Reshape(graph.Einsum("tk,kq->tq", w, constOf(g, m.dtype, m.perms, k, n*n)), t, n, n), nil
	default:
		return m.sphere(raw, v, t), nil
	}
}

// sphere is shc's structural H_res = r·(J + U_z·U·diag(σ)·Vᵀ·U_zᵀ) with
// Cayley factors U = (I + skew(z_U))⁻¹(I − skew(z_U)), V likewise, solved
// by Gauss–Jordan elimination in the graph.
func (m *Mixer) sphere(raw *graph.Node, v map[string]*graph.Node, t int) *graph.Node {
	n, mm := m.n, m.n-1
	l := mm * (mm - 1) / 2
	g := raw.Graph()
	dt := m.dtype
	all := graph.AxisRange()
	rS := graph.Slice(raw, all, graph.AxisRange(2*l, 2*l+mm))
	sig := graph.Tanh(graph.Add(graph.Mul(scalarOf(v["s_sigma"], 0), rS), rowVector(v["b_sigma"]))) // [T, m]
	core := graph.Mul(graph.BroadcastToDims(graph.InsertAxes(identity(g, dt, mm), 0), t, mm, mm), graph.InsertAxes(sig, 1))
	if l > 0 {
		cayley := func(part int, b, s, gamma string) *graph.Node {
			r := graph.Slice(raw, all, graph.AxisRange(part*l, (part+1)*l))
			z := graph.Mul(scalarOf(v[gamma], 0), graph.Tanh(graph.Add(graph.Mul(scalarOf(v[s], 0), r), rowVector(v[b]))))
			a := graph.Reshape(graph.Einsum("tk,kq->tq", z, constOf(g, dt, m.skewU, l, mm*mm)), t, mm, mm)
			id := graph.InsertAxes(identity(g, dt, mm), 0)
			return solveGJ(graph.Add(id, a), graph.Sub(id, a))
		}
		u := cayley(0, "b_U", "s_U", "gamma_U")
		w := cayley(1, "b_V", "s_V", "gamma_V")
		core = graph.Einsum("tik,tjk->tij", graph.Mul(u, graph.InsertAxes(sig, 1)), w) // U·diag(σ)·Vᵀ
	}
	uz := constOf(g, dt, spectral.Helmert[float64](nil, n), n, mm)
	h := graph.Einsum("til,jl->tij", graph.Einsum("ik,tkl->til", uz, core), uz)
	h = graph.AddScalar(h, 1/float64(n))
	if m.radius != 1 {
		h = graph.MulScalar(h, m.radius)
	}
	return h
}
