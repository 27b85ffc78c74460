package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/hyperconn/hyperconn/birkhoff"
)

const (
	// fdStep is the central-difference step: the logits are O(1), so
	// h = 1e-6 balances truncation (h²·|f'''| ≈ 1e-12) against cancellation
	// (ε/h ≈ 1e-10).
	fdStep = 1e-6
	// fdTol bounds the relative error max|analytic − numeric| / max|numeric|
	// of a backward pass, a few times the ≈1e-9 noise of fdStep. Tolerance's
	// backward is the implicit gradient of the exact map, off by the order of
	// its 1e-13 tolerance divided by fdStep: 1e-7, inside this bound.
	fdTol = 1e-6
	// roundTol64 is the float64 rounding allowed when a projector's H is
	// compared with an independent computation: a few units of 2.2e-16 on
	// entries of order 1.
	roundTol64 = 1e-14
)

// randomMatrix returns an n×n matrix of N(0, σ²) entries.
func randomMatrix(rnd *rand.Rand, n int, sigma float64) []float64 {
	m := make([]float64, n*n)
	for i := range m {
		m[i] = sigma * rnd.NormFloat64()
	}
	return m
}

// TestBackwardFiniteDifferences checks every projector's backward, L =
// ⟨G, H(Z)⟩ with a random G, against central differences in float64.
func TestBackwardFiniteDifferences(t *testing.T) {
	for _, method := range methodNames {
		for _, n := range []int{3, 4} {
			t.Run(fmt.Sprintf("%s/n=%d", method, n), func(t *testing.T) {
				rnd := rand.New(rand.NewPCG(7, uint64(n)))
				z := randomMatrix(rnd, n, 1)
				g := randomMatrix(rnd, n, 1)
				p, err := newProjector[float64](method, n)
				if err != nil {
					t.Fatal(err)
				}
				h := make([]float64, n*n)
				loss := func(z []float64) float64 {
					if _, err := p.forward(h, z); err != nil {
						t.Fatal(err)
					}
					var l float64
					for i := range h {
						l += g[i] * h[i]
					}
					return l
				}
				numeric := make([]float64, n*n)
				for i := range z {
					zp, zm := slices.Clone(z), slices.Clone(z)
					zp[i] += fdStep
					zm[i] -= fdStep
					numeric[i] = (loss(zp) - loss(zm)) / (2 * fdStep)
				}
				loss(z)
				analytic := make([]float64, n*n)
				if err := p.backward(analytic, g); err != nil {
					t.Fatal(err)
				}
				var diff, scale float64
				for i := range analytic {
					diff = math.Max(diff, math.Abs(analytic[i]-numeric[i]))
					scale = math.Max(scale, math.Abs(numeric[i]))
				}
				if scale == 0 {
					t.Fatalf("zero numeric gradient: the check cannot fail")
				}
				if e := diff / scale; !(e <= fdTol) {
					t.Errorf("relative error %.3g > %.3g\nanalytic %v\nnumeric  %v", e, fdTol, analytic, numeric)
				} else {
					t.Logf("relative error %.2g", e)
				}
			})
		}
	}
}

// TestProjectorsDoNotAllocate proves the steady state of forward and
// backward allocation-free for every method and element type.
func TestProjectorsDoNotAllocate(t *testing.T) {
	for _, method := range methodNames {
		t.Run(method+"/float64", func(t *testing.T) { checkAllocs[float64](t, method, 4) })
		t.Run(method+"/float32", func(t *testing.T) { checkAllocs[float32](t, method, 4) })
	}
}

func checkAllocs[F birkhoff.Float](t *testing.T, method string, n int) {
	p, err := newProjector[F](method, n)
	if err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(3, 4))
	z := convert(make([]F, n*n), randomMatrix(rnd, n, 1))
	g := convert(make([]F, n*n), randomMatrix(rnd, n, 1))
	h, dz := make([]F, n*n), make([]F, n*n)
	step := func() {
		if _, err := p.forward(h, z); err != nil {
			t.Fatal(err)
		}
		if err := p.backward(dz, g); err != nil {
			t.Fatal(err)
		}
	}
	step() // the first use sizes the workspaces
	if a := testing.AllocsPerRun(20, step); a != 0 {
		t.Errorf("%v allocations per forward+backward, want 0", a)
	}
}

// TestLiteAgainstEnumeration compares mhclite at n = 3 with a direct sum
// over the six permutation matrices written out by hand.
func TestLiteAgainstEnumeration(t *testing.T) {
	const n = 3
	perms := [][]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}}
	z := randomMatrix(rand.New(rand.NewPCG(11, 3)), n, 2)
	var want [n * n]float64
	var total float64
	for _, p := range perms {
		w := math.Exp(z[0*n+p[0]] + z[1*n+p[1]] + z[2*n+p[2]])
		total += w
		for i, j := range p {
			want[i*n+j] += w
		}
	}
	p, err := newProjector[float64](methodLite, n)
	if err != nil {
		t.Fatal(err)
	}
	h := make([]float64, n*n)
	if _, err := p.forward(h, z); err != nil {
		t.Fatal(err)
	}
	for i := range h {
		if d := math.Abs(h[i] - want[i]/total); d > roundTol64 {
			t.Errorf("H[%d] = %v, want %v", i, h[i], want[i]/total)
		}
	}
	// Zero logits weigh every permutation alike: H = J exactly up to
	// rounding, whose entries are 1/n.
	if _, err := p.forward(h, make([]float64, n*n)); err != nil {
		t.Fatal(err)
	}
	for i, v := range h {
		if math.Abs(v-1.0/n) > roundTol64 {
			t.Errorf("H(0)[%d] = %v, want 1/3", i, v)
		}
	}
	if _, err := p.forward(h, []float64{0, math.NaN(), 0, 0, 0, 0, 0, 0, 0}); err == nil {
		t.Error("mhclite accepted a NaN logit")
	}
}

