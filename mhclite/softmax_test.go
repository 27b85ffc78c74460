package mhclite

import (
	"math"
	"math/big"
	"testing"

	"github.com/hyperconn/hyperconn/birkhoff"
)

// TestSoftmaxSum checks that the compensated softmax sums to 1 within a
// few roundings for n! up to 40320 weights of equal size (the init), where a
// plain sum is biased.
func TestSoftmaxSum(t *testing.T) {
	for n := 2; n <= MaxN; n++ {
		count := birkhoff.Factorial(n)
		z := make([]float64, count)
		w := make([]float64, count)
		for k := 1; k < count; k++ {
			z[k] = DefaultOffIdentity
		}
		softmax(w, z)
		var s big.Float
		s.SetPrec(2000)
		var t1 big.Float
		for _, v := range w {
			s.Add(&s, t1.SetFloat64(v))
		}
		sum, _ := s.Float64()
		// Each weight is one correctly rounded division of a compensated
		// sum: Σ w is 1 within about one rounding of each weight's size.
		if e := math.Abs(sum - 1); e > 4*0x1p-52 {
			t.Errorf("n=%d: |Σ w − 1| = %.3g", n, e)
		}
	}
}
