package mixertest

import (
	"math"
	"testing"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/f64"
)

// hugeTol bounds the relative gap between a mixer's results for streams
// scaled by a huge power of two and for the same streams at an RMS of 2^20
// (issue 19, point 1). The normalisations make the coefficients scale
// invariant up to ε/rms² (1e−18 at the reference), and the scaled sums of
// squares round like the reference's: measured gaps are a few ulps.
const hugeTol = 1e-12

// hugeRefExp is the exponent of the reference scale 2^20: ε = 1e−6 then
// moves the coefficients by ε/rms²/2 ≈ 5e−19, far below hugeTol.
const hugeRefExp = 20

// HugeScales are the magnitudes the huge check scales the streams to:
// around the overflow of a sum of squares (1.34e154) and up to 1e300.
var HugeScales = []float64{1e100, 1e150, 1e154, 1e155, 1e160, 1e200, 1e250, 1e300}

// huge checks that streams of any magnitude up to 1e300 get the
// coefficients of the same streams scaled down (no RMS normalisation
// overflows into a factor of 0, issue 19 point 1), and that the backward
// pass through the coefficient map gives the reference's parameter
// gradients and its ∂x scaled by the same power of two, or that Forward
// returns an error or non-finite coefficients (never a wrong finite
// result). Parameters are moved off the init first (Perturb, Far).
func (s *suite) huge(t *testing.T) {
	n, c := s.n, s.C
	rnd := s.rng("huge")
	m := s.mixer(t, 1)
	if s.Perturb != nil {
		s.Perturb(m, rnd)
	}
	if s.Far != nil {
		s.Far(m, rnd)
	}
	w := m.NewWorker()
	tl := m.TapeLen()
	u := normal(rnd, n*c, 1)
	dpre, dpost, dres := normal(rnd, n, 1), normal(rnd, n, 1), normal(rnd, n*n, 1)
	type result struct {
		coef, dx []float64
		grads    [][]float64
		err      error
	}
	run := func(e int) result {
		x := make([]float64, n*c)
		for i, v := range u {
			x[i] = math.Ldexp(v, e)
		}
		pre, post, res, tape := make([]float64, n), make([]float64, n), make([]float64, n*n), make([]float64, tl)
		if err := w.Forward(pre, post, res, tape, x); err != nil {
			return result{err: err}
		}
		coef := append(append(pre, post...), res...)
		if !f64.AllFinite(coef) {
			return result{coef: coef}
		}
		dx := make([]float64, n*c)
		hc.ZeroGrad(m)
		w.Backward(dx, x, tape, dpre, dpost, dres)
		w.Flush()
		for i := range dx {
			dx[i] = math.Ldexp(dx[i], e-hugeRefExp) // back to the reference's scale
		}
		return result{coef: coef, dx: dx, grads: grads(m)}
	}
	ref := run(hugeRefExp)
	if ref.err != nil || ref.dx == nil {
		t.Fatalf("reference at 2^%d: %v, coefficients %v", hugeRefExp, ref.err, ref.coef)
	}
	worst := 0.0
	for _, scale := range HugeScales {
		_, e := math.Frexp(scale)
		got := run(e)
		if got.err != nil || got.dx == nil {
			// Allowed by the contract (an error, never a wrong finite
			// result), but the streams here are moderate after scaling:
			// every mixer of this module maps them.
			t.Errorf("streams of %.3g: error %v, coefficients %v", scale, got.err, got.coef)
			continue
		}
		d := relErr(got.coef, ref.coef, 1)
		if !(d <= hugeTol) {
			t.Errorf("streams of %.3g: coefficients differ from the scaled streams' by %.3g relative", scale, d)
		}
		worst = max(worst, d)
		if d := relErr(got.dx, ref.dx, 0); !(d <= hugeTol) {
			t.Errorf("streams of %.3g: ∂x·%.3g differs from the scaled streams' by %.3g relative", scale, scale, d)
		}
		for i, g := range got.grads {
			if d := relErr(g, ref.grads[i], 0); !(d <= hugeTol) {
				t.Errorf("streams of %.3g: ∂%s differs from the scaled streams' by %.3g relative", scale, m.Params()[i].Name, d)
			}
		}
	}
	t.Logf("%s: streams of 1e100 to 1e300: largest coefficient gap %.3g relative to the streams at 2^%d", s.Name, worst, hugeRefExp)
}
