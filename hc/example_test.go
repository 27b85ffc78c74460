package hc_test

import (
	"fmt"

	"github.com/hyperconn/hyperconn/hc"
)

// The worked example of the package documentation: static HC with n = 2
// streams of width C = 2 at sub-layer k = 1, one token, branch F(u) = 2u.
func Example() {
	m, err := hc.New(hc.Config{N: 2, C: 2, Layer: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	l := hc.NewLayer(m)
	x := []float64{1, 2, 3, 4} // stream 0 = (1, 2), stream 1 = (3, 4)
	in := make([]float64, 2)
	if err := l.Pre(in, x, 1); err != nil {
		fmt.Println(err)
		return
	}
	f := []float64{2 * in[0], 2 * in[1]}
	out := make([]float64, 4)
	if err := l.Post(out, f); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("branch input:", in)
	fmt.Println("new streams: ", out)
	// Output:
	// branch input: [3 4]
	// new streams:  [7 10 9 12]
}

// A training step: forward, then the gradients of L = ⟨G, X'⟩ with respect
// to the streams and to the static parameters, for the branch F(u) = u.
func ExampleLayer_PreBackward() {
	m, _ := hc.New(hc.Config{N: 2, C: 1})
	l := hc.NewLayer(m)
	x := []float64{1, 2} // one token, streams (1) and (2), C = 1
	in, f, out := make([]float64, 1), make([]float64, 1), make([]float64, 2)
	_ = l.Pre(in, x, 1) // h_pre = e_0: in = x_0 = 1
	copy(f, in)         // F(u) = u
	_ = l.Post(out, f)  // out = x + f = (2, 3)

	g := []float64{1, -3} // upstream gradient ∂L/∂X'
	dx, df := make([]float64, 2), make([]float64, 1)
	l.PostBackward(dx, df, g) // dx = H_resᵀ·g = (1, -3), df = h_post·g = -2
	din := df                 // F'(u) = 1
	l.PreBackward(dx, din)    // dx += h_preᵀ·din = (-2, 0)
	// ∂L/∂B = g·f, ∂L/∂A_m = din·x_i, and ∂L/∂A_r is the transpose of
	// ∂L/∂H_res = g·xᵀ, because H_res = A_rᵀ.
	fmt.Println("out:", out, "dx:", dx)
	for _, p := range m.Params() {
		fmt.Printf("∂L/∂%s = %v\n", p.Name, p.Grad)
	}
	// Output:
	// out: [2 3] dx: [-1 -3]
	// ∂L/∂B = [1 -3]
	// ∂L/∂A_m = [-2 -4]
	// ∂L/∂A_r = [1 -3 2 -6]
}

// Residual is the plain residual connection x + F(x).
func ExampleResidual() {
	l := hc.NewLayer(hc.Residual(3))
	x := []float64{1, 2, 3}
	out := make([]float64, 3)
	square := func(out, in []float64) error {
		for i, v := range in {
			out[i] = v * v
		}
		return nil
	}
	if err := l.Apply(out, x, 1, square); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out)
	// Output:
	// [2 6 12]
}

// Expand makes the n streams of the first sub-layer; Reduce sums them at the
// end.
func ExampleExpand() {
	emb := []float64{1, 2} // one token, C = 2
	x := make([]float64, 3*2)
	hc.Expand(x, emb, 1, 3, 2)
	y := make([]float64, 2)
	hc.Reduce(y, x, 1, 3, 2)
	fmt.Println(x, y)
	// Output:
	// [1 2 1 2 1 2] [3 6]
}

// A program that runs one experiment per core keeps each on one thread.
func ExampleSetThreads() {
	old := hc.SetThreads(1)
	defer hc.SetThreads(old)
	fmt.Println(hc.Threads())
	// Output: 1
}

// GradNorm is the norm of the gradient reaching a layer's output streams,
// taken by PostBackward as it reads it (net's per-block diagnostic).
func ExampleLayer_GradNorm() {
	l := hc.NewLayer(hc.Residual(2))
	x := []float64{1, 2}
	in, out := make([]float64, 2), make([]float64, 2)
	_ = l.Pre(in, x, 1)
	_ = l.Post(out, in)
	dx, df := make([]float64, 2), make([]float64, 2)
	l.PostBackward(dx, df, []float64{3, -4})
	fmt.Println(l.GradNorm())
	// Output:
	// 5
}
