package mhc_test

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/hyperconn/hyperconn/birkhoff"
	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/mhc"
)

// FuzzProduction drives Production.Forward and Backward with logits
// scale·sin(7i+1), one of them set to special, for n = 1…16: a non-finite
// logit must give an error wrapping hc.ErrNotFinite with h untouched; any
// finite one (±1e308 included: the softmax shifts by its column's largest
// logit) a finite H_res whose rows sum to 1 within ε·n, and a finite
// gradient. The seeds cover NaN, ±Inf, ±1e308 and n = 1 and 16.
func FuzzProduction(f *testing.F) {
	for _, s := range []struct {
		n              uint8
		scale, special float64
	}{{3, 1, 0.5}, {0, 1, 2}, {15, 5, -3}, {3, 1, math.NaN()}, {3, 1, math.Inf(1)}, {4, 1, math.Inf(-1)},
		{4, 1, 1e308}, {4, 1e308, -1e308}} {
		f.Add(s.n, s.scale, s.special, uint16(1))
	}
	f.Fuzz(func(t *testing.T, nRaw uint8, scale, special float64, at uint16) {
		n := 1 + int(nRaw%16)
		z := make([]float64, n*n)
		for i := range z {
			z[i] = scale * math.Sin(float64(7*i+1))
		}
		z[int(at)%len(z)] = special
		finite := !slices.ContainsFunc(z, func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) })
		p := mhc.NewProduction(n, 0, 0)
		h := make([]float64, n*n)
		for i := range h {
			h[i] = -7
		}
		_, err := p.Forward(h, z)
		if !finite {
			if !errors.Is(err, hc.ErrNotFinite) {
				t.Fatalf("non-finite logits %v: err %v, want hc.ErrNotFinite", z, err)
			}
			if slices.ContainsFunc(h, func(v float64) bool { return v != -7 }) {
				t.Fatalf("h written on error: %v", h)
			}
			return
		}
		if err != nil {
			t.Fatalf("finite logits %v: %v", z, err)
		}
		for i := range n {
			var s float64
			for j := range n {
				s += h[i*n+j]
			}
			if !(math.Abs(s-1) <= float64(n)*mhc.DefaultEps) {
				t.Fatalf("row %d sums to %v (H = %v from %v)", i, s, h, z)
			}
		}
		if d := birkhoff.Deviation(h, n); math.IsNaN(d) {
			t.Fatalf("deviation NaN: %v", h)
		}
		g, dz := make([]float64, n*n), make([]float64, n*n)
		for i := range g {
			g[i] = math.Cos(float64(3*i + 2))
		}
		p.Backward(dz, g)
		if slices.ContainsFunc(dz, func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }) {
			t.Fatalf("gradient %v from %v", dz, z)
		}
	})
}
