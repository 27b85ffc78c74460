package kromhc_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/hyperconn/hyperconn/birkhoff"
	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/mixertest"
	"github.com/hyperconn/hyperconn/kromhc"
	"github.com/hyperconn/hyperconn/mhc"
	"github.com/hyperconn/hyperconn/mhclite"
)

// Tolerances of this file.
const (
	// dsTol is the acceptance bound (issue 17) on the doubly stochastic
	// deviation of one H_res and of a product of 64: each factor sums to 1
	// within a few ulps (compensated softmax, then a mixture of ≤ 6 terms),
	// and a Kronecker product of ≤ 4 factors multiplies ≤ 4 such sums.
	dsTol = 1e-14
	// initTol bounds H_res at init against its closed form: products of ≤ 4
	// values each within an ulp or two.
	initTol = 1e-15
)

func newKrom(n, c, layer int) (hc.Mixer, error) { return kromhc.New(kromhc.PaperConfig(n, c, layer)) }

// permute reaches P (P[i][perm[i]] = 1) when P is a Kronecker product of
// permutations of the factors: perm maps every digit q of a stream index
// through a permutation π_q of its own. It sets each factor's b_res to 0 on
// π_q and −1e4 elsewhere (φ = 0 at init, so the logits are b_res):
// exp(−1e4) underflows to 0, every U_q is exactly P_q, and their Kronecker
// product, made of products of 0s and 1s, is exactly P.
func permute(m hc.Mixer, perm []int) bool {
	n, _ := m.Shape()
	if n == 1 {
		return true
	}
	k := m.(*kromhc.Mixer)
	fs := k.Config().Factors
	stride := make([]int, len(fs))
	s := 1
	for q := len(fs) - 1; q >= 0; q-- {
		stride[q] = s
		s *= fs[q]
	}
	digit := func(a, q int) int { return a / stride[q] % fs[q] }
	pis := make([][]int, len(fs))
	for q, f := range fs {
		pis[q] = make([]int, f)
		for d := range f {
			pis[q][d] = digit(perm[d*stride[q]], q)
		}
	}
	for a, p := range perm { // P must be ⊗ P_q
		want := 0
		for q := range fs {
			want += pis[q][digit(a, q)] * stride[q]
		}
		if want != p {
			return false
		}
	}
	b := hc.Lookup(m, "b_res").Value
	off := 0
	for q := range fs {
		ps := k.Perms(q)
		for j := range ps.Len() {
			b[off+j] = -1e4
		}
		b[off+birkhoff.PermutationIndex(pis[q])] = 0
		off += ps.Len()
	}
	return true
}

// far puts every factor's logits at scale σ ≈ 5 (mixertest.FarGate), 5
// taken off each identity's logit.
func far(m hc.Mixer, rnd *rand.Rand) {
	b := mixertest.FarGate(m, rnd, 5)
	if b == nil {
		return
	}
	off := 0
	for q := range m.(*kromhc.Mixer).Config().Factors {
		b[off] -= 5
		off += m.(*kromhc.Mixer).Perms(q).Len()
	}
}

// TestConformance runs the suite at n = 1, 2, 3 (one factor of 3), 4
// (2·2), 6 (2·3), 8 (2·2·2), 12 (2·2·3) and 16 (2·2·2·2), with the DS
// deviation bounded by 1e-14 per token and for the 64-layer product, far
// from the init.
func TestConformance(t *testing.T) {
	mixertest.Run(t, mixertest.Case{Name: "kromhc", New: newKrom, Ns: []int{1, 2, 3, 4, 6, 8, 12, 16},
		Permute: permute, Perturb: mixertest.PerturbPhi, Far: far,
		Guarantee: birkhoff.Deviation[float64], Tol: dsTol, CompositeTol: dsTol})
}

// TestFarDeviation measures the DS deviation of H_res for 256 tokens at
// logit scale 5 and of 64-layer products, at n = 2, 4, 8 and 16, and logs
// the worst of each (the acceptance figures).
func TestFarDeviation(t *testing.T) {
	const c, tokens, layers = 8, 256, 64
	for _, n := range []int{2, 4, 8, 16} {
		rnd := rand.New(rand.NewPCG(7, uint64(n)))
		var worst float64
		prod := make([]float64, n*n)
		for i := range n {
			prod[i*n+i] = 1
		}
		tmp := make([]float64, n*n)
		for layer := range layers {
			m, err := newKrom(n, c, layer)
			if err != nil {
				t.Fatal(err)
			}
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
			for tok := range tokens {
				worst = math.Max(worst, birkhoff.Deviation(res[tok*n*n:(tok+1)*n*n], n))
			}
			mixertest.MulTo(tmp, res[:n*n], prod, n)
			prod, tmp = tmp, prod
		}
		comp := birkhoff.Deviation(prod, n)
		m, _ := newKrom(n, c, 0)
		t.Logf("n=%d (%v): worst per-token DS deviation %.3g over %d tokens × %d layers; 64-layer product %.3g",
			n, m.(*kromhc.Mixer).Config().Factors, worst, tokens, layers, comp)
		if !(worst <= dsTol) || !(comp <= dsTol) {
			t.Errorf("n=%d: deviation %.3g per token, %.3g for the product, want ≤ %g", n, worst, comp, dsTol)
		}
	}
}

