package mhclite_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/hyperconn/hyperconn/birkhoff"
	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/mixertest"
	"github.com/hyperconn/hyperconn/mhclite"
)

// Tolerances of this file.
const (
	// quoted6 is half a unit in the 6th decimal: SPEC §3.3 quotes the init
	// H_res diagonal as 0.994008, rounded to 6 decimals.
	quoted6 = 0.5e-6
	// closedFormTol bounds the gap between H_res at init and its closed form
	// (package doc): both are sums of at most 8! terms of size ≤ 1 in
	// float64, each rounding ~1e-16 relative.
	closedFormTol = 1e-14
)

func newLite(n, c, layer int) (hc.Mixer, error) {
	return mhclite.New(mhclite.PaperConfig(n, c, layer))
}

// permute sets b_res to 0 for perm and −1e4 for every other permutation
// (φ = 0 at init, so the logits are b_res for every token): exp(−1e4)
// underflows to exactly 0, the softmax puts exactly 1 on perm, and H_res is
// exactly P. The suite's P has P[i][perm[i]] = 1, the orientation of
// birkhoff.Perms, so perm's index is PermutationIndex(perm).
func permute(m hc.Mixer, perm []int) bool {
	b := hc.Lookup(m, "b_res")
	if b == nil {
		return len(perm) == 1 // n = 1: H_res = [1], the only permutation
	}
	for k := range b.Value {
		b.Value[k] = -1e4
	}
	b.Value[birkhoff.PermutationIndex(perm)] = 0
	return true
}

// perturb moves φ off its zero init, where the gates' gradients vanish.
func perturb(m hc.Mixer, rnd *rand.Rand) {
	phi := hc.Lookup(m, "phi").Value
	for i := range phi {
		phi[i] = 0.3 * rnd.NormFloat64()
	}
}

// far puts the mixture logits at scale σ ≈ 5: b_res ~ N(0, 5²) with 5
// taken off the identity's logit (so that the init's identity does not
// win), α_res = 1, and φ random so that every token gets its own H_res.
func far(m hc.Mixer, rnd *rand.Rand) {
	perturb(m, rnd)
	b := hc.Lookup(m, "b_res")
	if b == nil {
		return
	}
	hc.Lookup(m, "alpha_res").Value[0] = 1
	for k := range b.Value {
		b.Value[k] = 5 * rnd.NormFloat64()
	}
	b.Value[0] -= 5
}

func TestConformance(t *testing.T) {
	mixertest.Run(t, mixertest.Case{Name: "mhclite", New: newLite, Ns: []int{1, 2, 3, 4},
		Permute: permute, Perturb: perturb, Far: far, Guarantee: birkhoff.Deviation[float64]})
	// At n = 8 every forward pass sums 40320 permutations through a φ of
	// 40336×40 entries: check fewer parameter entries by finite differences.
	mixertest.Run(t, mixertest.Case{Name: "mhclite", New: newLite, Ns: []int{8}, FDSamples: 16,
		Permute: permute, Perturb: perturb, Far: far, Guarantee: birkhoff.Deviation[float64]})
}

// TestInit reproduces SPEC §3.3's measured init at n = 4 (identity's
// logit 0, the others −8): H_res diag 0.994008, off-diagonal 0.001997, and
// the shared head's h_pre, h_post (SPEC §3.2).
func TestInit(t *testing.T) {
	const layer = 5 // home stream 5 mod 4 = 1
	m, err := mhclite.New(mhclite.PaperConfig(4, 8, layer))
	if err != nil {
		t.Fatal(err)
	}
	mixertest.CheckInit(t, m, layer, mixertest.Init{Diag: 0.994008, DiagTol: quoted6, Off: 0.001997, OffTol: quoted6})
}

