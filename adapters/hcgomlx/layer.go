package hcgomlx

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// Read returns the branch input h_pre·X of every token, [..., C], for the
// streams x ([..., n, C]) the coefficients were computed from.
func (c Coefficients) Read(x *graph.Node) *graph.Node {
	lead, t, n, w := split(x)
	in := graph.Einsum("ti,tic->tc", graph.Reshape(c.Pre, t, n), graph.Reshape(x, t, n, w))
	return graph.Reshape(in, append(lead, w)...)
}

// Write returns the new streams H_res·X + h_postᵀ·f, [..., n, C], for the
// streams x ([..., n, C]) and the branch output f ([..., C]).
func (c Coefficients) Write(x, f *graph.Node) *graph.Node {
	lead, t, n, w := split(x)
	mixed := graph.Einsum("tij,tjc->tic", graph.Reshape(c.Res, t, n, n), graph.Reshape(x, t, n, w))
	out := graph.Add(mixed, graph.Mul(graph.Reshape(c.Post, t, n, 1), graph.Reshape(f, t, 1, w)))
	return graph.Reshape(out, append(lead, n, w)...)
}

// split returns the leading dimensions of the streams x ([..., n, C]),
// their product T, n and C.
func split(x *graph.Node) (lead []int, t, n, c int) {
	dims := x.Shape().Dimensions
	lead = append([]int(nil), dims[:len(dims)-2]...)
	t = 1
	for _, d := range lead {
		t *= d
	}
	return lead, t, dims[len(dims)-2], dims[len(dims)-1]
}

// Apply is one sub-layer X' = H_res·X + h_postᵀ·F(h_pre·X) on the streams x
// ([..., n, C]): the coefficients from m's variables in scope, then the
// branch F (which owns its own pre-norm; [..., C] → [..., C]). It returns
// the new streams and the coefficients (for their certificate).
func (m *Mixer) Apply(scope *model.Scope, x *graph.Node, branch func(in *graph.Node) *graph.Node) (*graph.Node, Coefficients) {
	c := m.Coefficients(scope, x)
	in := c.Read(x)
	f := branch(in)
	if !f.Shape().Equal(in.Shape()) {
		panic(fmt.Errorf("%w: branch output %s, want %s", ErrShape, f.Shape(), in.Shape()))
	}
	return c.Write(x, f), c
}

// Expand returns n copies of the embedding emb ([..., C]) as the initial
// streams, [..., n, C] (hc.Expand).
func Expand(emb *graph.Node, n int) *graph.Node {
	dims := append(append([]int(nil), emb.Shape().Dimensions[:emb.Rank()-1]...), n, emb.Shape().Dimensions[emb.Rank()-1])
	return graph.BroadcastToDims(graph.InsertAxes(emb, -2), dims...)
}

// Reduce returns the sum of the streams x ([..., n, C]), [..., C]
// (hc.Reduce); the network's final norm follows.
func Reduce(x *graph.Node) *graph.Node { return graph.ReduceSum(x, -2) }
