package orthohc_test

import (
	"fmt"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/orthohc"
)

// An orthogonal mixer at n = 3 with its skew logits set by hand: H_res is a
// rotation, orthogonal to rounding. (Here det(I + A) = 1 + ‖z‖² = 6.25 and
// H_res is exactly [[0.6, 0.48, 0.64], [0.8, −0.36, −0.48], [0, 0.8, −0.6]],
// as Gauss–Jordan in rational arithmetic gives.)
func Example() {
	m, err := orthohc.New(orthohc.PaperConfig(3, 2, 0))
	if err != nil {
		fmt.Println(err)
		return
	}
	copy(m.BRes.Value, []float64{0.5, -1, 2}) // z for the pairs (0,1), (0,2), (1,2)
	l := hc.NewLayer(m)
	if err := l.Pre(make([]float64, 2), []float64{1, 2, 3, 4, 5, 6}, 1); err != nil {
		fmt.Println(err)
		return
	}
	_, _, res := l.Coefficients()
	for i := range 3 {
		fmt.Printf("%.4f\n", res[i*3:(i+1)*3])
	}
	fmt.Println("‖HᵀH − I‖₂ < 1e-15:", orthohc.Orthogonality(res, 3) < 1e-15)
	// Output:
	// [0.6000 0.4800 0.6400]
	// [0.8000 -0.3600 -0.4800]
	// [0.0000 0.8000 -0.6000]
	// ‖HᵀH − I‖₂ < 1e-15: true
}
