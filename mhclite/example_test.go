package mhclite_test

import (
	"fmt"

	"github.com/hyperconn/hyperconn/birkhoff"
	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/mhclite"
)

// The worked example of the package documentation: an mHC-lite sub-layer
// with n = 2 streams of width 3 at init, around a branch that doubles its
// input. H_res mixes the identity and the swap with the softmax weights
// of the logits (0, −8).
func Example() {
	m, err := mhclite.New(mhclite.PaperConfig(2, 3, 0))
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
	fmt.Printf("DS deviation: %.1g\n", birkhoff.Deviation(res, 2))

	w, err := m.WeightsTo(nil, x)
	if err != nil {
		fmt.Println(err)
		return
	}
	for k, v := range w {
		fmt.Printf("w[%d] = %.6f on permutation %v\n", k, v, m.Perms().At(k))
	}
	// Output:
	// H_res = [0.999665 0.000335 0.000335 0.999665]
	// DS deviation: 0
	// w[0] = 0.999665 on permutation [0 1]
	// w[1] = 0.000335 on permutation [1 0]
}

// New refuses more than MaxN = 8 streams: the mixture needs n! weights.
func ExampleNew_tooManyStreams() {
	_, err := mhclite.New(mhclite.PaperConfig(9, 16, 0))
	fmt.Println(err)
	// Output:
	// mhclite: invalid config: N = 9 > 8: H_res mixes all N! permutation matrices, so every token needs N! softmax weights and φ_res holds N·C×N! parameters, which grows factorially (9! = 362880 weights per token and a φ_res of 9C×362880 parameters); use mhc or shc for more streams
}
