package mhc_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hyperconn/hyperconn/birkhoff"
	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/mixertest"
	"github.com/hyperconn/hyperconn/mhc"
)

func newMHC(exact bool) func(n, c, layer int) (hc.Mixer, error) {
	return func(n, c, layer int) (hc.Mixer, error) {
		if exact {
			return mhc.New(mhc.ExactConfig(n, c, layer))
		}
		return mhc.New(mhc.PaperConfig(n, c, layer))
	}
}

// permute sets b_res to 0 on P's entries and −1e4 elsewhere (φ = 0 at init,
// so H̃_res = b_res for every token): exp(−1e4) underflows to exactly 0, and
// both projections return P exactly.
func permute(m hc.Mixer, perm []int) bool {
	n, _ := m.Shape()
	if n == 1 {
		return true // H_res = [1], the only permutation
	}
	b := hc.Lookup(m, "b_res").Value
	for i := range b {
		b[i] = -1e4
	}
	for i, j := range perm {
		b[i*n+j] = 0
	}
	return true
}

// perturb moves φ off its zero init, where the gates' gradients vanish.
func perturb(m hc.Mixer, rnd *rand.Rand) {
	phi := hc.Lookup(m, "phi").Value
	for i := range phi {
		phi[i] = 0.3 * rnd.NormFloat64()
	}
}

// far puts the residual logits at scale σ ≈ 5: b_res ~ N(0, 5²) minus 5 on
// the diagonal (σ ≈ 5 logits make a near-permutation, which must not be the
// init's identity), α_res = 1, and φ random so that every token gets its own
// H_res.
func far(m hc.Mixer, rnd *rand.Rand) {
	perturb(m, rnd)
	n, _ := m.Shape()
	if n == 1 {
		return
	}
	hc.Lookup(m, "alpha_res").Value[0] = 1
	b := hc.Lookup(m, "b_res").Value
	for i := range b {
		b[i] = 5 * rnd.NormFloat64()
		if i%(n+1) == 0 {
			b[i] -= 5
		}
	}
}

func TestConformance(t *testing.T) {
	mixertest.Run(t, mixertest.Case{Name: "fixed", New: newMHC(false), Permute: permute, Perturb: perturb, Far: far})
	mixertest.Run(t, mixertest.Case{Name: "exact", New: newMHC(true), Permute: permute, Perturb: perturb, Far: far,
		Guarantee: birkhoff.Deviation[float64]})
}

// TestInit reproduces SPEC §3.2's measured init at n = 4 (reference code:
// φ = 0, b_res 0/−8, b_pre/b_post ±1, Fixed-20): H_res diag 0.998995,
// off-diagonal 3.351e-4, h_pre 0.73106/0.26894, h_post 1.46212/0.53788.
func TestInit(t *testing.T) {
	const layer = 5 // home stream 5 mod 4 = 1
	m, err := mhc.New(mhc.PaperConfig(4, 8, layer))
	if err != nil {
		t.Fatal(err)
	}
	mixertest.CheckInit(t, m, layer, mixertest.Init{Diag: 0.998995, DiagTol: 0.5e-6, Off: 3.351e-4, OffTol: 0.5e-7})
}

// TestFixedReportsDeviation: far from the init the paper's 20 sweeps leave a
// real column error, and MaxDeviation reports exactly the worst one.
func TestFixedReportsDeviation(t *testing.T) {
	const n, c, tokens = 4, 6, 50
	m, err := mhc.New(mhc.PaperConfig(n, c, 0))
	if err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(3, 4))
	far(m, rnd)
	l := hc.NewLayer(m)
	x := make([]float64, tokens*n*c)
	for i := range x {
		x[i] = rnd.NormFloat64()
	}
	m.ResetDeviation()
	if err := l.Pre(make([]float64, tokens*c), x, tokens); err != nil {
		t.Fatal(err)
	}
	_, _, res := l.Coefficients()
	var worst float64
	for tok := 0; tok < tokens; tok++ {
		worst = math.Max(worst, birkhoff.Deviation(res[tok*n*n:(tok+1)*n*n], n))
	}
	if got := m.MaxDeviation(); got != worst {
		t.Errorf("MaxDeviation %g, worst token deviation %g", got, worst)
	}
	t.Logf("Fixed-20 at σ≈5: worst per-token DS deviation %.3g", worst)
	if worst < 1e-6 {
		t.Errorf("Fixed-20 deviation %g at σ≈5: expected a visible gap (SPEC §4: median 1e-4, worst ~10%%)", worst)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []mhc.Config{
		{N: 0, C: 4}, {N: 4, C: 0}, {N: 4, C: 4, Layer: -1},
		{N: 4, C: 4, Projection: birkhoff.Options{Method: 9}},
		{N: 4, C: 4, OffDiagonal: math.NaN()},
	} {
		if _, err := mhc.New(cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}

// TestNotFiniteParams checks that a NaN or an infinity in a parameter gives
// a Pre error wrapping hc.ErrNotFinite (it wrapped birkhoff's error only),
// for the Fixed path (four tokens at once and one at a time) and Exact.
func TestNotFiniteParams(t *testing.T) {
	for _, cfg := range []mhc.Config{mhc.PaperConfig(4, 3, 0), mhc.PaperConfig(3, 3, 0), mhc.ExactConfig(4, 3, 0)} {
		for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
			m, err := mhc.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			m.BRes.Value[1] = v
			n := cfg.N
			x := make([]float64, 5*n*cfg.C)
			for i := range x {
				x[i] = math.Sin(float64(i))
			}
			err = hc.NewLayer(m).Pre(make([]float64, 5*cfg.C), x, 5)
			if !errors.Is(err, hc.ErrNotFinite) || !errors.Is(err, birkhoff.ErrNonFinite) {
				t.Errorf("n = %d %v, b_res[1] = %v: Pre error %v, want hc.ErrNotFinite and birkhoff.ErrNonFinite",
					n, cfg.Projection.Method, v, err)
			}
		}
	}
}
