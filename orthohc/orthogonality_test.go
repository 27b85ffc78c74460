package orthohc_test

import (
	"math"
	"testing"

	"github.com/hyperconn/hyperconn/orthohc"
)

// TestOrthogonality checks the measure itself: 0 for a rotation and a
// permutation, |s² − 1| for s·I and the largest |σ² − 1| for a diagonal.
func TestOrthogonality(t *testing.T) {
	c, s := math.Cos(0.3), math.Sin(0.3)
	for _, tc := range []struct {
		h    []float64
		n    int
		want float64
	}{
		{[]float64{1}, 1, 0},
		{[]float64{2}, 1, 3},
		{[]float64{0, 1, 1, 0}, 2, 0},
		{[]float64{1.5, 0, 0, 0.5}, 2, 1.25},
		{[]float64{c, -s, s, c}, 2, 0},
	} {
		if got := orthohc.Orthogonality(tc.h, tc.n); math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("Orthogonality(%v) = %v, want %v", tc.h, got, tc.want)
		}
	}
}
