package birkhoff_test

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/diff/fd"

	"github.com/hyperconn/hyperconn/birkhoff"
)

const (
	// permMixDSTol bounds the deviation of a softmax mixture in float64: each
	// entry sums up to 7! = 5040 weights and each row up to 8! = 40320, whose
	// rounding is a few hundred ulps of 1 at worst (issue acceptance: 1e-14).
	permMixDSTol = 1e-14
	// permMixDS32Tol bounds it in float32: the mixture is accumulated in
	// float64, so only the final store rounds, n entries of relative error
	// 6e-8 per row.
	permMixDS32Tol = 8 * 6e-8
	// permFixtureTol is half a unit in the last digit that SPEC §3.3 quotes
	// (0.994008, 0.001997).
	permFixtureTol = 5e-7
	// permFDTol compares MixBackward with central differences: Mix is linear,
	// so the difference quotient is exact up to rounding, about
	// eps·|L|/h ≈ 1e-16·10/1e-6 = 1e-9.
	permFDTol = 1e-8
	// permAdjointTol bounds |⟨Mix(w), G⟩ − ⟨w, MixBackward(G)⟩| relative to
	// Σ_k |w_k·dw_k|: two orders of summing up to 8! = 40320 products, whose
	// worst-case relative rounding is 40320·1.1e-16 ≈ 4.5e-12.
	permAdjointTol = 5e-12
)

// permSoftmax returns softmax(logits) in float64, max-shifted.
func permSoftmax(logits []float64) []float64 {
	m := slices.Max(logits)
	w := make([]float64, len(logits))
	var s float64
	for k, z := range logits {
		w[k] = math.Exp(z - m)
		s += w[k]
	}
	for k := range w {
		w[k] /= s
	}
	return w
}

// permMustPanic runs f and fails unless it panics with want.
func permMustPanic(t *testing.T, name string, want error, f func()) {
	t.Helper()
	defer func() {
		r := recover()
		err, ok := r.(error)
		if !ok || !errors.Is(err, want) {
			t.Errorf("%s: panic %v, want %v", name, r, want)
		}
	}()
	f()
}

func TestFactorial(t *testing.T) {
	maxN := 20 // 20! < 2⁶³ < 21!
	if bits.UintSize == 32 {
		maxN = 12
	}
	for n := 0; n <= maxN; n++ {
		// Exact oracle: math/big's product of 1..n (MulRange(1, 0) is 1).
		want := new(big.Int).MulRange(1, int64(n))
		if got := birkhoff.Factorial(n); !want.IsInt64() || big.NewInt(int64(got)).Cmp(want) != 0 {
			t.Errorf("Factorial(%d) = %d, want %v", n, got, want)
		}
	}
	permMustPanic(t, "Factorial(-1)", birkhoff.ErrIndex, func() { birkhoff.Factorial(-1) })
	permMustPanic(t, "Factorial(overflow)", birkhoff.ErrIndex, func() { birkhoff.Factorial(maxN + 1) })
}

// TestPermutationSmall pins the order at n = 3 to the definition of
// lexicographic order, written out by hand.
func TestPermutationSmall(t *testing.T) {
	want := [][]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}}
	for k, w := range want {
		if got := birkhoff.Permutation(nil, 3, k); !slices.Equal(got, w) {
			t.Errorf("Permutation(3, %d) = %v, want %v", k, got, w)
		}
		if got := birkhoff.PermutationIndex(w); got != k {
			t.Errorf("PermutationIndex(%v) = %d, want %d", w, got, k)
		}
	}
}

// TestPermutationRoundTrip checks, for every n ≤ MaxPermN and every index,
// that Permutation yields a permutation, that PermutationIndex inverts it,
// that the sequence is strictly increasing in lexicographic order, and that
// the Perms table agrees.
func TestPermutationRoundTrip(t *testing.T) {
	for n := 1; n <= birkhoff.MaxPermN; n++ {
		ps, err := birkhoff.NewPerms(n)
		if err != nil {
			t.Fatalf("NewPerms(%d): %v", n, err)
		}
		if ps.N() != n || ps.Len() != birkhoff.Factorial(n) {
			t.Fatalf("NewPerms(%d): N = %d, Len = %d", n, ps.N(), ps.Len())
		}
		p := make([]int, n)
		prev := make([]int, n)
		for k := 0; k < ps.Len(); k++ {
			birkhoff.Permutation(p, n, k)
			sorted := slices.Sorted(slices.Values(p))
			for i, v := range sorted {
				if v != i {
					t.Fatalf("n=%d k=%d: %v is not a permutation", n, k, p)
				}
			}
			if got := birkhoff.PermutationIndex(p); got != k {
				t.Fatalf("n=%d: PermutationIndex(Permutation(%d)) = %d", n, k, got)
			}
			if k > 0 && slices.Compare(prev, p) >= 0 {
				t.Fatalf("n=%d: permutation %d = %v does not follow %v", n, k, p, prev)
			}
			if !slices.Equal(ps.At(k), p) {
				t.Fatalf("n=%d: At(%d) = %v, Permutation = %v", n, k, ps.At(k), p)
			}
			copy(prev, p)
		}
		// The extremes: the identity first, the reversal last.
		id, rev := make([]int, n), make([]int, n)
		for i := range id {
			id[i], rev[i] = i, n-1-i
		}
		if !slices.Equal(ps.At(0), id) || !slices.Equal(ps.At(ps.Len()-1), rev) {
			t.Errorf("n=%d: first %v, last %v", n, ps.At(0), ps.At(ps.Len()-1))
		}
	}
}

