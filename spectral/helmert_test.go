package spectral

import (
	"fmt"
	"math"
	"testing"
)

func TestHelmert(t *testing.T) {
	// Source: SPEC §3.4, column i (1-based) = (1, …, 1, −i, 0, …)/√(i(i+1)).
	s2, s6 := 1/math.Sqrt(2), 1/math.Sqrt(6)
	want := []float64{
		s2, s6,
		-s2, s6,
		0, -2 * s6,
	}
	if e := relErr(Helmert[float64](nil, 3), want); e > 1e-16 {
		t.Errorf("Helmert(3) off by %.2g", e)
	}
	if h := Helmert[float64](nil, 1); len(h) != 0 {
		t.Errorf("Helmert(1) = %v, want empty", h)
	}
	for n := 2; n <= 16; n++ {
		m := n - 1
		uz := Helmert[float64](nil, n)
		// U_zᵀU_z = I.
		for i := 0; i < m; i++ {
			for j := 0; j < m; j++ {
				var s float64
				for r := 0; r < n; r++ {
					s += uz[r*m+i] * uz[r*m+j]
				}
				if i == j {
					s--
				}
				if math.Abs(s) > sphereTol64 {
					t.Errorf("n=%d: (U_zᵀU_z − I)[%d,%d] = %.2g", n, i, j, s)
				}
			}
		}
		// U_zᵀ1 = 0.
		for i := 0; i < m; i++ {
			var s float64
			for r := 0; r < n; r++ {
				s += uz[r*m+i]
			}
			if math.Abs(s) > sphereTol64 {
				t.Errorf("n=%d: (U_zᵀ1)[%d] = %.2g", n, i, s)
			}
		}
		// float32 holds the same values rounded.
		u32 := Helmert[float32](nil, n)
		if e := relErr(to64(u32), uz); e > 1e-7 {
			t.Errorf("n=%d float32 Helmert off by %.2g", n, e)
		}
	}
	mustPanic(t, ErrShape, func() { Helmert[float64](nil, 0) })
	mustPanic(t, ErrShape, func() { Helmert(make([]float64, 5), 3) })
}

func ExampleHelmert() {
	// The 3×2 Helmert basis of the plane of vectors that sum to zero.
	fmt.Printf("%.4f\n", Helmert[float64](nil, 3))
	// Output:
	// [0.7071 0.4082 -0.7071 0.4082 0.0000 -0.8165]
}
