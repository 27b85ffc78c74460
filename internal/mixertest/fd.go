package mixertest

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"testing"

	"github.com/hyperconn/hyperconn/hc"
)

// finiteDifferences checks ∂L/∂x, ∂L/∂f and ∂L/∂θ against finite differences,
// at the default init and, with a Perturb hook, after it.
func (s *suite) finiteDifferences(t *testing.T) {
	t.Run("init", func(t *testing.T) { s.fdCheck(t, false) })
	if s.Perturb == nil {
		return
	}
	t.Run("perturbed", func(t *testing.T) { s.fdCheck(t, true) })
}

func (s *suite) fdCheck(t *testing.T, perturb bool) {
	const tokens = 3
	rnd := s.rng(fmt.Sprint("fd", perturb))
	m := s.mixer(t, 1)
	if perturb {
		s.Perturb(m, rnd)
	}
	l := hc.NewLayer(m)
	fx := newFixture(rnd, s.n, s.C, tokens)
	if err := fx.step(l); err != nil {
		t.Fatalf("step: %v", err)
	}
	dx, df, g := slices.Clone(fx.dx), slices.Clone(fx.df), grads(m)

	loss := func() float64 {
		v, err := fx.loss(l)
		if err != nil {
			t.Fatalf("loss: %v", err)
		}
		return v
	}
	report := func(what string, analytic, numeric []float64) {
		e := relErr(analytic, numeric, fdFloor)
		if !(e <= fdTol) {
			t.Errorf("∂L/∂%s: relative error %.3g > %.3g\nanalytic %v\nnumeric  %v", what, e, fdTol, analytic, numeric)
		}
		t.Logf("%s: ∂L/∂%s: relative error %.2g", s.Name, what, e)
	}

	num := make([]float64, len(fx.x))
	for k := range fx.x {
		num[k] = derivative(&fx.x[k], loss)
	}
	report("x", dx, num)

	// ∂L/∂f with the coefficients of x held: only Post is re-run.
	if err := fx.forward(l); err != nil {
		t.Fatalf("forward: %v", err)
	}
	f := slices.Clone(fx.f)
	lossF := func() float64 {
		if err := l.Post(fx.out, f); err != nil {
			t.Fatalf("Post: %v", err)
		}
		return fx.dot()
	}
	num = make([]float64, len(f))
	for k := range f {
		num[k] = derivative(&f[k], lossF)
	}
	report("f", df, num)

	for i, p := range m.Params() {
		idx := rnd.Perm(len(p.Value))
		if len(idx) > s.FDSamples {
			idx = idx[:s.FDSamples]
		}
		slices.Sort(idx)
		analytic := make([]float64, len(idx))
		numeric := make([]float64, len(idx))
		for k, j := range idx {
			analytic[k] = g[i][j]
			numeric[k] = derivative(&p.Value[j], loss)
		}
		report(p.Name, analytic, numeric)
	}
}

// derivative returns dL/dv at the current *v by the fourth-order central
// difference (−L(v+2h) + 8L(v+h) − 8L(v−h) + L(v−2h)) / 12h, h = fdStep,
// and restores *v.
func derivative(v *float64, loss func() float64) float64 {
	v0 := *v
	at := func(k float64) float64 {
		*v = v0 + k*fdStep
		return loss()
	}
	d := (-at(2) + 8*at(1) - 8*at(-1) + at(-2)) / (12 * fdStep)
	*v = v0
	return d
}

// relErr returns max|a−b| / max(max|b|, floor): the error of a relative to
// the size of the reference b, absolute below floor.
func relErr(a, b []float64, floor float64) float64 {
	scale := floor
	for _, v := range b {
		scale = max(scale, math.Abs(v))
	}
	if scale == 0 {
		scale = 1
	}
	return maxAbsDiff(a, b) / scale
}

// maxAbsDiff returns max|a−b|; NaN if any difference is NaN.
func maxAbsDiff(a, b []float64) float64 {
	d := 0.0
	for i, v := range a {
		e := math.Abs(v - b[i])
		if math.IsNaN(e) {
			return e
		}
		d = max(d, e)
	}
	return d
}

// bitsEqual reports whether a and b hold the same bits.
func bitsEqual(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i, v := range a {
		if math.Float64bits(v) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

// bitEqual reports an error unless a and b hold the same bits.
func bitEqual(t *testing.T, what string, k int, a, b []float64) {
	t.Helper()
	if bitsEqual(a, b) {
		return
	}
	for i := range min(len(a), len(b)) {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			t.Errorf("%s differs at %d (k=%d): %v vs %v", what, i, k, a[i], b[i])
			return
		}
	}
	t.Errorf("%s: lengths %d and %d (k=%d)", what, len(a), len(b), k)
}

func itoa(i int) string        { return strconv.Itoa(i) }
func ftoa(v float64) string    { return strconv.FormatFloat(v, 'g', 3, 64) }
func head(s []string) []string { return s[:min(len(s), 8)] }
