package mixertest

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/hyperconn/hyperconn/hc"
)

// Tolerances of the suite.
const (
	// fdTol bounds the relative error of every analytic gradient against
	// finite differences: the fourth-order stencil with fdStep is accurate to
	// ~1e-10 on these smooth maps, so 1e-6 leaves room and still catches any
	// wrong term.
	fdTol = 1e-6
	// fdStep is the step of the stencil: its truncation error is O(fdStep⁴)
	// ≈ 1e-12 and its rounding error ≈ ε·|L|/fdStep ≈ 1e-12.
	fdStep = 1e-3
	// fdFloor is the gradient magnitude below which the error is measured
	// absolutely: a tensor whose largest gradient is 1e-8 is checked to
	// fdTol·fdFloor = 1e-10, a few times the stencil's noise.
	fdFloor = 1e-4
	// chunkTol bounds the relative difference of parameter gradients summed
	// in two different chunk orders: a few ulps per token of a 37-token batch.
	chunkTol = 1e-12
	// DefaultTol is Case.Tol when zero: a projection solved to the float64
	// floor leaves marginals within a few ulps of 1 (SPEC §4: 1e-13).
	DefaultTol = 1e-12
	// DefaultCompositeTol is Case.CompositeTol when zero: 64 products each
	// adding at most DefaultTol stay below 64·1e-12 ≈ 6.4e-11.
	DefaultCompositeTol = 1e-10
	// farMove is how far, in max-abs entries, the Far hook must move some
	// token's H_res from its value at init for n ≥ 2: logits at σ ≈ 5 move
	// entries by tenths, so 1e-2 proves the hook did something.
	farMove = 1e-2
)

// DefaultNs are the stream counts Run tests when Case.Ns is nil: up to 16,
// the largest n of 2026's stream-scaling studies.
var DefaultNs = []int{1, 2, 3, 4, 8, 16}

// Case describes one mixer to the suite. Only Name and New are required.
type Case struct {
	// Name labels the subtests.
	Name string
	// New returns a mixer of n streams of width c for the 0-based sub-layer
	// index layer, at its default initial values.
	New func(n, c, layer int) (hc.Mixer, error)
	// Ns lists the stream counts to test; nil means DefaultNs.
	Ns []int
	// C is the stream width used by the suite; 0 means 5 (odd, so that no
	// code path can rely on an even width).
	C int
	// Permute sets the parameters of m so that H_res = P for every token,
	// where P[i][perm[i]] = 1: output stream i is input stream perm[i]. It
	// returns false if this parameterisation cannot reach P exactly. A nil
	// Permute means it never can; the suite logs that.
	Permute func(m hc.Mixer, perm []int) bool
	// Plain, if non-nil, returns a mixer that reproduces a plain residual
	// network exactly: from n identical streams every stream stays bit-
	// identical to x + F(x), layer after layer. For HC that is the default
	// init; a mixer with a "disabled" setting returns it here.
	Plain func(n, c, layer int) (hc.Mixer, error)
	// Perturb moves m's parameters off the default init, for parameters
	// whose gradient is structurally zero there (e.g. a scale multiplying a
	// zero-initialised weight). The gradient check and a second finite
	// difference check run after it; the suite logs that it was used.
	Perturb func(m hc.Mixer, rnd *rand.Rand)
	// Far sets m's parameters far from the init, logits at a scale σ ≈ 5,
	// for the guarantee checks.
	Far func(m hc.Mixer, rnd *rand.Rand)
	// Guarantee measures how far the n×n row-major h (one token's H_res, or
	// a product of them) is from the mixer's promise, e.g. the DS deviation.
	// nil means the mixer promises nothing (HC).
	Guarantee func(h []float64, n int) float64
	// Tol bounds Guarantee per token; 0 means DefaultTol.
	Tol float64
	// CompositeTol bounds Guarantee of a 64-layer product; 0 means
	// DefaultCompositeTol.
	CompositeTol float64
	// FDSamples is how many entries of each parameter the finite difference
	// check perturbs (all of them when fewer); 0 means 32.
	FDSamples int
}

// Run runs the conformance suite on c.
func Run(t *testing.T, c Case) {
	if c.New == nil {
		t.Fatalf("mixertest: case %q has no New", c.Name)
	}
	if c.C == 0 {
		c.C = 5
	}
	if c.Tol == 0 {
		c.Tol = DefaultTol
	}
	if c.CompositeTol == 0 {
		c.CompositeTol = DefaultCompositeTol
	}
	if c.FDSamples == 0 {
		c.FDSamples = 32
	}
	ns := c.Ns
	if ns == nil {
		ns = DefaultNs
	}
	for _, n := range ns {
		s := &suite{Case: c, n: n}
		t.Run(fmt.Sprintf("%s/n=%d", c.Name, n), func(t *testing.T) {
			t.Run("shapes", s.shapes)
			t.Run("determinism", s.determinism)
			t.Run("swap", s.swap)
			t.Run("plain", s.plain)
			t.Run("gradients", s.gradients)
			t.Run("finite-differences", s.finiteDifferences)
			t.Run("nonfinite", s.nonfinite)
			t.Run("far", s.far)
			t.Run("huge", s.huge)
			t.Run("allocs", s.allocs)
		})
	}
}

// suite holds one case at one n.
type suite struct {
	Case
	n int
}

// rng returns a generator seeded by the check's name and n, so that every
// check draws the same numbers on every run, whatever ran before it.
func (s *suite) rng(check string) *rand.Rand {
	var h uint64 = 14695981039346656037
	for _, b := range []byte(check) {
		h = (h ^ uint64(b)) * 1099511628211
	}
	return rand.New(rand.NewPCG(h, uint64(s.n)))
}

// mixer returns s.New(n, C, layer) or fails the test.
func (s *suite) mixer(t *testing.T, layer int) hc.Mixer {
	t.Helper()
	m, err := s.New(s.n, s.C, layer)
	if err != nil {
		t.Fatalf("New(%d, %d, %d): %v", s.n, s.C, layer, err)
	}
	return m
}