// TestStructuralInit feeds the sHC reference init through the mapping: a
// diagonal of 4 (σ = tanh 4) and zeros elsewhere (z_U = z_V = 0) must give
// the matrix of SPEC §3.4.
func TestStructuralInit(t *testing.T) {
	const n = 4
	// SPEC §3.4 (measured): diag 0.999497, off-diagonal 1.677e-4 at n = 4,
	// printed to 6 and 4 significant digits.
	const wantDiag, wantOff, printed = 0.999497, 1.677e-4, 1e-6
	z := make([]float64, n*n)
	for i := range n {
		z[i*n+i] = 4
	}
	p := newStructural[float64](n)
	h := make([]float64, n*n)
	if _, err := p.forward(h, z); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		for j := range n {
			want := wantOff
			if i == j {
				want = wantDiag
			}
			if math.Abs(h[i*n+j]-want) > printed {
				t.Errorf("H[%d,%d] = %.7g, want %.7g", i, j, h[i*n+j], want)
			}
		}
	}
}

// TestMemo checks that a repeated input is served from the memo, equal to a
// fresh projection, and that a new input is projected.
func TestMemo(t *testing.T) {
	const n = 4
	p, err := newProjector[float64](methodExact, n)
	if err != nil {
		t.Fatal(err)
	}
	m := memo[float64]{p: p, z: make([]float64, n*n), h: make([]float64, n*n)}
	rnd := rand.New(rand.NewPCG(5, 5))
	a, b := randomMatrix(rnd, n, 1), randomMatrix(rnd, n, 1)
	ha, hb, h := make([]float64, n*n), make([]float64, n*n), make([]float64, n*n)
	itA, _ := p.forward(ha, a)
	p.forward(hb, b)
	for _, tc := range []struct {
		z, want []float64
	}{{a, ha}, {a, ha}, {b, hb}, {a, ha}} {
		it, err := m.forward(h, tc.z)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(h, tc.want) {
			t.Errorf("memo result %v, want %v", h, tc.want)
		}
		if slices.Equal(tc.z, a) && it != itA {
			t.Errorf("memo iterations %d, want %d", it, itA)
		}
	}
}

// TestAmaxFixture checks the depth diagnostics on the fixture of SPEC §6
// (mHC Fig. 8, HC's first-layer matrix of the 27B model).
func TestAmaxFixture(t *testing.T) {
	m := []float64{5.43, 4.43, 4.43, 4.43, -4.07, -3.07, -4.07, -4.07, -3.95, -3.95, -2.95, -3.95, -4.22, -4.22, -4.22, -3.22}
	// SPEC §6: forward Amax 18.73, backward Amax 6.81, computed by the
	// paper from unrounded entries; the fixture's entries are rounded to two
	// decimals, so a sum of four carries up to 4·0.005 = 0.02 of rounding.
	const fixtureRounding = 0.02
	if got := forwardAmax(m, 4); math.Abs(got-18.73) > fixtureRounding {
		t.Errorf("forward Amax %v, want 18.73", got)
	}
	if got := backwardAmax(m, 4); math.Abs(got-6.81) > fixtureRounding {
		t.Errorf("backward Amax %v, want 6.81", got)
	}
	// H·I = H, and the composite of identities is the identity.
	dst := make([]float64, 16)
	mulTo(dst, m, identity(4), 4)
	if !slices.Equal(dst, m) {
		t.Errorf("H·I = %v, want H", dst)
	}
	if got := median([]float64{3, 1, 2}); got != 2 {
		t.Errorf("median(3,1,2) = %v", got)
	}
	if got := median([]float64{4, 1, 2, 3}); got != 2.5 {
		t.Errorf("median(4,1,2,3) = %v", got)
	}
}

// BenchmarkProjector times forward plus backward of every method.
func BenchmarkProjector(b *testing.B) {
	for _, method := range methodNames {
		for _, n := range []int{4, 8, 16} {
			if maxNOf(method) > 0 && n > maxNOf(method) {
				continue
			}
			b.Run(fmt.Sprintf("%s/n=%d", method, n), func(b *testing.B) {
				p, err := newProjector[float64](method, n)
				if err != nil {
					b.Fatal(err)
				}
				rnd := rand.New(rand.NewPCG(1, uint64(n)))
				z, g := randomMatrix(rnd, n, 1), randomMatrix(rnd, n, 1)
				h, dz := make([]float64, n*n), make([]float64, n*n)
				for b.Loop() {
					if _, err := p.forward(h, z); err != nil {
						b.Fatal(err)
					}
					if err := p.backward(dz, g); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
