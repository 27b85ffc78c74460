package hcgomlx

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// constOf returns the constant with the given float64 values and
// dimensions, in dtype.
func constOf(g *graph.Graph, dt dtypes.DType, data []float64, dims ...int) *graph.Node {
	c := graph.ConstTensor(g, tensors.FromFlatDataAndDimensions(data, dims...))
	if dt != dtypes.Float64 {
		c = graph.ConvertDType(c, dt)
	}
	return c
}

// identity returns the n×n identity matrix in dtype.
func identity(g *graph.Graph, dt dtypes.DType, n int) *graph.Node {
	d := make([]float64, n*n)
	for i := range n {
		d[i*n+i] = 1
	}
	return constOf(g, dt, d, n, n)
}

// solveGJ solves the batch of linear systems a·x = b by Gauss–Jordan
// elimination without pivoting, unrolled into graph operations: a is
// [T, k, k], b is [T, k, r] and the result x is [T, k, r]. Each of the k
// steps costs a handful of operations (6 or 7 nodes), so the graph grows
// linearly in k. Without pivoting it is meant for matrices whose leading
// minors are well away from 0: symmetric positive definite ones (the
// implicit gradient of the exact projection) and I + A with A
// skew-symmetric (the Cayley transform), whose symmetric part is I. Autodiff
// differentiates through the elimination.
func solveGJ(a, b *graph.Node) *graph.Node {
	g := a.Graph()
	dt := a.DType()
	k := a.Shape().Dimensions[1]
	r := b.Shape().Dimensions[2]
	m := graph.Concatenate([]*graph.Node{a, b}, 2) // [T, k, k+r]
	all := graph.AxisRange()
	for p := range k {
		piv := graph.Slice(m, all, graph.AxisRange(p, p+1), graph.AxisRange(p, p+1)) // [T, 1, 1]
		row := graph.Div(graph.Slice(m, all, graph.AxisRange(p, p+1), all), piv)     // [T, 1, k+r]
		e := make([]float64, k)
		e[p] = 1
		col := graph.Sub(graph.Slice(m, all, all, graph.AxisRange(p, p+1)), constOf(g, dt, e, 1, k, 1)) // [T, k, 1]
		// Row p becomes row/piv; every other row i loses m[i][p]·row.
		m = graph.Sub(m, graph.Mul(col, row))
	}
	return graph.Slice(m, all, all, graph.AxisRange(k, k+r))
}