// TestInit checks H_res at init against its closed form at n = 4 (2·2):
// each factor is [[p, q], [q, p]] with p = 1/(1 + e⁻⁸), q = 1 − p, so
// H_res[a][b] = p^(digits equal)·q^(digits different).
func TestInit(t *testing.T) {
	m, err := newKrom(4, 8, 5)
	if err != nil {
		t.Fatal(err)
	}
	l := mixertest.CheckInit(t, m, 5, mixertest.Init{Diag: 0.999329, DiagTol: 0.5e-6, Off: 0.000335, OffTol: 0.00034})
	_, _, res := l.Coefficients()
	p := 1 / (1 + math.Exp(-8))
	q := 1 - p
	for i := range 4 {
		for j := range 4 {
			want := 1.0
			for _, s := range []int{2, 1} {
				if i/s%2 == j/s%2 {
					want *= p
				} else {
					want *= q
				}
			}
			if got := res[i*4+j]; math.Abs(got-want) > initTol {
				t.Errorf("H_res[%d][%d] = %.17g, want %.17g", i, j, got, want)
			}
		}
	}
}

// TestNumParams checks NumParams against the Params and logs the extra
// parameters per sub-layer of kromhc, mhc and mhclite at n = 4 and 8 (the
// issue's comparison), at C = 256 and C = 1024.
func TestNumParams(t *testing.T) {
	count := func(ps []*hc.Param) int {
		s := 0
		for _, p := range ps {
			s += len(p.Value)
		}
		return s
	}
	for _, c := range []int{256, 1024} {
		for _, n := range []int{4, 8} {
			cfg := kromhc.PaperConfig(n, c, 0)
			k, err := kromhc.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			got, err := kromhc.NumParams(cfg)
			if err != nil || got != count(k.Params()) {
				t.Fatalf("n=%d: NumParams = %d, %v; Params hold %d", n, got, err, count(k.Params()))
			}
			mh, err := mhc.New(mhc.PaperConfig(n, c, 0))
			if err != nil {
				t.Fatal(err)
			}
			ml, err := mhclite.New(mhclite.PaperConfig(n, c, 0))
			if errors.Is(err, hc.ErrTooLarge) { // n! logits: above hc.MaxParams at C = 1024, n = 8
				t.Logf("C=%d n=%d: extra parameters per sub-layer: kromhc %d, mhc %d, mhclite refused: %v",
					c, n, got, count(mh.Params()), err)
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("C=%d n=%d: extra parameters per sub-layer: kromhc %d, mhc %d, mhclite %d (kromhc/mhclite %.3f)",
				c, n, got, count(mh.Params()), count(ml.Params()), float64(got)/float64(count(ml.Params())))
		}
	}
}

func TestNewErrors(t *testing.T) {
	for _, c := range []struct {
		cfg  kromhc.Config
		want string
	}{
		{kromhc.Config{N: 0, C: 1}, "N = 0"},
		{kromhc.Config{N: 11, C: 1}, "prime factor 11"},
		{kromhc.Config{N: 4, C: 1, Factors: []int{2, 3}}, "product"},
		{kromhc.Config{N: 9, C: 1, Factors: []int{9}}, "[2, 8]"},
		{kromhc.Config{N: 4, C: 1, Factors: []int{4, 1}}, "[2, 8]"},
		{kromhc.Config{N: 4, C: 1, OffIdentity: math.NaN()}, "OffIdentity"},
	} {
		_, err := kromhc.New(c.cfg)
		if !errors.Is(err, kromhc.ErrConfig) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v) = %v, want an error wrapping ErrConfig naming %q", c.cfg, err, c.want)
		}
		if _, err2 := kromhc.NumParams(c.cfg); !errors.Is(err2, kromhc.ErrConfig) {
			t.Errorf("NumParams(%+v) = %v, want the error of New", c.cfg, err2)
		}
	}
	// Explicit factors: 4 as one factor of 4 (mHC-lite at n = 4).
	m, err := kromhc.New(kromhc.Config{N: 4, C: 2, Factors: []int{4}})
	if err != nil || len(hc.Lookup(m, "b_res").Value) != 24 {
		t.Errorf("Factors [4]: %v", err)
	}
}

func TestChunkMatchesTokens(t *testing.T) {
	for _, n := range []int{1, 2, 4, 6} {
		m, err := newKrom(n, 5, 1)
		if err != nil {
			t.Fatal(err)
		}
		rnd := rand.New(rand.NewPCG(13, uint64(n)))
		far(m, rnd)
		t.Logf("n=%d: largest relative gap %.3g", n, mixertest.CheckChunk(t, m, rnd, 7))
	}
}

func TestDefaultFactors(t *testing.T) {
	for n, want := range map[int]string{1: "[]", 2: "[2]", 6: "[2 3]", 12: "[2 2 3]", 16: "[2 2 2 2]", 49: "[7 7]"} {
		f, err := kromhc.DefaultFactors(n)
		if err != nil || fmt.Sprint(f) != want {
			t.Errorf("DefaultFactors(%d) = %v, %v; want %s", n, f, err, want)
		}
	}
	for _, n := range []int{0, 11, 26} {
		if _, err := kromhc.DefaultFactors(n); !errors.Is(err, kromhc.ErrConfig) {
			t.Errorf("DefaultFactors(%d): %v, want an error wrapping ErrConfig", n, err)
		}
	}
}
