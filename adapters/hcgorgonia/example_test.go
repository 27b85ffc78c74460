package hcgorgonia_test

import (
	"fmt"
	"log"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/hyperconn/hyperconn/adapters/hcgorgonia"
	"github.com/hyperconn/hyperconn/hc"
)

// ExampleLayer is hc's worked example as a gorgonia graph: static HC with
// n = 2 streams of width 2, sub-layer 1, so h_pre reads stream 1, H_res = I
// and h_post = (1, 1). One token has streams x_0 = (1, 2) and x_1 = (3, 4);
// the branch is F(u) = 2u. The branch input is x_1 = (3, 4), F gives (6, 8),
// and the new streams are x_0 + f = (7, 10) and x_1 + f = (9, 12).
func ExampleLayer() {
	m, err := hc.New(hc.Config{N: 2, C: 2, Layer: 1})
	if err != nil {
		log.Fatal(err)
	}
	g := G.NewGraph()
	x := G.NewMatrix(g, G.Float64, G.WithShape(1, 4), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(1, 4), tensor.WithBacking([]float64{1, 2, 3, 4}))))
	layer, err := hcgorgonia.NewLayer(g, m, "block1")
	if err != nil {
		log.Fatal(err)
	}
	out, err := layer.Apply(x, func(in *G.Node) (*G.Node, error) {
		return G.Mul(in, G.NewConstant(2.0))
	})
	if err != nil {
		log.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		log.Fatal(hcgorgonia.Cause(err))
	}
	fmt.Println(out.Value().Data())
	for _, p := range layer.Params() {
		fmt.Println(p.Name(), p.Value().Data())
	}
	// Output:
	// [7 10 9 12]
	// block1.B [1 1]
	// block1.A_m [0 1]
	// block1.A_r [1 0 0 1]
}
