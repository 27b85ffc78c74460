package hcgomlx

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// Read returns the branch input h_pre·X of every token, [..., C], for the
// streams x ([..., n, C]) the coefficients were computed from.
func (c Coefficients) Read(x *graph.Node) *graph.Node {
	return graph.ReduceSum(graph.Mul(graph.InsertAxes(c.Pre, -1), x), -2)
}

// Write returns the new streams H_res·X + h_postᵀ·f, [..., n, C], for the
// streams x ([..., n, C]) and the branch output f ([..., C]).
func (c Coefficients) Write(x, f *graph.Node) *graph.Node {
	r := x.Rank()
	mixed := graph.ReduceSum(graph.Mul(graph.InsertAxes(c.Res, -1), graph.InsertAxes(x, r-2)), -2) // Σ_j H_ij·x_j
	return graph.Add(mixed, graph.Mul(graph.InsertAxes(c.Post, -1), graph.InsertAxes(f, -2)))
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
