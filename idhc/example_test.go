package idhc_test

import (
	"fmt"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/idhc"
)

// An identity-HC sub-layer with n = 2 streams of width 3: the streams are
// never mixed, and h_post writes the branch's output mostly into the home
// stream.
func Example() {
	m, err := idhc.New(idhc.PaperConfig(2, 3, 0))
	if err != nil {
		fmt.Println(err)
		return
	}
	l := hc.NewLayer(m)
	x := []float64{1, 2, 3, 4, 5, 6}
	out := make([]float64, len(x))
	err = l.Apply(out, x, 1, func(f, in []float64) error {
		copy(f, in)
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	pre, post, res := l.Coefficients()
	fmt.Printf("H_res = %v\nh_pre = %.5f\nh_post = %.5f\n", res, pre, post)
	// Output:
	// H_res = [1 0 0 1]
	// h_pre = [0.73106 0.26894]
	// h_post = [1.46212 0.53788]
}
