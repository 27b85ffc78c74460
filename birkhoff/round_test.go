package birkhoff_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/hyperconn/hyperconn/birkhoff"
)

const (
	// roundDSTol is the acceptance bound on the deviation of a
	// rounded float64 matrix for n ≤ 16: the remaining error is the rounding
	// of n-term sums of entries ≤ 1, about n·1.1e-16 ≤ 1.8e-15.
	roundDSTol = 1e-14
	// roundDS32Tol is the float32 counterpart: n = 16 stored entries, each
	// with relative rounding 6e-8, per row or column.
	roundDS32Tol = 16 * 6e-8
	// roundLemmaSlack is added to the rounding lemma's bound to absorb the
	// rounding of the n² entries summed into the distance, each at most
	// 1.1e-16 of an entry ≤ 1, for n ≤ 16.
	roundLemmaSlack = 256 * 2.2e-16
	// roundMovedTol bounds the distance an already exact doubly stochastic
	// matrix moves: only rounding, ≤ n² entries each ≈ 1e-16 for n ≤ 16.
	roundMovedTol = 1e-13
)

// roundSinkhorn returns exp(z) after the given number of column-then-row
// Sinkhorn sweeps in float64 (SPEC §3.2, no epsilon): a local reference
// independent of Project.
func roundSinkhorn(z []float64, n, sweeps int) []float64 {
	m := make([]float64, n*n)
	for k, v := range z {
		m[k] = math.Exp(v)
	}
	for range sweeps {
		for j := range n {
			var s float64
			for i := range n {
				s += m[i*n+j]
			}
			for i := range n {
				m[i*n+j] /= s
			}
		}
		for i := range n {
			var s float64
			for _, v := range m[i*n : i*n+n] {
				s += v
			}
			for j := range n {
				m[i*n+j] /= s
			}
		}
	}
	return m
}

// roundMarginalL1 returns ‖r(m) − 1‖₁ + ‖c(m) − 1‖₁.
func roundMarginalL1(m []float64, n int) float64 {
	var e float64
	for i := range n {
		var r, c float64
		for j := range n {
			r += m[i*n+j]
			c += m[j*n+i]
		}
		e += math.Abs(r-1) + math.Abs(c-1)
	}
	return e
}

// TestRoundSinkhorn rounds matrices left by a few Sinkhorn sweeps of
// logits N(0, σ²) and checks exact feasibility, the reported distance, and
// the rounding lemma of arXiv 1705.09634 (the analysis of its Algorithm 2):
// moved ≤ 2·(‖r − 1‖₁ + ‖c − 1‖₁).
func TestRoundSinkhorn(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var worstDev, worstRatio float64
	for _, n := range []int{1, 2, 3, 4, 8, 16} {
		for _, sigma := range []float64{0.5, 2, 5} {
			for _, sweeps := range []int{0, 1, 3} {
				z := make([]float64, n*n)
				for k := range z {
					z[k] = sigma * rng.NormFloat64()
				}
				m := roundSinkhorn(z, n, sweeps)
				dst := make([]float64, n*n)
				moved, err := birkhoff.Round(dst, m, n)
				if err != nil {
					t.Fatalf("n=%d σ=%v: %v", n, sigma, err)
				}
				dev := birkhoff.Deviation(dst, n)
				worstDev = max(worstDev, dev)
				if dev > roundDSTol {
					t.Errorf("n=%d σ=%v sweeps=%d: deviation %.3g > %g", n, sigma, sweeps, dev, roundDSTol)
				}
				if lo := slices.Min(dst); lo < 0 {
					t.Errorf("n=%d σ=%v sweeps=%d: negative entry %v", n, sigma, sweeps, lo)
				}
				var l1 float64
				for k := range m {
					l1 += math.Abs(dst[k] - m[k])
				}
				if math.Abs(l1-moved) > roundLemmaSlack {
					t.Errorf("n=%d σ=%v sweeps=%d: reported distance %v, measured %v", n, sigma, sweeps, moved, l1)
				}
				marg := roundMarginalL1(m, n)
				if moved > 2*marg+roundLemmaSlack {
					t.Errorf("n=%d σ=%v sweeps=%d: moved %.3g > 2·marginal error %.3g", n, sigma, sweeps, moved, 2*marg)
				}
				if marg > 0 {
					worstRatio = max(worstRatio, moved/marg)
				}
			}
		}
	}
	t.Logf("worst deviation %.3g, worst moved/marginal-error %.3f (lemma bound 2)", worstDev, worstRatio)
}

