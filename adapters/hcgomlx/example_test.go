package hcgomlx_test

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/hyperconn/hyperconn/adapters/hcgomlx"
	"github.com/hyperconn/hyperconn/mhc"
)

// One mHC sub-layer with the exact projection in a GoMLX graph, at the
// reference init: three tokens of n = 4 streams of width C = 2, a branch
// F(u) = 2u.
func Example() {
	native, err := mhc.New(mhc.ExactConfig(4, 2, 0))
	if err != nil {
		fmt.Println(err)
		return
	}
	mix, err := hcgomlx.New(native, dtypes.Float64)
	if err != nil {
		fmt.Println(err)
		return
	}
	backend, err := gobackend.New("ops_sequential")
	if err != nil {
		fmt.Println(err)
		return
	}
	exec := model.MustNewExec(backend, model.NewStore(), func(scope *model.Scope, x *graph.Node) []*graph.Node {
		out, co := mix.Apply(scope.In("block0"), x, func(in *graph.Node) *graph.Node { return graph.MulScalar(in, 2) })
		return []*graph.Node{out, co.Pre, co.Res, co.Deviation}
	})
	x := make([]float64, 3*4*2)
	for i := range x {
		x[i] = float64(i%5) - 2
	}
	res := exec.MustExec(tensors.FromFlatDataAndDimensions(x, 3, 4, 2))
	pre := tensors.MustCopyFlatData[float64](res[1])
	h := tensors.MustCopyFlatData[float64](res[2])
	fmt.Printf("new streams: %v\n", res[0].Shape())
	fmt.Printf("h_pre of token 0: %.5f\n", pre[:4])
	fmt.Printf("H_res of token 0, row 0: %.6f\n", h[:4])
	fmt.Printf("doubly stochastic within 1e-13: %v\n", tensors.ToScalar[float64](res[3]) <= 1e-13)
	// Output:
	// new streams: (Float64)[3, 4, 2]
	// h_pre of token 0: [0.73106 0.26894 0.26894 0.26894]
	// H_res of token 0, row 0: [0.998995 0.000335 0.000335 0.000335]
	// doubly stochastic within 1e-13: true
}
