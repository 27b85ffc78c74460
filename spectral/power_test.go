package spectral

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"testing"
)

func TestPowerBelow(t *testing.T) {
	rng := newRand(30)
	for _, sh := range shapes {
		r, c := sh[0], sh[1]
		var p Power[float64]
		for trial := 0; trial < 10; trial++ {
			m := randn(rng, r*c, 1)
			exact := Norm(m, r, c)
			prev := 0.0
			for steps := 1; steps <= 5; steps++ {
				est, err := p.Estimate(m, r, c, 1)
				if err != nil {
					t.Fatal(err)
				}
				if est > exact*(1+powerSlack) {
					t.Errorf("%d×%d: estimate %v exceeds σ₁ = %v", r, c, est, exact)
				}
				// Monotone while the matrix is fixed.
				if est < prev*(1-powerSlack) {
					t.Errorf("%d×%d: estimate decreased %v → %v", r, c, prev, est)
				}
				prev = est
			}
		}
	}
}

func TestPowerWarmStart(t *testing.T) {
	rng := newRand(31)
	n := 8
	// B has a dominant direction (σ₂/σ₁ ≤ 1/2), C is the drift.
	b := randn(rng, n*n, 0.3)
	x, y := randn(rng, n, 1), randn(rng, n, 1)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			b[i*n+j] += x[i] * y[j]
		}
	}
	c := randn(rng, n*n, 1)
	var warm Power[float64]
	a := make([]float64, n*n)
	var worstWarm, worstCold float64
	for k := 0; k < 400; k++ {
		drift := 0.05 * math.Sin(float64(k)/40)
		for i := range a {
			a[i] = b[i] + drift*c[i]
		}
		exact := Norm(a, n, n)
		est, err := warm.Estimate(a, n, n, 1)
		if err != nil {
			t.Fatal(err)
		}
		var cold Power[float64]
		ce, _ := cold.Estimate(a, n, n, 1)
		if k >= 100 {
			worstWarm = math.Max(worstWarm, (exact-est)/exact)
			worstCold = math.Max(worstCold, (exact-ce)/exact)
		}
	}
	if worstWarm > warmTol {
		t.Errorf("warm-started single steps lag σ₁ by up to %.2g (relative)", worstWarm)
	}
	// A cold single step is far off on the same matrices.
	if worstCold < 100*warmTol {
		t.Errorf("cold single steps are within %.2g: the warm-start test has no power", worstCold)
	}
	t.Logf("worst relative lag after burn-in: warm %.2g, cold %.2g", worstWarm, worstCold)
}

func TestPowerColdOvershoot(t *testing.T) {
	// SPEC §3.4: dividing by a cold single-step estimate overshoots the sphere.
	// The spec's +68% median was measured with the reference code's start
	// vector; this checks the direction and logs our median.
	rng := newRand(32)
	n := 4
	over := make([]float64, 201)
	for k := range over {
		m := randn(rng, n*n, 1)
		var p Power[float64]
		est, _ := p.Estimate(m, n, n, 1)
		over[k] = Norm(m, n, n)/est - 1
		if over[k] < -powerSlack {
			t.Errorf("cold estimate %v above σ₁", est)
		}
	}
	sort.Float64s(over)
	if over[100] <= 0 {
		t.Errorf("median overshoot %.3g, want > 0", over[100])
	}
	t.Logf("n=4 Gaussian: median overshoot of ‖A/est‖₂ after one cold step: %+.1f%%", 100*over[100])
}

func TestPowerEdgeCases(t *testing.T) {
	var p Power[float32]
	if est, err := p.Estimate([]float32{0, 0, 0, 0}, 2, 2, 3); err != nil || est != 0 {
		t.Errorf("zero matrix: %v, %v", est, err)
	}
	m := []float32{2, 1, 1, 3}
	first, _ := p.Estimate(m, 2, 2, 1)
	if _, err := p.Estimate([]float32{1, float32(math.NaN()), 0, 1}, 2, 2, 1); !errors.Is(err, ErrNonFinite) {
		t.Errorf("NaN: error %v, want ErrNonFinite", err)
	}
	// The vector survived the failed call: the next step continues from it.
	var q Power[float32]
	q.Estimate(m, 2, 2, 1)
	a, _ := p.Estimate(m, 2, 2, 1)
	b, _ := q.Estimate(m, 2, 2, 1)
	if a != b || a < first {
		t.Errorf("after a failed call: %v, want %v ≥ %v", a, b, first)
	}
	// Huge entries do not overflow: [[1e300, 0], [0, 1e299]] has σ₁ = 1e300.
	if est, _ := new(Power[float64]).Estimate([]float64{1e300, 0, 0, 1e299}, 2, 2, 50); math.Abs(est-1e300) > 1e-12*1e300 {
		t.Errorf("huge: estimate %v, want 1e300", est)
	}
	p.Reset()
	if c, _ := p.Estimate(m, 2, 2, 1); c != first {
		t.Errorf("after Reset: %v, want the cold value %v", c, first)
	}
	mustPanic(t, ErrShape, func() { _, _ = p.Estimate(m, 2, 2, 0) })
}

func TestPowerAllocs(t *testing.T) {
	rng := newRand(33)
	m := randn(rng, 16*16, 1)
	var p Power[float64]
	_, _ = p.Estimate(m, 16, 16, 1)
	if a := testing.AllocsPerRun(20, func() { _, _ = p.Estimate(m, 16, 16, 1) }); a != 0 {
		t.Errorf("%v allocs per run, want 0", a)
	}
}

func ExamplePower() {
	// Warm-started across calls, one step per call climbs to σ₁ = 3 from
	// below; the error shrinks by (σ₂/σ₁)⁴ = 1/81 per step.
	m := []float64{
		3, 0,
		0, 1,
	}
	var p Power[float64]
	for step := 1; step <= 4; step++ {
		est, _ := p.Estimate(m, 2, 2, 1)
		fmt.Printf("step %d: %.10f\n", step, est)
	}
	// Output:
	// step 1: 2.9721019508
	// step 2: 2.9996499611
	// step 3: 2.9999956777
	// step 4: 2.9999999466
}