// TestInitClosedForm checks H_res at init against the closed form of the
// package doc, for every n: with e = exp(−8) and W = 1 + (n!−1)·e, the
// off-diagonal is (n−1)!·e/W and the diagonal 1 − (n−1)·(n−1)!·e/W.
func TestInitClosedForm(t *testing.T) {
	const c = 3
	for n := 2; n <= mhclite.MaxN; n++ {
		m, err := mhclite.New(mhclite.PaperConfig(n, c, 0))
		if err != nil {
			t.Fatal(err)
		}
		l := hc.NewLayer(m)
		x := make([]float64, n*c)
		for i := range x {
			x[i] = float64(i%5) - 2
		}
		if err := l.Pre(make([]float64, c), x, 1); err != nil {
			t.Fatal(err)
		}
		_, _, res := l.Coefficients()
		e := math.Exp(-8)
		f := float64(birkhoff.Factorial(n - 1))
		w := 1 + (float64(birkhoff.Factorial(n))-1)*e
		off := f * e / w
		diag := 1 - float64(n-1)*off
		for i := range n {
			for j := range n {
				want := off
				if i == j {
					want = diag
				}
				if got := res[i*n+j]; math.Abs(got-want) > closedFormTol {
					t.Errorf("n=%d: H_res[%d][%d] = %.17g, closed form %.17g", n, i, j, got, want)
				}
			}
		}
		t.Logf("n=%d: diagonal %.6f, off-diagonal %.4g", n, diag, off)
	}
}

// TestNoOverflow: a logit of +1000 overflows exp without the max-shift.
// With it, the softmax is exactly one-hot and H_res is exactly that
// permutation matrix, at every n.
func TestNoOverflow(t *testing.T) {
	const c = 2
	for n := 2; n <= mhclite.MaxN; n++ {
		m, err := mhclite.New(mhclite.PaperConfig(n, c, 0))
		if err != nil {
			t.Fatal(err)
		}
		k := m.Perms().Len() - 1 // the reversal
		m.BRes.Value[k] = 1000
		l := hc.NewLayer(m)
		x := make([]float64, n*c)
		for i := range x {
			x[i] = float64(i + 1)
		}
		if err := l.Pre(make([]float64, c), x, 1); err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		_, _, res := l.Coefficients()
		for i := range n {
			for j := range n {
				want := 0.0
				if j == n-1-i {
					want = 1
				}
				if res[i*n+j] != want {
					t.Fatalf("n=%d: H_res[%d][%d] = %v, want %v", n, i, j, res[i*n+j], want)
				}
			}
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []mhclite.Config{
		{N: 0, C: 4}, {N: 4, C: 0}, {N: -1, C: 4}, {N: 4, C: 4, Layer: -1},
		{N: 4, C: 4, OffIdentity: math.NaN()}, {N: 4, C: 4, OffIdentity: math.Inf(-1)},
		{N: 9, C: 4}, {N: 100, C: 4},
	} {
		m, err := mhclite.New(cfg)
		if !errors.Is(err, mhclite.ErrConfig) || m != nil {
			t.Errorf("%+v: (%v, %v), want (nil, an error wrapping ErrConfig)", cfg, m, err)
		}
	}
	// The refusal of n > 8 says why.
	_, err := mhclite.New(mhclite.Config{N: 9, C: 4})
	for _, why := range []string{"N! permutation", "362880", "φ_res"} {
		if err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("N = 9: error %q does not mention %q", err, why)
		}
	}
	if err != nil && !strings.HasPrefix(err.Error(), "mhclite: ") {
		t.Errorf("error %q does not start with the package name", err)
	}
}

func TestDefaults(t *testing.T) {
	m, err := mhclite.New(mhclite.PaperConfig(3, 2, 1))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Config().OffIdentity; got != mhclite.DefaultOffIdentity {
		t.Errorf("OffIdentity default %v, want %v", got, mhclite.DefaultOffIdentity)
	}
	b := m.BRes.Value
	if len(b) != 6 || b[0] != 0 || b[1] != -8 || b[5] != -8 {
		t.Errorf("b_res at n = 3 = %v, want [0 -8 -8 -8 -8 -8]", b)
	}
	m, err = mhclite.New(mhclite.Config{N: 3, C: 2, OffIdentity: -3})
	if err != nil {
		t.Fatal(err)
	}
	if b := m.BRes.Value; b[0] != 0 || b[3] != -3 {
		t.Errorf("b_res with OffIdentity −3 = %v", b)
	}
	m, err = mhclite.New(mhclite.PaperConfig(1, 2, 0))
	if err != nil {
		t.Fatal(err)
	}
	if hc.Lookup(m, "b_res") != nil || hc.Lookup(m, "alpha_res") != nil {
		t.Errorf("n = 1 has residual parameters: H_res = [1] needs none")
	}
}