func TestPermutationPanics(t *testing.T) {
	permMustPanic(t, "n=0", birkhoff.ErrShape, func() { birkhoff.Permutation(nil, 0, 0) })
	permMustPanic(t, "short dst", birkhoff.ErrShape, func() { birkhoff.Permutation(make([]int, 2), 3, 0) })
	permMustPanic(t, "index 3!", birkhoff.ErrIndex, func() { birkhoff.Permutation(nil, 3, 6) })
	permMustPanic(t, "index -1", birkhoff.ErrIndex, func() { birkhoff.Permutation(nil, 3, -1) })
	permMustPanic(t, "repeat", birkhoff.ErrPermutation, func() { birkhoff.PermutationIndex([]int{0, 0}) })
	permMustPanic(t, "out of range", birkhoff.ErrPermutation, func() { birkhoff.PermutationIndex([]int{1, 2}) })
	permMustPanic(t, "empty", birkhoff.ErrPermutation, func() { birkhoff.PermutationIndex(nil) })
	ps, _ := birkhoff.NewPerms(3)
	permMustPanic(t, "At(6)", birkhoff.ErrIndex, func() { ps.At(6) })
	permMustPanic(t, "Mix short w", birkhoff.ErrShape, func() { birkhoff.Mix(make([]float64, 9), ps, make([]float64, 5)) })
	permMustPanic(t, "Mix short dst", birkhoff.ErrShape, func() { birkhoff.Mix(make([]float64, 8), ps, make([]float64, 6)) })
	permMustPanic(t, "MixBackward short g", birkhoff.ErrShape, func() {
		birkhoff.MixBackward(make([]float64, 6), ps, make([]float64, 4))
	})
}

func TestNewPermsSize(t *testing.T) {
	for _, n := range []int{-1, 0, birkhoff.MaxPermN + 1} {
		ps, err := birkhoff.NewPerms(n)
		if !errors.Is(err, birkhoff.ErrPermSize) || ps != nil {
			t.Errorf("NewPerms(%d) = %v, %v; want nil, ErrPermSize", n, ps, err)
			continue
		}
		// The message says why: factorial growth.
		if msg := err.Error(); !strings.HasPrefix(msg, "birkhoff: ") || !strings.Contains(msg, "40320") {
			t.Errorf("NewPerms(%d) error %q does not explain the factorial growth", n, msg)
		}
	}
}

// TestMixOrientation checks the documented orientation: the one-hot
// mixture of permutation p is P with P[i, p[i]] = 1, so P·x = x[p].
func TestMixOrientation(t *testing.T) {
	const n = 4
	ps, _ := birkhoff.NewPerms(n)
	w := make([]float64, ps.Len())
	h := make([]float64, n*n)
	x := []float64{10, 20, 30, 40}
	for _, k := range []int{0, 7, 13, 23} {
		clear(w)
		w[k] = 1
		birkhoff.Mix(h, ps, w)
		p := ps.At(k)
		for i := range n {
			var y float64
			for j := range n {
				want := 0.0
				if j == p[i] {
					want = 1
				}
				if h[i*n+j] != want {
					t.Fatalf("k=%d: H[%d,%d] = %v, want %v", k, i, j, h[i*n+j], want)
				}
				y += h[i*n+j] * x[j]
			}
			if y != x[p[i]] {
				t.Errorf("k=%d: (P·x)[%d] = %v, want x[p[%d]] = %v", k, i, y, i, x[p[i]])
			}
		}
	}
}

func TestMixDoublyStochastic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var worst, worst32 float64
	for n := 1; n <= birkhoff.MaxPermN; n++ {
		ps, _ := birkhoff.NewPerms(n)
		for trial := range 3 {
			logits := make([]float64, ps.Len())
			for k := range logits {
				logits[k] = 3 * rng.NormFloat64()
			}
			w := permSoftmax(logits)
			h := make([]float64, n*n)
			birkhoff.Mix(h, ps, w)
			dev := birkhoff.Deviation(h, n)
			worst = max(worst, dev)
			if dev > permMixDSTol {
				t.Errorf("n=%d trial %d: deviation %.3g > %g", n, trial, dev, permMixDSTol)
			}
			if slices.Min(h) < 0 {
				t.Errorf("n=%d trial %d: negative entry %v", n, trial, slices.Min(h))
			}
			w32 := make([]float32, len(w))
			for k, v := range w {
				w32[k] = float32(v)
			}
			h32 := make([]float32, n*n)
			birkhoff.Mix(h32, ps, w32)
			dev32 := birkhoff.Deviation(h32, n)
			worst32 = max(worst32, dev32)
			if dev32 > permMixDS32Tol {
				t.Errorf("n=%d trial %d float32: deviation %.3g > %g", n, trial, dev32, permMixDS32Tol)
			}
		}
	}
	t.Logf("worst deviation %.3g (float64), %.3g (float32)", worst, worst32)
}

