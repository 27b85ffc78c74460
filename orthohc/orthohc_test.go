package orthohc_test

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/mixertest"
	"github.com/hyperconn/hyperconn/orthohc"
)

// orthoTol is the acceptance bound (issue 17) on ‖HᵀH − I‖₂ per token and
// for a product of 64 layers: spectral.Cayley restores orthogonality to a
// few ulps with Newton–Schulz steps, and 64 products add at most 64 such
// errors (≈ 64·1e-15).
const orthoTol = 1e-13

func newOrtho(n, c, layer int) (hc.Mixer, error) {
	return orthohc.New(orthohc.PaperConfig(n, c, layer))
}

// permute reaches only the identity exactly (b_res = 0 at init, φ = 0:
// z = 0 and Cayley(0) = I bit for bit). The Cayley map cannot reach an
// eigenvalue −1 (a swap of two streams), and the permutations it can reach
// (a 3-cycle) come out of an LU solve within rounding, not exactly.
func permute(m hc.Mixer, perm []int) bool {
	for i, j := range perm {
		if i != j {
			return false
		}
	}
	return true
}

// far puts the skew logits at scale σ ≈ 5 (mixertest.FarGate), so that
// every token's H_res is a rotation far from I.
func far(m hc.Mixer, rnd *rand.Rand) { mixertest.FarGate(m, rnd, 5) }

// TestConformance runs the suite at n up to 16 with ‖HᵀH − I‖₂ ≤ 1e-13 per
// token and for 64-layer products, far from the init.
func TestConformance(t *testing.T) {
	mixertest.Run(t, mixertest.Case{Name: "orthohc", New: newOrtho, Ns: []int{1, 2, 3, 4, 8, 16},
		Permute: permute, Perturb: mixertest.PerturbPhi, Far: far,
		Guarantee: orthohc.Orthogonality, Tol: orthoTol, CompositeTol: orthoTol})
}

// TestInit checks H_res = I exactly at init (z = 0).
func TestInit(t *testing.T) {
	m, err := newOrtho(4, 8, 5)
	if err != nil {
		t.Fatal(err)
	}
	mixertest.CheckInit(t, m, 5, mixertest.Init{Diag: 1, Off: 0})
}

func TestNumParams(t *testing.T) {
	for _, n := range []int{1, 2, 4, 16} {
		cfg := orthohc.PaperConfig(n, 7, 0)
		m, err := orthohc.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var sum int
		for _, p := range m.Params() {
			sum += len(p.Value)
		}
		if got, err := orthohc.NumParams(cfg); err != nil || got != sum {
			t.Errorf("n=%d: NumParams = %d, %v; the Params hold %d", n, got, err, sum)
		}
	}
	for _, cfg := range []orthohc.Config{{N: 0, C: 1}, {N: 2, C: 0}, {N: 2, C: 2, Layer: -1}} {
		if _, err := orthohc.New(cfg); !errors.Is(err, orthohc.ErrConfig) {
			t.Errorf("New(%+v) = %v, want an error wrapping ErrConfig", cfg, err)
		}
	}
}

func TestChunkMatchesTokens(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4} {
		m, err := newOrtho(n, 5, 1)
		if err != nil {
			t.Fatal(err)
		}
		rnd := rand.New(rand.NewPCG(13, uint64(n)))
		far(m, rnd)
		t.Logf("n=%d: largest relative gap %.3g", n, mixertest.CheckChunk(t, m, rnd, 7))
	}
}
