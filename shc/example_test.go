package shc_test

import (
	"fmt"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/shc"
	"github.com/hyperconn/hyperconn/spectral"
)

// An s²HC sub-layer with n = 3 streams of width 2 around a branch that
// doubles its input, at the reference init: H_res = J + tanh(4)·(I − J).
func Example() {
	m, err := shc.New(shc.PaperConfig(3, 2, 0))
	if err != nil {
		fmt.Println(err)
		return
	}
	l := hc.NewLayer(m)
	x := []float64{ // one token: 3 streams × 2
		1, 2,
		3, 4,
		5, 6,
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
	for i := 0; i < 3; i++ {
		fmt.Printf("H_res row %d = %.6f\n", i, res[3*i:3*i+3])
	}
	fmt.Printf("‖H_res‖₂ = %.15f\n", spectral.Norm(res, 3, 3))
	fmt.Printf("rows, columns and norm within 1e-15 of 1: %v\n", shc.Deviation(res, 3, 1) < 1e-15)
	// Output:
	// H_res row 0 = [0.999553 0.000224 0.000224]
	// H_res row 1 = [0.000224 0.999553 0.000224]
	// H_res row 2 = [0.000224 0.000224 0.999553]
	// ‖H_res‖₂ = 1.000000000000000
	// rows, columns and norm within 1e-15 of 1: true
}

// The normalisation form divides an unconstrained A by its exact largest
// singular value. Its row sums are free; only ‖H_res‖₂ = r is promised.
func Example_normalized() {
	cfg := shc.NormalizedConfig(2, 1, 0)
	cfg.Radius = 0.5
	m, err := shc.New(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	copy(hc.Lookup(m, "b_res").Value, []float64{3, 0, 4, 0}) // A = [[3 0] [4 0]]: σ₁ = 5
	l := hc.NewLayer(m)
	if err := l.Pre(make([]float64, 1), []float64{1, 2}, 1); err != nil {
		fmt.Println(err)
		return
	}
	_, _, res := l.Coefficients()
	fmt.Printf("H_res = %.2f, ‖H_res‖₂ = %.2f\n", res, spectral.Norm(res, 2, 2))
	// Output:
	// H_res = [0.30 0.00 0.40 0.00], ‖H_res‖₂ = 0.50
}
