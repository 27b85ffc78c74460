package rms

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// invTol bounds Inv's relative error against an exact reference: the
// scaled sum of k squares rounds like the naive one, about k/2 ulps in the
// worst case and a few in practice.
const invTol = 1e-14

// exactInv returns 1/√(Σx²/k + eps) computed in 200-bit big.Float.
func exactInv(x []float64, k int, eps float64) float64 {
	const prec = 200
	ss := new(big.Float).SetPrec(prec)
	for _, v := range x {
		b := new(big.Float).SetPrec(prec).SetFloat64(v)
		ss.Add(ss, b.Mul(b, b))
	}
	ss.Quo(ss, new(big.Float).SetPrec(prec).SetInt64(int64(k)))
	ss.Add(ss, new(big.Float).SetPrec(prec).SetFloat64(eps))
	r := new(big.Float).SetPrec(prec).Sqrt(ss)
	f, _ := new(big.Float).SetPrec(prec).Quo(new(big.Float).SetPrec(prec).SetInt64(1), r).Float64()
	return f
}

// TestInv checks Inv against exactInv from 1 to 1e307, on both sides of
// the overflow of the naive sum of squares (|x| ≈ 1.34e154), and that it
// equals the naive factor bit for bit wherever the sum is finite.
func TestInv(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 19))
	for _, k := range []int{1, 3, 32, 1000} {
		for _, scale := range []float64{1e-300, 1, 1e100, 1e150, 1e154, 1e155, 1e200, 1e300, 1e307} {
			x := make([]float64, k)
			var ss float64
			for i := range x {
				x[i] = scale * rnd.NormFloat64()
				ss += x[i] * x[i]
			}
			got := Inv(ss, x, k, 1e-6)
			if naive := 1 / math.Sqrt(ss/float64(k)+1e-6); !math.IsInf(ss, 1) && got != naive {
				t.Errorf("k = %d, scale %g: finite sum, Inv %v ≠ naive %v", k, scale, got, naive)
			}
			want := exactInv(x, k, 1e-6)
			if d := math.Abs(got-want) / want; !(d <= invTol) {
				t.Errorf("k = %d, scale %g: Inv = %v, exact %v (relative error %.3g)", k, scale, got, want, d)
			}
		}
	}
}

// TestInvLimits checks the special cases: a factor that would be
// subnormal is NaN, an infinity in x gives 0 and a NaN NaN (as the naive
// factor), the largest finite values are handled.
func TestInvLimits(t *testing.T) {
	big := []float64{math.MaxFloat64, math.MaxFloat64}
	if got := Inv(math.Inf(1), big, 2, 0); !math.IsNaN(got) {
		t.Errorf("rms = MaxFloat64: Inv = %v, want NaN (the factor is subnormal)", got)
	}
	if got := Inv(math.Inf(1), []float64{1e300, math.Inf(1)}, 2, 0); got != 0 {
		t.Errorf("an infinity in x: Inv = %v, want 0", got)
	}
	if got := Inv(math.NaN(), []float64{1, math.NaN()}, 2, 0); !math.IsNaN(got) {
		t.Errorf("a NaN in x: Inv = %v, want NaN", got)
	}
	x := []float64{4e307, -3e307}
	want := exactInv(x, 2, 0)
	if got := Inv(math.Inf(1), x, 2, 0); math.Abs(got-want)/want > invTol {
		t.Errorf("x = %v: Inv = %v, want %v", x, got, want)
	}
}

// TestAddScaledSquare checks the RMS term of a gradient at huge scales
// against the same term at a moderate scale, scaled back: the naive factor
// inv² underflows above an RMS of 1e154.
func TestAddScaledSquare(t *testing.T) {
	rnd := rand.New(rand.NewPCG(2, 19))
	const k = 17
	u := make([]float64, k)
	for i := range u {
		u[i] = rnd.NormFloat64()
	}
	term := func(e int) []float64 {
		x := make([]float64, k)
		var ss float64
		for i, v := range u {
			x[i] = math.Ldexp(v, e)
			ss += x[i] * x[i]
		}
		inv := Inv(ss, x, k, 0)
		dst := make([]float64, k)
		AddScaledSquare(dst, inv, 0.75, k, x)
		for i := range dst {
			dst[i] = math.Ldexp(dst[i], e) // the term scales as 1/x
		}
		return dst
	}
	ref := term(0)
	for _, e := range []int{100, 500, 510, 600, 900, 1000} {
		got := term(e)
		for i := range got {
			if d := math.Abs(got[i] - ref[i]); !(d <= invTol*math.Abs(ref[i])) {
				t.Errorf("x·2^%d: term[%d] = %v (scaled back), want %v", e, i, got[i], ref[i])
			}
		}
	}
}

// BenchmarkInv measures the hot path (a finite sum) and the scaled one.
func BenchmarkInv(b *testing.B) {
	x := make([]float64, 512)
	for i := range x {
		x[i] = float64(i%7) - 3
	}
	b.Run("finite", func(b *testing.B) {
		for b.Loop() {
			Inv(1234.5, x, len(x), 1e-6)
		}
	})
	b.Run("overflow", func(b *testing.B) {
		for b.Loop() {
			Inv(math.Inf(1), x, len(x), 1e-6)
		}
	})
}
