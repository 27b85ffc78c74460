package mhclite_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/hyperconn/hyperconn/birkhoff"
	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/mhclite"
)

// weightSumTol bounds |Σ w − 1| for the weights of a token: n! ≤ 720 terms
// here, each rounded once, summed in float64.
const weightSumTol = 1e-14

// TestWeightsTo checks that WeightsTo returns the weights behind the H_res
// a Layer computes: mixing them with birkhoff.Mix rebuilds every token's
// H_res (to the rounding of Mix's plain sum), they are nonnegative, and
// they sum to 1. Far from the init, so that every token differs.
func TestWeightsTo(t *testing.T) {
	const c, tokens = 4, 5
	for _, n := range []int{1, 2, 3, 4, 6} {
		m, err := mhclite.New(mhclite.PaperConfig(n, c, 0))
		if err != nil {
			t.Fatal(err)
		}
		rnd := rand.New(rand.NewPCG(11, uint64(n)))
		far(m, rnd)
		l := hc.NewLayer(m)
		x := make([]float64, tokens*n*c)
		for i := range x {
			x[i] = rnd.NormFloat64()
		}
		if err := l.Pre(make([]float64, tokens*c), x, tokens); err != nil {
			t.Fatal(err)
		}
		_, _, res := l.Coefficients()
		h := make([]float64, n*n)
		for tok := range tokens {
			w, err := m.WeightsTo(nil, x[tok*n*c:(tok+1)*n*c])
			if err != nil {
				t.Fatalf("n=%d token %d: %v", n, tok, err)
			}
			if len(w) != m.Perms().Len() {
				t.Fatalf("n=%d: %d weights, want %d", n, len(w), m.Perms().Len())
			}
			var sum float64
			for k, v := range w {
				if !(v >= 0) {
					t.Errorf("n=%d token %d: w[%d] = %v", n, tok, k, v)
				}
				sum += v
			}
			if math.Abs(sum-1) > weightSumTol {
				t.Errorf("n=%d token %d: Σ w = %.17g", n, tok, sum)
			}
			birkhoff.Mix(h, m.Perms(), w)
			for i, v := range h {
				if d := math.Abs(v - res[tok*n*n+i]); d > weightSumTol {
					t.Errorf("n=%d token %d: Mix(w)[%d] = %v, Layer's H_res %v", n, tok, i, v, res[tok*n*n+i])
				}
			}
		}
	}
}

// TestWeightsToInit: at init every token has w_0 = 1/W and w_k = e/W for
// the other permutations, e = exp(−8), W = 1 + (n!−1)·e (package doc).
func TestWeightsToInit(t *testing.T) {
	const n, c = 3, 2
	m, err := mhclite.New(mhclite.PaperConfig(n, c, 0))
	if err != nil {
		t.Fatal(err)
	}
	w := make([]float64, 6)
	got, err := m.WeightsTo(w, []float64{1, -2, 3, 0.5, 7, -1})
	if err != nil {
		t.Fatal(err)
	}
	if &got[0] != &w[0] {
		t.Errorf("WeightsTo did not return dst")
	}
	e := math.Exp(-8)
	W := 1 + 5*e
	for k, v := range w {
		want := e / W
		if k == 0 {
			want = 1 / W
		}
		if math.Abs(v-want) > weightSumTol {
			t.Errorf("w[%d] = %.17g, want %.17g", k, v, want)
		}
	}
}