// TestRoundExact checks that an exactly doubly stochastic matrix (a
// convex combination of permutations, with dyadic weights so that it is
// exact in float64) stays put.
func TestRoundExact(t *testing.T) {
	const n = 5
	ps, _ := birkhoff.NewPerms(n)
	w := make([]float64, ps.Len())
	w[0], w[17], w[99] = 0.5, 0.25, 0.25
	m := make([]float64, n*n)
	birkhoff.Mix(m, ps, w)
	dst := make([]float64, n*n)
	moved, err := birkhoff.Round(dst, m, n)
	if err != nil {
		t.Fatal(err)
	}
	if moved > roundMovedTol || !slices.Equal(dst, m) {
		t.Errorf("exact input moved %v: got %v, want %v", moved, dst, m)
	}
}

// TestRoundAlias checks that rounding in place gives bit-for-bit the
// result of rounding into a separate slice.
func TestRoundAlias(t *testing.T) {
	const n = 6
	rng := rand.New(rand.NewPCG(7, 8))
	m := make([]float64, n*n)
	for k := range m {
		m[k] = rng.Float64()
	}
	want := make([]float64, n*n)
	movedWant, _ := birkhoff.Round(want, m, n)
	moved, err := birkhoff.Round(m, m, n)
	if err != nil || moved != movedWant || !slices.Equal(m, want) {
		t.Errorf("in place: %v, %v, %v; separate: %v, %v", moved, err, m, movedWant, want)
	}
}

// TestRoundZero checks the degenerate inputs: an all-zero matrix becomes
// 11ᵀ/n, and a zero row is filled.
func TestRoundZero(t *testing.T) {
	const n = 4
	dst := make([]float64, n*n)
	moved, err := birkhoff.Round(dst, make([]float64, n*n), n)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range dst {
		if v != 1.0/n {
			t.Fatalf("zero input: dst[%d] = %v, want 1/n", k, v)
		}
	}
	if moved != n {
		t.Errorf("zero input moved %v, want n = %d", moved, n)
	}
	m := []float64{
		0.5, 0.5, 0, 0,
		0, 0, 0, 0,
		0.5, 0, 0.5, 0,
		0, 0.5, 0, 0.5,
	}
	if _, err := birkhoff.Round(dst, m, n); err != nil {
		t.Fatal(err)
	}
	if dev := birkhoff.Deviation(dst, n); dev > roundDSTol || slices.Min(dst) < 0 {
		t.Errorf("zero row: deviation %v, min %v", dev, slices.Min(dst))
	}
}

func TestRoundFloat32(t *testing.T) {
	const n = 16
	rng := rand.New(rand.NewPCG(9, 10))
	z := make([]float64, n*n)
	for k := range z {
		z[k] = 2 * rng.NormFloat64()
	}
	m64 := roundSinkhorn(z, n, 2)
	m := make([]float32, n*n)
	for k, v := range m64 {
		m[k] = float32(v)
	}
	dst := make([]float32, n*n)
	if _, err := birkhoff.Round(dst, m, n); err != nil {
		t.Fatal(err)
	}
	if dev := birkhoff.Deviation(dst, n); dev > roundDS32Tol {
		t.Errorf("float32: deviation %.3g > %g", dev, roundDS32Tol)
	}
}

