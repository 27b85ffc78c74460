package kromhc_test

import (
	"fmt"

	"github.com/hyperconn/hyperconn/birkhoff"
	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/kromhc"
)

// A KromHC sub-layer with n = 4 streams: H_res = U_1 ⊗ U_2 of two 2×2
// factors, doubly stochastic by construction.
func Example() {
	m, err := kromhc.New(kromhc.PaperConfig(4, 3, 0))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("factors:", m.Config().Factors)
	l := hc.NewLayer(m)
	x := make([]float64, 4*3)
	for i := range x {
		x[i] = float64(i)
	}
	if err := l.Pre(make([]float64, 3), x, 1); err != nil {
		fmt.Println(err)
		return
	}
	_, _, res := l.Coefficients()
	for i := range 4 {
		fmt.Printf("%.6f\n", res[i*4:(i+1)*4])
	}
	fmt.Println("DS deviation < 1e-15:", birkhoff.Deviation(res, 4) < 1e-15)
	// Output:
	// factors: [2 2]
	// [0.999329 0.000335 0.000335 0.000000]
	// [0.000335 0.999329 0.000000 0.000335]
	// [0.000335 0.000000 0.999329 0.000335]
	// [0.000000 0.000335 0.000335 0.999329]
	// DS deviation < 1e-15: true
}
