package mhc_test

import (
	"fmt"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/mhc"
)

// An mHC sub-layer with n = 2 streams of width 3 around a branch that
// doubles its input.
func Example() {
	m, err := mhc.New(mhc.ExactConfig(2, 3, 0))
	if err != nil {
		fmt.Println(err)
		return
	}
	l := hc.NewLayer(m)
	x := []float64{ // one token: 2 streams × 3
		1, 2, 3,
		4, 5, 6,
	}
	out := make([]float64, len(x))
	err = l.Apply(out, x, 1, func(f, in []float64) error {
		for i, v := range in {
			f[i] = 2 * v
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, _, res := l.Coefficients()
	fmt.Printf("H_res = %.6f\n", res)
	fmt.Printf("max deviation from doubly stochastic < 1e-13: %v\n", m.MaxDeviation() < 1e-13)
	// Output:
	// H_res = [0.999665 0.000335 0.000335 0.999665]
	// max deviation from doubly stochastic < 1e-13: true
}
