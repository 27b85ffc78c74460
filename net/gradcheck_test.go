package net

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// Tolerances of the package's tests, in one place.
const (
	// fdStep is the central-difference step. The truncation error is
	// h²·|f'''|/6 ≈ 1e-10 and the rounding error ε·|f|/h ≈ 1e-10 for the
	// O(1)–O(10) losses used here, both far below gradTol.
	fdStep = 1e-5

	// gradTol bounds ‖analytic − numeric‖₂ / max(‖analytic‖₂, ‖numeric‖₂)
	// for every backward pass (the bar set for the package). Measured
	// values are ~1e-10 (see TestGradients' log).
	gradTol = 1e-6

	// gemmTol bounds the relative difference between the tiled GEMM and a
	// naive triple loop: both sum the same k products, at most in a
	// different order, so they agree to a few ulps of the row norm.
	gemmTol = 1e-13

	// valueTol bounds the error of closed-form values recomputed in float64
	// (a handful of operations, each rounding by ε ≈ 1.1e-16).
	valueTol = 1e-14

	// mlpAccuracy is the test-subset accuracy a 784→64→10 MLP must reach
	// after the short training of TestMLPLearnsMNIST. Such a net exceeds 95%
	// with full training; 90% leaves a wide margin for the short run while
	// still failing for any broken layer, optimiser or loader.
	mlpAccuracy = 0.90
)

// randSlice returns n values drawn uniformly from [−scale, scale).
func randSlice(rnd *rand.Rand, n int, scale float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = scale * (2*rnd.Float64() - 1)
	}
	return s
}

// dot returns Σ a_i·b_i.
func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// numGrad returns the central-difference gradient of f with respect to x,
// perturbing x in place and restoring every element exactly.
func numGrad(x []float64, f func() float64) []float64 {
	g := make([]float64, len(x))
	for i := range x {
		orig := x[i]
		x[i] = orig + fdStep
		fp := f()
		x[i] = orig - fdStep
		fm := f()
		x[i] = orig
		g[i] = (fp - fm) / (2 * fdStep)
	}
	return g
}

// relErr returns ‖a − b‖₂ / max(‖a‖₂, ‖b‖₂), or ‖a − b‖₂ when both are 0.
func relErr(a, b []float64) float64 {
	var d, na, nb float64
	for i := range a {
		d += (a[i] - b[i]) * (a[i] - b[i])
		na += a[i] * a[i]
		nb += b[i] * b[i]
	}
	den := math.Sqrt(max(na, nb))
	if den == 0 {
		return math.Sqrt(d)
	}
	return math.Sqrt(d) / den
}

// checkGrad compares an analytic gradient with central differences of f
// with respect to x and fails t beyond gradTol. It also fails when the
// analytic gradient is identically zero, which would make the check vacuous.
func checkGrad(t *testing.T, name string, analytic, x []float64, f func() float64) {
	t.Helper()
	if len(analytic) != len(x) {
		t.Fatalf("%s: analytic gradient has %d entries, want %d", name, len(analytic), len(x))
	}
	num := numGrad(x, f)
	allZero := true
	for _, v := range analytic {
		if v != 0 {
			allZero = false
			break
		}
	}
	if allZero {
		t.Errorf("%s: analytic gradient is identically zero", name)
	}
	e := relErr(analytic, num)
	if !(e <= gradTol) {
		t.Errorf("%s: relative gradient error %.3g > %g", name, e, gradTol)
	}
	t.Logf("%s: relative gradient error %.3g", name, e)
}

// mustPanicWith fails t unless f panics with a value that is err.
func mustPanicWith(t *testing.T, err error, name string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		e, ok := r.(error)
		if !ok || !errors.Is(e, err) {
			t.Errorf("%s: panic value %v, want %v", name, r, err)
		}
	}()
	f()
}