func TestWeightsToErrors(t *testing.T) {
	const n, c = 3, 2
	m, err := mhclite.New(mhclite.PaperConfig(n, c, 0))
	if err != nil {
		t.Fatal(err)
	}
	x := []float64{1, 2, 3, 4, 5, 6}
	dst := make([]float64, 6)
	untouched := func() bool { return !slices.ContainsFunc(dst, func(v float64) bool { return v != 42 }) }
	for i := range dst {
		dst[i] = 42
	}
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		xb := slices.Clone(x)
		xb[3] = bad
		if _, err := m.WeightsTo(dst, xb); !errors.Is(err, hc.ErrNotFinite) {
			t.Errorf("x[3] = %v: error %v, want one wrapping hc.ErrNotFinite", bad, err)
		}
		if !untouched() {
			t.Errorf("x[3] = %v: dst written", bad)
		}
	}
	m.ARes.Value[0] = math.NaN()
	if _, err := m.WeightsTo(dst, x); !errors.Is(err, hc.ErrNotFinite) {
		t.Errorf("α_res = NaN: error %v, want one wrapping hc.ErrNotFinite", err)
	}
	if !untouched() {
		t.Errorf("α_res = NaN: dst written")
	}
	m.ARes.Value[0] = 0.01

	mustPanicShape(t, "short x", func() { _, _ = m.WeightsTo(dst, x[1:]) })
	mustPanicShape(t, "short dst", func() { _, _ = m.WeightsTo(dst[1:], x) })
}

// TestWeightsToAllocs: after the first call, WeightsTo with a dst does not
// allocate.
func TestWeightsToAllocs(t *testing.T) {
	m, err := mhclite.New(mhclite.PaperConfig(4, 8, 0))
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float64, 32)
	for i := range x {
		x[i] = float64(i%7) - 3
	}
	w := make([]float64, 24)
	if _, err := m.WeightsTo(w, x); err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(10, func() { _, _ = m.WeightsTo(w, x) }); a != 0 {
		t.Errorf("WeightsTo allocates %v times per call", a)
	}
}

// FuzzWeightsTo drives WeightsTo with adversarial streams: a random token
// of a fuzzed scale with two fuzzed entries planted in it, through a mixer
// far from its init. It must return an error wrapping hc.ErrNotFinite with
// dst untouched, or n! nonnegative weights summing to 1; never panic.
func FuzzWeightsTo(f *testing.F) {
	f.Add(1.0, 0.0, 0.0, uint64(1))
	f.Add(1e308, -1e308, 1e308, uint64(2))
	f.Add(0.0, 0.0, 0.0, uint64(3))
	f.Add(1.0, math.NaN(), 0.0, uint64(4))
	f.Add(1e-300, math.Inf(1), 1.0, uint64(5))
	f.Add(1e150, 1e-320, -7.0, uint64(6))
	const n, c = 3, 2
	m, err := mhclite.New(mhclite.PaperConfig(n, c, 0))
	if err != nil {
		f.Fatal(err)
	}
	far(m, rand.New(rand.NewPCG(13, 14)))
	f.Fuzz(func(t *testing.T, scale, a, b float64, seed uint64) {
		rnd := rand.New(rand.NewPCG(seed, 15))
		x := make([]float64, n*c)
		for i := range x {
			x[i] = scale * rnd.NormFloat64()
		}
		x[0] = a
		x[len(x)-1] += b
		dst := []float64{42, 42, 42, 42, 42, 42}
		w, err := m.WeightsTo(dst, x)
		if err != nil {
			if !errors.Is(err, hc.ErrNotFinite) {
				t.Fatalf("error %v does not wrap hc.ErrNotFinite", err)
			}
			if slices.ContainsFunc(dst, func(v float64) bool { return v != 42 }) {
				t.Fatalf("dst written on error %v", err)
			}
			return
		}
		var sum float64
		for k, v := range w {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("x = %v: w[%d] = %v", x, k, v)
			}
			sum += v
		}
		if math.Abs(sum-1) > weightSumTol {
			t.Fatalf("x = %v: Σ w = %.17g", x, sum)
		}
	})
}

// mustPanicShape checks that f panics with an error wrapping hc.ErrShape.
func mustPanicShape(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		if err, ok := recover().(error); !ok || !errors.Is(err, hc.ErrShape) {
			t.Errorf("%s: panic %v, want an error wrapping hc.ErrShape", what, err)
		}
	}()
	f()
}