// TestRoundErrors checks that bad entries return the right error, naming
// the entry, and leave dst untouched; and that bad shapes panic.
func TestRoundErrors(t *testing.T) {
	const n = 3
	cases := []struct {
		v    float64
		want error
	}{
		{math.NaN(), birkhoff.ErrNonFinite},
		{math.Inf(1), birkhoff.ErrNonFinite},
		{math.Inf(-1), birkhoff.ErrNonFinite},
		{-1e-300, birkhoff.ErrNegative},
	}
	for _, c := range cases {
		m := []float64{1, 0, 0, 0, 1, 0, 0, 0, 1}
		m[5] = c.v
		dst := slices.Repeat([]float64{42}, n*n)
		_, err := birkhoff.Round(dst, m, n)
		if !errors.Is(err, c.want) {
			t.Errorf("entry %v: error %v, want %v", c.v, err, c.want)
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "birkhoff: ") || !strings.Contains(msg, "(1, 2)") {
			t.Errorf("entry %v: error %q does not name entry (1, 2)", c.v, msg)
		}
		for _, v := range dst {
			if v != 42 {
				t.Fatalf("entry %v: dst written: %v", c.v, dst)
			}
		}
	}
	permMustPanic(t, "Round short m", birkhoff.ErrShape, func() { birkhoff.Round(make([]float64, 9), make([]float64, 8), 3) })
	permMustPanic(t, "Round short dst", birkhoff.ErrShape, func() { birkhoff.Round(make([]float64, 8), make([]float64, 9), 3) })
	permMustPanic(t, "Round n=0", birkhoff.ErrShape, func() { birkhoff.Round([]float64{}, []float64{}, 0) })
}

func TestRoundAllocs(t *testing.T) {
	for _, n := range []int{4, 16, 32} {
		m := make([]float64, n*n)
		dst := make([]float64, n*n)
		for k := range m {
			m[k] = float64(k%7) / float64(n)
		}
		if a := testing.AllocsPerRun(10, func() { birkhoff.Round(dst, m, n) }); a != 0 {
			t.Errorf("n=%d: Round allocates %v times", n, a)
		}
	}
}

// FuzzRound feeds Round arbitrary 3×3 matrices, including NaN, ±Inf and
// ±1e308: it must return an error with dst untouched, or a nonnegative
// doubly stochastic dst.
func FuzzRound(f *testing.F) {
	f.Add(1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
	f.Add(1e308, 1e308, 1e308, 0.0, 0.0, 0.0, 5e-324, 0.0, 1.0)
	f.Add(math.NaN(), 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
	f.Add(math.Inf(1), 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
	f.Add(-1e308, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
	f.Add(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
	f.Add(3.0, 1e-300, 2.0, 0.1, 7.0, 0.0, 0.5, 0.25, 1e10)
	f.Fuzz(func(t *testing.T, a, b, c, d, e, g, h, i, j float64) {
		const n = 3
		m := []float64{a, b, c, d, e, g, h, i, j}
		dst := slices.Repeat([]float64{42}, n*n)
		moved, err := birkhoff.Round(dst, m, n)
		if err != nil {
			for _, v := range dst {
				if v != 42 {
					t.Fatalf("error %v but dst written: %v", err, dst)
				}
			}
			return
		}
		if dev := birkhoff.Deviation(dst, n); dev > roundDSTol || slices.Min(dst) < 0 || math.IsNaN(moved) {
			t.Fatalf("Round(%v) = %v, moved %v: deviation %v", m, dst, moved, dev)
		}
	})
}

func BenchmarkRound(b *testing.B) {
	for _, n := range []int{4, 16} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(11, 12))
			z := make([]float64, n*n)
			for k := range z {
				z[k] = rng.NormFloat64()
			}
			m := roundSinkhorn(z, n, 3)
			dst := make([]float64, n*n)
			for b.Loop() {
				birkhoff.Round(dst, m, n)
			}
		})
	}
}
