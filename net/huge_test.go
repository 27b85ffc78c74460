package net

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// hugeTol bounds the relative gap between results for inputs scaled by a
// huge power of two and for the same inputs at a moderate scale (issue 19,
// point 1): a few ulps of the normalisation.
const hugeTol = 1e-12

// hugeTol32 is hugeTol for the float32 RMSNorm: float32 rounding of the
// normalised values (2⁻²⁴ ≈ 6e−8), a few ulps.
const hugeTol32 = 5e-7

// TestRMSNormHuge checks RMSNorm's forward and backward for rows scaled to
// 1e100…1e300 (float64) and up to 3e37 (float32, whose values end at 3.4e38) against the same rows at
// an RMS near 2^20, scaled back: before, a row above 1.34e154 normalised to
// zeros and its gradient lost the RMS term.
func TestRMSNormHuge(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 19))
	const rows, c = 3, 13
	nrm := NewRMSNorm("n", c)
	for i := range nrm.Gain.Value {
		nrm.Gain.Value[i] = 1 + 0.3*rnd.NormFloat64()
	}
	u, dy := randNormal(rnd, rows*c), randNormal(rnd, rows*c)
	scaled := func(e int) []float64 {
		x := make([]float64, len(u))
		for i, v := range u {
			x[i] = math.Ldexp(v, e)
		}
		return x
	}
	run := func(e int) (y, dx, dg []float64) {
		x := scaled(e)
		y, dx = make([]float64, len(x)), make([]float64, len(x))
		clear(nrm.Gain.Grad)
		nrm.Forward(y, x, rows)
		nrm.Backward(dx, dy, x, rows)
		for i := range dx {
			dx[i] = math.Ldexp(dx[i], e-20)
		}
		return y, dx, append([]float64(nil), nrm.Gain.Grad...)
	}
	y0, dx0, dg0 := run(20)
	for _, scale := range []float64{1e100, 1e154, 1e155, 1e160, 1e200, 1e300} {
		_, e := math.Frexp(scale)
		y, dx, dg := run(e)
		for _, c := range []struct {
			name      string
			got, want []float64
		}{{"y", y, y0}, {"dx", dx, dx0}, {"dgain", dg, dg0}} {
			if d := maxRel(c.got, c.want); !(d <= hugeTol) {
				t.Errorf("float64, rows of %.3g: %s differs from the scaled rows' by %.3g relative", scale, c.name, d)
			}
		}
	}

	var a arena32
	a.value, a.grad = make([]float32, 0, c), make([]float32, 0, c)
	n32 := newRMSNorm32(&a, "", nrm)
	run32 := func(e int) (y, dx, dg []float64) {
		x := f32s(scaled(e))
		y32, dx32 := make([]float32, len(x)), make([]float32, len(x))
		clear(n32.gain.Grad)
		n32.forward(y32, x, rows)
		n32.backward(dx32, f32s(dy), x, rows)
		for i := range dx32 {
			dx = append(dx, math.Ldexp(float64(dx32[i]), e-20))
			y = append(y, float64(y32[i]))
		}
		for _, v := range n32.gain.Grad {
			dg = append(dg, float64(v))
		}
		return y, dx, dg
	}
	y0, dx0, dg0 = run32(20)
	for _, scale := range []float64{1e10, 1e19, 1e20, 1e30, 1e37, 3e37} {
		_, e := math.Frexp(scale)
		y, dx, dg := run32(e)
		for _, c := range []struct {
			name      string
			got, want []float64
		}{{"y", y, y0}, {"dx", dx, dx0}, {"dgain", dg, dg0}} {
			if d := maxRel(c.got, c.want); !(d <= hugeTol32) {
				t.Errorf("float32, rows of %.3g: %s differs from the scaled rows' by %.3g relative", scale, c.name, d)
			}
		}
	}
}

// maxRel returns max|a−b| / max|b|.
func maxRel(a, b []float64) float64 {
	var d, s float64
	for i, v := range b {
		d = max(d, math.Abs(a[i]-v))
		s = max(s, math.Abs(v))
	}
	if math.IsNaN(d) || len(a) != len(b) {
		return math.NaN()
	}
	return d / s
}

// TestModelHugeInput is the reproduction: a Model (mhc, n = 4,
// width 8) given an input with entries of 1e160 returned the logits of an
// all-zero input and no error. Now the logits equal, to hugeTol, those of
// the same input scaled down to 1e120 (where no square overflows and the
// branches' O(1) outputs are as invisible beside the streams as at 1e160),
// or the call returns an error; every mixer, float64 and float32.
func TestModelHugeInput(t *testing.T) {
	for _, name := range MixerNames() {
		for _, f32 := range []bool{false, true} {
			m, err := NewModel(Config{Mixer: name, N: 4, Width: 8, Depth: 2, Inputs: 6, Classes: 3, Seed: 3, Float32: f32})
			if err != nil {
				t.Fatal(err)
			}
			rnd := rand.New(rand.NewPCG(7, 19))
			u := randNormal(rnd, 2*6)
			input := func(scale float64) []float64 {
				_, e := math.Frexp(scale)
				x := make([]float64, len(u))
				for i, v := range u {
					x[i] = math.Ldexp(v, e)
				}
				return x
			}
			ref, err := m.Logits(input(1e120), 2)
			if f32 {
				// 1e120 does not fit a float32: the embedding overflows.
				if !errors.Is(err, ErrNonFinite) {
					t.Errorf("%s float32: input of 1e120: error %v, want ErrNonFinite", name, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: input of 1e120: %v", name, err)
			}
			ref = append([]float64(nil), ref...)
			zero, err := m.Logits(make([]float64, 2*6), 2)
			if err != nil {
				t.Fatal(err)
			}
			zero = append([]float64(nil), zero...)
			for _, scale := range []float64{1e160, 1e200, 1e300} {
				got, err := m.Logits(input(scale), 2)
				if err != nil {
					if !errors.Is(err, ErrNonFinite) {
						t.Errorf("%s: input of %.3g: error %v, want ErrNonFinite", name, scale, err)
					}
					continue
				}
				if d := maxRel(got, ref); !(d <= hugeTol) {
					t.Errorf("%s: input of %.3g: logits %v differ from the scaled input's %v by %.3g relative (all-zero input: %v)",
						name, scale, got, ref, d, zero)
				}
			}
		}
	}
}