// TestMixFixture reproduces the mHC-lite reference init of SPEC §3.3
// (measured): logit 0 for the identity and −8 for the other 23 permutations
// of n = 4 give diag 0.994008 and off-diagonal 0.001997.
func TestMixFixture(t *testing.T) {
	const n = 4
	ps, _ := birkhoff.NewPerms(n)
	logits := make([]float64, ps.Len())
	for k := 1; k < len(logits); k++ {
		logits[k] = -8 // index 0 is the identity
	}
	h := make([]float64, n*n)
	birkhoff.Mix(h, ps, permSoftmax(logits))
	for i := range n {
		for j := range n {
			want := 0.001997
			if i == j {
				want = 0.994008
			}
			if got := h[i*n+j]; math.Abs(got-want) > permFixtureTol {
				t.Errorf("H[%d,%d] = %.7f, want %.6f", i, j, got, want)
			}
		}
	}
}

// TestMixBackward checks MixBackward against central differences of
// L(w) = ⟨G, Mix(w)⟩ with a random upstream gradient G, and the adjoint
// identity at every n.
func TestMixBackward(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 1; n <= birkhoff.MaxPermN; n++ {
		ps, _ := birkhoff.NewPerms(n)
		g := make([]float64, n*n)
		for i := range g {
			g[i] = rng.NormFloat64()
		}
		w := make([]float64, ps.Len())
		for k := range w {
			w[k] = rng.Float64()
		}
		h := make([]float64, n*n)
		dw := make([]float64, ps.Len())
		birkhoff.MixBackward(dw, ps, g)

		birkhoff.Mix(h, ps, w)
		var lhs, rhs, scale float64
		for i := range h {
			lhs += h[i] * g[i]
		}
		for k := range w {
			rhs += w[k] * dw[k]
			scale += math.Abs(w[k] * dw[k])
		}
		if math.Abs(lhs-rhs) > permAdjointTol*scale {
			t.Errorf("n=%d: ⟨Mix(w), G⟩ = %v, ⟨w, MixBackward(G)⟩ = %v", n, lhs, rhs)
		}

		if n > 5 { // 720 and more weights: the adjoint identity above suffices
			continue
		}
		loss := func(x []float64) float64 {
			birkhoff.Mix(h, ps, x)
			var s float64
			for i := range h {
				s += h[i] * g[i]
			}
			return s
		}
		want := fd.Gradient(nil, loss, w, &fd.Settings{Formula: fd.Central})
		for k := range want {
			if math.Abs(dw[k]-want[k]) > permFDTol {
				t.Errorf("n=%d: dw[%d] = %v, central difference %v", n, k, dw[k], want[k])
			}
		}
	}
}

func TestMixAllocs(t *testing.T) {
	for _, n := range []int{4, birkhoff.MaxPermN} {
		ps, _ := birkhoff.NewPerms(n)
		w := make([]float64, ps.Len())
		h := make([]float64, n*n)
		w32 := make([]float32, ps.Len())
		h32 := make([]float32, n*n)
		if a := testing.AllocsPerRun(10, func() { birkhoff.Mix(h, ps, w) }); a != 0 {
			t.Errorf("n=%d: Mix allocates %v times", n, a)
		}
		if a := testing.AllocsPerRun(10, func() { birkhoff.MixBackward(w, ps, h) }); a != 0 {
			t.Errorf("n=%d: MixBackward allocates %v times", n, a)
		}
		if a := testing.AllocsPerRun(10, func() { birkhoff.Mix(h32, ps, w32) }); a != 0 {
			t.Errorf("n=%d: Mix[float32] allocates %v times", n, a)
		}
		if a := testing.AllocsPerRun(10, func() { birkhoff.MixBackward(w32, ps, h32) }); a != 0 {
			t.Errorf("n=%d: MixBackward[float32] allocates %v times", n, a)
		}
	}
}

func BenchmarkMix(b *testing.B) {
	for _, n := range []int{4, 8} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			ps, _ := birkhoff.NewPerms(n)
			w := permSoftmax(make([]float64, ps.Len()))
			h := make([]float64, n*n)
			for b.Loop() {
				birkhoff.Mix(h, ps, w)
			}
		})
	}
}

func BenchmarkMixBackward(b *testing.B) {
	for _, n := range []int{4, 8} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			ps, _ := birkhoff.NewPerms(n)
			g := make([]float64, n*n)
			for i := range g {
				g[i] = float64(i)
			}
			dw := make([]float64, ps.Len())
			for b.Loop() {
				birkhoff.MixBackward(dw, ps, g)
			}
		})
	}
}
